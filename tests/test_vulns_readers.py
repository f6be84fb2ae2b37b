"""The vulnerability readers on real scanner outputs (../shared/data), format detection
from content, and every malformed input turned into an input error naming the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compliance.errors import CvssError, InputError
from compliance.inputs.sbom import read_sbom
from compliance.inputs.scanners import (
    JSON_READERS,
    TEXT_READERS,
    load_vulnerability_reports,
    read_report,
)
from compliance.inputs.scanners.cvss import base_score
from compliance.models.vulns import ReportRole, VexStatus, VulnerabilityData, VulnSeverity
from compliance.vulns.inventory import Inventory

REPORTS = {
    "scanners/grype-0.94.0-busybox.json": "grype",
    "scanners/trivy-image-debian-10.json": "trivy",
    "scanners/osv-scanner-some-findings.json": "osv-scanner",
    "scanners/openvex-v0.2.0-alpine.json": "openvex",
    "cyclonedx/valid-vulnerability-1.6.json": "cyclonedx",
    "cyclonedx/dropwizard-1.3.15-vulns.cdx-1.5.json": "cyclonedx",
    "cyclonedx/vex-not_affected-1.4.json": "cyclonedx-vex",
    "nix/nixos-23.11-system.CVENix-out.txt": "cvenix",
}


def _load(shared_data: Path, name: str) -> VulnerabilityData:
    path = shared_data / name
    return load_vulnerability_reports([(str(path), path.read_bytes())])


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_each_real_report_is_recognised_by_exactly_one_reader(shared_data: Path, name: str) -> None:
    data = (shared_data / name).read_bytes()
    if name.endswith(".txt"):
        assert [r.FORMAT for r in TEXT_READERS if r.detect_text(data.decode())] == [REPORTS[name]]
    else:
        doc = json.loads(data)
        assert len([r for r in JSON_READERS if r.detect(doc)]) == 1
    assert read_report(data, name).info.format == REPORTS[name]


def test_grype(shared_data: Path) -> None:
    data = _load(shared_data, "scanners/grype-0.94.0-busybox.json")
    (report,) = data.reports
    assert (report.tool, report.tool_version, report.target) == ("grype", "0.94.0", "busybox:1.32.1")
    assert report.scanned_at == _utc("2025-06-19T11:43:35.523947") and report.database_updated == _utc("2025-06-19T04:12:38")
    findings = {f.id: f for f in data.findings}
    assert len(data.findings) == len(findings) == 15
    assert all(f.component.purl == "pkg:generic/busybox@1.32.1" and f.component.version == "1.32.1" for f in data.findings)
    first = findings["CVE-2022-28391"]
    assert first.severity is VulnSeverity.HIGH and first.best_cvss is not None and first.best_cvss.score == 8.8
    assert first.best_cvss.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"
    assert {c.version for c in first.cvss} == {"3.1", "2.0"}
    assert findings["CVE-2021-42376"].fixed_versions == ("1.34.0",)
    assert findings["CVE-2024-58251"].severity is VulnSeverity.LOW
    # No match carries grype's knownExploited list: the report does not say.
    assert all(f.known_exploited is None for f in data.findings)


def test_trivy(shared_data: Path) -> None:
    data = _load(shared_data, "scanners/trivy-image-debian-10.json")
    assert data.reports[0].scanned_at == _utc("2024-01-15T08:58:29.827537") and data.reports[0].database_updated is None
    findings = {(f.id, f.component.name): f for f in data.findings}
    assert len(data.findings) == 13
    bash = findings[("CVE-2019-18276", "bash")]
    # Debian rates it low; NVD scores it 7.8: the gate keeps both and judges on the score.
    assert bash.severity is VulnSeverity.LOW and bash.best_cvss is not None and bash.best_cvss.score == 7.8
    assert bash.component.version == "5.0-4"
    apt = findings[("CVE-2011-3374", "apt")]
    assert apt.best_cvss is not None and (apt.best_cvss.version, apt.best_cvss.score, apt.best_cvss.source) == ("3.1", 3.7, "nvd")


def test_osv_scanner(shared_data: Path) -> None:
    data = _load(shared_data, "scanners/osv-scanner-some-findings.json")
    (finding,) = data.findings
    assert (finding.id, finding.aliases) == ("MAL-2023-1035", ("GHSA-8348-2q94-ffjx",))
    assert (finding.component.name, finding.component.version) == ("flot-axis", "0.0.0")
    assert finding.severity is VulnSeverity.UNKNOWN and finding.cvss == ()  # malware records carry no rating
    assert data.reports[0].target == "/tmp/components/yarn.lock" and data.reports[0].scanned_at is None


def test_openvex(shared_data: Path) -> None:
    data = _load(shared_data, "scanners/openvex-v0.2.0-alpine.json")
    assert data.findings == () and data.reports[0].role is ReportRole.VEX
    assert [s.status for s in data.vex] == [VexStatus.FIXED] * 3 + [VexStatus.NOT_AFFECTED] * 2
    last = data.vex[-1]
    assert (last.vulnerability, last.justification) == ("CVE-2023-3817", "vulnerable_code_not_present")
    assert last.impact_statement == "affected functions were removed before packaging"
    # The product is the image; its subcomponents are what the statement speaks about.
    assert [p.purl for p in last.products] == ["pkg:apk/alpine/libssl3@3.0.8-r3", "pkg:apk/alpine/libcrypto3@3.0.8-r3"]
    assert last.author == "The OpenVEX Project <openvex@openssf.org>" and last.timestamp is not None


def test_cyclonedx_vulnerabilities_with_analysis(shared_data: Path) -> None:
    data = _load(shared_data, "cyclonedx/valid-vulnerability-1.6.json")
    (finding,) = data.findings
    assert finding.id == "SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111" and finding.aliases == ("CVE-2018-7489",)
    assert finding.component.purl == "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.4"
    assert finding.best_cvss is not None and finding.best_cvss.score == 9.8 and finding.severity is VulnSeverity.CRITICAL
    (statement,) = data.vex
    assert (statement.status, statement.justification) == (VexStatus.NOT_AFFECTED, "code_not_reachable")
    assert statement.action_statement == "will_not_fix, update"
    assert statement.products[0].purl == finding.component.purl


def test_cyclonedx_from_dependency_track(shared_data: Path) -> None:
    data = _load(shared_data, "cyclonedx/dropwizard-1.3.15-vulns.cdx-1.5.json")
    assert len(data.findings) == 87 and data.vex == ()
    assert data.reports[0].scanned_at == _utc("2024-07-08T17:30:28") and data.reports[0].tool == "Dependency-Track"
    # Every "affects" reference resolves to a component of the same BOM.
    assert all(f.component.purl and f.component.name and f.component.version for f in data.findings)
    # GitHub rated one advisory "unknown": it stays unknown (and blocks), it is not "low".
    unrated = [f.id for f in data.findings if f.severity is VulnSeverity.UNKNOWN]
    assert unrated == ["GHSA-h376-j262-vhq6"]


def test_cyclonedx_vex(shared_data: Path) -> None:
    data = _load(shared_data, "cyclonedx/vex-not_affected-1.4.json")
    assert data.findings == () and data.reports[0].role is ReportRole.VEX
    (statement,) = data.vex
    assert (statement.vulnerability, statement.status, statement.justification) == ("CVE-2021-44228", VexStatus.NOT_AFFECTED, "code_not_present")
    assert (statement.products[0].name, statement.products[0].version, statement.products[0].ref) == ("ABC", "4.2", "product-ABC")


def test_cvenix_findings_land_on_the_sbomnix_output_paths(shared_data: Path) -> None:
    data = _load(shared_data, "nix/nixos-23.11-system.CVENix-out.txt")
    assert len(data.findings) == 66 and data.reports[0].database_updated == _utc("2023-12-18T11:48:29.562703")
    rated = [f for f in data.findings if f.severity is not VulnSeverity.UNKNOWN]
    assert len(rated) == 24
    w3m = [f for f in data.findings if f.component.name == "w3m"]
    assert len(w3m) == 36 and {f.component.version for f in w3m} == {"0.5.3+git20230121"}
    # CVENix names derivations; the sbomnix SBOM of the same system maps them to outputs.
    inventory = Inventory(None, read_sbom(shared_data / "nix/nixos-23.11-system.sbomnix-1.4.6.cdx-1.3.json"))
    located = [inventory.locate(f.component) for f in data.findings]
    assert all(loc is not None and loc.method == "derivation" for loc in located)
    zlib = next(loc for f, loc in zip(data.findings, located, strict=True) if f.id == "CVE-2023-45853")
    assert zlib is not None and zlib.paths[0].endswith("-zlib-1.3") and not zlib.paths[0].endswith(".drv")


@pytest.mark.parametrize("name", ["cyclonedx/laravel-7.12.0.bom.1.4.json", "cyclonedx/syft-alpine-container.cdx-1.6.json"])
def test_an_sbom_is_not_a_vulnerability_report(shared_data: Path, name: str) -> None:
    with pytest.raises(InputError, match="without 'vulnerabilities' is an SBOM, not a vulnerability report"):
        _load(shared_data, name)


def test_the_cvss_calculator_agrees_with_every_score_the_scanners_printed(shared_data: Path) -> None:
    pairs: set[tuple[str, float]] = set()
    grype = json.loads((shared_data / "scanners/grype-0.94.0-busybox.json").read_bytes())
    for match in grype["matches"]:
        pairs |= {(c["vector"], c["metrics"]["baseScore"]) for c in match["vulnerability"]["cvss"]}
    trivy = json.loads((shared_data / "scanners/trivy-image-debian-10.json").read_bytes())
    for vuln in trivy["Results"][0]["Vulnerabilities"]:
        for rating in vuln.get("CVSS", {}).values():
            for v, s in (("V3Vector", "V3Score"), ("V2Vector", "V2Score")):
                if v in rating and s in rating:
                    pairs.add((rating[v], rating[s]))
    assert len(pairs) >= 20
    for vector, score in sorted(pairs):
        assert base_score(vector)[1] == score, vector


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("3.1", 9.8)),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", ("3.0", 10.0)),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", ("3.1", 0.0)),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", ("3.0", 7.5)),  # CVE-2014-0160, Heartbleed
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", ("3.1", 6.1)),  # CVE-2013-1937, the specification's example
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", ("2.0", 10.0)),
    ],
)
def test_cvss_reference_values(vector: str, expected: tuple[str, float]) -> None:
    assert base_score(vector) == expected


@pytest.mark.parametrize("vector", ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                                    "CVSS:3.1/AV:N/AC:L", "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "nonsense"])
def test_cvss_vectors_that_cannot_be_scored(vector: str) -> None:
    with pytest.raises(CvssError):
        base_score(vector)
