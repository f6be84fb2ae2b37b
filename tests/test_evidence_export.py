"""``evidence export``: the exact signed OSCAL, SARIF, JUnit and JSON out of a packet, and
a refusal (exit 2) when the packet is damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.evidence.tarball import packet_tarball
from tests.support.cli import one_line_error, run
from tests.support.evidence import (
    FIXED_TIME,
    build_files,
    flip,
    make_key_pair,
    release_run,
    write_directory,
)

EXPORTS = {
    "oscal": "exports/assessment-results.oscal.json",
    "sarif": "exports/results.sarif",
    "junit": "exports/junit.xml",
    "json": "results.json",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    keys = make_key_pair(tmp_path_factory.mktemp("keys"))
    return build_files(release_run(tmp_path_factory.mktemp("release")), keys)


@pytest.fixture(scope="module")
def tarball(files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("packet") / "packet.tar.gz"
    path.write_bytes(packet_tarball(files, FIXED_TIME))
    return path


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_export_to_a_file_gives_the_signed_bytes(fmt: str, files: dict[str, bytes], tarball: Path, tmp_path: Path) -> None:
    out = tmp_path / f"export.{fmt}"
    result = run("evidence", "export", str(tarball), "--format", fmt, "-o", str(out))
    assert result.code == 0, result.stderr
    assert out.read_bytes() == files[EXPORTS[fmt]]


def test_export_to_standard_output_from_a_directory(files: dict[str, bytes], tmp_path: Path) -> None:
    packet = write_directory(files, tmp_path / "packet")
    result = run("evidence", "export", str(packet), "--format", "oscal")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(files[EXPORTS["oscal"]])


def test_damaged_packet_is_not_exported(files: dict[str, bytes], tmp_path: Path) -> None:
    damaged = {**files, EXPORTS["sarif"]: flip(files[EXPORTS["sarif"]], 5)}
    packet = write_directory(damaged, tmp_path / "packet")
    out = tmp_path / "out.sarif"
    result = run("evidence", "export", str(packet), "--format", "sarif", "-o", str(out))
    assert result.code == 2
    assert "exports/results.sarif does not match its manifest entry" in one_line_error(result)
    assert not out.exists()


def test_export_errors_are_one_line_exit_2(files: dict[str, bytes], tmp_path: Path) -> None:
    unknown = run("evidence", "export", str(tmp_path), "--format", "pdf")
    assert unknown.code == 2 and "pdf" in unknown.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    not_packet = run("evidence", "export", str(empty), "--format", "json")
    assert not_packet.code == 2 and "no manifest.json" in one_line_error(not_packet)


def test_an_output_that_names_a_folder_is_one_line_exit_2(tarball: Path, tmp_path: Path) -> None:
    result = run("evidence", "export", str(tarball), "--format", "json", "-o", str(tmp_path))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {tmp_path}: is a directory, expected a file name"
    assert [p.name for p in tmp_path.iterdir()] == []


def test_atomic_write_refuses_a_folder_and_leaves_nothing(tmp_path: Path) -> None:
    """The last guard of every command's output: never an internal error, never a stray temporary file."""
    from compliance.errors import UsageError
    from compliance.util.fsutil import atomic_write

    (tmp_path / "out").mkdir()
    with pytest.raises(UsageError, match="out: is a directory"):
        atomic_write(tmp_path / "out", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
