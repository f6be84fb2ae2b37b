"""trivy ``--format json`` output (SchemaVersion 2): ``Results`` per target, each with
``Vulnerabilities`` of installed packages.

``CreatedAt`` (trivy ≥ 0.48) is the scan time; the report does not give the age of
trivy's database. CVSS ratings come per source (``nvd``, ``redhat``, ``ghsa`` …); the
gate takes the highest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from compliance.inputs.scanners.scanner_common import (
    Fields,
    ReadResult,
    cvss_rating,
    cvss_version_of_vector,
    first_line,
    severity_of,
    severity_word,
    store_object,
)
from compliance.models.vulns import ComponentRef, CvssScore, Finding, ReportInfo, ReportRole

FORMAT = "trivy"
# CVSS fields of one source, newest version first: (score key, vector key, version)
_CVSS_FIELDS = (("V40Score", "V40Vector", "4.0"), ("V3Score", "V3Vector", "3.1"), ("V2Score", "V2Vector", "2.0"))


def detect(doc: Any) -> bool:
    return isinstance(doc, dict) and "SchemaVersion" in doc and ("Results" in doc or "ArtifactName" in doc)


def read(doc: Any, source: str) -> ReadResult:
    top = Fields(doc, source, "")
    scanned_at = top.time("CreatedAt")
    findings: list[Finding] = []
    for result in top.children("Results"):
        for vuln in result.children("Vulnerabilities"):
            findings.append(_finding(vuln, source, scanned_at))
    info = ReportInfo(
        source=source,
        format=FORMAT,
        role=ReportRole.SCAN,
        tool="trivy",
        target=top.text("ArtifactName"),
        scanned_at=scanned_at,
        findings=len(findings),
    )
    return ReadResult(info=info, findings=findings)


def _finding(vuln: Fields, source: str, scanned_at: datetime | None) -> Finding:
    cvss: list[CvssScore] = []
    ratings = vuln.child("CVSS")
    if ratings is not None:
        for origin in ratings.obj:
            rating = ratings.child(origin)
            if rating is None:  # a source with no rating
                continue
            for score_key, vector_key, version in _CVSS_FIELDS:
                score = rating.number(score_key)
                if score is None:
                    continue
                vector = rating.text(vector_key)
                cvss.append(cvss_rating(score, vector, cvss_version_of_vector(vector, version), origin, rating, score_key))
    identifier = vuln.child("PkgIdentifier")
    fixed = vuln.text("FixedVersion")
    return Finding(
        id=vuln.text("VulnerabilityID", required=True) or "",
        component=ComponentRef(
            name=vuln.text("PkgName", required=True),
            version=vuln.text("InstalledVersion"),
            purl=identifier.text("PURL") if identifier is not None else None,
            store_path=store_object(vuln.text("PkgPath")),
            ref=identifier.text("BOMRef") if identifier is not None else None,  # trivy sbom
        ),
        severity=severity_of(severity_word(vuln.text("Severity")), tuple(cvss)),
        cvss=tuple(cvss),
        fixed_versions=tuple(v.strip() for v in fixed.split(",") if v.strip()) if fixed else (),
        title=first_line(vuln.text("Title") or vuln.text("Description")),
        scanner=FORMAT,
        source=source,
        scanned_at=scanned_at,
    )
