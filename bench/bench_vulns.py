"""Benchmark: 20,000 vulnerability findings against a 5,000-path closure.

Target (2-core machine): the findings matched to the closure and judged in at most 1 s,
that is the known-vulnerability gate (SC-02) on a subject already read: the closure's
inventory, the VEX and exception indexes, placing and judging every finding,
deduplication and the observed values. Reading the reports is measured apart, and so are
the exceptions (SC-03) and freshness (SC-13) controls and the whole
``compliance gate --vulns`` in a fresh process.

    .venv/bin/python -m bench.bench_vulns [--paths 5000] [--findings 20000] [--runs 7]

The closure comes from bench/generate.py. The reports are what a Nix pipeline produces:
grype matches (pkg:nix purls, half of them located by a file inside the store path, some
GHSA records with their CVE as a related vulnerability), vulnix derivations with their
CVEs, findings for packages outside the closure (build-time inputs), an OpenVEX document,
an exception file and a CISA KEV catalogue. Everything derives from a seed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.bench_sbom import best_and_median
from bench.generate import generate_closure, generate_sbom
from compliance.checks.predicate_subject import Subject
from compliance.inputs.closure import parse_closure
from compliance.inputs.scanners import load_vulnerability_reports
from compliance.nix.storepath import split_name
from compliance.predicates.vulnerabilities import (
    KnownVulnerabilityParams,
    VulnerabilityExceptionParams,
    VulnerabilityFreshnessParams,
    known_vulnerabilities,
    vulnerability_data_fresh,
    vulnerability_exceptions,
)
from compliance.vulns.purl_match import parse_purl

SCAN_TIME = "2026-10-31T23:00:00Z"
ASSESSMENT_EPOCH = "1793491200"  # 2026-11-01T00:00:00Z


def cold(setup: Callable[[], Subject], func: Callable[[Subject], object], runs: int) -> tuple[float, float]:
    """Best and median of ``func`` on a freshly read subject each run: nothing it computes
    and caches on the findings (ids, best score) or in the purl cache is reused."""
    times = []
    for _ in range(runs):
        subject = setup()
        parse_purl.cache_clear()
        start = time.perf_counter()
        func(subject)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def _cve(rng: random.Random) -> str:
    return f"CVE-{rng.randint(2015, 2026)}-{rng.randint(1000, 99999)}"


def _score(rng: random.Random) -> float:
    return round(min(10.0, max(0.1, rng.gauss(6.0, 2.0))), 1)


def generate_reports(entries: list[dict[str, Any]], findings: int, seed: int = 7) -> dict[str, Any]:
    """grype (50 %), vulnix (35 %), packages outside the closure (15 %), VEX, exceptions, KEV."""
    rng = random.Random(seed)
    packages = []
    for entry in entries:
        name, version = split_name(entry["path"].rsplit("/", 1)[1][33:])
        if version:
            packages.append((entry["path"], entry["deriver"], name, version))
    grype_n, vulnix_n = findings * 50 // 100, findings * 35 // 100
    outside_n = findings - grype_n - vulnix_n
    matches: list[dict[str, Any]] = []
    ids: list[str] = []
    for index in range(grype_n + outside_n):
        vid = _cve(rng)
        if index < grype_n:
            path, _, name, version = rng.choice(packages)
        else:
            path, name, version = "", f"build-input-{rng.randint(0, 900)}", f"{rng.randint(0, 9)}.{rng.randint(0, 9)}"
        primary, related = (f"GHSA-{rng.randint(1000, 9999)}-abcd-efgh", [{"id": vid}]) if rng.random() < 0.2 else (vid, [])
        artifact: dict[str, Any] = {"name": name, "version": version, "type": "nix", "purl": f"pkg:nix/{name}@{version}"}
        if path and rng.random() < 0.5:
            artifact["locations"] = [{"path": f"{path}/lib/lib{name}.so"}]
        matches.append({
            "vulnerability": {"id": primary, "severity": rng.choice(["Low", "Medium", "High", "Critical", "Negligible"]),
                              "cvss": [{"version": "3.1", "metrics": {"baseScore": _score(rng)}}],
                              "fix": {"versions": [f"{version}.1"], "state": "fixed"}},
            "relatedVulnerabilities": related,
            "artifact": artifact,
        })
        ids.append(vid)
    grype = {"matches": matches, "source": {"type": "sbom", "target": "sbom.cdx.json"},
             "descriptor": {"name": "grype", "version": "0.94.0", "timestamp": SCAN_TIME, "db": {"status": {"built": "2026-10-31T04:00:00Z"}}}}
    by_drv: dict[str, dict[str, Any]] = {}
    for _ in range(vulnix_n):
        _, drv, name, version = rng.choice(packages)
        item = by_drv.setdefault(drv, {"name": f"{name}-{version}", "pname": name, "version": version, "derivation": drv,
                                       "affected_by": [], "whitelisted": [], "cvssv3_basescore": {}, "description": {}})
        vid = _cve(rng)
        item["affected_by"].append(vid)
        if rng.random() < 0.8:
            item["cvssv3_basescore"][vid] = _score(rng)
        ids.append(vid)
    vulnix = list(by_drv.values())
    chosen = rng.sample(range(len(matches)), k=min(1000, len(matches)))
    statements = [{"vulnerability": {"name": ids[i]}, "products": [{"@id": matches[i]["artifact"]["purl"]}],
                   "status": rng.choice(["not_affected", "fixed"]), "justification": "vulnerable_code_not_present"} for i in chosen]
    vex = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.org/vex", "author": "release team",
           "timestamp": "2026-10-30T00:00:00Z", "version": 1, "statements": statements}
    exceptions = {"vulnerability_exceptions": [
        {"id": f"EXC-{n}", "vulnerability": ids[i], "component": matches[i]["artifact"]["purl"], "reason": "not reachable from the network",
         "owner": "platform", "approver": "ciso", "created": "2026-10-01", "expires": "2026-12-15"}
        for n, i in enumerate(rng.sample(range(len(matches)), k=min(200, len(matches))))]}
    kev = {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.10.30", "dateReleased": "2026-10-30T00:00:00Z",
           "vulnerabilities": [{"cveID": vid} for vid in rng.sample(ids, k=min(1300, len(ids)))]}
    return {"grype.json": grype, "vulnix.json": vulnix, "vex.json": vex, "exceptions.json": exceptions, "kev.json": kev}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=5000)
    parser.add_argument("--findings", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ["SOURCE_DATE_EPOCH"] = ASSESSMENT_EPOCH

    entries = generate_closure(args.paths)["entries"]
    closure_bytes = json.dumps(entries).encode()
    reports = {name: json.dumps(doc).encode() for name, doc in generate_reports(entries, args.findings).items()}
    items = list(reports.items())
    closure = parse_closure(closure_bytes, "closure.json")
    data = load_vulnerability_reports(items)
    subject = Subject(closure=closure, vulnerabilities=data)
    outcome = known_vulnerabilities(subject, KnownVulnerabilityParams())
    print(f"closure: {len(closure.paths):,} paths; findings: {len(data.findings):,} in {len(items)} reports "
          f"({sum(len(v) for v in reports.values()) / 1e6:.1f} MB); VEX statements {len(data.vex):,}, "
          f"exceptions {len(data.exceptions):,}, KEV ids {len(data.known_exploited):,}")
    print(f"SC-02: {outcome.status.value}; counts {outcome.observed['counts']}; matched by {outcome.observed['matched_by']}")

    rows = [
        ("read the five reports", best_and_median(lambda: load_vulnerability_reports(items), args.runs)),
        ("SC-02 match and judge", cold(lambda: Subject(closure=closure, vulnerabilities=load_vulnerability_reports(items)),
                                       lambda s: known_vulnerabilities(s, KnownVulnerabilityParams()), args.runs)),
        ("SC-03 exceptions", best_and_median(lambda: vulnerability_exceptions(subject, VulnerabilityExceptionParams()), args.runs)),
        ("SC-13 freshness", best_and_median(lambda: vulnerability_data_fresh(subject, VulnerabilityFreshnessParams()), args.runs)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "closure.json").write_bytes(closure_bytes)
        (directory / "sbom.cdx.json").write_text(json.dumps(generate_sbom(entries)))
        vulns: list[str] = []
        for name, content in reports.items():
            (directory / name).write_bytes(content)
            vulns += ["--vulns", str(directory / name)]
        command = [sys.executable, "-m", "compliance", "gate", "--closure", str(directory / "closure.json"),
                   "--sbom", str(directory / "sbom.cdx.json"), *vulns, "-o", f"json={directory / 'results.json'}"]

        def gate() -> None:
            proc = subprocess.run(command, capture_output=True, check=False)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"compliance gate failed: {proc.stderr.decode()}")

        rows.append(("`compliance gate --vulns` (fresh process)", best_and_median(gate, max(3, args.runs // 2))))
    print(f"\n| step ({args.findings:,} findings, {args.paths:,} paths) | best (s) | median (s) |\n|---|---:|---:|")
    for label, (best, median) in rows:
        print(f"| {label} | {best:.3f} | {median:.3f} |")


if __name__ == "__main__":
    main()
