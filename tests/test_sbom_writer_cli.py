"""``compliance sbom`` and the gate's own SBOM, through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.inputs.closure import read_closure
from compliance.sbomgen.sbom_files import FORMATS, write_sbom
from tests.support import nix
from tests.support.cli import one_line_error, run

pytestmark = pytest.mark.nix


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not nix.have_nix():
        pytest.skip("needs Debian's nix-bin, as root")
    return nix.build_release(tmp_path_factory.mktemp("release"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_sbom_command_writes_the_file_and_standard_output_alike(release: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "sbom"
    result = run("sbom", "--closure", release, "--format", fmt, "-o", str(out))
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
    assert out.read_bytes() == write_sbom(read_closure(release)[0], fmt)
    to_stdout = run("sbom", "--closure", release, "--format", fmt)
    assert to_stdout.code == 0 and to_stdout.stdout.encode() == out.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["sbom"]  # no temporary file left behind


def test_default_format_is_cyclonedx(release: str) -> None:
    result = run("sbom", "--closure", release)
    assert result.code == 0 and json.loads(result.stdout)["specVersion"] == "1.6"


def test_missing_closure_file_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "sbom.json"
    result = run("sbom", "--closure", str(tmp_path / "nope.json"), "-o", str(out))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {tmp_path / 'nope.json'}: no such closure file"
    assert not out.exists()


def test_bad_nar_hash_fails_closed_and_keeps_the_previous_sbom(release: str, tmp_path: Path) -> None:
    entries = nix.path_info(release)
    entries[-1]["narHash"] = "sha256-AAAA"
    bad = tmp_path / "closure.json"
    bad.write_text(json.dumps(entries))
    out = tmp_path / "sbom.json"
    out.write_text("previous")
    result = run("sbom", "--closure", str(bad), "--format", "spdx", "-o", str(out))
    assert result.code == 2
    assert one_line_error(result).startswith(f"compliance: {bad}: {entries[-1]['path']}: narHash 'sha256-AAAA'")
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["closure.json", "sbom.json"]


def test_output_in_a_missing_directory_is_an_error(release: str, tmp_path: Path) -> None:
    result = run("sbom", "--closure", release, "-o", str(tmp_path / "no" / "sbom.json"))
    assert result.code == 2
    assert "does not exist" in one_line_error(result)


def test_unknown_format_is_a_usage_error(release: str) -> None:
    result = run("sbom", "--closure", release, "--format", "xml")
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "'xml' is not one of 'cyclonedx', 'spdx', 'spdx-tv'" in result.stderr


def test_chroot_store_option(release: str, tmp_path: Path) -> None:
    import subprocess

    store = tmp_path / "chroot"
    subprocess.run(["nix", "copy", "--no-check-sigs", "--to", str(store), release], check=True, capture_output=True, env=nix.nix_env())
    result = run("sbom", "--closure", release, "--store", str(store))
    assert result.code == 0 and result.stdout == run("sbom", "--closure", release).stdout
    missing = run("sbom", "--closure", release, "--store", str(tmp_path / "empty"))
    assert missing.code == 2 and one_line_error(missing).startswith("compliance: nix path-info")


def _sc01(report: dict[str, object]) -> dict[str, object]:
    assessment = report["assessment"]
    assert isinstance(assessment, dict)
    (result,) = [r for r in assessment["results"] if r["control_id"] == "SC-01"]
    assert isinstance(result, dict)
    return result


def test_gate_on_a_closure_alone_generates_its_sbom_and_says_so(release: str) -> None:
    """A store path and nothing else: SC-01 passes on the generated SBOM, every store path
    matched by its store path, and the results say the SBOM was generated."""
    result = run("gate", "--closure", release, "--format", "json")
    assert result.code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    sc01 = _sc01(report)
    assert sc01["status"] == "pass"
    assert sc01["message"] == "7 of 7 store paths are in the SBOM"
    observed = sc01["checks"][0]["observed"]  # type: ignore[index]
    assert observed["matched_by"] == {"store_path": 7, "purl": 0, "name_version": 0}
    assert "no SBOM was given: the SBOM was generated from the closure" in report["assessment"]["notes"]
    assert [i["kind"] for i in report["assessment"]["inputs"]] == ["closure", "sbom-generated"]


def test_gate_without_generation_cannot_pass_sc01(release: str) -> None:
    """The pass above comes from the generated SBOM: without it SC-01 has no SBOM to judge."""
    result = run("gate", "--closure", release, "--format", "json", "--no-generate-sbom")
    report = json.loads(result.stdout)
    assert _sc01(report)["status"] == "error"
    assert report["assessment"]["notes"] == []
