"""Probes of what a host runs: the systemd units it starts at boot, how they are confined,
and where running programs come from.

Units are read from their files (``/etc/systemd/system``, where NixOS links every unit of
the system, upstream ones included, with their drop-ins), so the same probe judges a
running host and an image at rest; "enabled" means pulled in at boot by a ``.wants`` link
of one of the boot targets.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated

from compliance.checks.registry import Outcome, probe, verdict
from compliance.errors import CheckError
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, ReadFile, Request, RunCommand
from compliance.models.params import FALSE, INTERSECTION, UNION, Params, merge
from compliance.probes.planners import plans
from compliance.probes.sources import ini_section

UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
BOOT_TARGETS = ("multi-user.target", "sysinit.target", "basic.target", "default.target", "graphical.target",
                "network.target", "network-online.target", "sockets.target", "timers.target", "local-fs.target")
UNIT_KINDS = (".service", ".socket", ".timer")


def enabled_units(host: Host) -> list[str]:
    """Services, sockets and timers a boot target wants (``<target>.wants`` links)."""
    wants = [f"{d}/{t}.wants" for d in UNIT_DIRS for t in BOOT_TARGETS]
    host.prefetch(ListDir(w) for w in wants)
    units: set[str] = set()
    for folder in wants:
        units.update(n for n in host.listdir(folder) or [] if n.endswith(UNIT_KINDS))
    return sorted(units)


def _candidates(unit: str) -> list[str]:
    """The unit's own file, then for a template instance (getty@tty1.service) its template."""
    if "@" not in unit:
        return [unit]
    base, _, rest = unit.partition("@")
    return [unit, f"{base}@{rest[rest.rfind('.'):]}"]


def unit_sections(host: Host, units: list[str], section: str) -> dict[str, dict[str, str]]:
    """The settings of one section of each unit, drop-ins applied (later files win; an
    empty assignment resets). Reads in bulk, level by level: the unit folders' listings,
    then every unit file and drop-in folder, then every drop-in, so that a whole host
    costs three round trips whatever its number of units."""
    host.prefetch(ListDir(d) for d in UNIT_DIRS)
    present = {d: set(host.listdir(d) or []) for d in UNIT_DIRS}
    mains: dict[str, str | None] = {}
    for unit in units:
        mains[unit] = next((f"{d}/{c}" for c in _candidates(unit) for d in UNIT_DIRS if c in present[d]), None)
    dropin_dirs = {unit: [f"{d}/{unit}.d" for d in UNIT_DIRS if f"{unit}.d" in present[d]] for unit in units}
    host.prefetch([*(ReadFile(m) for m in mains.values() if m), *(ListDir(d) for dirs in dropin_dirs.values() for d in dirs)])
    files: dict[str, list[str]] = {}
    for unit in units:
        main = mains[unit]
        if main is None:
            raise CheckError(f"{unit} is enabled but no unit file defines it")
        dropins = sorted((n, f"{d}/{n}") for d in dropin_dirs[unit] for n in host.listdir(d) or [] if n.endswith(".conf"))
        files[unit] = [main, *(p for _, p in dropins)]
    host.prefetch(ReadFile(p) for paths in files.values() for p in paths[1:])
    return {unit: ini_section(host, paths, section) for unit, paths in files.items()}


_TRUE = {"yes", "true", "1", "on"}
_FALSE = {"no", "false", "0", "off"}


def _word(value: str) -> str:
    lowered = value.strip().lower()
    return "yes" if lowered in _TRUE else "no" if lowered in _FALSE else lowered


def _matches(unit: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(unit, p) for p in patterns)


def _plan_units(host: Host, params: object) -> list[Request]:
    return [*(ListDir(f"{d}/{t}.wants") for d in UNIT_DIRS for t in BOOT_TARGETS), *(ListDir(d) for d in UNIT_DIRS)]


# ---------------------------------------------------------------------------- sandboxing

# Services that must start as root on a NixOS system: systemd's own, boot plumbing, login,
# the Nix daemon, network and firewall setup, auditing.
DEFAULT_ROOT_ALLOWLIST = [
    "systemd-*", "getty@*", "serial-getty@*", "autovt@*", "console-getty.service", "user@*", "user-runtime-dir@*",
    "modprobe@*", "kmod-static-nodes.service", "sshd.service", "sshd@*", "nix-daemon.service", "nscd.service",
    "network-setup.service", "network-addresses-*", "network-local-commands.service", "dhcpcd.service", "resolvconf.service",
    "firewall.service", "nftables.service", "audit.service", "auditd.service", "apparmor.service",
    "disable-kernel-module-loading.service", "suid-sgid-wrappers.service", "reload-systemd-vconsole-setup.service",
    "mount-pstore.service", "logrotate.service", "logrotate-checkconf.service", "cryptsetup*", "lvm2-*", "dm-event.service",
    "post-resume.service", "pre-sleep.service", "save-hwclock.service", "domainname.service", "linger-users.service",
    "nix-gc.service", "nix-optimise.service", "fstrim.service", "chronyd.service",
]
# What DynamicUser=yes implies (systemd.exec(5)).
DYNAMIC_USER_IMPLIES = {"NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectSystem": "strict", "ProtectHome": "read-only",
                        "RemoveIPC": "yes", "RestrictSUIDSGID": "yes"}


class SandboxParams(Params):
    # services that may run as root and are not judged (glob patterns)
    root_allowlist: Annotated[list[str], INTERSECTION] = DEFAULT_ROOT_ALLOWLIST
    # [Service] setting → accepted values (yes/no words normalised), for the other services
    required_settings: Annotated[dict[str, list[str]], merge(INTERSECTION)] = {"NoNewPrivileges": ["yes"]}


plans("service_sandboxing")(_plan_units)


@probe("service_sandboxing", params=SandboxParams)
def service_sandboxing(host: Host, params: SandboxParams) -> Outcome:
    """Every enabled service not allowed to run as root runs under its own user, with the required systemd sandboxing settings.

    A service running as root with the whole file system writable turns any flaw into a
    host compromise; a dedicated user (User= or DynamicUser=) and systemd's confinement
    (NoNewPrivileges, ProtectSystem, PrivateTmp, ...) bound what it can reach (ANSSI
    BP-028 R35, R64, R65).
    """
    enabled = enabled_units(host)
    if not enabled:
        raise CheckError("no unit is enabled by any boot target: not a systemd system, or the unit folders are unreadable")
    services = [u for u in enabled if u.endswith(".service") and not _matches(u, params.root_allowlist)]
    sections = unit_sections(host, services, "Service")
    as_root: list[str] = []
    lacking: dict[str, dict[str, str]] = {}
    users: dict[str, str] = {}
    for unit in services:
        settings = sections[unit]
        effective = {k: _word(v) for k, v in settings.items()}
        dynamic = effective.get("DynamicUser") == "yes"
        if dynamic:
            for key, value in DYNAMIC_USER_IMPLIES.items():
                effective.setdefault(key, value)
        user = "dynamic" if dynamic else settings.get("User", "root")
        users[unit] = user
        if user in ("root", "0"):
            as_root.append(unit)
        for key, accepted in sorted(params.required_settings.items()):
            value = effective.get(key, "unset")
            if value not in {_word(a) for a in accepted}:
                lacking.setdefault(unit, {})[key] = value
    problems = ([f"{len(as_root)} service(s) run as root: {', '.join(as_root[:10])}"] if as_root else []) + [
        f"{unit}: " + ", ".join(f"{k}={v}" for k, v in missing.items()) for unit, missing in sorted(lacking.items())[:10]
    ]
    required = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(params.required_settings.items()))
    return verdict(not problems, f"{len(services)} service(s) run under their own user with {required}",
                   "; ".join(problems) + (f" (required: {required})" if lacking else ""),
                   users=users, as_root=as_root, not_sandboxed=lacking, source="unit files and drop-ins")


# ---------------------------------------------------------------------------- allowlist

# A minimal NixOS server: systemd, login, SSH, Nix, network, firewall, time, logs, audit.
DEFAULT_UNIT_ALLOWLIST = [
    "systemd-*", "getty@*", "serial-getty@*", "autovt@*", "console-getty.service", "user@*", "user-runtime-dir@*",
    "modprobe@*", "kmod-static-nodes.service", "dbus.service", "dbus.socket", "sshd.service", "sshd.socket", "sshd@*",
    "nix-daemon.service", "nix-daemon.socket", "nix-gc.timer", "nix-optimise.timer", "nscd.service",
    "network-setup.service", "network-addresses-*", "network-local-commands.service", "dhcpcd.service", "resolvconf.service",
    "firewall.service", "nftables.service", "chronyd.service", "audit.service", "auditd.service", "apparmor.service",
    "disable-kernel-module-loading.service", "suid-sgid-wrappers.service", "reload-systemd-vconsole-setup.service",
    "mount-pstore.service", "logrotate.service", "logrotate.timer", "logrotate-checkconf.service", "fstrim.timer",
    "cryptsetup*", "lvm2-*", "dm-event.socket", "post-resume.service", "save-hwclock.service", "domainname.service",
    "linger-users.service", "prometheus-node-exporter.service",
]


class UnitAllowlistParams(Params):
    allowed_units: Annotated[list[str], INTERSECTION] = DEFAULT_UNIT_ALLOWLIST  # glob patterns


plans("enabled_units_allowlist")(_plan_units)


@probe("enabled_units_allowlist", params=UnitAllowlistParams)
def enabled_units_allowlist(host: Host, params: UnitAllowlistParams) -> Outcome:
    """Every service, socket and timer started at boot is on the role's allowlist.

    A service nobody asked for is attack surface nobody watches (ANSSI BP-028 R62, R63;
    CIR 6.7.2(f) "deactivate unneeded connections and services"). The allowlist is per
    role: a web server adds its web server, a database host its database.
    """
    units = enabled_units(host)
    if not units:
        raise CheckError("no unit is enabled by any boot target: not a systemd system, or the unit folders are unreadable")
    extra = [u for u in units if not _matches(u, params.allowed_units)]
    return verdict(not extra, f"{len(units)} units enabled at boot, all on the allowlist",
                   f"{len(extra)} unit(s) enabled at boot beyond the allowlist: {', '.join(extra[:15])}",
                   enabled=units, not_allowed=extra, source="boot target .wants links")


# ---------------------------------------------------------------------------- executables

# find prints each process's executable as the kernel names it (a deleted file gets
# " (deleted)", an anonymous memory file "/memfd:name (deleted)").
PROC_EXE = ("find", "/proc", "-mindepth", "2", "-maxdepth", "2", "-name", "exe", "-printf", "%h %l\\n")


class ExecutableParams(Params):
    # trees no program may run from: temporary, writable by every user (a server may add
    # "/home/" and "/root/": no administrator should run programs from there either)
    denied_exec_roots: Annotated[list[str], UNION] = ["/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/"]
    # when set, every program must run from one of these trees (NixOS: ["/nix/store/", "/run/wrappers/"])
    allowed_exec_roots: Annotated[list[str] | None, INTERSECTION] = None
    allow_deleted: Annotated[bool, FALSE] = False


@plans("process_executables")
def _plan_exe(host: Host, params: ExecutableParams) -> list[Request]:
    return [RunCommand(PROC_EXE)] if host.live else []


@probe("process_executables", params=ExecutableParams)
def process_executables(host: Host, params: ExecutableParams) -> Outcome:
    """No running process executes a program from a temporary or world-writable tree, a deleted file or anonymous memory.

    On NixOS every legitimate program comes from the read-only store (or a security
    wrapper); a program running from /tmp, /dev/shm or a home folder, one whose file was
    deleted after it started, or one loaded from a memfd is how dropped malware and
    fileless implants run.
    """
    host.require_live("the executables of running processes")
    result = host.run(*PROC_EXE)
    if result is None:
        raise CheckError("find is not installed: cannot list process executables")
    if result.exit_code != 0 and not (result.stdout and vanished_stderr(result.stderr)):
        raise CheckError(f"listing /proc/*/exe failed: {result.stderr.strip() or 'exit ' + str(result.exit_code)}")
    exes: dict[str, str] = {}
    for line in result.stdout.splitlines():
        folder, _, target = line.partition(" ")
        pid = folder.rsplit("/", 1)[-1]
        if pid.isdigit() and target:
            exes[pid] = target
    if not exes:
        raise CheckError("no process executable could be read from /proc")
    bad: dict[str, str] = {}
    for pid, target in sorted(exes.items(), key=lambda kv: int(kv[0])):
        path = target.removesuffix(" (deleted)")
        reason = None
        if path.startswith("/memfd:"):
            reason = "anonymous memory (memfd)"
        elif target.endswith(" (deleted)") and not params.allow_deleted:
            reason = "deleted file"
        elif any(path.startswith(root) for root in params.denied_exec_roots):
            reason = "denied tree"
        elif params.allowed_exec_roots is not None and not any(path.startswith(root) for root in params.allowed_exec_roots):
            reason = "outside the allowed trees"
        if reason:
            bad[pid] = f"{target}: {reason}"
    return verdict(not bad, f"{len(exes)} processes run programs from allowed locations",
                   f"{len(bad)} process(es) run suspicious programs: " + "; ".join(f"pid {k} {v}" for k, v in list(bad.items())[:10]),
                   processes=len(exes), suspicious=bad)


def vanished_stderr(stderr: str) -> bool:
    """Every message is about a process that exited during the walk."""
    return all(line.rstrip().endswith("No such file or directory") for line in stderr.splitlines() if line.strip())
