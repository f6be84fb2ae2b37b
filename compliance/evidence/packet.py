"""Opening a packet, from a directory or a ``.tar.gz``, into memory.

A tarball goes through :mod:`.archive` (refused when hostile: exit 2). A directory is
walked without following links; an entry that is not a regular file (a link, a device, a
FIFO) is kept as a *problem* for the verifier to report (the packet is invalid, exit 1),
and its target is never read. Directories are kept by name too, so that the verifier can
name one that holds no file of the packet. The same bounds apply to both.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from compliance.errors import InputError, UnsafeArchiveError
from compliance.evidence.archive import Limits, read_archive_entries, safe_name


@dataclass(frozen=True)
class Packet:
    """A packet's files read into memory (a directory or a .tar.gz), with what made any entry unreadable."""
    source: str
    files: dict[str, bytes]
    problems: dict[str, str] = field(default_factory=dict)  # entry → why it is not a plain file
    directories: frozenset[str] = frozenset()  # every directory inside the packet, by path

    @cached_property
    def digests(self) -> dict[str, str]:
        """sha256 (hex) of every file, computed once."""
        return {name: hashlib.sha256(data).hexdigest() for name, data in self.files.items()}


def open_packet(path: str | Path, limits: Limits = Limits()) -> Packet:
    """Read a packet from a directory or a .tar.gz, within the limits, never writing anywhere."""
    p = Path(path)
    if p.is_dir():
        return _read_directory(p, limits)
    if not p.exists():
        raise InputError(p, "no such packet (a directory or a .tar.gz)")
    files, directories = read_archive_entries(p, limits)
    return Packet(str(p), files, directories=frozenset(directories))


def _read_directory(root: Path, limits: Limits) -> Packet:
    files: dict[str, bytes] = {}
    problems: dict[str, str] = {}
    directories: set[str] = set()
    total = count = 0
    for directory, subdirs, names in os.walk(root, onerror=_raise(root)):
        here = Path(directory)
        for name in sorted(subdirs):
            if (here / name).is_symlink():  # os.walk lists links to directories here; never enter them
                problems[_relative(root, here / name)] = "is a symbolic link, not a regular file"
            else:
                directories.add(_relative(root, here / name))
        for name in sorted(names):
            entry = here / name
            relative = _relative(root, entry)
            count += 1
            if count > limits.max_entries:
                raise UnsafeArchiveError(f"{root}: more than {limits.max_entries} entries (refused)")
            try:
                mode = os.lstat(entry).st_mode
            except OSError as exc:
                raise InputError(entry, f"cannot read: {exc.strerror or exc}") from None
            if not stat.S_ISREG(mode):
                problems[relative] = "is a symbolic link, not a regular file" if stat.S_ISLNK(mode) else "is not a regular file"
                continue
            files[relative] = _read_file(entry, limits)
            total += len(files[relative])
            if total > limits.max_total_bytes:
                raise UnsafeArchiveError(f"{root}: holds more than {limits.max_total_bytes} bytes (refused)")
    if not files and not problems and not directories:
        raise InputError(root, "an empty directory, no manifest.json: not an evidence packet")
    return Packet(str(root), files, problems, frozenset(directories))


def _relative(root: Path, entry: Path) -> str:
    relative = entry.relative_to(root).as_posix()
    try:
        return safe_name(relative, str(root))
    except UnsafeArchiveError:
        return relative  # reported by the verifier as an extra file; the name is only displayed


def _read_file(entry: Path, limits: Limits) -> bytes:
    try:
        fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(entry, "is not a regular file")
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise InputError(entry, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_file_bytes:
        raise UnsafeArchiveError(f"{entry}: larger than {limits.max_file_bytes} bytes (refused)")
    return data


def _raise(root: Path) -> Callable[[OSError], None]:
    def handler(exc: OSError) -> None:
        raise InputError(root, f"cannot read: {exc.strerror or exc}")

    return handler
