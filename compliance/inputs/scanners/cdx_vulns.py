"""CycloneDX ``vulnerabilities`` (1.4–1.7 JSON): findings with ratings and ``affects``,
and their ``analysis``, which is a VEX statement.

A document that lists components and vulnerabilities (Dependency-Track, a scanner's
CycloneDX output) is a scan: each affected component gives a finding, and an analysis
state (``not_affected``, ``resolved`` …) is also read as a VEX statement about it. A
document without components whose every vulnerability has an analysis is a VEX document:
its statements suppress or confirm findings from scans; an ``exploitable`` statement is
itself a finding. ``affects`` references resolve against the document's own components
(``bom-ref``, BOM-links ``urn:cdx:…#ref`` keep their fragment).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from compliance.errors import CvssError, InputError
from compliance.inputs.sbom import cdx_reader as cyclonedx_sbom
from compliance.inputs.scanners.cvss import base_score
from compliance.inputs.scanners.scanner_common import (
    Fields,
    ReadResult,
    cvss_rating,
    first_line,
    severity_of,
    severity_word,
    store_object,
)
from compliance.models.subject import Component
from compliance.models.vulns import (
    ComponentRef,
    CvssScore,
    Finding,
    ReportInfo,
    ReportRole,
    VexStatement,
    VexStatus,
    VulnSeverity,
)

FORMAT = "cyclonedx"
FORMAT_VEX = "cyclonedx-vex"
_STATES = {
    "resolved": VexStatus.FIXED,
    "resolved_with_pedigree": VexStatus.FIXED,
    "not_affected": VexStatus.NOT_AFFECTED,
    "false_positive": VexStatus.NOT_AFFECTED,
    "exploitable": VexStatus.AFFECTED,
    "in_triage": VexStatus.UNDER_INVESTIGATION,
}
_METHOD_VERSIONS = {"CVSSv2": "2.0", "CVSSv3": "3.0", "CVSSv31": "3.1", "CVSSv4": "4.0"}


def detect(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX" and "vulnerabilities" in doc


def read(doc: Any, source: str) -> ReadResult:
    top = Fields(doc, source, "")
    sbom = cyclonedx_sbom.parse(doc, source)
    components = {c.ref: c for c in sbom.components}
    vulns = top.children("vulnerabilities")
    has_components = bool(top.items("components"))
    is_vex = not has_components and bool(vulns) and all(_state(v) is not None for v in vulns)
    metadata = top.child("metadata")
    scanned_at = metadata.time("timestamp") if metadata is not None else None
    result = ReadResult(info=ReportInfo(source=source, format=FORMAT, role=ReportRole.SCAN))
    for vuln in vulns:
        _read_vulnerability(vuln, components, source, scanned_at, is_vex, result)
    tool, tool_version = _tool(metadata)
    result.info = ReportInfo(
        source=source,
        format=FORMAT_VEX if is_vex else FORMAT,
        role=ReportRole.VEX if is_vex else ReportRole.SCAN,
        tool=tool,
        tool_version=tool_version,
        target=sbom.described[0] if sbom.described else None,
        scanned_at=scanned_at,
        findings=len(result.findings),
        statements=len(result.vex),
    )
    return result


def _read_vulnerability(
    vuln: Fields, components: dict[str, Component], source: str, scanned_at: datetime | None, is_vex: bool, result: ReadResult
) -> None:
    vid = vuln.text("id", required=True) or ""
    aliases = tuple(a for a in dict.fromkeys(r.text("id") or "" for r in vuln.children("references")) if a and a != vid)
    cvss, words = _ratings(vuln, source)
    severity = severity_of(max(words, key=lambda w: w.rank) if words else VulnSeverity.UNKNOWN, cvss)
    affects = vuln.children("affects")
    if not affects:
        raise vuln.fail("affects", "names no affected component")
    products = [_affected(entry, components) for entry in affects]
    # Version ranges all marked "unaffected" say the component is not affected: no finding.
    targets = [p for p, entry in zip(products, affects, strict=True) if not _unaffected(entry)]
    state = _state(vuln)
    analysis = vuln.child("analysis")
    if state is not None and analysis is not None:
        result.vex.append(VexStatement(
            vulnerability=vid,
            aliases=aliases,
            products=tuple(products),
            status=state,
            justification=analysis.text("justification"),
            impact_statement=analysis.text("detail"),
            action_statement=", ".join(analysis.strings("response")) or None,
            timestamp=analysis.time("lastUpdated") or analysis.time("firstIssued") or scanned_at,
            format=FORMAT_VEX if is_vex else FORMAT,
            source=source,
        ))
    if is_vex and state is not VexStatus.AFFECTED:
        return
    for target in targets:
        result.findings.append(Finding(
            id=vid,
            aliases=aliases,
            component=target,
            severity=severity,
            cvss=cvss,
            fixed_versions=(),
            title=first_line(vuln.text("description") or vuln.text("detail")),
            scanner=FORMAT_VEX if is_vex else FORMAT,
            source=source,
            scanned_at=scanned_at,
        ))


def _state(vuln: Fields) -> VexStatus | None:
    analysis = vuln.child("analysis")
    raw = analysis.text("state") if analysis is not None else None
    if raw is None:
        return None
    if raw not in _STATES:
        raise InputError(vuln.source, f"{vuln.where}.analysis.state: unknown state {raw!r}")
    return _STATES[raw]


def _ratings(vuln: Fields, source: str) -> tuple[tuple[CvssScore, ...], list[VulnSeverity]]:
    cvss: list[CvssScore] = []
    words: list[VulnSeverity] = []
    for rating in vuln.children("ratings"):
        words.append(severity_word(rating.text("severity")))
        method = rating.text("method") or ""
        version = _METHOD_VERSIONS.get(method)
        if version is None:
            continue
        score = rating.number("score")
        vector = rating.text("vector")
        if score is None and vector and version != "4.0":
            full = vector if vector.startswith("CVSS:") or version == "2.0" else f"CVSS:{version}/{vector}"
            try:
                version, score = base_score(full)
            except CvssError as exc:
                raise rating.fail("vector", f"invalid CVSS vector: {exc}") from None
        if score is None:
            continue
        origin = rating.child("source")
        cvss.append(cvss_rating(score, vector, version, origin.text("name") if origin is not None else None, rating, "score"))
    return tuple(cvss), [w for w in words if w is not VulnSeverity.UNKNOWN]


def _affected(entry: Fields, components: dict[str, Component]) -> ComponentRef:
    ref = entry.text("ref", required=True) or ""
    local = unquote(ref.split("#", 1)[1]) if ref.startswith("urn:cdx:") and "#" in ref else ref
    component = components.get(local)
    if component is None:
        if local.startswith("pkg:"):
            return ComponentRef(purl=local, ref=local)
        return ComponentRef(ref=local, store_path=store_object(local) if store_object(local) == local else None)
    return ComponentRef(
        name=component.name,
        version=component.version,
        purl=component.purl,
        store_path=component.store_path,
        ref=component.ref,
    )


def _unaffected(entry: Fields) -> bool:
    versions = entry.children("versions")
    return bool(versions) and all(v.text("status") == "unaffected" for v in versions)


def _tool(metadata: Fields | None) -> tuple[str | None, str | None]:
    if metadata is None:
        return None, None
    tools = metadata.obj.get("tools")
    if isinstance(tools, dict):  # 1.5+: {"components": [...], "services": [...]}
        tools = tools.get("components")
    if isinstance(tools, list) and tools and isinstance(tools[0], dict):
        name, version = tools[0].get("name"), tools[0].get("version")
        return (name if isinstance(name, str) else None), (version if isinstance(version, str) else None)
    return None, None
