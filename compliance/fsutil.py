"""File helpers that keep two promises of the CLI contract.

1. Bad input gives one line naming the file and the problem: ``read_bytes`` and
   ``load_json`` turn every OS and decoding failure into an :class:`InputError`.
2. Nothing appears under its final name until it is complete: ``atomic_write`` writes a
   temporary file in the same directory, fsyncs it and renames it over the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from .errors import InputError, UsageError

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
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(source, f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None


def load_json(path: str | Path, *, what: str = "JSON file") -> Any:
    return parse_json(read_bytes(path, what=what), path)


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: int = 0o644) -> Iterator[Any]:
    """Yield a binary file object; on success it replaces ``path`` atomically."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise UsageError(f"{target}: directory {directory} does not exist")
    if target.is_dir():
        raise UsageError(f"{target}: is a directory, expected a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=directory)
    except OSError as exc:
        raise UsageError(f"{target}: cannot write in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            raise UsageError(f"{target}: cannot write: {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_writer(path, mode) as handle:
        handle.write(data)
