"""``compliance gate --vulns`` end to end: reports judged with the release, recorded as
inputs, and every bad report an input error (exit 2) naming the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.generate import generate_closure
from tests.support.cli import one_line_error, run
from tests.support.inputs import CLEAN_SCAN, gate_args, write_release

BAD_REPORTS = {
    "truncated JSON": (b'{"matches": [', "invalid JSON"),
    "empty file": (b"   \n", "empty file, expected a vulnerability report"),
    "binary garbage": (b"\x00\xff\xfe\x89PNG\r\n\x1a\n" * 8, "binary data"),
    "an SBOM": (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []}', "is an SBOM, not a vulnerability report"),
    "unknown JSON": (b'{"results": 3}', "unknown vulnerability report format"),
    "unknown text": (b"CVE-2024-1234 openssl high\n", "unknown vulnerability report format"),
    "a CVSS score of 12": (
        json.dumps({**CLEAN_SCAN, "matches": [{"vulnerability": {"id": "CVE-1", "cvss": [{"version": "3.1", "metrics": {"baseScore": 12}}]},
                                               "artifact": {"name": "zlib"}}]}).encode(),
        "matches[0].vulnerability.cvss[0].metrics.baseScore: CVSS score 12.0 is outside 0–10",
    ),
    "a vulnix entry without derivation": (b'[{"name": "zlib-1.3", "affected_by": ["CVE-1"], "derivation": ""}]', "[0].derivation: missing"),
    "an unknown VEX status": (
        b'{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"vulnerability": {"name": "CVE-1"}, '
        b'"products": [{"@id": "pkg:nix/zlib"}], "status": "fine"}]}',
        "statements[0].status: unknown status 'fine'",
    ),
    "a misspelt exception field": (b'[[vulnerability_exceptions]]\nid = "E"\nvulnerability = "CVE-1"\nexpiry = 2026-12-31\n', "expiry: unknown field"),
    "a CVENix block without its derivation": (b"[Warning] zlib\n[Warning] CVE-2023-45853\n[Warning] Version: 1.3\n[Warning] Full drv path: \n",
                                              "line 1: finding CVE-2023-45853 has no version or no derivation path"),
}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_release(tmp_path_factory.mktemp("release"))


@pytest.mark.parametrize("kind", sorted(BAD_REPORTS))
def test_a_bad_report_is_an_input_error_naming_the_file(release: dict[str, Path], tmp_path: Path, kind: str) -> None:
    data, expected = BAD_REPORTS[kind]
    bad = tmp_path / "report"
    bad.write_bytes(data)
    out = tmp_path / "results.json"
    result = run(*gate_args(release), "--vulns", str(bad), "-o", f"json={out}")
    line = one_line_error(result)
    assert result.code == 2, result.stdout
    assert line.startswith(f"compliance: {bad}: ") and expected in line, line
    assert not out.exists()


def _grype_for(closure: list[dict[str, Any]], name: str, score: float) -> dict[str, Any]:
    """A grype match on a package of the generated closure, located by a file in its store path."""
    entry = next(e for e in closure if e["path"].split("-", 1)[1].startswith(f"{name}-"))
    base = entry["path"].rsplit("/", 1)[1][33:]
    pname, version = base.split("-", 1)
    match = {"vulnerability": {"id": "CVE-2099-0100", "severity": "Critical", "fix": {"versions": ["9.9.9"], "state": "fixed"},
                               "cvss": [{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "metrics": {"baseScore": score}}]},
             "artifact": {"name": pname, "version": version, "type": "nix", "locations": [{"path": f"{entry['path']}/lib/lib{pname}.so"}]}}
    return {**CLEAN_SCAN, "matches": [match]}


def test_a_release_with_a_critical_finding_fails_the_gate(release: dict[str, Path], tmp_path: Path) -> None:
    closure = generate_closure(40)["entries"]
    report = tmp_path / "grype.json"
    report.write_text(json.dumps(_grype_for(closure, "openssl", 9.8)))
    out = tmp_path / "results.json"
    args = gate_args(release)
    args[args.index(str(release["vulns"]))] = str(report)
    result = run(*args, "-o", f"json={out}")
    assert result.code == 1, result.stdout + result.stderr
    doc = json.loads(out.read_text())
    sc02 = next(r for r in doc["assessment"]["results"] if r["control_id"] == "SC-02")
    assert sc02["status"] == "fail" and any("SC-02" in reason for reason in json.dumps(doc["decision"]).split('"'))
    (blocking,) = sc02["checks"][0]["observed"]["blocking"]
    assert blocking["matched_by"] == "store_path" and blocking["fixed_versions"] == ["9.9.9"]
    assert any(i["kind"] == "vulnerabilities" and i["path"] == str(report) for i in doc["assessment"]["inputs"])


def test_several_reports_are_judged_together(release: dict[str, Path], tmp_path: Path) -> None:
    closure = generate_closure(40)["entries"]
    report = tmp_path / "grype.json"
    report.write_text(json.dumps(_grype_for(closure, "openssl", 9.8)))
    entry = next(e for e in closure if "-openssl-" in e["path"])
    vex = tmp_path / "vex.json"
    vex.write_text(json.dumps({"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a", "timestamp": "2026-10-31T00:00:00Z",
                               "statements": [{"vulnerability": {"name": "CVE-2099-0100"}, "products": [{"@id": entry["path"]}],
                                               "status": "not_affected", "justification": "vulnerable_code_not_present"}]}))
    out = tmp_path / "results.json"
    args = gate_args(release)
    args[args.index(str(release["vulns"]))] = str(report)
    result = run(*args, "--vulns", str(vex), "-o", f"json={out}")
    assert result.code == 0, result.stdout + result.stderr
    results = {r["control_id"]: r for r in json.loads(out.read_text())["assessment"]["results"]}
    assert results["SC-02"]["status"] == "pass" and "1 suppressed by VEX" in results["SC-02"]["message"]
    assert results["SC-03"]["status"] == "pass" and results["SC-13"]["status"] == "pass"
