"""Where a run's rendered formats go: files (all or none) and standard output.

``--format`` and ``-o [FMT=]PATH`` are checked before any work, so that a typo costs no
gate run, and written after it, atomically.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from compliance.errors import UsageError
from compliance.util.fsutil import atomic_write, atomic_write_all

# ``-o WORD=PATH`` where WORD is no known format is a format mistake, not a file name:
# a path with '=' in it starts with a folder, a dot or a slash.
_FORMAT_WORD = re.compile(r"[a-z][a-z0-9-]*")


def parse_outputs(formats: tuple[str, ...], outputs: tuple[str, ...], known: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """``--format`` and ``-o [FMT=]PATH`` → (formats for stdout, format → paths).

    ``-o FMT=PATH`` writes FMT to PATH; a bare ``-o PATH`` takes the single ``--format``.
    Formats not bound to a file go to standard output, at most one of them.
    """
    to_files: dict[str, list[str]] = {}
    bare: list[str] = []
    for item in outputs:
        fmt, sep, path = item.partition("=")
        if sep and fmt in known:
            to_files.setdefault(fmt, []).append(path)
        elif sep and _FORMAT_WORD.fullmatch(fmt):
            hint = "; the PDF report is written by 'compliance evidence report --pdf F PACKET'" if fmt == "pdf" else ""
            raise UsageError(f"-o {fmt}=: {fmt} is not a format of this command (known: {', '.join(known)}){hint}")
        else:
            bare.append(item)
    chosen = list(dict.fromkeys(formats))
    for fmt in chosen:
        if fmt not in known:
            raise UsageError(f"--format {fmt}: unknown format (known: {', '.join(known)})")
    if bare:
        unbound = [f for f in chosen if f not in to_files]
        if len(unbound) != 1 or len(bare) != 1:
            raise UsageError("-o PATH needs exactly one --format to go with it; otherwise write -o FORMAT=PATH")
        to_files.setdefault(unbound[0], []).append(bare[0])
    stdout = [f for f in chosen if f not in to_files]
    if not chosen and not to_files:
        stdout = ["text"]
    if len(stdout) > 1:
        raise UsageError(f"several formats on standard output ({', '.join(stdout)}): write the others to files with -o FORMAT=PATH")
    for paths in to_files.values():
        for path in paths:
            check_output_file(path)
    return stdout, to_files


def check_output_file(path: str, *, option: str | None = None) -> None:
    """Fail before any work when no file can be written at ``path``: it names a folder,
    or a folder that does not exist."""
    target = Path(path)
    label = f"{option} {path}" if option else path
    if target.is_dir():
        raise UsageError(f"{label}: is a directory, expected a file name")
    if not target.parent.is_dir():
        raise UsageError(f"{label}: directory {target.parent} does not exist")


def write_outputs(rendered: dict[str, bytes], stdout: list[str], to_files: dict[str, list[str]]) -> None:
    """The files all or none (one that cannot be written leaves no other behind), then
    standard output."""
    atomic_write_all([(path, rendered[fmt]) for fmt, paths in to_files.items() for path in paths])
    for fmt in stdout:
        sys.stdout.buffer.write(rendered[fmt])
    sys.stdout.flush()


def write_file(path: str, data: bytes) -> None:
    """Write one output under its final name only once it is complete."""
    atomic_write(path, data)
