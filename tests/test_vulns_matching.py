"""Placing findings in the release, VEX and exceptions coverage, and the judgement of the
three vulnerability controls, on closures and reports built for each case."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome
from compliance.errors import CheckError
from compliance.inputs.closure import parse_closure
from compliance.inputs.sbom import parse_sbom_document
from compliance.inputs.scanners import load_vulnerability_reports
from compliance.models.common import Status
from compliance.models.vulns import ComponentRef, VexStatus, VulnException, VulnSeverity
from compliance.predicates.vulnerabilities import (
    KnownVulnerabilityParams,
    VulnerabilityExceptionParams,
    VulnerabilityFreshnessParams,
    known_vulnerabilities,
    vulnerability_data_fresh,
    vulnerability_exceptions,
)
from compliance.sbomgen.purl_build import nix_purl
from compliance.vulns.inventory import Inventory
from compliance.vulns.purl_match import Purl, parse_purl
from compliance.vulns.suppression import ExceptionRules, exception_problems
from tests.support.fixtures import closure_from_graph, fake_store_path

NOW = datetime(2026, 11, 1, tzinfo=UTC)  # the tests' SOURCE_DATE_EPOCH
GRAPH = {
    "myapp-1.0": ["curl-8.6.0", "xz-5.4.6-bin", "python3.11-pyyaml-6.0.1"],
    "curl-8.6.0": ["openssl-3.0.13", "zlib-1.3.1"],
    "openssl-3.0.13": [],
    "zlib-1.3.1": [],
    "xz-5.4.6-bin": [],
    "python3.11-pyyaml-6.0.1": [],
}
P = {name: fake_store_path(name) for name in GRAPH}


def _closure() -> Any:
    return parse_closure(closure_from_graph(GRAPH), "closure.json", roots=(P["myapp-1.0"],))


def grype(*matches: tuple[str, str, str, float | None], timestamp: str = "2026-10-31T22:00:00Z", kev: tuple[str, ...] = ()) -> dict[str, Any]:
    """A grype report: (id, package name, version, CVSS score or None) per match."""
    out = []
    for vid, pkg, ver, score in matches:
        cvss = [{"version": "3.1", "metrics": {"baseScore": score}}] if score is not None else []
        vuln: dict[str, Any] = {"id": vid, "severity": "Unknown", "cvss": cvss, "fix": {"versions": [], "state": ""}}
        if vid in kev:
            vuln["knownExploited"] = [{"cve": vid}]
        out.append({"vulnerability": vuln, "artifact": {"name": pkg, "version": ver, "purl": f"pkg:nix/{pkg}@{ver}"}})
    return {"matches": out, "descriptor": {"name": "grype", "version": "0.94.0", "timestamp": timestamp}}


def openvex(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "x", "author": "release team", "timestamp": "2026-10-01T00:00:00Z",
            "version": 1, "statements": list(statements)}


def statement(vid: str, product: str, status: str = "not_affected", when: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"vulnerability": {"name": vid}, "products": [{"@id": product}], "status": status,
                           "justification": "component_not_present", **extra}
    if when:
        out["timestamp"] = when
    return out


def exceptions(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"vulnerability_exceptions": list(entries)}


def exception(**overrides: Any) -> dict[str, Any]:
    base = {"id": "EXC-1", "vulnerability": "CVE-2099-0001", "component": "pkg:nix/openssl@3.0.13", "reason": "internal only",
            "owner": "platform", "approver": "ciso", "created": "2026-10-15", "expires": "2026-12-31"}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def subject(*docs: Any, closure: bool = True, sbom: dict[str, Any] | None = None) -> Subject:
    return Subject(
        closure=_closure() if closure else None,
        sbom=parse_sbom_document(sbom, "sbom.json") if sbom is not None else None,
        vulnerabilities=load_vulnerability_reports([(f"report{i}.json", json.dumps(d).encode()) for i, d in enumerate(docs)]),
    )


def sc02(s: Subject, **params: Any) -> Outcome:
    return known_vulnerabilities(s, KnownVulnerabilityParams(**params))


def ids(outcome: Outcome, key: str) -> list[str]:
    return sorted(e["id"] for e in outcome.observed[key])


# --- where a component lies in the release -------------------------------------------------

@pytest.mark.parametrize(
    ("ref", "expected", "method"),
    [
        (ComponentRef(store_path=P["zlib-1.3.1"]), "zlib-1.3.1", "store_path"),
        (ComponentRef(derivation=P["zlib-1.3.1"] + ".drv"), "zlib-1.3.1", "derivation"),
        (ComponentRef(purl="pkg:nix/openssl@3.0.13"), "openssl-3.0.13", "purl"),
        (ComponentRef(purl="pkg:nix/xz@5.4.6"), "xz-5.4.6-bin", "purl"),  # the output suffix is not the version
        (ComponentRef(purl="pkg:pypi/PyYAML@6.0.1"), "python3.11-pyyaml-6.0.1", "purl"),  # nixpkgs' python3.11- prefix
        (ComponentRef(purl="pkg:generic/openssl@3.0.13?arch=x86_64#lib"), "openssl-3.0.13", "purl"),
        (ComponentRef(name="OpenSSL", version="3.0.13"), "openssl-3.0.13", "name_version"),
        (ComponentRef(name="curl"), "curl-8.6.0", "name_version"),  # no version: every version
        # A store path of another build of the same package still names it.
        (ComponentRef(store_path=fake_store_path("openssl-3.0.13-other"), name="openssl", version="3.0.13"), "openssl-3.0.13", "name_version"),
    ],
)
def test_a_component_is_located_by_the_most_precise_identity(ref: ComponentRef, expected: str, method: str) -> None:
    location = Inventory(_closure()).locate(ref)
    assert location is not None and (location.paths, location.method) == ((P[expected],), method)


@pytest.mark.parametrize(
    "ref",
    [ComponentRef(name="openssl", version="3.0.12"), ComponentRef(purl="pkg:nix/busybox@1.36.1"),
     ComponentRef(derivation=fake_store_path("busybox-1.36.1") + ".drv"), ComponentRef(ref="some-bom-ref"), ComponentRef()],
)
def test_a_component_the_release_does_not_hold_is_not_located(ref: ComponentRef) -> None:
    assert Inventory(_closure()).locate(ref) is None


def test_sbom_references_lead_to_the_store_paths_they_describe() -> None:
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [
        {"type": "library", "bom-ref": "urn:x:zlib", "name": "libz", "version": "1", "purl": "pkg:generic/libz@1",
         "properties": [{"name": "nix:output_path", "value": P["zlib-1.3.1"]}]},
        {"type": "library", "bom-ref": "urn:x:ghost", "name": "ghost", "purl": "pkg:generic/ghost@1",
         "properties": [{"name": "nix:output_path", "value": fake_store_path("ghost-1")}]}]}
    inventory = Inventory(_closure(), parse_sbom_document(sbom, "sbom.json"))
    for ref in (ComponentRef(ref="urn:x:zlib"), ComponentRef(purl="pkg:generic/libz@1")):
        location = inventory.locate(ref)
        assert location is not None and (location.paths, location.method) == ((P["zlib-1.3.1"],), "sbom")
    # A component whose store path is not in the closure adds nothing.
    assert inventory.locate(ComponentRef(ref="urn:x:ghost")) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pkg:nix/openssl@3.0.13", Purl("nix", None, "openssl", "3.0.13")),
        ("pkg:npm/%40angular/core@16.0.0", Purl("npm", "@angular", "core", "16.0.0")),
        ("pkg:npm/@angular/core", Purl("npm", "@angular", "core", None)),
        ("pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie", Purl("deb", "debian", "curl", "7.50.3-1")),
        ("pkg:maven/org.apache/commons-io@2.6#src", Purl("maven", "org.apache", "commons-io", "2.6")),
        ("pkg:nix/gtk%2B3@3.24.41", Purl("nix", None, "gtk+3", "3.24.41")),
        ("pkg:OCI/alpine@sha256%3A124c", Purl("oci", None, "alpine", "sha256:124c")),
    ],
)
def test_purls_split_into_what_matching_compares(text: str, expected: Purl) -> None:
    assert parse_purl(text) == expected


@pytest.mark.parametrize("text", ["openssl", "pkg:", "pkg:nix", "pkg:nix/", "cpe:2.3:a:openssl:openssl:3.0.13"])
def test_what_is_not_a_purl(text: str) -> None:
    assert parse_purl(text) is None


@settings(max_examples=200, deadline=None)
@given(name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+-._?=", min_size=1, max_size=20).filter(lambda s: s[0].isalnum()),
       version=st.none() | st.text(alphabet="0123456789.+-_abcrv~", min_size=1, max_size=12))
def test_the_purls_the_sbom_writer_makes_parse_back(name: str, version: str | None) -> None:
    assert parse_purl(nix_purl(name, version)) == Purl("nix", None, name, version)


# --- the known-vulnerability gate -----------------------------------------------------------

def test_each_threshold_blocks_for_its_own_reason() -> None:
    report = grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8), ("CVE-2099-0002", "zlib", "1.3.1", None),
                   ("CVE-2099-0003", "curl", "8.6.0", 4.3), ("CVE-2099-0004", "xz", "5.4.6", 2.0), kev=("CVE-2099-0004",))
    outcome = sc02(subject(report))
    assert outcome.status is Status.FAIL
    reasons = {e["id"]: e["reasons"] for e in outcome.observed["blocking"]}
    assert reasons == {"CVE-2099-0001": ["CVSS 9.8 > 6.9", "severity critical"], "CVE-2099-0002": ["severity unknown"],
                       "CVE-2099-0004": ["known exploited"]}
    assert ids(outcome, "blocking")[0] == "CVE-2099-0001" and outcome.observed["blocking"][0]["id"] == "CVE-2099-0004"  # exploited first
    assert outcome.observed["counts"]["below_threshold"] == 1


def test_parameters_move_the_threshold() -> None:
    report = grype(("CVE-2099-0003", "curl", "8.6.0", 4.3), ("CVE-2099-0002", "zlib", "1.3.1", None))
    assert sc02(subject(report), block_unknown_severity=False).status is Status.PASS
    strict = sc02(subject(report), max_cvss=3.9, block_unknown_severity=False)
    assert strict.status is Status.FAIL and ids(strict, "blocking") == ["CVE-2099-0003"]
    by_word = sc02(subject(report), block_severities=["medium"], block_unknown_severity=False)
    assert by_word.status is Status.FAIL and by_word.observed["blocking"][0]["reasons"] == ["severity medium"]


def test_a_kev_catalogue_marks_findings_known_exploited() -> None:
    kev = {"title": "CISA KEV", "catalogVersion": "2026.10.30", "dateReleased": "2026-10-30T00:00:00Z", "vulnerabilities": [{"cveID": "CVE-2099-0003"}]}
    report = grype(("CVE-2099-0003", "curl", "8.6.0", 4.3))
    blocked = sc02(subject(report, kev))
    assert blocked.status is Status.FAIL and blocked.observed["blocking"][0]["known_exploited"] is True
    assert sc02(subject(report, kev), block_known_exploited=False).status is Status.PASS


def test_findings_outside_the_release_are_reported_not_dropped() -> None:
    report = grype(("CVE-2099-0009", "busybox", "1.36.1", 9.8), ("CVE-2099-0010", "openssl", "3.0.12", 9.8))
    outcome = sc02(subject(report))
    assert outcome.status is Status.PASS and "2 not in the release" in outcome.message
    assert ids(outcome, "not_in_release") == ["CVE-2099-0009", "CVE-2099-0010"]
    assert outcome.observed["not_in_release"][0]["store_paths"] == []
    strict = sc02(subject(report), block_not_in_release=True)
    assert strict.status is Status.FAIL and ids(strict, "blocking") == ["CVE-2099-0009", "CVE-2099-0010"]


def test_two_scanners_reporting_the_same_vulnerability_count_once() -> None:
    vulnix = [{"name": "openssl-3.0.13", "pname": "openssl", "version": "3.0.13", "derivation": P["openssl-3.0.13"] + ".drv",
               "affected_by": ["CVE-2099-0001"], "whitelisted": [], "cvssv3_basescore": {}, "description": {}}]
    ghsa = grype(("GHSA-aaaa-bbbb-cccc", "openssl", "3.0.13", 9.8))
    ghsa["matches"][0]["relatedVulnerabilities"] = [{"id": "CVE-2099-0001", "cvss": []}]
    outcome = sc02(subject(vulnix, ghsa))
    assert outcome.observed["findings"] == 2 and outcome.observed["distinct"] == 1
    assert outcome.observed["counts"]["blocking"] == 1 and "1 known vulnerability blocks" in outcome.message


def test_vex_not_affected_and_fixed_suppress_and_are_recorded() -> None:
    report = grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8), ("CVE-2099-0002", "zlib", "1.3.1", 8.1))
    vex = openvex(statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13"), statement("CVE-2099-0002", P["zlib-1.3.1"], "fixed"))
    outcome = sc02(subject(report, vex))
    assert outcome.status is Status.PASS and ids(outcome, "suppressed_by_vex") == ["CVE-2099-0001", "CVE-2099-0002"]
    recorded = {e["id"]: e["vex"]["status"] for e in outcome.observed["suppressed_by_vex"]}
    assert recorded == {"CVE-2099-0001": "not_affected", "CVE-2099-0002": "fixed"}
    only_fixed = sc02(subject(report, vex), honour_vex=["fixed"])
    assert only_fixed.status is Status.FAIL and ids(only_fixed, "blocking") == ["CVE-2099-0001"]


@pytest.mark.parametrize(
    ("vex_statement", "suppressed"),
    [
        (statement("CVE-2099-0001", "pkg:nix/openssl@3.0.12"), False),  # another version
        (statement("CVE-2099-0001", "pkg:nix/openssl"), True),  # every version
        (statement("CVE-2099-0001", "pkg:deb/debian/openssl@3.0.13"), False),  # another ecosystem's package
        (statement("CVE-2099-0001", P["myapp-1.0"]), True),  # the release as a whole
        (statement("CVE-2099-0001", "pkg:nix/myapp@1.0"), True),
        (statement("CVE-2099-0001", "pkg:nix/curl@8.6.0"), False),  # a sibling component
        (statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13", "under_investigation"), False),
        (statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13", "affected", action_statement="upgrade"), False),
        (statement("CVE-2099-7777", "pkg:nix/openssl@3.0.13"), False),  # another vulnerability
    ],
)
def test_which_vex_statements_speak_about_a_finding(vex_statement: dict[str, Any], suppressed: bool) -> None:
    outcome = sc02(subject(grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8)), openvex(vex_statement)))
    assert (outcome.status is Status.PASS) is suppressed


def vulnix_openssl() -> list[dict[str, Any]]:
    """vulnix reporting CVE-2099-0001 on the release's openssl, by its derivation (no purl)."""
    return [{"name": "openssl-3.0.13", "pname": "openssl", "version": "3.0.13", "derivation": P["openssl-3.0.13"] + ".drv",
             "affected_by": ["CVE-2099-0001"], "whitelisted": [], "cvssv3_basescore": {"CVE-2099-0001": 9.8}, "description": {}}]


def test_a_statement_about_another_ecosystem_does_not_speak_for_nix() -> None:
    vulnix = vulnix_openssl()
    debian = openvex(statement("CVE-2099-0001", "pkg:deb/debian/openssl@3.0.13"))
    assert sc02(subject(vulnix, debian)).status is Status.FAIL
    nix = openvex(statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13"))
    assert sc02(subject(vulnix, nix)).status is Status.PASS


def cyclonedx_vex(vid: str, component: dict[str, Any]) -> dict[str, Any]:
    """A CycloneDX VEX whose one statement is about ``component``, referenced by bom-ref."""
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "metadata": {"timestamp": "2026-10-20T00:00:00Z"},
            "components": [{"type": "library", "bom-ref": "c1", **component}],
            "vulnerabilities": [{"id": vid, "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                                 "affects": [{"ref": "c1"}]}]}


@pytest.mark.parametrize(
    ("component", "suppressed"),
    [
        # Its name and version are Nix's openssl too, but the purl says it is Debian's.
        ({"name": "openssl", "version": "3.0.13", "purl": "pkg:deb/debian/openssl@3.0.13"}, False),
        ({"name": "openssl", "version": "3.0.13", "purl": "not a purl"}, False),
        ({"name": "openssl", "version": "3.0.13", "purl": "pkg:nix/openssl@3.0.13"}, True),
        ({"name": "openssl", "version": "3.0.13"}, True),
    ],
)
def test_a_cyclonedx_vex_component_of_another_ecosystem_does_not_speak_for_nix(component: dict[str, Any], suppressed: bool) -> None:
    vulnix = vulnix_openssl()
    outcome = sc02(subject(vulnix, cyclonedx_vex("CVE-2099-0001", component)))
    assert (outcome.status is Status.PASS) is suppressed
    assert bool(outcome.observed["suppressed_by_vex"]) is suppressed


@pytest.mark.parametrize(
    "claim",
    [ComponentRef(name="openssl", version="3.0.13", purl="pkg:deb/debian/openssl@3.0.13"),
     ComponentRef(name="openssl", version="3.0.13", purl="pkg:npm/openssl@3.0.13"),
     ComponentRef(name="openssl", version="3.0.13", purl="pkg:"),
     ComponentRef(purl="pkg:deb/debian/openssl@3.0.13")],
)
def test_a_claim_with_a_purl_of_another_ecosystem_is_not_placed_by_its_name(claim: ComponentRef) -> None:
    inventory = Inventory(_closure())
    assert inventory.locate(claim, strict=True) is None
    assert inventory.locate(claim.model_copy(update={"store_path": P["openssl-3.0.13"]}), strict=True) is not None


def test_the_latest_vex_statement_counts() -> None:
    report = grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8))
    earlier = statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13", when="2026-10-01T00:00:00Z")
    later = statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13", "affected", when="2026-10-20T00:00:00Z", action_statement="upgrade")
    assert sc02(subject(report, openvex(later, earlier))).status is Status.FAIL
    retracted = statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13", when="2026-10-25T00:00:00Z")
    assert sc02(subject(report, openvex(later, earlier, retracted))).status is Status.PASS


def test_vex_on_an_alias_covers_the_finding() -> None:
    report = grype(("GHSA-aaaa-bbbb-cccc", "openssl", "3.0.13", 9.8))
    report["matches"][0]["relatedVulnerabilities"] = [{"id": "CVE-2099-0001"}]
    assert sc02(subject(report, openvex(statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13")))).status is Status.PASS


def test_only_an_exception_in_force_hides_a_finding() -> None:
    report = grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8))
    valid = sc02(subject(report, exceptions(exception())))
    assert valid.status is Status.PASS and valid.observed["excepted"][0]["exception"]["id"] == "EXC-1"
    expired = sc02(subject(report, exceptions(exception(created="2026-08-01", expires="2026-10-31"))))
    assert expired.status is Status.FAIL
    assert expired.observed["exceptions_not_honoured"] == {"EXC-1": ["expired 2026-10-31T23:59:59Z"]}
    unapproved = sc02(subject(report, exceptions(exception(approver=None))))
    assert unapproved.status is Status.FAIL and unapproved.observed["exceptions_not_honoured"] == {"EXC-1": ["no approver"]}
    not_yet = sc02(subject(report, exceptions(exception(created="2026-11-02"))))
    assert not_yet.status is Status.FAIL
    assert not_yet.observed["exceptions_not_honoured"] == {"EXC-1": ["not in force before 2026-11-02T00:00:00Z"]}
    other_component = sc02(subject(report, exceptions(exception(component="zlib@1.3.1"))))
    assert other_component.status is Status.FAIL and other_component.observed["exceptions_not_honoured"] == {}
    assert sc02(subject(report, exceptions(exception())), honour_exceptions=False).status is Status.FAIL


def test_the_gate_cannot_decide_without_a_scan_or_a_release() -> None:
    with pytest.raises(CheckError, match="no scanner report"):
        sc02(subject(openvex(statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13"))))
    with pytest.raises(CheckError, match="needs the closure"):
        sc02(subject(grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8)), closure=False))
    with pytest.raises(CheckError, match="--vulns"):
        sc02(Subject(closure=_closure()))


def test_an_sbom_alone_places_the_findings() -> None:
    sbom = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
            "metadata": {"component": {"type": "application", "bom-ref": "app", "name": "myapp", "version": "1.0"}},
            "components": [{"type": "library", "bom-ref": "ssl", "name": "openssl", "version": "3.0.13", "purl": "pkg:nix/openssl@3.0.13"}]}
    outcome = sc02(subject(grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8)), closure=False, sbom=sbom))
    assert outcome.status is Status.FAIL and outcome.observed["blocking"][0]["store_paths"] == ["ssl"]
    vex = openvex(statement("CVE-2099-0001", "pkg:nix/myapp@1.0"))  # the product the SBOM describes
    assert sc02(subject(grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8)), vex, closure=False, sbom=sbom)).status is Status.PASS


# --- exceptions: justified and time-bound ---------------------------------------------------

def _exception(**overrides: Any) -> VulnException:
    base: dict[str, Any] = {"id": "E", "vulnerability": "CVE-1", "component": ComponentRef(name="x"), "reason": "r", "owner": "o",
                            "approver": "a", "created": NOW - timedelta(days=10), "expires": NOW + timedelta(days=30), "source": "f"}
    return VulnException(**{**base, **overrides})


FULL = ExceptionRules(require_approver=True, require_component=True, require_created=True, require_compensating_measure=True,
                      distinct_approver=True, max_days=90)


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        ({"compensating_measure": "firewall"}, []),
        ({"compensating_measure": "firewall", "reason": "", "owner": ""}, ["no reason", "no owner"]),
        ({"compensating_measure": "firewall", "approver": ""}, ["no approver"]),
        ({"compensating_measure": "firewall", "approver": "o"}, ["approved by its own owner"]),
        ({}, ["no compensating measure"]),
        ({"compensating_measure": "firewall", "component": None}, ["names no component"]),
        ({"compensating_measure": "firewall", "created": None}, ["no creation date"]),
        ({"compensating_measure": "firewall", "expires": None}, ["no expiry"]),
        ({"compensating_measure": "firewall", "expires": NOW}, ["expired 2026-11-01T00:00:00Z"]),
        ({"compensating_measure": "firewall", "created": NOW + timedelta(days=1)}, ["not in force before 2026-11-02T00:00:00Z"]),
        ({"compensating_measure": "firewall", "expires": NOW + timedelta(days=85)}, ["lasts 95 days (at most 90)"]),
        ({"compensating_measure": "firewall", "created": NOW - timedelta(days=1), "expires": NOW - timedelta(days=2)},
         ["expired 2026-10-30T00:00:00Z", "expires before it was created"]),
    ],
)
def test_every_rule_an_exception_can_break(overrides: dict[str, Any], problems: list[str]) -> None:
    assert exception_problems(_exception(**overrides), NOW, FULL) == problems


def sc03(s: Subject, **params: Any) -> Outcome:
    return vulnerability_exceptions(s, VulnerabilityExceptionParams(**params))


def test_sc03_judges_exceptions_with_the_organisations_rules() -> None:
    long_one = exception(created="2026-10-01", expires="2027-03-01")
    outcome = sc03(subject(exceptions(long_one)))
    assert outcome.status is Status.FAIL and "lasts 152 days (at most 90)" in outcome.message
    assert sc03(subject(exceptions(long_one)), max_exception_days=180).status is Status.PASS
    self_approved = exception(approver="platform")
    assert sc03(subject(exceptions(self_approved))).status is Status.FAIL
    assert sc03(subject(exceptions(self_approved)), require_distinct_approver=False).status is Status.PASS
    assert sc03(subject(exceptions(exception(component=None)))).status is Status.FAIL
    assert sc03(subject(exceptions(exception()))).status is Status.PASS


def test_sc03_wants_a_reason_for_not_affected() -> None:
    bare = openvex({"vulnerability": {"name": "CVE-2099-0001"}, "products": [{"@id": "pkg:nix/openssl@3.0.13"}], "status": "not_affected"})
    outcome = sc03(subject(bare))
    assert outcome.status is Status.FAIL and outcome.observed["vex_without_justification"] == ["CVE-2099-0001 in report0.json"]
    assert sc03(subject(bare), vex_justification_required=False).status is Status.PASS
    fixed = openvex({"vulnerability": {"name": "CVE-2099-0001"}, "products": [{"@id": "pkg:nix/openssl@3.0.13"}], "status": "fixed"})
    assert sc03(subject(fixed)).status is Status.PASS


def test_sc03_wants_scanner_suppressions_recorded() -> None:
    report = grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8))
    report["ignoredMatches"] = report.pop("matches")
    report["matches"] = []
    outcome = sc03(subject(report))
    assert outcome.status is Status.FAIL and outcome.observed["unrecorded_scanner_suppressions"] == [
        "CVE-2099-0001 in openssl-3.0.13 (grype, report0.json)"]
    assert sc03(subject(report, exceptions(exception()))).status is Status.PASS
    assert sc03(subject(report, openvex(statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13")))).status is Status.PASS
    assert sc03(subject(report), allow_scanner_suppressions=True).status is Status.PASS
    # The gate itself does not honour what the scanner hid.
    assert sc02(subject(report)).status is Status.FAIL


def test_an_exception_file_that_cannot_be_read_names_what_is_wrong() -> None:
    from compliance.errors import InputError

    with pytest.raises(InputError, match=r"report0.json: vulnerability_exceptions.0.expiry: unknown field"):
        subject(exceptions({**exception(), "expiry": "2026-12-31"}))
    with pytest.raises(InputError, match="exception id EXC-1 is used twice"):
        subject(exceptions(exception(), exception()))


# --- freshness ------------------------------------------------------------------------------

def sc13(s: Subject, **params: Any) -> Outcome:
    return vulnerability_data_fresh(s, VulnerabilityFreshnessParams(**params))


def _trivy(created: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"SchemaVersion": 2, "ArtifactName": "x", "Results": []}
    if created:
        doc["CreatedAt"] = created
    return doc


def test_freshness_by_scan_time() -> None:
    assert sc13(subject(_trivy("2026-10-31T01:00:00Z"))).status is Status.PASS  # 23 h
    stale = sc13(subject(_trivy("2026-10-30T23:00:00Z")))  # 25 h
    assert stale.status is Status.FAIL and "scanned 25 h ago (at most 24 h), by its scan time" in stale.message
    assert sc13(subject(_trivy("2026-10-30T23:00:00Z")), max_scan_age_hours=48).status is Status.PASS


@pytest.mark.parametrize(
    ("created", "fresh"),
    [("2026-11-01T00:04:59Z", True),  # the scanning host's clock a little ahead
     ("2026-11-01T00:05:01Z", False), ("2026-11-02T00:00:00Z", False), ("2099-01-01T00:00:00Z", False)],
)
def test_a_scan_dated_after_the_assessment_is_not_fresh(created: str, fresh: bool) -> None:
    outcome = sc13(subject(_trivy(created)))
    assert (outcome.status is Status.PASS) is fresh
    if not fresh:
        assert f"scan time {created} is after the assessment time 2026-11-01T00:00:00Z" in outcome.message


def test_data_dated_after_the_assessment_fails_whatever_its_kind() -> None:
    report = grype(timestamp="2026-10-31T23:00:00Z")
    report["descriptor"]["db"] = {"status": {"built": "2026-12-01T00:00:00Z"}}
    assert "database time 2026-12-01T00:00:00Z is after the assessment time" in sc13(subject(report)).message
    kev = {"catalogVersion": "2099.01.01", "dateReleased": "2099-01-01T00:00:00Z", "vulnerabilities": []}
    outcome = sc13(subject(_trivy("2026-10-31T22:00:00Z"), kev))
    assert outcome.status is Status.FAIL and "release date 2099-01-01T00:00:00Z is after the assessment time" in outcome.message


def test_an_assessment_clock_before_the_scans_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "315532800")  # 1980-01-01, as inside a Nix build
    outcome = sc13(subject(_trivy("2026-10-31T23:00:00Z")))
    assert outcome.status is Status.FAIL and "is after the assessment time 1980-01-01T00:00:00Z" in outcome.message


def test_freshness_by_database_time_when_the_scan_is_undated() -> None:
    cvenix = ("[Informational] Cache last updated: 2026-10-31 12:00:00.000000000 UTC\n\n"
              "[Warning] zlib\n[Warning] CVE-2023-45853\n[Warning] Version: 1.3.1\n"
              f"[Warning] Full drv path: {P['zlib-1.3.1']}.drv\n")
    data = load_vulnerability_reports([("cvenix.txt", cvenix.encode())])
    outcome = sc13(Subject(vulnerabilities=data))
    assert outcome.status is Status.PASS and outcome.observed["reports"][0]["dated_by"] == "database time"
    old = cvenix.replace("2026-10-31 12:00", "2026-10-28 12:00")
    failed = sc13(Subject(vulnerabilities=load_vulnerability_reports([("cvenix.txt", old.encode())])))
    assert failed.status is Status.FAIL and "vulnerability database 84 h old (at most 48 h)" in failed.message


def test_an_old_database_fails_even_on_a_fresh_scan() -> None:
    report = grype(timestamp="2026-10-31T23:00:00Z")
    report["descriptor"]["db"] = {"status": {"built": "2026-10-25T00:00:00Z"}}
    outcome = sc13(subject(report))
    assert outcome.status is Status.FAIL and "vulnerability database 168 h old" in outcome.message


def test_undated_scans_fail_unless_accepted() -> None:
    vulnix: list[Any] = []
    outcome = sc13(subject(vulnix))
    assert outcome.status is Status.FAIL and "records neither a scan time nor a database time" in outcome.message
    assert sc13(subject(vulnix), allow_undated=True).status is Status.PASS


def test_a_stale_kev_catalogue_fails_and_vex_alone_is_no_scan() -> None:
    kev = {"catalogVersion": "2026.09.01", "dateReleased": "2026-09-01T00:00:00Z", "vulnerabilities": []}
    outcome = sc13(subject(_trivy("2026-10-31T22:00:00Z"), kev))
    assert outcome.status is Status.FAIL and "catalogue released 1464 h ago" in outcome.message
    only_vex = sc13(subject(openvex(statement("CVE-2099-0001", "pkg:nix/openssl@3.0.13"))))
    assert only_vex.status is Status.FAIL and "0 vulnerability scan(s) given, at least 1 needed" in only_vex.message


def test_severity_words_are_normalised() -> None:
    report = grype(("CVE-2099-0001", "openssl", "3.0.13", None))
    for word, expected in (("Negligible", VulnSeverity.LOW), ("Moderate", VulnSeverity.MEDIUM), ("Important", VulnSeverity.HIGH),
                           ("Unknown", VulnSeverity.UNKNOWN), ("bogus", VulnSeverity.UNKNOWN)):
        report["matches"][0]["vulnerability"]["severity"] = word
        (finding,) = load_vulnerability_reports([("g.json", json.dumps(report).encode())]).findings
        assert finding.severity is expected, word
    assert VexStatus("not_affected") is VexStatus.NOT_AFFECTED


# --- properties over a generated NixOS-like closure -----------------------------------------

@functools.cache
def _big_closure() -> Any:
    from bench.generate import generate_closure

    return parse_closure(json.dumps(generate_closure(300)["entries"]).encode(), "closure.json")


@settings(max_examples=100, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(min_value=0, max_value=299), st.sampled_from(["store_path", "derivation", "purl", "name_version"])),
                      min_size=1, max_size=30))
def test_every_identity_of_a_store_path_leads_back_to_it(picks: list[tuple[int, str]]) -> None:
    closure = _big_closure()
    infos = sorted(closure.paths.values(), key=lambda i: i.path)
    inventory = Inventory(closure)
    for index, how in picks:
        info = infos[index]
        ref = {
            "store_path": ComponentRef(store_path=info.path),
            "derivation": ComponentRef(derivation=info.deriver),
            "purl": ComponentRef(purl=nix_purl(info.name, info.version)),
            "name_version": ComponentRef(name=info.name, version=info.version),
        }[how]
        location = inventory.locate(ref)
        assert location is not None and info.path in location.paths, (how, info.path)


@settings(max_examples=50, deadline=None)
@given(picks=st.lists(st.tuples(st.integers(min_value=0, max_value=299), st.booleans(), st.integers(0, 100).map(lambda n: n / 10)),
                      min_size=1, max_size=40))
def test_every_finding_gets_exactly_one_verdict(picks: list[tuple[int, bool, float]]) -> None:
    """No finding disappears: distinct findings = the sum of the verdict counts, and every
    finding outside the release is listed as such."""
    closure = _big_closure()
    infos = sorted(closure.paths.values(), key=lambda i: i.path)
    matches = []
    for n, (index, inside, value) in enumerate(picks):
        info = infos[index]
        name = info.name if inside else f"not-shipped-{index}"
        matches.append({"vulnerability": {"id": f"CVE-2099-{n:04d}", "cvss": [{"version": "3.1", "metrics": {"baseScore": value}}]},
                        "artifact": {"name": name, "version": info.version or "1"}})
    report = {"matches": matches, "descriptor": {"name": "grype", "timestamp": "2026-10-31T22:00:00Z"}}
    data = load_vulnerability_reports([("g.json", json.dumps(report).encode())])
    outcome = known_vulnerabilities(Subject(closure=closure, vulnerabilities=data), KnownVulnerabilityParams(max_listed=1000))
    counts = outcome.observed["counts"]
    assert sum(counts.values()) == outcome.observed["distinct"] == len(picks)
    outside = {f"CVE-2099-{n:04d}" for n, (_, inside, _) in enumerate(picks) if not inside}
    assert set(ids(outcome, "not_in_release")) == outside
    blocking = {f"CVE-2099-{n:04d}" for n, (_, inside, value) in enumerate(picks) if inside and value > 6.9}
    assert set(ids(outcome, "blocking")) == blocking
    assert (outcome.status is Status.FAIL) == bool(blocking)
