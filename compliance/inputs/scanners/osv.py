"""osv-scanner ``--format json`` output: ``results`` per scanned source, ``packages``
with full OSV records and ``groups`` of records that are the same vulnerability.

One finding per group (the first id, the others as aliases), so that a GHSA and its CVE
are not counted twice. OSV records give CVSS vectors without scores: the score is
computed from a v2/v3 vector, or taken from the group's ``max_severity``; otherwise the
record's own severity word (GHSA ``database_specific.severity``) is used. osv-scanner
records neither scan time nor database age.
"""

from __future__ import annotations

from typing import Any

from compliance.errors import CvssError
from compliance.inputs.scanners.cvss import base_score
from compliance.inputs.scanners.scanner_common import (
    Fields,
    ReadResult,
    first_line,
    severity_of,
    severity_word,
)
from compliance.models.vulns import (
    ComponentRef,
    CvssScore,
    Finding,
    ReportInfo,
    ReportRole,
    VulnSeverity,
)

FORMAT = "osv-scanner"


def detect(doc: Any) -> bool:
    if not isinstance(doc, dict) or "bomFormat" in doc or not isinstance(doc.get("results"), list):
        return False
    return all(isinstance(r, dict) and ("packages" in r or "source" in r) for r in doc["results"])


def read(doc: Any, source: str) -> ReadResult:
    top = Fields(doc, source, "")
    findings: list[Finding] = []
    targets: list[str] = []
    for result in top.children("results"):
        origin = result.child("source")
        path = origin.text("path") if origin is not None else None
        if path:
            targets.append(path)
        for package in result.children("packages"):
            findings.extend(_package_findings(package, source, path))
    info = ReportInfo(
        source=source,
        format=FORMAT,
        role=ReportRole.SCAN,
        tool="osv-scanner",
        target=", ".join(targets) or None,
        findings=len(findings),
    )
    return ReadResult(info=info, findings=findings)


def _package_findings(package: Fields, source: str, origin: str | None) -> list[Finding]:
    info = package.child("package")
    if info is None:
        raise package.fail("package", "missing")
    component = _component(info, origin)
    records = {rec.text("id", required=True) or "": rec for rec in package.children("vulnerabilities")}
    groups = package.children("groups")
    grouped: list[tuple[list[str], list[str], float | None]] = []
    seen: set[str] = set()
    for group in groups:
        ids = group.strings("ids")
        if not ids:
            raise group.fail("ids", "empty group")
        aliases = [a for a in group.strings("aliases") if a not in ids]
        grouped.append((ids, aliases, _max_severity(group)))
        seen.update(ids)
    # Records outside any group (older osv-scanner output has no groups) stand alone.
    grouped += [([rid], [], None) for rid in records if rid not in seen]
    findings = []
    for ids, aliases, max_score in grouped:
        members = [records[i] for i in ids if i in records]
        if not members:
            raise package.fail("groups", f"group {ids} names no record of this package")
        findings.append(_finding(ids, aliases, members, component, max_score, source))
    return findings


def _component(info: Fields, origin: str | None) -> ComponentRef:
    """The package a finding is about. A git source (osv-scanner's ``--recursive`` over a
    checkout, or a submodule) has no package name, only a commit: it is named by where it
    was found and the commit is its version, so it is listed, never silently dropped, and
    matched only if the release knows it by that name."""
    name, commit = info.text("name"), info.text("commit")
    if name is None:
        if commit is None:
            raise info.fail("name", "missing (and no commit: not a git source either)")
        return ComponentRef(name=f"git:{origin}" if origin else "git", version=commit)
    return ComponentRef(name=name, version=info.text("version") or commit, purl=info.text("purl"))


def _finding(
    ids: list[str], aliases: list[str], records: list[Fields], component: ComponentRef, max_score: float | None, source: str
) -> Finding:
    cvss: list[CvssScore] = []
    words: list[VulnSeverity] = []
    fixed: list[str] = []
    all_aliases = list(ids[1:]) + aliases
    for record in records:
        for alias in record.strings("aliases"):
            if alias not in all_aliases and alias != ids[0]:
                all_aliases.append(alias)
        for rating in record.children("severity"):
            score_text = rating.text("score")
            kind = rating.text("type") or ""
            if not score_text:
                continue
            if kind.startswith("CVSS_V2") or kind.startswith("CVSS_V3"):
                try:
                    version, score = base_score(score_text)
                except CvssError as exc:
                    raise rating.fail("score", f"invalid CVSS vector: {exc}") from None
                cvss.append(CvssScore(version=version, score=score, vector=score_text, source=kind))
            else:
                words.append(severity_word(score_text))
        specific = record.obj.get("database_specific")
        if isinstance(specific, dict) and isinstance(specific.get("severity"), str):
            words.append(severity_word(specific["severity"]))
        fixed.extend(_fixed_versions(record, component.name))
    if max_score is not None and not cvss:
        cvss.append(CvssScore(version="3", score=max_score, source="osv-scanner max_severity"))
    word = max(words, key=lambda w: w.rank) if words else VulnSeverity.UNKNOWN
    score_word = severity_of(VulnSeverity.UNKNOWN, tuple(cvss))
    return Finding(
        id=ids[0],
        aliases=tuple(all_aliases),
        component=component,
        severity=max(word, score_word, key=lambda w: w.rank),
        cvss=tuple(cvss),
        fixed_versions=tuple(dict.fromkeys(fixed)),
        title=first_line(records[0].text("summary") or records[0].text("details")),
        scanner=FORMAT,
        source=source,
    )


def _max_severity(group: Fields) -> float | None:
    raw = group.obj.get("max_severity")
    if raw in (None, ""):
        return None
    try:
        score = float(raw)
    except (TypeError, ValueError):
        raise group.fail("max_severity", f"not a number: {raw!r}") from None
    if not 0.0 <= score <= 10.0:
        raise group.fail("max_severity", f"{score} is outside 0–10")
    return score


def _fixed_versions(record: Fields, package_name: str | None) -> list[str]:
    out: list[str] = []
    for affected in record.children("affected"):
        pkg = affected.child("package")
        if pkg is not None and package_name and pkg.text("name") not in (None, package_name):
            continue
        for rng in affected.children("ranges"):
            for event in rng.children("events"):
                if fixed := event.text("fixed"):
                    out.append(fixed)
    return out

