"""Reading a packet tarball without trusting it.

Every entry is checked before a byte of it is kept: only regular files and directories,
relative normalised names (no absolute path, no ``..``, no hidden or odd characters; a
leading ``./`` and the ``.`` entry that ``tar -C dir .`` writes are accepted and dropped), no
duplicates, at most ``MAX_ENTRIES`` entries, at most ``MAX_FILE_BYTES`` per file and
``MAX_TOTAL_BYTES`` in all. The decompressed stream itself is bounded too, so a gzip bomb
hidden in headers or padding stops at the same limit, and while it inflates it may not
outgrow ``MAX_INFLATION_RATIO`` times the compressed bytes read (plus a slack): a bomb is
refused after a few MB of output, not after its claimed size. Nothing is written while reading;
:func:`extract_archive` writes only under a fresh staging directory inside the target's
parent, with ``O_EXCL | O_NOFOLLOW``, and renames it into place once everything passed.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from compliance.errors import InputError, UnsafeArchiveError
from compliance.evidence.layout import (
    INFLATION_SLACK_BYTES,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_INFLATION_RATIO,
    MAX_TOTAL_BYTES,
    SAFE_PATH_PATTERN,
)
from compliance.util.fsutil import open_input

_SAFE = re.compile(SAFE_PATH_PATTERN)
READ_SIZE = 1 << 20  # tarfile reads the stream in records of this size (its default, 10 KiB, costs a call per record)
HEADER_ALLOWANCE = 64 << 10  # tar headers and padding on top of the file bytes, per entry, at most


@dataclass(frozen=True)
class Limits:
    """Bounds on what reading a packet archive may cost: entries, file and total sizes, inflation ratio."""
    max_entries: int = MAX_ENTRIES
    max_file_bytes: int = MAX_FILE_BYTES
    max_total_bytes: int = MAX_TOTAL_BYTES
    max_inflation_ratio: int = MAX_INFLATION_RATIO
    inflation_slack_bytes: int = INFLATION_SLACK_BYTES


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingReader:
    """The compressed file, counting the bytes the decompressor has read from it."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner, self.count = inner, 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._inner.read(size)
        self.count += len(data)
        return data

    def seek(self, offset: int, /) -> int:  # gzip's interface; tarfile's stream mode never seeks back
        return self._inner.seek(offset)


class _BoundedReader:
    """A read-only stream that refuses to yield more than ``limit`` bytes, or more than
    ``ratio`` times the compressed bytes read so far plus ``slack``."""

    def __init__(self, inner: _Readable, compressed: _CountingReader, limit: int, limits: Limits, source: str) -> None:
        self._inner, self._compressed, self._limit, self._source, self._count = inner, compressed, limit, source, 0
        self._ratio, self._slack = limits.max_inflation_ratio, limits.inflation_slack_bytes

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size >= 0 else self._limit + 1 - self._count)
        self._count += len(data)
        if self._count > self._limit:
            raise UnsafeArchiveError(f"{self._source}: decompresses to more than {self._limit} bytes (refused)")
        if self._count > self._ratio * self._compressed.count + self._slack:
            raise UnsafeArchiveError(
                f"{self._source}: inflates more than {self._ratio} times its compressed size, a compression bomb (refused)"
            )
        return data


def normalised_name(name: str) -> str:
    """``name`` without the leading ``./`` that ``tar -C dir .`` writes; ``.`` (the top
    directory itself) becomes the empty string."""
    while name.startswith("./"):
        name = name[2:]
    return "" if name == "." else name


def safe_name(name: str, source: str) -> str:
    """An archive entry's name if it stays inside the packet (no absolute path, no ``..``); unsafe names are refused."""
    if name.startswith("/"):
        raise UnsafeArchiveError(f"{source}: entry {name!r} has an absolute path (refused)")
    if ".." in name.split("/"):
        raise UnsafeArchiveError(f"{source}: entry {name!r} leaves the target with '..' (refused)")
    stripped = name.rstrip("/")
    if not _SAFE.match(stripped):
        raise UnsafeArchiveError(f"{source}: entry {name!r} is not a plain relative path (refused)")
    return stripped


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "a symbolic link"
    if member.islnk():
        return "a hard link"
    if member.ischr() or member.isblk():
        return "a device node"
    if member.isfifo():
        return "a FIFO"
    if member.issparse():
        return "a sparse file"
    return f"an entry of type {member.type!r}"


def iter_archive(path: str | Path, limits: Limits = Limits()) -> Iterator[tuple[str, bytes | None]]:
    """Yield ``(name, data)`` for files and ``(name, None)`` for directories, after checks."""
    source = str(path)
    handle = open_input(path, what="packet (a directory or a .tar.gz)")
    with handle:
        if handle.read(2) != b"\x1f\x8b":
            raise InputError(source, "not a gzip-compressed tarball (.tar.gz)")
        handle.seek(0)
        bound = limits.max_total_bytes + (limits.max_entries + 2) * HEADER_ALLOWANCE
        compressed = _CountingReader(handle)
        stream = _BoundedReader(gzip.GzipFile(fileobj=compressed, mode="rb"), compressed, bound, limits, source)
        try:
            with tarfile.open(fileobj=stream, mode="r|", bufsize=READ_SIZE) as tar:  # type: ignore[call-overload]
                yield from _members(tar, limits, source)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise InputError(source, f"not a readable tarball: {exc}") from None


def _members(tar: tarfile.TarFile, limits: Limits, source: str) -> Iterator[tuple[str, bytes | None]]:
    seen: dict[str, bool] = {}  # name → is a directory
    count = total = 0
    for member in tar:
        count += 1
        if count > limits.max_entries:
            raise UnsafeArchiveError(f"{source}: more than {limits.max_entries} entries (refused)")
        normalised = normalised_name(member.name)
        if not normalised:
            if member.isdir():
                continue  # the top directory itself ('.' or './')
            raise UnsafeArchiveError(f"{source}: entry {member.name!r} is not a plain relative path (refused)")
        name = safe_name(normalised, source)
        if not (member.isreg() or member.isdir()):
            raise UnsafeArchiveError(f"{source}: entry {member.name!r} is {_kind(member)} (refused)")
        if name in seen:
            raise UnsafeArchiveError(f"{source}: entry {name!r} appears twice (refused)")
        parts = name.split("/")
        for depth in range(1, len(parts)):
            if seen.get("/".join(parts[:depth])) is False:
                raise UnsafeArchiveError(f"{source}: entry {name!r} is below a file (refused)")
        seen[name] = member.isdir()
        if member.isdir():
            yield name, None
            continue
        if member.size > limits.max_file_bytes:
            raise UnsafeArchiveError(f"{source}: entry {name!r} is {member.size} bytes, more than {limits.max_file_bytes} (refused)")
        total += member.size
        if total > limits.max_total_bytes:
            raise UnsafeArchiveError(f"{source}: unpacks to more than {limits.max_total_bytes} bytes (refused)")
        extracted = tar.extractfile(member)
        if extracted is None:
            raise UnsafeArchiveError(f"{source}: entry {name!r} cannot be read")
        data = extracted.read()
        if len(data) != member.size:
            raise InputError(source, f"entry {name!r} is truncated")
        yield name, data


def read_archive(path: str | Path, limits: Limits = Limits()) -> dict[str, bytes]:
    """The files of a packet tarball, in memory; nothing is written anywhere."""
    return read_archive_entries(path, limits)[0]


def read_archive_entries(path: str | Path, limits: Limits = Limits()) -> tuple[dict[str, bytes], set[str]]:
    """The files of a packet tarball, in memory, and the directories it lists."""
    files: dict[str, bytes] = {}
    directories: set[str] = set()
    for name, data in iter_archive(path, limits):
        if data is None:
            directories.add(name)
        else:
            files[name] = data
    return files, directories


def extract_archive(path: str | Path, target: str | Path, limits: Limits = Limits()) -> list[str]:
    """Unpack into ``target`` (which must not exist, or be an empty directory).

    Files are written under a staging directory next to the target and moved into place
    only when the whole archive passed; on any refusal the staging directory is removed.
    """
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(target, "already exists and is not an empty directory")
    parent = target.parent
    if not parent.is_dir():
        raise InputError(target, f"directory {parent} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    written: list[str] = []
    try:
        for name, data in iter_archive(path, limits):
            destination = staging.joinpath(*name.split("/"))
            if data is None:
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            written.append(name)
        with contextlib.suppress(FileNotFoundError):
            target.rmdir()
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
