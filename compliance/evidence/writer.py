"""Writing a packet to disk: a directory, or a ``.tar.gz`` when the name says so.

Nothing appears under the final name until the packet is complete: a tarball is written
with :func:`~compliance.util.fsutil.atomic_write`; a directory is filled under a temporary
name beside it and renamed into place. An existing non-empty directory is never
replaced (it may hold anything).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from compliance.errors import UsageError
from compliance.evidence.tarball import DIR_MODE, FILE_MODE, packet_tarball
from compliance.util.fsutil import atomic_write

TARBALL_SUFFIXES = (".tar.gz", ".tgz")


def is_tarball_name(out: str | Path) -> bool:
    """Whether an output name asks for a .tar.gz packet rather than a directory."""
    return str(out).endswith(TARBALL_SUFFIXES)


def check_destination(out: str | Path) -> None:
    """Fail before any work when the packet cannot be written at ``out``."""
    target = Path(out)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"{target}: directory {parent} does not exist")
    if is_tarball_name(target):
        if target.is_dir():
            raise UsageError(f"{target}: is a directory, expected a .tar.gz file name")
    elif target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target}: already exists; remove it or choose another name (a packet directory is never overwritten)")


def write_packet(files: dict[str, bytes], out: str | Path, mtime: int) -> None:
    """Write a packet under its final name only when complete (a directory renamed into place, or an atomic tarball)."""
    check_destination(out)
    if is_tarball_name(out):
        atomic_write(out, packet_tarball(files, mtime))
        return
    target = Path(out)
    parent = target.parent if str(target.parent) else Path(".")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=parent))
    try:
        for path in sorted(files):
            destination = staging.joinpath(*path.split("/"))
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(files[path])
            os.chmod(destination, FILE_MODE)
            os.utime(destination, (mtime, mtime))
        for directory in sorted({p.parent for p in staging.rglob("*")}, reverse=True):
            os.chmod(directory, DIR_MODE)
            os.utime(directory, (mtime, mtime))
        if target.is_dir():
            target.rmdir()  # empty: checked above
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
