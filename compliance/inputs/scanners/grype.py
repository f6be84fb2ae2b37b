"""grype ``-o json`` output: ``matches`` of a vulnerability record against an artifact.

Related records (the NVD CVE behind a GHSA) give aliases and further CVSS ratings.
``knownExploited`` (grype ≥ 0.88, from CISA KEV) sets the known-exploited flag: present
and empty means "not known exploited", absent means the report does not say. Matches
hidden by grype ignore rules (``ignoredMatches``) are read as scanner-suppressed findings.
The descriptor gives the scan time and the build time of grype's database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from compliance.inputs.scanners.scanner_common import (
    Fields,
    ReadResult,
    cvss_rating,
    first_line,
    severity_of,
    severity_word,
    store_object,
)
from compliance.models.vulns import ComponentRef, CvssScore, Finding, ReportInfo, ReportRole

FORMAT = "grype"


def detect(doc: Any) -> bool:
    if not isinstance(doc, dict) or not isinstance(doc.get("matches"), list):
        return False
    descriptor = doc.get("descriptor")
    return isinstance(descriptor, dict) and descriptor.get("name") == "grype"


def read(doc: Any, source: str) -> ReadResult:
    top = Fields(doc, source, "")
    descriptor = top.child("descriptor")
    assert descriptor is not None  # detect() checked it
    scanned_at = descriptor.time("timestamp")
    findings = [_finding(m, source, scanned_at, suppressed=False) for m in top.children("matches")]
    findings += [_finding(m, source, scanned_at, suppressed=True) for m in top.children("ignoredMatches")]
    info = ReportInfo(
        source=source,
        format=FORMAT,
        role=ReportRole.SCAN,
        tool="grype",
        tool_version=descriptor.text("version"),
        target=_target(top),
        scanned_at=scanned_at,
        database_updated=_database_built(descriptor),
        findings=len(findings),
    )
    return ReadResult(info=info, findings=findings)


def _finding(match: Fields, source: str, scanned_at: datetime | None, *, suppressed: bool) -> Finding:
    vuln = match.child("vulnerability")
    artifact = match.child("artifact")
    if vuln is None or artifact is None:
        raise match.fail("vulnerability" if vuln is None else "artifact", "missing")
    cvss = _cvss(vuln, source)
    aliases: list[str] = []
    for related in match.children("relatedVulnerabilities"):
        rid = related.text("id")
        if rid and rid != vuln.text("id") and rid not in aliases:
            aliases.append(rid)
        cvss += _cvss(related, source)
    fix = vuln.child("fix")
    exploited = vuln.obj.get("knownExploited")
    if exploited is not None and not isinstance(exploited, list):
        raise vuln.fail("knownExploited", "expected a list")
    return Finding(
        id=vuln.text("id", required=True) or "",
        aliases=tuple(aliases),
        component=_component(artifact),
        severity=severity_of(severity_word(vuln.text("severity")), cvss),
        cvss=cvss,
        fixed_versions=tuple(fix.strings("versions")) if fix is not None else (),
        known_exploited=None if exploited is None else bool(exploited),
        title=first_line(vuln.text("description")),
        scanner=FORMAT,
        source=source,
        scanned_at=scanned_at,
        suppressed_by_scanner=suppressed,
    )


def _cvss(record: Fields, source: str) -> tuple[CvssScore, ...]:
    out: list[CvssScore] = []
    for entry in record.children("cvss"):
        metrics = entry.child("metrics")
        score = metrics.number("baseScore") if metrics is not None else None
        if score is None:
            continue
        vector = entry.text("vector")
        out.append(cvss_rating(score, vector, entry.text("version"), entry.text("source"), entry, "metrics.baseScore"))
    return tuple(out)


def _component(artifact: Fields) -> ComponentRef:
    """grype's Nix cataloguer locates packages by files inside a store path."""
    store_path = None
    metadata = artifact.obj.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("path"), str):
        store_path = store_object(metadata["path"])
    if store_path is None:
        for location in artifact.children("locations"):
            store_path = store_object(location.text("path")) or store_object(location.text("accessPath"))
            if store_path:
                break
    return ComponentRef(
        name=artifact.text("name", required=True),
        version=artifact.text("version"),
        purl=artifact.text("purl"),
        store_path=store_path,
    )


def _target(top: Fields) -> str | None:
    source = top.child("source")
    if source is None:
        return None
    target = source.obj.get("target")
    if isinstance(target, str):
        return target
    if isinstance(target, dict):
        value = target.get("userInput") or target.get("path")
        return value if isinstance(value, str) else None
    return None


def _database_built(descriptor: Fields) -> datetime | None:
    db = descriptor.child("db")
    if db is None:
        return None
    status = db.child("status")
    return (status.time("built") if status is not None else None) or db.time("built")
