"""File helpers that keep two promises of the CLI contract.

1. Bad input gives one line naming the file and the problem: ``read_bytes`` and
   ``load_json`` turn every OS and decoding failure into an :class:`InputError`.
2. Nothing appears under its final name until it is complete: ``atomic_write`` writes a
   temporary file in the same directory, fsyncs it and renames it over the target;
   ``atomic_write_all`` does so for several files, all or none.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from compliance.errors import InputError, MalformedJSON, UsageError
from compliance.util.jsonparse import loads_json

# The largest input read whole. A 20,000-path closure is 35 MB and a packet holds inputs of
# at most 64 MiB (larger ones by digest only); a stream such as /dev/zero stops here, so
# that reading it costs at most this much memory before it is refused.
MAX_INPUT_BYTES = 256 << 20
# A pipe, FIFO, socket or device that gives no byte for this long is refused: a FIFO that no
# process writes would otherwise block every entry point forever. Process substitution
# (``<(command)``) is a pipe whose writer is running, so it is waited for, this long at
# most between two chunks.
STREAM_WAIT_ENV = "COMPLIANCE_STREAM_WAIT"
DEFAULT_STREAM_WAIT_SECONDS = 30.0
CHUNK_BYTES = 1 << 20


def stream_wait_seconds() -> float:
    """How long a non-regular input may stay silent (``COMPLIANCE_STREAM_WAIT``, seconds)."""
    raw = os.environ.get(STREAM_WAIT_ENV, "")
    try:
        value = float(raw) if raw else DEFAULT_STREAM_WAIT_SECONDS
    except ValueError:
        raise UsageError(f"{STREAM_WAIT_ENV}={raw!r} is not a number of seconds") from None
    if not 0 < value <= 86400:
        raise UsageError(f"{STREAM_WAIT_ENV}={raw!r} must be between 0 and 86400 seconds")
    return value


def _open_nonblocking(p: Path, what: str) -> int:
    try:
        return os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise InputError(p, f"no such {what}") from None
    except PermissionError:
        raise InputError(p, "permission denied") from None
    except IsADirectoryError:
        raise InputError(p, f"is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None


def read_bytes(path: str | Path, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    """The whole content of ``path``, at most ``limit`` bytes, or :class:`InputError`.

    The file is opened without blocking, so that a FIFO with no writer cannot hang the open;
    a regular file is then read to its end, anything else (pipe, FIFO, device, socket) as a
    stream that must give data within :func:`stream_wait_seconds`. Never more than
    ``limit + 1`` bytes are read, whatever the file claims or keeps producing."""
    p = Path(path)
    fd = _open_nonblocking(p, what)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(p, f"is a directory, expected a {what}")
        if stat.S_ISREG(info.st_mode):
            os.set_blocking(fd, True)
            chunks = _read_regular(fd, info.st_size, limit)
        else:
            chunks = _read_stream(fd, limit, p)
    except IsADirectoryError:
        raise InputError(p, f"is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    size = sum(len(c) for c in chunks)
    if size > limit:
        raise InputError(p, f"larger than {limit} bytes")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def open_input(path: str | Path, *, what: str = "file", limit: int = MAX_INPUT_BYTES) -> BinaryIO:
    """A binary file object over ``path`` for readers that stream (archives): a regular file
    is opened as itself, anything else is read first as :func:`read_bytes` reads it (bounded
    in time and size), so that it cannot hang the reader."""
    p = Path(path)
    fd = _open_nonblocking(p, what)
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    os.close(fd)
    return io.BytesIO(read_bytes(p, what=what, limit=limit))


def _read_regular(fd: int, size: int, limit: int) -> list[bytes]:
    chunks: list[bytes] = []
    total = 0
    want = min(size + 1, limit + 1)
    while total <= limit:
        chunk = os.read(fd, max(1, min(want, limit + 1 - total)))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = CHUNK_BYTES
    return chunks


def _read_stream(fd: int, limit: int, source: Path) -> list[bytes]:
    wait = stream_wait_seconds()
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        if not poller.poll(int(wait * 1000)):
            raise InputError(source, f"no data within {wait:g} s (a pipe or FIFO that nothing writes?)")
        try:
            chunk = os.read(fd, min(CHUNK_BYTES, limit + 1 - total))
        except BlockingIOError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return chunks


def read_text(path: str | Path, *, what: str = "file") -> str:
    data = read_bytes(path, what=what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text (byte {exc.start})") from None


_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


def without_bom(data: bytes, source: str | Path) -> bytes:
    """``data`` as UTF-8 without a byte-order mark. Windows tools write SBOMs and reports
    in UTF-16 or with a UTF-8 BOM; the readers take UTF-8 only, so a text that declares its
    encoding by a BOM is decoded by it and re-encoded. Without a BOM, nothing changes."""
    if data[:1] not in (b"\x00", b"\xef", b"\xfe", b"\xff"):
        return data
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            try:
                return data[len(mark):].decode(encoding).encode("utf-8")
            except UnicodeError as exc:
                raise InputError(source, f"starts with a {encoding.upper()} byte-order mark but is not {encoding.upper()} text ({exc})") from None
    return data


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
