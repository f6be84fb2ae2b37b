"""Hostile tarballs: absolute paths, '..', symbolic and hard links, device nodes, FIFOs,
100,000 tiny files, a gzip bomb. Each is refused, reading writes nothing, and unpacking
writes nothing outside (nor, on refusal, inside) its target."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.errors import UnsafeArchiveError, UsageError
from compliance.evidence.archive import Limits, extract_archive, read_archive
from compliance.evidence.layout import MAX_FILE_BYTES, MAX_TOTAL_BYTES
from compliance.evidence.tarball import MAX_MTIME, packet_tarball
from tests.support.cli import one_line_error, run
from tests.support.evidence import FIXED_TIME, make_key_pair


def tarball(path: Path, entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    path.write_bytes(gzip.compress(buffer.getvalue(), mtime=0))
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o644
    return info


HOSTILE: dict[str, tuple[Callable[[], list[tuple[tarfile.TarInfo, bytes | None]]], str]] = {
    "absolute path": (lambda: [(member("/tmp/escaped-absolute"), b"x")], "absolute path"),
    "dot-dot path": (lambda: [(member("inputs/../../escaped-dotdot"), b"x")], "leaves the target"),
    "dot-dot first": (lambda: [(member("../escaped-dotdot"), b"x")], "leaves the target"),
    "symlink": (lambda: [(member("report.html", tarfile.SYMTYPE, "/etc/passwd"), None)], "a symbolic link"),
    "symlink then write through it": (
        lambda: [(member("inputs", tarfile.SYMTYPE, ".."), None), (member("inputs/escaped-link"), b"x")], "a symbolic link"),
    "hard link": (lambda: [(member("results.json", tarfile.LNKTYPE, "/etc/shadow"), None)], "a hard link"),
    "character device": (lambda: [(member("dev-null", tarfile.CHRTYPE), None)], "a device node"),
    "block device": (lambda: [(member("sda", tarfile.BLKTYPE), None)], "a device node"),
    "fifo": (lambda: [(member("pipe", tarfile.FIFOTYPE), None)], "a FIFO"),
    "duplicate entry": (lambda: [(member("results.json"), b"a"), (member("results.json"), b"b")], "appears twice"),
    "entry below a file": (lambda: [(member("inputs"), b"a"), (member("inputs/x"), b"b")], "below a file"),
    "hidden name": (lambda: [(member(".bashrc"), b"x")], "not a plain relative path"),
    "dot-slash then dot-dot": (lambda: [(member("./", tarfile.DIRTYPE), None), (member("./../escaped-dotdot"), b"x")], "leaves the target"),
    "dot-slash then absolute": (lambda: [(member(".//tmp/escaped-absolute"), b"x")], "absolute path"),
    "dot as a file": (lambda: [(member("."), b"x")], "entry '.' is not a plain relative path"),
    "dot-slash symlink": (lambda: [(member("./report.html", tarfile.SYMTYPE, "/etc/passwd"), None)], "a symbolic link"),
}


def _no_escape(tmp_path: Path) -> None:
    for name in ("escaped-absolute", "escaped-dotdot", "escaped-link"):
        assert not (tmp_path / name).exists() and not (tmp_path.parent / name).exists() and not Path("/tmp", name).exists()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_entries_are_refused(case: str, tmp_path: Path) -> None:
    build, reason = HOSTILE[case]
    archive = tarball(tmp_path / "hostile.tar.gz", build())
    with pytest.raises(UnsafeArchiveError, match=reason):
        read_archive(archive)
    target = tmp_path / "work" / "target"
    target.parent.mkdir()
    with pytest.raises(UnsafeArchiveError, match=reason):
        extract_archive(archive, target)
    assert list(target.parent.iterdir()) == []  # no target, no staging directory left
    _no_escape(tmp_path)


def test_hostile_tarball_through_the_cli_is_refused_with_one_line(tmp_path: Path) -> None:
    keys = make_key_pair(tmp_path / "keys")
    archive = tarball(tmp_path / "hostile.tar.gz", [(member("../escaped-dotdot"), b"x")])
    result = run("evidence", "verify", str(archive), "--key", str(keys.public))
    assert result.code == 2
    assert "entry '../escaped-dotdot' leaves the target with '..' (refused)" in one_line_error(result)
    exported = run("evidence", "export", str(archive), "--format", "oscal")
    assert exported.code == 2 and "refused" in one_line_error(exported)
    _no_escape(tmp_path)


def _tiny_files(count: int) -> bytes:
    """An uncompressed tar of ``count`` empty files, headers patched from one template
    (tarfile would take seconds to write them one by one)."""
    template = bytearray(member("inputs/0000000").tobuf(format=tarfile.USTAR_FORMAT))
    template[148:156] = b" " * 8
    base = sum(template) - sum(template[0:14])
    blocks = bytearray()
    for index in range(count):
        name = f"inputs/{index:07d}".encode()
        template[0:14] = name
        template[148:156] = b"%06o\0 " % (base + sum(name))
        blocks += template
        template[148:156] = b" " * 8
    return bytes(blocks + b"\0" * 1024)


def test_a_hundred_thousand_tiny_files_are_refused(tmp_path: Path) -> None:
    raw = _tiny_files(100_000)
    last = tarfile.TarInfo.frombuf(raw[99_999 * 512 : 100_000 * 512], "utf-8", "surrogateescape")  # checksum verified
    assert last.name == "inputs/0099999" and len(raw) == 100_002 * 512
    archive = tmp_path / "many.tar.gz"
    archive.write_bytes(gzip.compress(raw, compresslevel=1))
    with pytest.raises(UnsafeArchiveError, match="more than 4096 entries"):
        read_archive(archive)
    target = tmp_path / "target"
    with pytest.raises(UnsafeArchiveError, match="more than 4096 entries"):
        extract_archive(archive, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.tar.gz"]


def _bomb(path: Path, declared: int, chunk: int = 64 << 20) -> Path:
    """A tarball of one file of ``declared`` zero bytes: a few megabytes on disk. Written as
    concatenated gzip members (valid gzip) so that it is built in a fraction of a second."""
    header = member("inputs/zeros")
    header.size = declared
    zeros = zlib.compressobj(9, zlib.DEFLATED, 31)
    member_of_zeros = zeros.compress(b"\0" * chunk) + zeros.flush()
    with path.open("wb") as out:
        out.write(gzip.compress(header.tobuf(format=tarfile.GNU_FORMAT), mtime=0))
        for _ in range(declared // chunk):
            out.write(member_of_zeros)
        out.write(gzip.compress(b"\0" * (declared % chunk + 1024), mtime=0))
    return path


def test_a_gzip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.tar.gz", declared=4 << 30)  # 4 GiB of zeros
    assert bomb.stat().st_size < 8 << 20
    with pytest.raises(UnsafeArchiveError, match=f"more than {MAX_FILE_BYTES}"):
        read_archive(bomb)
    with pytest.raises(UnsafeArchiveError, match=f"more than {MAX_FILE_BYTES}"):
        extract_archive(bomb, tmp_path / "target")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tar.gz"]


def _multi_bomb(path: Path, entries: int, size: int, chunk: int = 32 << 20) -> Path:
    """``entries`` files of ``size`` zero bytes each, every one within the per-file and
    total bounds by its header: only the inflation itself can give the bomb away."""
    zeros = zlib.compressobj(9, zlib.DEFLATED, 31)
    member_of_zeros = zeros.compress(b"\0" * chunk) + zeros.flush()
    with path.open("wb") as out:
        for index in range(entries):
            header = member(f"inputs/zeros-{index}")
            header.size = size
            out.write(gzip.compress(header.tobuf(format=tarfile.GNU_FORMAT), mtime=0))
            for _ in range(size // chunk):
                out.write(member_of_zeros)
            out.write(gzip.compress(b"\0" * (size % chunk + (-size % 512)), mtime=0))
        out.write(gzip.compress(b"\0" * 1024, mtime=0))
    return path


def test_the_bounds_fit_a_packet_of_inputs_at_their_cap() -> None:
    assert MAX_FILE_BYTES >= 2 * (64 << 20) and MAX_TOTAL_BYTES >= 8 * (64 << 20)
    assert MAX_FILE_BYTES < 1 << 30 and MAX_TOTAL_BYTES <= 1 << 30


def test_a_bomb_of_many_entries_within_the_bounds_stops_as_it_inflates(tmp_path: Path) -> None:
    """Three entries of 192 MiB of zeros (600 KiB on disk): each header is within the
    per-file and total bounds, so reading stops on the inflation ratio, after the slack's
    worth of output rather than 576 MiB kept in memory."""
    size = 192 << 20
    assert 3 * size < MAX_TOTAL_BYTES and size < MAX_FILE_BYTES
    bomb = _multi_bomb(tmp_path / "bomb.tar.gz", entries=3, size=size)
    assert bomb.stat().st_size < 2 << 20
    with pytest.raises(UnsafeArchiveError, match="inflates more than 256 times its compressed size"):
        read_archive(bomb)
    with pytest.raises(UnsafeArchiveError, match="compression bomb"):
        extract_archive(bomb, tmp_path / "target")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tar.gz"]
    keys = make_key_pair(tmp_path / "keys")
    result = run("evidence", "verify", str(bomb), "--key", str(keys.public))
    assert result.code == 2
    assert one_line_error(result).endswith("bomb.tar.gz: inflates more than 256 times its compressed size, a compression bomb (refused)")


def test_the_inflation_ratio_is_measured_on_the_bytes_read_so_far(tmp_path: Path) -> None:
    """With a ratio of 10 and 1 MiB of slack: 4 MiB of zeros is refused, 4 MiB that does not
    deflate is read, and so is a small file of zeros within the slack."""
    limits = Limits(max_inflation_ratio=10, inflation_slack_bytes=1 << 20)
    zeros = tarball(tmp_path / "zeros.tar.gz", [(member("x"), b"\0" * (4 << 20))])
    with pytest.raises(UnsafeArchiveError, match="inflates more than 10 times"):
        read_archive(zeros, limits)
    noise = os.urandom(4 << 20)
    assert read_archive(tarball(tmp_path / "noise.tar.gz", [(member("x"), noise)]), limits) == {"x": noise}
    small = tarball(tmp_path / "small.tar.gz", [(member("x"), b"\0" * (512 << 10))])
    assert read_archive(small, limits) == {"x": b"\0" * (512 << 10)}


@pytest.mark.parametrize("mtime", [-1, -86400, MAX_MTIME + 1])
def test_the_tarball_writer_refuses_a_time_a_tar_header_cannot_hold(mtime: int) -> None:
    with pytest.raises(UsageError, match=f"the packet's time {mtime} .* cannot be written in a tarball"):
        packet_tarball({"results.json": b"{}"}, mtime)
    assert packet_tarball({"results.json": b"{}"}, 0) and packet_tarball({"results.json": b"{}"}, MAX_MTIME)


def test_many_files_under_the_entry_bound_still_stop_at_the_byte_bound(tmp_path: Path) -> None:
    limits = Limits(max_entries=100, max_file_bytes=1 << 20, max_total_bytes=3 << 20)
    entries = [(member(f"inputs/{i}"), b"\0" * (1 << 20)) for i in range(5)]
    archive = tarball(tmp_path / "big.tar.gz", entries)
    with pytest.raises(UnsafeArchiveError, match="unpacks to more than 3145728 bytes"):
        read_archive(archive, limits)
    with pytest.raises(UnsafeArchiveError, match="2097152 bytes, more than 1048576"):
        read_archive(tarball(tmp_path / "one.tar.gz", [(member("x"), b"\0" * (2 << 20))]), limits)


def test_the_decompressed_stream_itself_is_bounded(tmp_path: Path) -> None:
    """A pax extended header of 8 MiB declares no file size the entry checks could see;
    the decompressed stream stops at the bound all the same."""
    limits = Limits(max_entries=2, max_file_bytes=1024, max_total_bytes=1024)
    pax = member("PaxHeader", tarfile.XHDTYPE)
    body = b"\n" * (8 << 20)
    pax.size = len(body)
    raw = pax.tobuf(format=tarfile.USTAR_FORMAT) + body + b"\0" * 1024
    archive = tmp_path / "pax.tar.gz"
    archive.write_bytes(gzip.compress(raw, mtime=0))
    with pytest.raises(UnsafeArchiveError, match="decompresses to more than"):
        read_archive(archive, limits)


def test_a_real_packet_unpacks_into_its_target(tmp_path: Path) -> None:
    files = {"manifest.json": b"{}", "inputs/closure-closure.json": b"[]", "exports/junit.xml": b"<testsuite/>"}
    archive = tmp_path / "packet.tar.gz"
    archive.write_bytes(packet_tarball(files, FIXED_TIME))
    assert read_archive(archive) == files
    written = extract_archive(archive, tmp_path / "out")
    assert sorted(written) == sorted(files)
    assert {p.relative_to(tmp_path / "out").as_posix(): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == files
    with pytest.raises(Exception, match="already exists"):
        extract_archive(archive, tmp_path / "out")
