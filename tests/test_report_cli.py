"""``compliance evidence report PACKET --pdf F [--html F]`` on real signed packets: the same
report as the one inside the packet, from a directory or a tarball; a damaged or foreign
packet is one line on stderr, exit 2, and no file written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.evidence.tarball import packet_tarball
from compliance.runs.gate_run import GateRun
from tests.support import pdf as poppler
from tests.support.cli import one_line_error, run
from tests.support.evidence import (
    FIXED_TIME,
    KeyPair,
    build_files,
    cli_env,
    flip,
    make_key_pair,
    release_run,
    write_directory,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(FIXED_TIME))
        return release_run(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def files(release: GateRun, keys: KeyPair) -> dict[str, bytes]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(FIXED_TIME))
        return build_files(release, keys, include_pdf=True)


def _no_output(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.suffix in (".pdf", ".html", ".part")]


def test_the_report_of_a_packet_is_the_one_it_carries(files: dict[str, bytes], tmp_path: Path) -> None:
    packet = write_directory(files, tmp_path / "packet")
    result = run("evidence", "report", str(packet), "--pdf", str(tmp_path / "r.pdf"), "--html", str(tmp_path / "r.html"), env=cli_env())
    assert result.code == 0, result.stderr
    assert (tmp_path / "r.pdf").read_bytes() == files["report.pdf"]
    assert (tmp_path / "r.html").read_bytes() == files["report.html"]
    manifest = json.loads(files["manifest.json"])
    text = poppler.text(tmp_path / "r.pdf")
    assert manifest["packet_id"] in text and manifest["key_fingerprint"] in text
    assert manifest["subject"]["nar_sha256"] in text
    results = json.loads(files["results.json"])["assessment"]["results"]
    assert all(r["control_id"] in text for r in results)


def test_a_tarball_packet_gives_the_same_report(files: dict[str, bytes], tmp_path: Path) -> None:
    tarball = tmp_path / "packet.tar.gz"
    tarball.write_bytes(packet_tarball(files, FIXED_TIME))
    result = run("evidence", "report", str(tarball), "--pdf", str(tmp_path / "r.pdf"), env=cli_env())
    assert result.code == 0, result.stderr
    assert (tmp_path / "r.pdf").read_bytes() == files["report.pdf"]
    assert not (tmp_path / "r.html").exists()


def test_a_damaged_results_file_is_refused(files: dict[str, bytes], tmp_path: Path) -> None:
    packet = write_directory({**files, "results.json": flip(files["results.json"], 40)}, tmp_path / "packet")
    result = run("evidence", "report", str(packet), "--pdf", str(tmp_path / "r.pdf"), env=cli_env())
    assert result.code == 2
    assert "results.json does not match its manifest entry" in one_line_error(result)
    assert _no_output(tmp_path)


def test_a_damaged_sbom_is_refused(files: dict[str, bytes], tmp_path: Path) -> None:
    sbom = next(name for name in files if name.startswith("inputs/sbom"))
    packet = write_directory({**files, sbom: flip(files[sbom], 10)}, tmp_path / "packet")
    result = run("evidence", "report", str(packet), "--pdf", str(tmp_path / "r.pdf"), env=cli_env())
    assert result.code == 2
    assert f"{sbom} does not match the SBOM digest" in one_line_error(result)
    assert _no_output(tmp_path)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: d.mkdir(), "no manifest.json: not an evidence packet"),
        (lambda d: None, "no such packet"),
        (lambda d: d.write_bytes(b"not a tarball"), "not a gzip-compressed tarball"),
    ],
    ids=["empty-directory", "missing", "garbage-file"],
)
def test_what_is_not_a_packet_is_one_line_and_exit_2(tmp_path: Path, make: object, expected: str) -> None:
    target = tmp_path / "packet"
    make(target)  # type: ignore[operator]
    result = run("evidence", "report", str(target), "--pdf", str(tmp_path / "r.pdf"), env=cli_env())
    assert result.code == 2
    line = one_line_error(result)
    assert line.startswith(f"compliance: {target}: ") and expected in line
    assert _no_output(tmp_path)


def test_an_output_in_a_missing_directory_is_refused_before_any_work(files: dict[str, bytes], tmp_path: Path) -> None:
    packet = write_directory(files, tmp_path / "packet")
    result = run("evidence", "report", str(packet), "--pdf", str(tmp_path / "r.pdf"), "--html", str(tmp_path / "no" / "r.html"), env=cli_env())
    assert result.code == 2
    assert "--html" in one_line_error(result) and "does not exist" in result.stderr
    assert _no_output(tmp_path)


def test_pdf_is_required(files: dict[str, bytes], tmp_path: Path) -> None:
    packet = write_directory(files, tmp_path / "packet")
    result = run("evidence", "report", str(packet), env=cli_env())
    assert result.code == 2 and "--pdf" in result.stderr and "Traceback" not in result.stderr
