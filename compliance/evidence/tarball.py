"""Deterministic ``.tar.gz`` of a packet.

Same files ⇒ same bytes: entries sorted by path, every mtime the assessment time
(``SOURCE_DATE_EPOCH``), owner root (0/0, no user or group names), fixed modes, ustar
headers (no pax records carrying extra times), and a gzip header with mtime 0 and no
file name.
"""

from __future__ import annotations

import gzip
import io
import tarfile

from compliance.errors import UsageError

FILE_MODE = 0o644
DIR_MODE = 0o755
COMPRESS_LEVEL = 3  # zlib's fast deflate: packets are mostly JSON; level 6 took twice as long for 10% less
# A ustar header holds the mtime in 11 octal digits: from 1970-01-01 to 2242-03-16.
MAX_MTIME = 8**11 - 1


def _entry(name: str, mtime: int, *, size: int = 0, directory: bool = False) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = mtime
    info.mode = DIR_MODE if directory else FILE_MODE
    info.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def packet_tarball(files: dict[str, bytes], mtime: int) -> bytes:
    """A deterministic .tar.gz of the packet's files (fixed order, owners, modes and time)."""
    if not 0 <= mtime <= MAX_MTIME:
        raise UsageError(
            f"the packet's time {mtime} (seconds since 1970, from SOURCE_DATE_EPOCH or the clock) "
            f"cannot be written in a tarball: it must lie between 0 and {MAX_MTIME}"
        )
    directories = sorted({"/".join(parts[:depth]) for parts in (p.split("/") for p in files) for depth in range(1, len(parts))})
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=COMPRESS_LEVEL) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for directory in directories:
            tar.addfile(_entry(directory, mtime, directory=True))
        for path in sorted(files):
            data = files[path]
            tar.addfile(_entry(path, mtime, size=len(data)), io.BytesIO(data))
    return buffer.getvalue()
