"""Property tests of the vulnerability readers: what a scanner wrote is what the model
holds, whatever the format; and no document, however mangled, gets past a reader as
anything but a report or an input error naming the file."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.errors import InputError
from compliance.inputs.scanners import load_vulnerability_reports, read_report
from compliance.models.vulns import VexStatus, VulnSeverity

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ident = st.from_regex(r"CVE-20[0-9]{2}-[0-9]{4,6}", fullmatch=True)
name = st.from_regex(r"[a-z][a-z0-9]{0,10}(-[a-z][a-z0-9]{0,6})?", fullmatch=True)
version = st.from_regex(r"[0-9]{1,2}(\.[0-9]{1,3}){0,3}", fullmatch=True)
score = st.integers(min_value=0, max_value=100).map(lambda n: n / 10)
severity = st.sampled_from(["low", "medium", "high", "critical"])


@st.composite
def finding(draw: st.DrawFn) -> dict[str, Any]:
    return {"id": draw(ident), "name": draw(name), "version": draw(version), "score": draw(st.none() | score),
            "severity": draw(severity), "fixed": draw(st.lists(version, max_size=2, unique=True))}


findings = st.lists(finding(), min_size=1, max_size=8, unique_by=lambda f: (f["id"], f["name"], f["version"]))
DRV = "/nix/store/" + "a" * 32 + "-{}-{}.drv"


def as_vulnix(items: list[dict[str, Any]]) -> Any:
    return [{"name": f"{f['name']}-{f['version']}", "pname": f["name"], "version": f["version"],
             "derivation": DRV.format(f["name"], f["version"]), "affected_by": [f["id"]], "whitelisted": [],
             "cvssv3_basescore": {f["id"]: f["score"]} if f["score"] is not None else {}, "description": {}} for f in items]


def as_grype(items: list[dict[str, Any]]) -> Any:
    def vuln(f: dict[str, Any]) -> dict[str, Any]:
        cvss = [{"version": "3.1", "vector": None, "metrics": {"baseScore": f["score"]}}] if f["score"] is not None else []
        return {"id": f["id"], "severity": f["severity"].title(), "cvss": cvss, "fix": {"versions": f["fixed"], "state": "fixed"}}
    matches = [{"vulnerability": vuln(f), "relatedVulnerabilities": [],
                "artifact": {"name": f["name"], "version": f["version"], "purl": f"pkg:nix/{f['name']}@{f['version']}"}} for f in items]
    return {"matches": matches, "descriptor": {"name": "grype", "version": "0.94.0", "timestamp": "2026-10-31T10:00:00Z"}}


def as_trivy(items: list[dict[str, Any]]) -> Any:
    vulns = [{"VulnerabilityID": f["id"], "PkgName": f["name"], "InstalledVersion": f["version"], "Severity": f["severity"].upper(),
              "FixedVersion": ", ".join(f["fixed"]), "CVSS": {"nvd": {"V3Score": f["score"]}} if f["score"] is not None else {}}
             for f in items]
    return {"SchemaVersion": 2, "CreatedAt": "2026-10-31T10:00:00Z", "ArtifactName": "x", "Results": [{"Target": "x", "Vulnerabilities": vulns}]}


def as_osv(items: list[dict[str, Any]]) -> Any:
    packages = []
    for f in items:
        record = {"id": f["id"], "aliases": [], "database_specific": {"severity": f["severity"].upper()},
                  "affected": [{"package": {"name": f["name"]}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}] + [{"fixed": v} for v in f["fixed"]]}]}]}
        group: dict[str, Any] = {"ids": [f["id"]], "aliases": [f["id"]]}
        if f["score"] is not None:
            group["max_severity"] = str(f["score"])
        packages.append({"package": {"name": f["name"], "version": f["version"], "ecosystem": "PyPI"}, "vulnerabilities": [record], "groups": [group]})
    return {"results": [{"source": {"path": "poetry.lock", "type": "lockfile"}, "packages": packages}]}


def as_cyclonedx(items: list[dict[str, Any]]) -> Any:
    components = [{"type": "library", "bom-ref": f"c{i}", "name": f["name"], "version": f["version"]} for i, f in enumerate(items)]
    vulns = []
    for i, f in enumerate(items):
        rating: dict[str, Any] = {"severity": f["severity"], "method": "CVSSv31"}
        if f["score"] is not None:
            rating["score"] = f["score"]
        vulns.append({"id": f["id"], "ratings": [rating], "affects": [{"ref": f"c{i}"}]})
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components, "vulnerabilities": vulns}


RENDERERS = {"vulnix": as_vulnix, "grype": as_grype, "trivy": as_trivy, "osv-scanner": as_osv, "cyclonedx": as_cyclonedx}


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
@SETTINGS
@given(items=findings)
def test_what_the_scanner_wrote_is_what_the_model_holds(fmt: str, items: list[dict[str, Any]]) -> None:
    data = load_vulnerability_reports([("report.json", json.dumps(RENDERERS[fmt](items)).encode())])
    assert data.reports[0].format == fmt and len(data.findings) == len(items)
    for f, got in zip(items, data.findings, strict=True):
        assert (got.id, got.component.name, got.component.version) == (f["id"], f["name"], f["version"])
        best = got.best_cvss
        assert (best.score if best else None) == f["score"]
        if fmt == "vulnix":  # vulnix has no severity word: the score's rating, or unknown
            assert got.severity is (VulnSeverity.UNKNOWN if f["score"] is None else got.severity)
        else:
            assert got.severity.rank >= VulnSeverity(f["severity"]).rank
        if fmt in ("grype", "trivy", "osv-scanner"):
            assert list(got.fixed_versions) == f["fixed"]


@SETTINGS
@given(vuln=ident, status=st.sampled_from(list(VexStatus)), justification=st.none() | st.sampled_from(["component_not_present", "inline_mitigations_already_exist"]),
       products=st.lists(st.tuples(name, version), min_size=1, max_size=3, unique=True))
def test_openvex_statements_round_trip(vuln: str, status: VexStatus, justification: str | None, products: list[tuple[str, str]]) -> None:
    statement: dict[str, Any] = {"vulnerability": {"name": vuln}, "status": status.value,
                                 "products": [{"@id": f"pkg:nix/{n}@{v}"} for n, v in products]}
    if justification:
        statement["justification"] = justification
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "a", "timestamp": "2026-10-01T00:00:00Z", "version": 1,
           "statements": [statement]}
    data = load_vulnerability_reports([("vex.json", json.dumps(doc).encode())])
    (read,) = data.vex
    assert (read.vulnerability, read.status, read.justification) == (vuln, status, justification)
    assert [p.purl for p in read.products] == [f"pkg:nix/{n}@{v}" for n, v in products]
    # An "affected" statement is a finding of its own; the others are not.
    assert len(data.findings) == (len(products) if status is VexStatus.AFFECTED else 0)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            out += _paths(value, (*prefix, index))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return doc


SAMPLES = ["scanners/grype-0.94.0-busybox.json", "scanners/trivy-image-debian-10.json", "scanners/osv-scanner-some-findings.json",
           "scanners/openvex-v0.2.0-alpine.json", "cyclonedx/valid-vulnerability-1.6.json", "cyclonedx/vex-not_affected-1.4.json"]


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_mangled_real_report_is_read_or_refused_never_crashes(shared_data: Path, sample: str) -> None:
    original = json.loads((shared_data / sample).read_bytes())
    paths = _paths(original)

    @SETTINGS
    @given(index=st.integers(min_value=0, max_value=len(paths) - 1), value=json_values)
    def mangle(index: int, value: Any) -> None:
        doc = _replace(original, paths[index], value)
        try:
            read_report(json.dumps(doc).encode(), "mangled.json")
        except InputError as exc:
            assert exc.source == "mangled.json" and exc.problem

    mangle()


@SETTINGS
@given(doc=json_values)
def test_arbitrary_json_is_a_report_or_an_input_error(doc: Any) -> None:
    try:
        read_report(json.dumps(doc).encode(), "random.json")
    except InputError as exc:
        assert exc.source == "random.json"


@SETTINGS
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_are_a_report_or_an_input_error(data: bytes) -> None:
    try:
        read_report(data, "random.bin")
    except InputError as exc:
        assert exc.source == "random.bin"
