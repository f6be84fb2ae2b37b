"""vulnix ``--json`` output: a list of derivations, each with the CVEs that affect it.

vulnix scans derivations, so a finding names the ``.drv`` path and the package name and
version parsed from it; the closure's ``deriver`` fields connect it to store paths.
CVEs hidden by a vulnix whitelist appear (with ``--show-whitelisted``) under
``whitelisted``: they are read as findings the scanner suppressed, which the gate does not
honour on its own. The output records neither scan time nor NVD data age.
A clean scan prints ``[]``: an empty list is a vulnix report without findings.
"""

from __future__ import annotations

from typing import Any

from compliance.inputs.scanners.scanner_common import (
    Fields,
    ReadResult,
    checked_score,
    first_line,
    severity_of_score,
)
from compliance.models.vulns import (
    ComponentRef,
    CvssScore,
    Finding,
    ReportInfo,
    ReportRole,
    VulnSeverity,
)

FORMAT = "vulnix"
_KEYS = {"affected_by", "derivation", "name"}


def detect(doc: Any) -> bool:
    return isinstance(doc, list) and all(isinstance(item, dict) and item.keys() >= _KEYS for item in doc)


def read(doc: Any, source: str) -> ReadResult:
    findings: list[Finding] = []
    for index, raw in enumerate(doc):
        item = Fields(raw, source, f"[{index}]")
        name = item.text("name", required=True)
        component = ComponentRef(
            name=item.text("pname") or name,
            version=item.text("version"),
            derivation=item.text("derivation", required=True),
        )
        scores = item.child("cvssv3_basescore")
        descriptions = item.child("description")
        for cve in item.strings("affected_by"):
            findings.append(_finding(cve, component, scores, descriptions, source, suppressed=False))
        for cve in item.strings("whitelisted"):
            findings.append(_finding(cve, component, scores, descriptions, source, suppressed=True))
    info = ReportInfo(source=source, format=FORMAT, role=ReportRole.SCAN, tool="vulnix", findings=len(findings))
    return ReadResult(info=info, findings=findings)


def _finding(
    cve: str, component: ComponentRef, scores: Fields | None, descriptions: Fields | None, source: str, *, suppressed: bool
) -> Finding:
    score = scores.number(cve) if scores is not None else None
    cvss: tuple[CvssScore, ...] = ()
    severity = VulnSeverity.UNKNOWN
    if score is not None:
        cvss = (CvssScore(version="3", score=checked_score(score, source, f"cvssv3_basescore.{cve}"), source="nvd"),)
        severity = severity_of_score(score)
    return Finding(
        id=cve,
        component=component,
        severity=severity,
        cvss=cvss,
        title=first_line(descriptions.text(cve) if descriptions is not None else None),
        scanner=FORMAT,
        source=source,
        suppressed_by_scanner=suppressed,
    )
