"""The reports folder, listed: every file, whatever it holds, read only when it is checked.

Every file counts, so that nothing put in the folder can go unseen: a file that is not a
report becomes an unreadable candidate, which the decision names. The exceptions are the
companions of a report: ``<file>.sig`` (nixfleet's detached signature, read with its
evidence) and ``*.pub`` (a key shipped next to a report is never trusted; the wave file
gives the keys), and hidden files (``.name``), which are temporary files of writers that
write atomically. Subfolders are read too (``web-1/evidence.json``); symbolic links to
folders are not followed.

Listing and reading are apart so that each report is read where it is checked (in a
worker process, for a large wave) and dropped once checked: a thousand reports of a
hundred kilobytes never sit in memory together.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from compliance.errors import InputError
from compliance.promote.readers import Candidate

MAX_REPORT_BYTES = 16 << 20
MAX_SIGNATURE_BYTES = 4096
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


def candidate_from_bytes(file: str, data: bytes, signature: bytes | None = None, problem: str | None = None) -> Candidate:
    return Candidate(file, data, hashlib.sha256(data).hexdigest(), signature, problem)


@dataclass(frozen=True)
class ReportFile:
    """One file of the folder, not read yet."""

    root: Path
    file: str  # relative to root, with '/'
    signed: bool = False  # a '<file>.sig' lies next to it
    orphan_signature: bool = False  # it is a '.sig' whose file is absent

    def read(self, limit: int = MAX_REPORT_BYTES) -> Candidate:
        data, problem = _read(self.root / self.file, limit)
        signature = None
        if problem is None and self.signed:
            signature, sig_problem = _read(self.root / f"{self.file}{SIGNATURE_SUFFIX}", MAX_SIGNATURE_BYTES)
            if sig_problem:
                signature, problem = None, f"its signature {self.file}{SIGNATURE_SUFFIX} {sig_problem}"
        if problem is None and self.orphan_signature:
            problem = "a signature without the file it signs"
        return candidate_from_bytes(self.file, data, signature, problem)


def list_reports(directory: str | Path) -> list[ReportFile]:
    """The folder's report files in a stable order (by relative path), or
    :class:`InputError` when the folder itself cannot be read."""
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
    listed = []
    for file in sorted(files):
        if file.endswith(KEY_SUFFIX):
            continue
        if file.endswith(SIGNATURE_SUFFIX):
            if file[: -len(SIGNATURE_SUFFIX)] in present:
                continue  # read with the file it signs
            listed.append(ReportFile(root, file, orphan_signature=True))
            continue
        listed.append(ReportFile(root, file, signed=f"{file}{SIGNATURE_SUFFIX}" in present))
    return listed


def _raise(exc: OSError) -> None:
    raise exc
