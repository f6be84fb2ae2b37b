"""vulnix run for real on a closure built with Nix, against an NVD feed served on
127.0.0.1; its report read, matched to the closure and judged by the vulnerability
controls, and the same through ``compliance gate``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compliance.assess import engine
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.checks.predicate_subject import Subject
from compliance.inputs.closure import read_closure
from compliance.inputs.scanners import load_vulnerability_reports
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.vulns.inventory import Inventory
from tests.support.cli import run
from tests.support.nix import build, nix_env, requires_nix
from tests.support.nvd_feed import cve, serve, vulnix_binary, write_feed

VULNIX = vulnix_binary()
pytestmark = [
    requires_nix,
    pytest.mark.nix,
    pytest.mark.skipif(VULNIX is None, reason="vulnix is not installed (scripts/install puts it in .venv-tools/vulnix)"),
]

# openssl and zlib are vulnerable; curl 8.6.0 is past the fixed version; xz has two
# outputs and only "bin" is in the closure.
EXPRESSION = """
let
  openssl = mk "openssl-3.0.13" ''mkdir -p $out/lib; echo libssl > $out/lib/libssl.so'';
  zlib    = mk "zlib-1.3.1" ''mkdir -p $out/lib; echo libz > $out/lib/libz.so'';
  curl    = mk "curl-8.6.0" ''mkdir -p $out/bin; printf '#!/bin/sh\\n# %s %s\\n' ${openssl} ${zlib} > $out/bin/curl'';
  xz      = derivation {
    name = "xz-5.4.6"; system = builtins.currentSystem; builder = "/bin/sh"; PATH = "/usr/bin:/bin";
    outputs = [ "out" "bin" ];
    args = [ "-c" "mkdir -p $out/lib $bin/bin; echo liblzma > $out/lib/liblzma.so; echo xz > $bin/bin/xz" ];
  };
  app     = mk "myapp-1.0" ''mkdir -p $out/bin; echo "exec ${curl}/bin/curl ${xz.bin}/bin/xz" > $out/bin/myapp'';
in app
"""
FEED = [
    cve("CVE-2099-0001", "openssl", score=9.8, start_including="3.0.0", end_excluding="3.0.14", description="TLS record overflow"),
    cve("CVE-2099-0002", "zlib", version="1.3.1", description="inflate reads past the window"),  # NVD has no CVSS v3 yet
    cve("CVE-2099-0003", "curl", score=7.5, end_excluding="8.5.0", description="fixed before 8.6.0"),
    cve("CVE-2099-0004", "xz", vendor="tukaani", score=5.5, version="5.4.6", description="medium flaw in xz"),
]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Build once, scan twice (plain, and with a vulnix whitelist entry for zlib)."""
    work = tmp_path_factory.mktemp("vulnix")
    top = build(EXPRESSION, work, "scanned")
    write_feed(work / "feed", FEED)
    whitelist = work / "whitelist.toml"
    whitelist.write_text('["zlib-1.3.1"]\ncve = ["CVE-2099-0002"]\ncomment = "reviewed in the team channel"\n')
    outputs: dict[str, Any] = {"top": top, "work": work}
    with serve(work / "feed") as mirror:
        for name, extra in (("plain", []), ("whitelisted", ["-w", str(whitelist), "--show-whitelisted"])):
            proc = subprocess.run(
                [str(VULNIX), "--mirror", mirror, "-c", str(work / f"cache-{name}"), "--json", *extra, top],
                capture_output=True, env=nix_env(), timeout=300, check=False,
            )
            assert proc.returncode == 2, proc.stderr.decode()[-2000:]  # 2: vulnerabilities found
            (work / f"vulnix-{name}.json").write_bytes(proc.stdout)
            outputs[name] = proc.stdout
    return outputs


def _subject(scanned: dict[str, Any], *reports: tuple[str, bytes]) -> Subject:
    closure, _ = read_closure(scanned["top"])
    return Subject(closure=closure, vulnerabilities=load_vulnerability_reports(list(reports)))


def _evaluate(control_id: str, subject: Subject) -> tuple[Status, str, dict[str, Any]]:
    catalog = load_catalog()
    selected = next(s for s in select(catalog, [], CheckKind.STATIC).controls if s.control.id == control_id)
    result = engine.evaluate_control(selected, CheckKind.STATIC, subject)
    return result.status, result.message, result.checks[0].observed


def test_vulnix_findings_are_read_and_placed_on_their_store_paths(scanned: dict[str, Any]) -> None:
    subject = _subject(scanned, ("vulnix.json", scanned["plain"]))
    assert subject.vulnerabilities is not None and subject.closure is not None
    findings = {f.id: f for f in subject.vulnerabilities.findings}
    assert set(findings) == {"CVE-2099-0001", "CVE-2099-0002", "CVE-2099-0004"}  # curl 8.6.0 is fixed
    assert findings["CVE-2099-0001"].best_cvss is not None and findings["CVE-2099-0001"].best_cvss.score == 9.8
    assert findings["CVE-2099-0002"].cvss == () and findings["CVE-2099-0002"].severity.value == "unknown"
    inventory = Inventory(subject.closure)
    by_name = {info.path.rsplit("/", 1)[1].split("-", 1)[1]: info for info in subject.closure.paths.values()}
    for cve_id, path_name in (("CVE-2099-0001", "openssl-3.0.13"), ("CVE-2099-0002", "zlib-1.3.1"), ("CVE-2099-0004", "xz-5.4.6-bin")):
        location = inventory.locate(findings[cve_id].component)
        assert location is not None and location.method == "derivation", cve_id
        assert location.paths == (by_name[path_name].path,)
        assert findings[cve_id].component.derivation == by_name[path_name].deriver


def test_the_gate_blocks_the_critical_and_the_unrated_finding(scanned: dict[str, Any]) -> None:
    status, message, observed = _evaluate("SC-02", _subject(scanned, ("vulnix.json", scanned["plain"])))
    assert status is Status.FAIL, message
    blocking = {entry["id"]: entry for entry in observed["blocking"]}
    assert set(blocking) == {"CVE-2099-0001", "CVE-2099-0002"}
    assert blocking["CVE-2099-0001"]["reasons"] == ["CVSS 9.8 > 6.9", "severity critical"]
    assert blocking["CVE-2099-0002"]["reasons"] == ["severity unknown"]
    assert observed["counts"]["below_threshold"] == 1  # xz, CVSS 5.5
    assert observed["matched_by"] == {"derivation": 3}


def test_vex_and_an_exception_clear_the_gate_and_are_recorded(scanned: dict[str, Any]) -> None:
    vex = {
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.org/vex/1", "author": "release team",
        "timestamp": "2026-10-30T10:00:00Z", "version": 1,
        "statements": [{"vulnerability": {"name": "CVE-2099-0001"}, "products": [{"@id": "pkg:nix/openssl@3.0.13"}],
                        "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}],
    }
    exceptions = (
        b'[[vulnerability_exceptions]]\nid = "EXC-1"\nvulnerability = "CVE-2099-0002"\ncomponent = "zlib@1.3.1"\n'
        b'reason = "inflate is only fed trusted local data"\nowner = "platform"\napprover = "ciso"\n'
        b"created = 2026-10-20\nexpires = 2026-12-31\n"
    )
    subject = _subject(scanned, ("vulnix.json", scanned["plain"]), ("vex.json", json.dumps(vex).encode()), ("exceptions.toml", exceptions))
    status, message, observed = _evaluate("SC-02", subject)
    assert status is Status.PASS, message
    assert [e["id"] for e in observed["suppressed_by_vex"]] == ["CVE-2099-0001"]
    assert observed["suppressed_by_vex"][0]["vex"]["justification"] == "vulnerable_code_not_in_execute_path"
    assert [(e["id"], e["exception"]["id"]) for e in observed["excepted"]] == [("CVE-2099-0002", "EXC-1")]
    assert _evaluate("SC-03", subject)[0] is Status.PASS


def test_a_vulnix_whitelist_is_not_an_exception(scanned: dict[str, Any]) -> None:
    subject = _subject(scanned, ("vulnix.json", scanned["whitelisted"]))
    assert subject.vulnerabilities is not None
    hidden = [f for f in subject.vulnerabilities.findings if f.suppressed_by_scanner]
    assert [f.id for f in hidden] == ["CVE-2099-0002"]
    status, _, observed = _evaluate("SC-02", subject)
    assert status is Status.FAIL and {e["id"] for e in observed["blocking"]} == {"CVE-2099-0001", "CVE-2099-0002"}
    status, _, observed = _evaluate("SC-03", subject)
    assert status is Status.FAIL
    assert observed["unrecorded_scanner_suppressions"] == ["CVE-2099-0002 in zlib-1.3.1 (vulnix, vulnix.json)"]


def test_vulnix_reports_are_undated_so_freshness_fails(scanned: dict[str, Any]) -> None:
    status, message, _ = _evaluate("SC-13", _subject(scanned, ("vulnix.json", scanned["plain"])))
    assert status is Status.FAIL and "records neither a scan time nor a database time" in message


def test_compliance_gate_judges_the_vulnix_report(scanned: dict[str, Any], tmp_path: Path) -> None:
    report = scanned["work"] / "vulnix-plain.json"
    out = tmp_path / "results.json"
    result = run("gate", "--closure", scanned["top"], "--vulns", str(report), "-o", f"json={out}")
    assert result.code == 1, result.stderr
    results = {r["control_id"]: r for r in json.loads(out.read_text())["assessment"]["results"]}
    assert results["SC-02"]["status"] == "fail"
    assert "CVE-2099-0001 in openssl-3.0.13 (CVSS 9.8 > 6.9, severity critical)" in results["SC-02"]["message"]
    inputs = json.loads(out.read_text())["assessment"]["inputs"]
    assert any(i["kind"] == "vulnerabilities" and i["path"] == str(report) for i in inputs)
