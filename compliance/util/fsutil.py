"""File helpers that keep two promises of the CLI contract.

1. Bad input gives one line naming the file and the problem: ``read_bytes`` and
   ``load_json`` turn every OS and decoding failure into an :class:`InputError`.
2. Nothing appears under its final name until it is complete: ``atomic_write`` writes a
   temporary file in the same directory, fsyncs it and renames it over the target;
   ``atomic_write_all`` does so for several files, all or none.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from compliance.errors import InputError, MalformedJSON, UsageError
from compliance.util.jsonparse import loads_json

MAX_INPUT_BYTES = 1 << 30


def read_bytes(path: str | Path, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    p = Path(path)
    try:
        if p.is_dir():
            raise InputError(p, f"is a directory, expected a {what}")
        with p.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputError(p, f"no such {what}") from None
    except PermissionError:
        raise InputError(p, "permission denied") from None
    except IsADirectoryError:
        raise InputError(p, f"is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise InputError(p, f"larger than {limit} bytes")
    return data


def read_text(path: str | Path, *, what: str = "file") -> str:
    data = read_bytes(path, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None


def parse_json(data: bytes, source: str | Path) -> Any:
    if not data.strip():
        raise InputError(source, "empty file, expected JSON")
    try:
        return loads_json(data)
    except MalformedJSON as exc:
        raise InputError(source, f"invalid JSON: {exc.problem}") from None


def load_json(path: str | Path, *, what: str = "JSON file") -> Any:
    return parse_json(read_bytes(path, what=what), path)


def _destination(path: str | Path) -> tuple[Path, bool]:
    """Where to write ``path`` and whether to write straight into it.

    Only a regular file (or a name not yet taken) is replaced by rename. What exists and is
    not one, a device, a FIFO or a pipe such as ``/dev/stdout``, is written through: renaming
    over it would replace the node itself. A symlink to a file is followed, so that the file
    it points to gets the new content and the link stays a link."""
    target = Path(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{target}: is a directory, expected a file name")
    if info is not None and not stat.S_ISREG(info.st_mode):
        return target, True
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"{target}: directory {directory} does not exist")
    return target, False


@contextlib.contextmanager
def _written_through(target: Path) -> Iterator[Any]:
    try:
        handle = os.fdopen(os.open(target, os.O_WRONLY), "wb")
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    try:
        with handle:
            yield handle
            handle.flush()
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _staged(target: Path, mode: int) -> Iterator[tuple[Any, str]]:
    """A complete, synced temporary file next to ``target`` (the handle and its name); it is
    removed if the block fails, and left for the caller to rename if it succeeds."""
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        _remove(tmp)
        raise


def _commit(tmp: str, target: Path) -> None:
    try:
        os.replace(tmp, target)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None


def _remove(path: str | Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: int = 0o644) -> Iterator[Any]:
    """Yield a binary file object; on success it replaces ``path`` atomically (or, when
    ``path`` is a device, FIFO or pipe, it has been written into it)."""
    target, through = _destination(path)
    if through:
        with _written_through(target) as handle:
            yield handle
        return
    with _staged(target, mode) as (handle, tmp):
        yield handle
    try:
        _commit(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def atomic_write(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def atomic_write_all(files: list[tuple[str | Path, bytes]], mode: int = 0o644) -> None:
    """Write several files, all or none: every file is staged complete first, then the
    devices and pipes among the targets are written, then the staged files are renamed into
    place. Any failure removes what was staged and what was already renamed, so a run that
    fails leaves none of its outputs behind (a report without its companions would pass for
    a complete one)."""
    staged: list[tuple[str, Path]] = []
    committed: list[Path] = []
    try:
        through: list[tuple[Path, bytes]] = []
        for path, data in files:
            target, direct = _destination(path)
            if direct:
                through.append((target, data))
                continue
            with _staged(target, mode) as (handle, tmp):
                handle.write(data)
            staged.append((tmp, target))
        for target, data in through:
            with _written_through(target) as handle:
                handle.write(data)
        for tmp, target in staged:
            _commit(tmp, target)
            committed.append(target)
    except BaseException:
        for tmp, _ in staged:
            _remove(tmp)
        for target in committed:
            _remove(target)
        raise
