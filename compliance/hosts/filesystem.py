"""Hosts whose file system this process can read directly: the local machine and an
offline root (a mounted image, a chroot, a debootstrap tree).

Both answer requests with the same code; the difference is where paths start and what is
allowed. An offline root confines every path to the root folder (an absolute symlink
inside the image points into the image, never at this machine's files), and it never
executes anything: commands and process lists are *unavailable* there, so probes that need
a running system report not applicable with the reason. Special-mode walks run GNU
``find`` on both, the same program the SSH transport runs, so the three transports render
the same answer for the same tree.
"""

from __future__ import annotations

import errno
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from compliance.errors import UsageError
from compliance.hosts.host_api import Host
from compliance.hosts.requests import (
    FindSpecial,
    ListDir,
    ListProcesses,
    Observation,
    ObservationStatus,
    ReadFile,
    Request,
    ResolvePath,
    RunCommand,
    StatPath,
    stat_line,
    vanished_only,
)

MAX_LINKS = 40
# Where administration tools live on NixOS and Debian, whatever PATH the caller had.
EXTRA_PATH = "/run/current-system/sw/bin:/run/current-system/sw/sbin:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"
FIND_FORMAT = "%m %U %G %y %p\\n"


def command_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{env.get('PATH', '')}:{EXTRA_PATH}".lstrip(":")
    env["LC_ALL"] = "C"
    return env


def find_argv(roots: list[str], prune: list[str]) -> list[str]:
    """``find`` over ``roots`` (one file system each) printing setuid/setgid/world-writable entries."""
    argv = ["find", *roots, "-xdev"]
    if prune:
        argv.append("(")
        for index, path in enumerate(prune):
            if index:
                argv.append("-o")
            argv += ["-path", path]
        argv += [")", "-prune", "-o"]
    argv += ["(", "-perm", "-4000", "-o", "-perm", "-2000", "-o", "-perm", "-0002", ")", "!", "-type", "l", "-printf", FIND_FORMAT]
    return argv


def resolve_in_root(root: str, path: str) -> str:
    """The canonical form of ``path`` as seen from inside ``root``: symlinks followed,
    absolute link targets taken relative to the root, ``..`` never above it."""
    pending = [p for p in path.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = [*resolved, part]
        try:
            target = os.readlink(os.path.join(root, *candidate))
        except OSError:
            resolved = candidate  # not a link, or does not exist: the caller finds out
            continue
        links += 1
        if links > MAX_LINKS:
            raise OSError(errno.ELOOP, "too many levels of symbolic links", path)
        if target.startswith("/"):
            resolved = []
        pending = [p for p in target.split("/") if p not in ("", ".")] + pending
    return "/" + "/".join(resolved)


def _os_failure(request: Request, exc: OSError) -> Observation:
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return Observation(request, ObservationStatus.MISSING, detail="does not exist")
    if isinstance(exc, PermissionError):
        return Observation(request, ObservationStatus.DENIED, detail="permission denied")
    return Observation(request, ObservationStatus.ERROR, detail=exc.strerror or str(exc))


class FilesystemHost(Host):
    """Shared implementation; see :class:`LocalHost` and :class:`OfflineRootHost`."""

    def __init__(self, root: str) -> None:
        super().__init__()
        self.root = root

    def host_path(self, path: str) -> str:
        """Where ``path`` of the target is on this machine."""
        if self.root == "/":
            return path
        return os.path.join(self.root, resolve_in_root(self.root, path).lstrip("/"))

    def _collect(self, requests: list[Request]) -> dict[Request, Observation]:
        answers: dict[Request, Observation] = {}
        commands = [r for r in requests if isinstance(r, RunCommand | FindSpecial)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {r: pool.submit(self._answer, r) for r in commands}
            for request in requests:
                if request not in futures:
                    answers[request] = self._answer(request)
            for request, future in futures.items():
                answers[request] = future.result()
        return answers

    def _answer(self, request: Request) -> Observation:
        try:
            if isinstance(request, ReadFile):
                with open(self.host_path(request.path), "rb") as handle:
                    return Observation(request, ObservationStatus.OK, handle.read())
            if isinstance(request, StatPath):
                st = os.stat(self.host_path(request.path))
                return Observation(request, ObservationStatus.OK, stat_line(st.st_mode, st.st_uid, st.st_gid, st.st_size))
            if isinstance(request, ListDir):
                names = sorted(os.listdir(self.host_path(request.path)), key=os.fsencode)
                return Observation(request, ObservationStatus.OK, "".join(f"{n}\n" for n in names).encode())
            if isinstance(request, ResolvePath):
                return self._resolve(request)
            if isinstance(request, FindSpecial):
                return self._find(request)
            if isinstance(request, RunCommand):
                return self._run(request)
            if isinstance(request, ListProcesses):
                return self._processes(request)
        except IsADirectoryError:
            return Observation(request, ObservationStatus.ERROR, detail="is a directory")
        except OSError as exc:
            return _os_failure(request, exc)
        return Observation(request, ObservationStatus.ERROR, detail="unknown request")

    def _resolve(self, request: ResolvePath) -> Observation:
        if self.root == "/":
            os.stat(request.path)  # not os.path.exists, which says False for a path it may not search
            return Observation(request, ObservationStatus.OK, (os.path.realpath(request.path) + "\n").encode())
        inside = resolve_in_root(self.root, request.path)
        if not os.path.lexists(os.path.join(self.root, inside.lstrip("/"))):
            return Observation(request, ObservationStatus.MISSING, detail="does not exist")
        return Observation(request, ObservationStatus.OK, (inside + "\n").encode())

    def _find(self, request: FindSpecial) -> Observation:
        prefix = "" if self.root == "/" else self.root.rstrip("/")
        roots = [prefix + r for r in request.roots if os.path.lexists(prefix + r)]
        if not roots:
            return Observation(request, ObservationStatus.OK, b"")
        try:
            proc = subprocess.run(
                find_argv(roots, [prefix + p for p in request.prune]),
                capture_output=True, stdin=subprocess.DEVNULL, env=command_env(), timeout=self.timeout, check=False,
            )
        except subprocess.TimeoutExpired:
            return Observation(request, ObservationStatus.ERROR, detail=f"the walk timed out after {self.timeout:g} s")
        if proc.returncode != 0 and not vanished_only(proc.stderr):
            return Observation(request, ObservationStatus.ERROR, exit_code=proc.returncode, stderr=proc.stderr,
                               detail=proc.stderr.decode("utf-8", "replace").strip().splitlines()[0])
        lines = proc.stdout.splitlines()
        if prefix:
            cut = len(prefix.encode())
            lines = [_strip_prefix(line, cut) for line in lines]
        data = b"".join(line + b"\n" for line in sorted(lines))
        return Observation(request, ObservationStatus.OK, data, exit_code=0)

    def _run(self, request: RunCommand) -> Observation:
        raise NotImplementedError

    def _processes(self, request: ListProcesses) -> Observation:
        raise NotImplementedError


def _strip_prefix(line: bytes, cut: int) -> bytes:
    head = line.split(b" ", 4)
    if len(head) != 5:
        return line
    return b" ".join([*head[:4], head[4][cut:] or b"/"])


class LocalHost(FilesystemHost):
    """The machine this process runs on, live: files, /proc, /sys and commands."""

    kind = "local"
    live = True

    def __init__(self) -> None:
        super().__init__("/")

    @property
    def address(self) -> str:
        return "local"

    def _run(self, request: RunCommand) -> Observation:
        try:
            proc = subprocess.run(
                list(request.argv), capture_output=True, stdin=subprocess.DEVNULL,
                env=command_env(), timeout=self.timeout, check=False,
            )
        except FileNotFoundError:
            return Observation(request, ObservationStatus.MISSING, detail=f"{request.argv[0]}: command not found")
        except subprocess.TimeoutExpired:
            return Observation(request, ObservationStatus.ERROR, detail=f"timed out after {self.timeout:g} s")
        return Observation(request, ObservationStatus.OK, proc.stdout, exit_code=proc.returncode, stderr=proc.stderr)

    def _processes(self, request: ListProcesses) -> Observation:
        lines: list[str] = []
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/comm", encoding="utf-8", errors="replace") as handle:
                    lines.append(f"{name} {handle.read().strip()}")
            except OSError:
                continue  # exited while we looked
        lines.sort(key=lambda ln: int(ln.split(" ", 1)[0]))
        return Observation(request, ObservationStatus.OK, "".join(f"{ln}\n" for ln in lines).encode())


class OfflineRootHost(FilesystemHost):
    """A root folder at rest. Files are judged; nothing in it is executed."""

    kind = "offline-root"
    live = False

    def __init__(self, root: str | Path) -> None:
        path = Path(root)
        if not path.is_dir():
            raise UsageError(f"{root}: --root must be a directory (a mounted image or a chroot)")
        super().__init__(str(path.resolve()))

    @property
    def address(self) -> str:
        return self.root

    def _run(self, request: RunCommand) -> Observation:
        return Observation(request, ObservationStatus.UNAVAILABLE,
                           detail="commands are not run on an offline root (needs a running system)")

    def _processes(self, request: ListProcesses) -> Observation:
        return Observation(request, ObservationStatus.UNAVAILABLE, detail="an offline root has no running processes")
