"""Probes of the file system: mount options, the read-only store, special modes (setuid,
setgid, world-writable) and the modes of sensitive files."""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from typing import Annotated

from compliance.checks.registry import Outcome, verdict
from compliance.checks.registry import probe as register_probe
from compliance.errors import CheckError
from compliance.hosts.host_api import Host, SpecialEntry
from compliance.hosts.requests import FindSpecial, ListDir, ReadFile, Request, StatPath
from compliance.models.params import INTERSECTION, LOWER, UNION, NoParams, Params, merge
from compliance.probes.planners import plans

# ---------------------------------------------------------------------------- mounts


@dataclass(frozen=True)
class Mount:
    target: str
    fstype: str
    options: frozenset[str]


def _unescape(field: str) -> str:
    """mountinfo and fstab escape blanks as octal (``\\040``)."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields or len(fields) < 10:
            continue
        sep = fields.index("-")
        options = set(fields[5].split(",")) | set(fields[sep + 3].split(","))
        mounts.append(Mount(_unescape(fields[4]), fields[sep + 1], frozenset(options)))
    return mounts


def parse_fstab(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4 or fields[0].startswith("#") or fields[2] == "swap":
            continue
        mounts.append(Mount(_unescape(fields[1]), fields[2], frozenset(fields[3].split(","))))
    return mounts


def read_mounts(host: Host) -> tuple[list[Mount], str]:
    if host.live:
        text = host.read_text("/proc/self/mountinfo")
        if text is None:
            raise CheckError("/proc/self/mountinfo is missing")
        return parse_mountinfo(text), "/proc/self/mountinfo"
    text = host.read_text("/etc/fstab")
    if text is None:
        raise CheckError("the offline root has no /etc/fstab")
    return parse_fstab(text), "/etc/fstab (offline root)"


def containing_mount(mounts: list[Mount], path: str) -> Mount | None:
    """The mount a path lives on: the longest mount point above it (the last one mounted wins)."""
    best: Mount | None = None
    for mount in mounts:
        target = mount.target.rstrip("/") or "/"
        if (path == target or path.startswith(target.rstrip("/") + "/")) and (best is None or len(target) >= len(best.target.rstrip("/") or "/")):
            best = mount
    return best


class MountParams(Params):
    # mount point → options it must have (e.g. "/tmp" → ["nosuid", "nodev", "noexec"])
    mount_options: Annotated[dict[str, list[str]], merge(UNION)] = {}


def _plan_mounts(host: Host, params: object) -> list[Request]:
    return [ReadFile("/proc/self/mountinfo" if host.live else "/etc/fstab")]


plans("mount_options")(_plan_mounts)
plans("nix_store_read_only")(_plan_mounts)


@register_probe("mount_options", params=MountParams)
def mount_options(host: Host, params: MountParams) -> Outcome:
    """Each listed path lives on a mount with the required options (a path that is not a separate mount is judged by the mount it lives on)."""
    if not params.mount_options:
        raise CheckError("no mount to check (parameter 'mount_options' is empty)")
    mounts, source = read_mounts(host)
    observed: dict[str, dict[str, object]] = {}
    problems: list[str] = []
    for path, required in sorted(params.mount_options.items()):
        mount = containing_mount(mounts, path)
        if mount is None:
            problems.append(f"{path}: no mount found")
            continue
        missing = [o for o in required if o not in mount.options]
        observed[path] = {"mount_point": mount.target, "fstype": mount.fstype, "missing": missing}
        if missing:
            where = "" if mount.target == path else f" (not a separate mount: it is on {mount.target})"
            problems.append(f"{path}{where} lacks {','.join(missing)}")
    return verdict(not problems, f"{len(params.mount_options)} mount points have the required options", "; ".join(problems),
                   mounts=observed, source=source)


@register_probe("nix_store_read_only", params=NoParams)
def nix_store_read_only(host: Host, params: NoParams) -> Outcome:
    """/nix/store is mounted read-only on the running system (only the Nix daemon remounts it to write)."""
    host.require_live("the mount state of /nix/store")
    mounts, source = read_mounts(host)
    mount = containing_mount(mounts, "/nix/store")
    if mount is None:
        raise CheckError("no mount holds /nix/store")
    return verdict("ro" in mount.options, f"/nix/store is read-only (on {mount.target})",
                   f"/nix/store is writable (on {mount.target}, mounted {','.join(sorted(mount.options))})",
                   mount_point=mount.target, options=sorted(mount.options), source=source)


# ---------------------------------------------------------------------------- special modes

DEFAULT_SCAN_ROOTS = ["/"]
# Nix canonicalises store permissions (no setuid, no world-writable); pseudo file systems
# have no files at rest.
DEFAULT_PRUNE = ["/nix/store", "/proc", "/sys", "/dev"]
MOUNTINFO = "/proc/self/mountinfo"
# File systems with no files at rest (kernel interfaces), or that walking would trigger
# (autofs): never walked.
PSEUDO_FILESYSTEMS = frozenset({
    "proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs", "pstore", "bpf",
    "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs", "binfmt_misc", "efivarfs", "rpc_pipefs", "nsfs", "selinuxfs",
    "nfsd",
})
# Another machine's files: not this host's to judge, and a walk could hang on them.
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "afs", "ceph", "glusterfs", "lustre", "9p", "gfs2", "ocfs2",
    "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.glusterfs", "fuse.ceph", "fuse.davfs", "davfs", "fuse.gcsfuse",
})


def _under(path: str, folder: str) -> bool:
    folder = folder.rstrip("/")
    return path == (folder or "/") or path.startswith(folder + "/")


@dataclass(frozen=True)
class ScanPlan:
    walk: FindSpecial
    skipped: dict[str, str]  # mount point → file system type, not walked (pseudo or network)
    source: str


def scan_plan(host: Host, params: ScanParams) -> ScanPlan:
    """The walk of the scan roots: on a live host, every mounted local file system below
    them (``find -xdev`` stays on the file system it starts on, so a separately mounted
    /tmp, /var or /home is a root of its own), pseudo and network file systems left out.
    An offline root is the folder tree as it is."""
    roots = set(params.scan_roots)
    skipped: dict[str, str] = {}
    source = "the scan roots (offline root: the folder tree, no mount table)"
    if host.live:
        text = host.read_text(MOUNTINFO)
        if text is None:
            raise CheckError(f"{MOUNTINFO} is missing: the mounted file systems to walk are unknown")
        source = MOUNTINFO
        for mount in parse_mountinfo(text):
            target = mount.target
            if not any(_under(target, r) for r in params.scan_roots) or any(_under(target, p) for p in params.scan_prune):
                continue
            if mount.fstype in PSEUDO_FILESYSTEMS or mount.fstype in NETWORK_FILESYSTEMS:
                skipped[target] = mount.fstype
            else:
                roots.add(target)
    return ScanPlan(FindSpecial(tuple(sorted(roots)), tuple(sorted(params.scan_prune))), dict(sorted(skipped.items())), source)


def _plan_walk(host: Host, params: ScanParams) -> list[Request]:
    if host.live and host.peek(ReadFile(MOUNTINFO)) is None:
        return [ReadFile(MOUNTINFO)]
    return [scan_plan(host, params).walk]


class ScanParams(Params):
    scan_roots: Annotated[list[str], UNION] = DEFAULT_SCAN_ROOTS
    scan_prune: Annotated[list[str], INTERSECTION] = DEFAULT_PRUNE


class StickyParams(ScanParams):
    world_writable_allowlist: Annotated[list[str], INTERSECTION] = []


plans("world_writable_sticky")(_plan_walk)


def _scan(host: Host, params: ScanParams) -> tuple[list[SpecialEntry], dict[str, object]]:
    plan = scan_plan(host, params)
    entries = host.find_special(plan.walk.roots, plan.walk.prune)
    return entries, {"scanned": list(plan.walk.roots), "skipped_mounts": plan.skipped, "mounts_from": plan.source}


@register_probe("world_writable_sticky", params=StickyParams)
def world_writable_sticky(host: Host, params: StickyParams) -> Outcome:
    """Every world-writable directory has the sticky bit, and no regular file is world-writable (on every local file system mounted below the scan roots)."""
    entries, scanned = _scan(host, params)
    writable = [e for e in entries if e.perms & 0o002 and not _allowed(e.path, params.world_writable_allowlist)]
    dirs = sorted(e.path for e in writable if e.type == "d" and not e.perms & 0o1000)
    files = sorted(e.path for e in writable if e.type == "f")
    problems = ([f"{len(dirs)} world-writable directories without the sticky bit: {', '.join(dirs[:10])}"] if dirs else []) + (
        [f"{len(files)} world-writable files: {', '.join(files[:10])}"] if files else []
    )
    sticky = sum(1 for e in writable if e.type == "d" and e.perms & 0o1000)
    return verdict(not problems, f"{sticky} world-writable directories, all sticky; no world-writable file", "; ".join(problems),
                   unsticky_dirs=dirs, writable_files=files, **scanned)


def _allowed(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


class SetuidParams(ScanParams):
    setuid_allowlist: Annotated[list[str], INTERSECTION] = []


plans("setuid_allowlist")(_plan_walk)


@register_probe("setuid_allowlist", params=SetuidParams)
def setuid_allowlist(host: Host, params: SetuidParams) -> Outcome:
    """Every setuid or setgid file is on the allowlist (glob patterns), on every local file system mounted below the scan roots."""
    entries, scanned = _scan(host, params)
    special = sorted((e for e in entries if e.type == "f" and e.perms & 0o6000), key=lambda e: e.path)
    found = {e.path: f"{e.perms:04o} uid={e.uid}" for e in special}
    extra = [p for p in found if not _allowed(p, params.setuid_allowlist)]
    return verdict(not extra, f"{len(found)} setuid/setgid files, all allowed", f"{len(extra)} setuid/setgid files not allowed: {', '.join(extra[:15])}",
                   found=found, not_allowed=extra, **scanned)


# ---------------------------------------------------------------------------- file modes


class ModeParams(Params):
    # path (the last component may be a glob) → most permissive mode allowed ("0640"),
    # compared as octal numbers; owner must be root unless files_owned_by_root is false.
    max_modes: Annotated[dict[str, str], merge(LOWER)] = {}


def _expand(host: Host, pattern: str) -> list[str]:
    folder, name = posixpath.split(pattern)
    if not any(c in name for c in "*?["):
        return [pattern]
    return [f"{folder}/{n}" for n in host.listdir(folder) or [] if fnmatch.fnmatchcase(n, name)]


@plans("sensitive_file_modes")
def _plan_modes(host: Host, params: ModeParams) -> list[Request]:
    out: list[Request] = []
    for pattern in params.max_modes:
        folder, name = posixpath.split(pattern)
        out.append(ListDir(folder) if any(c in name for c in "*?[") else StatPath(pattern))
    return out


@register_probe("sensitive_file_modes", params=ModeParams)
def sensitive_file_modes(host: Host, params: ModeParams) -> Outcome:
    """Sensitive files (shadow, host keys, sudoers, ...) are owned by root and no more permissive than allowed."""
    if not params.max_modes:
        raise CheckError("no file to check (parameter 'max_modes' is empty)")
    paths = {p: limit for pattern, limit in params.max_modes.items() for p in _expand(host, pattern)}
    host.prefetch(StatPath(p) for p in paths)
    observed: dict[str, str] = {}
    problems: list[str] = []
    for path, limit in sorted(paths.items()):
        st = host.stat(path)
        if st is None:
            observed[path] = "absent"
            continue
        observed[path] = f"{st.perms:04o} {st.uid}:{st.gid}"
        allowed = int(limit, 8)
        if st.perms & ~allowed:
            problems.append(f"{path} is {st.perms:04o}, at most {limit} allowed")
        if st.uid != 0:
            problems.append(f"{path} is owned by uid {st.uid}, not root")
    present = sum(1 for v in observed.values() if v != "absent")
    if not present:
        raise CheckError(f"none of the {len(params.max_modes)} listed files exists: nothing to judge")
    return verdict(not problems, f"{present} sensitive files have safe modes", "; ".join(problems), files=observed)
