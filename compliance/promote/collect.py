"""The reports folder, read as candidates: every file, whatever it holds.

Every file counts, so that nothing put in the folder can go unseen: a file that is not a
report becomes an unreadable candidate, which the decision names. The exceptions are the
companions of a report: ``<file>.sig`` (nixfleet's detached signature, read with its
evidence) and ``*.pub`` (a key shipped next to a report is never trusted; the wave file
gives the keys), and hidden files (``.name``), which are temporary files of writers that
write atomically. Subfolders are read too (``web-1/evidence.json``); symbolic links to
folders are not followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from ..errors import InputError
from .readers import Candidate

MAX_REPORT_BYTES = 16 << 20
SIGNATURE_SUFFIX = ".sig"
KEY_SUFFIX = ".pub"


def _read(path: Path, limit: int) -> tuple[bytes, str | None]:
    """A regular file's bytes. Opened without blocking and checked before reading: a FIFO
    or a device in the folder would otherwise hang the gate or feed it forever."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return b"", f"cannot be read: {exc.strerror or exc}"
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b"", "not a regular file"
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            return b"", f"cannot be read: {exc.strerror or exc}"
    if len(data) > limit:
        return b"", f"larger than {limit} bytes"
    return data, None


def candidate_from_bytes(file: str, data: bytes, signature: bytes | None = None) -> Candidate:
    return Candidate(file, data, hashlib.sha256(data).hexdigest(), signature)


def collect_reports(directory: str | Path, *, limit: int = MAX_REPORT_BYTES) -> list[Candidate]:
    """Candidates in a stable order (by relative path), or :class:`InputError` when the
    folder itself cannot be read."""
    root = Path(directory)
    if not root.is_dir():
        raise InputError(root, "no such folder of reports" if not root.exists() else "not a folder")
    files: list[str] = []
    try:
        for current, dirs, names in os.walk(root, onerror=_raise):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            base = Path(current).relative_to(root)
            files.extend((base / n).as_posix() for n in names if not n.startswith("."))
    except OSError as exc:
        raise InputError(getattr(exc, "filename", None) or root, f"cannot be listed: {exc.strerror or exc}") from None
    present = set(files)
    candidates = []
    for file in sorted(files):
        if file.endswith(KEY_SUFFIX):
            continue
        if file.endswith(SIGNATURE_SUFFIX) and file[: -len(SIGNATURE_SUFFIX)] in present:
            continue
        data, problem = _read(root / file, limit)
        signature = None
        if problem is None and f"{file}{SIGNATURE_SUFFIX}" in present:
            signature, sig_problem = _read(root / f"{file}{SIGNATURE_SUFFIX}", 4096)
            if sig_problem:
                signature = None
                problem = f"its signature {file}{SIGNATURE_SUFFIX} {sig_problem}"
        if file.endswith(SIGNATURE_SUFFIX) and problem is None:
            problem = "a signature without the file it signs"
        candidate = candidate_from_bytes(file, data, signature)
        candidates.append(candidate if problem is None else Candidate(file, data, candidate.sha256, signature, problem))
    return candidates


def _raise(exc: OSError) -> None:
    raise exc
