"""What a probe asks of a host, and what the host answers.

Probes never touch a host directly: they ask for *requests* (read a file, run a command,
stat a path, ...) and judge the *observations* that come back. Requests are plain,
hashable values so that a host can collect many of them in one batch (one round trip over
SSH), cache them for every probe that needs the same input, and record the digest of each
raw answer in the signed report. Every transport renders an observation's ``data`` in the
same byte format, so the same input has the same digest whether it was read locally, over
SSH or from an offline root.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True)
class ReadFile:
    """The bytes of a file (following symlinks)."""

    path: str


@dataclass(frozen=True)
class RunCommand:
    """Run a command (no shell) and capture its exit code, stdout and stderr. Live hosts only."""

    argv: tuple[str, ...]


@dataclass(frozen=True)
class StatPath:
    """``<mode in hex> <uid> <gid> <size>`` of a path, following symlinks (``stat -L -c '%f %u %g %s'``)."""

    path: str


@dataclass(frozen=True)
class ListDir:
    """The names in a directory, one a line, sorted bytewise (``LC_ALL=C ls -A1``)."""

    path: str


@dataclass(frozen=True)
class ResolvePath:
    """The canonical path a path resolves to, symlinks followed (``readlink -e``)."""

    path: str


@dataclass(frozen=True)
class FindSpecial:
    """Setuid, setgid and world-writable entries under ``roots`` on their file systems.

    One line per entry, ``<octal mode> <uid> <gid> <type> <path>``, sorted; ``prune``
    names trees not to enter. One walk serves every probe that judges special modes.
    """

    roots: tuple[str, ...]
    prune: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListProcesses:
    """Running processes, ``<pid> <comm>`` one a line. Live hosts only."""


Request = ReadFile | RunCommand | StatPath | ListDir | ResolvePath | FindSpecial | ListProcesses


def describe(request: Request) -> tuple[str, str]:
    """(kind, target) of a request, as the report names it."""
    if isinstance(request, ReadFile):
        return "file", request.path
    if isinstance(request, RunCommand):
        return "command", " ".join(request.argv)
    if isinstance(request, StatPath):
        return "stat", request.path
    if isinstance(request, ListDir):
        return "listdir", request.path
    if isinstance(request, ResolvePath):
        return "resolve", request.path
    if isinstance(request, FindSpecial):
        target = " ".join(request.roots)
        return "find-special", target + (f" (pruned: {' '.join(request.prune)})" if request.prune else "")
    return "processes", "/proc"


class ObservationStatus(StrEnum):
    OK = "ok"  # the answer is in ``data`` (for a command: it ran, whatever its exit code)
    MISSING = "missing"  # the file, directory or command does not exist
    DENIED = "denied"  # permission denied
    ERROR = "error"  # anything else: the answer cannot be trusted
    UNAVAILABLE = "unavailable"  # the transport cannot answer this (a command on an offline root)


@dataclass(frozen=True)
class Observation:
    """The raw answer to one request. ``detail`` says why a non-``ok`` answer is not one."""

    request: Request
    status: ObservationStatus
    data: bytes = b""
    exit_code: int | None = None
    stderr: bytes = b""
    detail: str = ""

    @property
    def sha256(self) -> str:
        """Digest of the raw answer (stdout for a command): what the report binds."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()


def stat_line(mode: int, uid: int, gid: int, size: int) -> bytes:
    """The byte format of a :class:`StatPath` answer on every transport."""
    return f"{mode:x} {uid} {gid} {size}\n".encode()


def vanished_only(stderr: bytes) -> bool:
    """True when every message of ``find`` is about an entry that vanished during the walk."""
    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return all(ln.rstrip().endswith("No such file or directory") for ln in lines)
