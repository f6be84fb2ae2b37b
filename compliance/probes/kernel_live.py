"""Probes of the running kernel: sysctls, command line, CPU mitigations, lockdown, LSMs,
module loading, ptrace scope and core dumps."""

from __future__ import annotations

from typing import Annotated

from compliance.checks.judges import SysctlParams, judge_sysctl
from compliance.checks.registry import Outcome, failed, passed, probe, verdict
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, ReadFile, Request
from compliance.models.params import FALSE, HIGHER, INTERSECTION, TRUE, UNION, NoParams, Params
from compliance.probes.planners import plans
from compliance.probes.sources import (
    KERNEL_PARAMS,
    configured_sysctls,
    ini_settings,
    kernel_params,
    param_value,
    read_sysctls,
    sysctl_requests,
)

SECURITYFS = "/sys/kernel/security"

# ---------------------------------------------------------------------------- sysctl


@plans("sysctl_runtime")
def _plan_sysctl(host: Host, params: SysctlParams) -> list[Request]:
    return sysctl_requests(host, sorted(params.expected))


@probe("sysctl_runtime", params=SysctlParams)
def sysctl_runtime(host: Host, params: SysctlParams) -> Outcome:
    """Kernel parameters as the running kernel has them (/proc/sys), or as sysctl.d sets them on an offline root."""
    if not params.expected:
        raise CheckError("no sysctl to check (parameter 'expected' is empty)")
    values, source, unset = read_sysctls(host, sorted(params.expected))
    return judge_sysctl(values, params, source, unset)


# ---------------------------------------------------------------------------- ptrace


class PtraceParams(Params):
    min_ptrace_scope: Annotated[int, HIGHER] = 1


@plans("ptrace_restricted")
def _plan_ptrace(host: Host, params: PtraceParams) -> list[Request]:
    return sysctl_requests(host, ["kernel.yama.ptrace_scope"])


@probe("ptrace_restricted", params=PtraceParams)
def ptrace_restricted(host: Host, params: PtraceParams) -> Outcome:
    """Yama restricts ptrace: kernel.yama.ptrace_scope is at least the minimum (the key exists only when Yama is active)."""
    values, source, unset = read_sysctls(host, ["kernel.yama.ptrace_scope"])
    value = values.get("kernel.yama.ptrace_scope")
    if value is None:
        why = "Yama is not active" if host.live else "kernel.yama.ptrace_scope is not configured"
        return failed(f"ptrace is not restricted: {why} (kernel.yama.ptrace_scope {unset})", source=source)
    try:
        scope = int(value)
    except ValueError:
        raise CheckError(f"kernel.yama.ptrace_scope is {value!r}, not a number") from None
    return verdict(
        scope >= params.min_ptrace_scope,
        f"ptrace restricted by Yama (scope {scope})",
        f"kernel.yama.ptrace_scope is {scope}, expected at least {params.min_ptrace_scope}",
        ptrace_scope=scope, source=source,
    )


# ---------------------------------------------------------------------------- core dumps

COREDUMP_CONF = "/etc/systemd/coredump.conf"
COREDUMP_DROPINS = "/etc/systemd/coredump.conf.d"


@plans("core_dumps_restricted")
def _plan_core(host: Host, params: NoParams) -> list[Request]:
    return [*sysctl_requests(host, ["fs.suid_dumpable", "kernel.core_pattern"]), ReadFile(COREDUMP_CONF), ListDir(COREDUMP_DROPINS)]


@probe("core_dumps_restricted", params=NoParams)
def core_dumps_restricted(host: Host, params: NoParams) -> Outcome:
    """No core dump of a setuid program (fs.suid_dumpable = 0), and core dumps are discarded: core_pattern pipes to a handler that stores nothing."""
    values, source, unset = read_sysctls(host, ["fs.suid_dumpable", "kernel.core_pattern"])
    problems: list[str] = []
    dumpable = values.get("fs.suid_dumpable")
    if dumpable != "0":
        problems.append(f"fs.suid_dumpable is {dumpable!r}, expected 0" if dumpable is not None else f"fs.suid_dumpable {unset}")
    pattern = values.get("kernel.core_pattern")
    storage = None
    if pattern is None:
        problems.append(f"kernel.core_pattern {unset} (the kernel default writes 'core' files)")
    elif not pattern.startswith("|"):
        problems.append(f"kernel.core_pattern {pattern!r} writes core files to disk")
    elif "systemd-coredump" in pattern:
        settings = ini_settings(host, COREDUMP_CONF, COREDUMP_DROPINS, "Coredump")
        storage = settings.get("Storage", "external").lower()
        if storage != "none" and settings.get("ProcessSizeMax", "").strip() != "0":
            problems.append(f"systemd-coredump stores dumps (Storage={storage}); set Storage=none")
    elif pattern.split()[0].rsplit("/", 1)[-1] not in ("false", "true"):
        problems.append(f"kernel.core_pattern pipes core dumps to {pattern.split()[0][1:]!r}, which may store them")
    observed = {"suid_dumpable": dumpable, "core_pattern": pattern, "coredump_storage": storage, "source": source}
    if problems:
        return failed("; ".join(problems), **observed)
    return passed("core dumps are not kept and setuid programs never dump", **observed)


# ---------------------------------------------------------------------------- command line


class CmdlineParams(Params):
    required_params: Annotated[list[str], UNION] = []
    forbidden_params: Annotated[list[str], UNION] = ["mitigations=off", "nosmep", "nosmap", "nokaslr", "nopti", "nospectre_v1", "nospectre_v2"]


def _matches(tokens: list[str], wanted: str) -> bool:
    if "=" in wanted:
        key, _, value = wanted.partition("=")
        return param_value(tokens, key) == value
    return any(t == wanted or t.startswith(wanted + "=") for t in tokens)


@plans("kernel_cmdline")
def _plan_cmdline(host: Host, params: CmdlineParams) -> list[Request]:
    return [ReadFile("/proc/cmdline" if host.live else KERNEL_PARAMS)]


@probe("kernel_cmdline", params=CmdlineParams)
def kernel_cmdline(host: Host, params: CmdlineParams) -> Outcome:
    """The kernel command line carries the required hardening parameters and none that turn protections off."""
    tokens, source = kernel_params(host)
    missing = [p for p in params.required_params if not _matches(tokens, p)]
    present = [p for p in params.forbidden_params if _matches(tokens, p)]
    problems = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"forbidden {', '.join(present)}"] if present else [])
    return verdict(
        not problems,
        f"kernel command line has the {len(params.required_params)} required parameters and no forbidden one",
        "kernel command line: " + "; ".join(problems),
        cmdline=tokens, missing=missing, forbidden=present, source=source,
    )


# ---------------------------------------------------------------------------- CPU vulnerabilities

VULN_DIR = "/sys/devices/system/cpu/vulnerabilities"


class CpuVulnParams(Params):
    allow_vulnerable: Annotated[list[str], INTERSECTION] = []


@plans("cpu_vulnerabilities")
def _plan_cpu(host: Host, params: CpuVulnParams) -> list[Request]:
    return [ListDir(VULN_DIR)] if host.live else []


@probe("cpu_vulnerabilities", params=CpuVulnParams)
def cpu_vulnerabilities(host: Host, params: CpuVulnParams) -> Outcome:
    """The kernel reports every CPU vulnerability as mitigated or not affected (sysfs)."""
    host.require_live("the kernel's CPU vulnerability report")
    names = host.listdir(VULN_DIR)
    if names is None:
        raise CheckError(f"{VULN_DIR} is missing: the kernel does not report CPU vulnerabilities")
    host.prefetch(ReadFile(f"{VULN_DIR}/{n}") for n in names)
    states = {n: " ".join((host.read_text(f"{VULN_DIR}/{n}") or "").split()) for n in names}
    vulnerable = sorted(n for n, s in states.items() if s.lower().startswith("vulnerable"))
    blocking = [n for n in vulnerable if n not in params.allow_vulnerable]
    return verdict(
        not blocking,
        f"no unmitigated CPU vulnerability ({len(states)} reported" + (f", {len(vulnerable)} accepted" if vulnerable else "") + ")",
        "vulnerable: " + ", ".join(f"{n} ({states[n]})" for n in blocking),
        states=states, vulnerable=vulnerable,
    )


# ---------------------------------------------------------------------------- lockdown


class LockdownParams(Params):
    lockdown_modes: Annotated[list[str], INTERSECTION] = ["integrity", "confidentiality"]


@plans("kernel_lockdown")
def _plan_lockdown(host: Host, params: LockdownParams) -> list[Request]:
    return [ReadFile(f"{SECURITYFS}/lockdown")] if host.live else [ReadFile(KERNEL_PARAMS)]


@probe("kernel_lockdown", params=LockdownParams)
def kernel_lockdown(host: Host, params: LockdownParams) -> Outcome:
    """Kernel lockdown is in an accepted mode (securityfs on a live host, lockdown= in the boot parameters offline).

    On a running system only the lockdown LSM says what is enforced: ``lockdown=`` on the
    command line does nothing on a kernel without that LSM (or with it left out of
    ``lsm=``), so an unreadable securityfs file is an error, never judged from the command line.
    """
    source = f"{SECURITYFS}/lockdown"
    if host.live:
        text = host.read_text(source)
        if text is None:
            raise CheckError(f"{source} is missing (securityfs not mounted, or no lockdown LSM): the lockdown state cannot be read; "
                             "the kernel command line does not show that lockdown is enforced")
        mode: str | None = next((w[1:-1] for w in text.split() if w.startswith("[")), None)
        if mode is None:
            raise CheckError(f"{source}: unexpected content {text.strip()!r}")
    else:
        tokens, source = kernel_params(host)
        mode = param_value(tokens, "lockdown")
    mode = mode or "none"
    return verdict(
        mode in params.lockdown_modes,
        f"kernel lockdown is {mode}",
        f"kernel lockdown is {mode}, expected {' or '.join(params.lockdown_modes)}",
        lockdown=mode, source=source,
    )


# ---------------------------------------------------------------------------- LSMs


class LsmParams(Params):
    required_lsms: Annotated[list[str], UNION] = []
    mac_lsms: Annotated[list[str], INTERSECTION] = ["apparmor", "selinux"]  # at least one active
    allow_complain: Annotated[bool, FALSE] = False


@plans("lsm_loaded")
def _plan_lsm(host: Host, params: LsmParams) -> list[Request]:
    if not host.live:
        return [ReadFile(KERNEL_PARAMS)]
    return [ReadFile(f"{SECURITYFS}/lsm"), ReadFile(f"{SECURITYFS}/apparmor/profiles"), ReadFile("/sys/fs/selinux/enforce")]


def _configured_lsms(host: Host) -> tuple[list[str], str]:
    tokens, source = kernel_params(host)
    lsm = param_value(tokens, "lsm")
    if lsm:
        return [x for x in lsm.split(",") if x], source
    security = param_value(tokens, "security")
    if security:
        return [security], source
    raise NotApplicable("the boot parameters set no lsm=: the kernel's built-in LSM order applies, which an offline root does not show")


@probe("lsm_loaded", params=LsmParams)
def lsm_loaded(host: Host, params: LsmParams) -> Outcome:
    """A mandatory access control LSM is active and enforcing, with the other required LSMs."""
    if host.live:
        text = host.read_text(f"{SECURITYFS}/lsm")
        if text is None:
            raise CheckError(f"securityfs is not mounted at {SECURITYFS}: the active LSMs cannot be read")
        active, source = [x for x in text.strip().split(",") if x], f"{SECURITYFS}/lsm"
    else:
        active, source = _configured_lsms(host)
    problems = [f"{name} is not active" for name in params.required_lsms if name not in active]
    mac = [name for name in params.mac_lsms if name in active]
    if params.mac_lsms and not mac:
        problems.append(f"no mandatory access control LSM active (one of {', '.join(params.mac_lsms)})")
    complain: list[str] = []
    if host.live and "apparmor" in mac:
        profiles = host.read_text(f"{SECURITYFS}/apparmor/profiles") or ""
        complain = [ln.rsplit(" (", 1)[0] for ln in profiles.splitlines() if ln.endswith("(complain)")]
        if complain and not params.allow_complain:
            problems.append(f"{len(complain)} AppArmor profiles in complain mode")
    if host.live and "selinux" in mac and (host.read_text("/sys/fs/selinux/enforce") or "").strip() != "1":
        problems.append("SELinux is permissive")
    return verdict(
        not problems,
        f"active LSMs: {', '.join(active)}",
        "; ".join(problems),
        active=active, mac=mac, complain_profiles=complain, source=source,
    )


# ---------------------------------------------------------------------------- modules

NIXOS_LOCK_UNIT = "disable-kernel-module-loading.service"
MODPROBE_DIRS = ("/etc/modprobe.d", "/run/modprobe.d", "/usr/lib/modprobe.d", "/lib/modprobe.d")


class ModulesParams(Params):
    require_locked: Annotated[bool, TRUE] = True
    module_denylist: Annotated[list[str], UNION] = []


@plans("kernel_modules_locked")
def _plan_modules(host: Host, params: ModulesParams) -> list[Request]:
    if host.live:
        return [ReadFile("/proc/sys/kernel/modules_disabled"), ReadFile("/proc/modules")]
    return [*sysctl_requests(host, []), *(ListDir(d) for d in MODPROBE_DIRS), ListDir("/etc/systemd/system/multi-user.target.wants")]


def _norm(module: str) -> str:
    return module.replace("-", "_")


def _blocked_offline(host: Host) -> set[str]:
    """Modules modprobe.d blacklists or replaces with a no-op install command."""
    blocked: set[str] = set()
    for folder in MODPROBE_DIRS:
        names = [n for n in host.listdir(folder) or [] if n.endswith(".conf")]
        host.prefetch(ReadFile(f"{folder}/{n}") for n in names)
        for name in names:
            for raw in (host.read_text(f"{folder}/{name}") or "").splitlines():
                words = raw.split()
                if len(words) >= 2 and words[0] == "blacklist":
                    blocked.add(_norm(words[1]))
                if len(words) >= 3 and words[0] == "install" and words[2].rsplit("/", 1)[-1] in ("false", "true"):
                    blocked.add(_norm(words[1]))
    return blocked


@probe("kernel_modules_locked", params=ModulesParams)
def kernel_modules_locked(host: Host, params: ModulesParams) -> Outcome:
    """No kernel module can be loaded after boot (kernel.modules_disabled, or no module support at all), and no denylisted module is loaded."""
    denylist = {_norm(m) for m in params.module_denylist}
    problems: list[str] = []
    if host.live:
        flag = host.read_text("/proc/sys/kernel/modules_disabled")
        modules = host.read_text("/proc/modules")
        if flag is None and modules is None:
            state = "kernel without loadable module support"
        else:
            state = "locked" if (flag or "").strip() == "1" else "loadable"
        loaded = sorted({line.split()[0] for line in (modules or "").splitlines() if line.strip()})
        bad = sorted(m for m in loaded if _norm(m) in denylist)
        if bad:
            problems.append(f"denylisted modules loaded: {', '.join(bad)}")
        source = "/proc/sys/kernel/modules_disabled"
    else:
        configured = configured_sysctls(host)
        unit = NIXOS_LOCK_UNIT in (host.listdir("/etc/systemd/system/multi-user.target.wants") or [])
        state = "locked" if configured.get("kernel.modules_disabled") == "1" or unit else "loadable"
        blocked = _blocked_offline(host)
        loaded = []
        unblocked = sorted(m for m in denylist if m not in blocked)
        if unblocked:
            problems.append(f"denylisted modules not blocked in modprobe.d: {', '.join(unblocked)}")
        source = "sysctl.d, modprobe.d and systemd units (offline root)"
    if params.require_locked and state == "loadable":
        problems.insert(0, "kernel modules can still be loaded (kernel.modules_disabled is not 1)")
    blocked_text = f"; {', '.join(sorted(denylist))} not loadable" if denylist and not host.live else f"; {', '.join(sorted(denylist))} not loaded" if denylist else ""
    return verdict(not problems, f"module loading: {state}{blocked_text}", "; ".join(problems), state=state, loaded=loaded, source=source)


# ---------------------------------------------------------------------------- boot loader

# Where systemd-boot's loader.conf and GRUB's grub.cfg live, on the usual ESP mount points.
SYSTEMD_BOOT_CONFS = ("/boot/loader/loader.conf", "/efi/loader/loader.conf", "/boot/efi/loader/loader.conf")
GRUB_CONFS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg", "/boot/efi/grub/grub.cfg")


class BootLoaderParams(Params):
    systemd_boot_configs: Annotated[list[str], UNION] = list(SYSTEMD_BOOT_CONFS)
    grub_configs: Annotated[list[str], UNION] = list(GRUB_CONFS)


@plans("boot_loader_locked")
def _plan_boot(host: Host, params: BootLoaderParams) -> list[Request]:
    return [ReadFile(p) for p in (*params.systemd_boot_configs, *params.grub_configs)]


@probe("boot_loader_locked", params=BootLoaderParams)
def boot_loader_locked(host: Host, params: BootLoaderParams) -> Outcome:
    """The boot loader does not let whoever sits at the console change the kernel command line: systemd-boot's editor is off, GRUB has a superuser with a password.

    Editing the command line at boot (init=/bin/sh, lockdown=none, an IOMMU or LSM turned
    off) bypasses every protection the system sets later (ANSSI BP-028 R5). systemd-boot
    has no password: its editor must be disabled (NixOS: boot.loader.systemd-boot.editor =
    false), and a signed unified kernel image (Secure Boot) protects the rest.
    """
    host.prefetch(_plan_boot(host, params))
    found: dict[str, str] = {}
    problems: list[str] = []
    for path in params.systemd_boot_configs:
        text = host.read_text(path)
        if text is None:
            continue
        editor = "yes"  # systemd-boot's default
        for raw in text.splitlines():
            words = raw.split()
            if len(words) >= 2 and words[0] == "editor":
                editor = words[1].lower()
        found[path] = f"systemd-boot, editor {editor}"
        if editor not in ("0", "no", "false", "off"):
            problems.append(f"{path}: the systemd-boot editor is on (editor {editor}): the kernel command line can be changed at boot")
    for path in params.grub_configs:
        text = host.read_text(path)
        if text is None:
            continue
        lines = [ln.strip() for ln in text.splitlines()]
        superusers = any(ln.startswith("set superusers=") and ln.split("=", 1)[1].strip("\"' ") for ln in lines)
        password = any(ln.startswith(("password_pbkdf2 ", "password ")) for ln in lines)
        found[path] = f"GRUB, superusers {'set' if superusers else 'unset'}, password {'set' if password else 'unset'}"
        if not (superusers and password):
            problems.append(f"{path}: GRUB has no superuser with a password: its entries can be edited at boot")
        elif any(ln.startswith("password ") for ln in lines):
            problems.append(f"{path}: a GRUB password is stored in clear text (use password_pbkdf2)")
    if not found:
        raise CheckError("no boot loader configuration found (" + ", ".join((*params.systemd_boot_configs, *params.grub_configs))
                         + "): is the ESP mounted?")
    return verdict(not problems, "boot loader locked: " + "; ".join(f"{k} ({v})" for k, v in found.items()), "; ".join(problems),
                   boot_loaders=found)
