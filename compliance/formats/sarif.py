"""SARIF 2.1.0 for code scanning: one rule per control that ran, one result per finding.

A code-scanning service turns every result into an alert, so only findings are results:
failures, errors and waived failures (passes, manual reviews and not-applicable controls
are counted in the run's properties). A control that could not decide is a ``fail`` at
level ``error``, its message starting with "error:": the gate fails closed, and the
service must show it. Failures take their level from the severity (critical/high → error,
medium → warning, low/info → note); rules keep ``security-severity`` (a number as a
string, as GitHub reads it) and carry the remediation as help. A waived result is a
suppressed one: an accepted external suppression with the waiver's justification.

Each result is placed in the repository where it can be (see ``assess.locations``): the
Nix file and line defining an option it read, ``flake.lock``, or the input file it judged,
relative to ``%SRCROOT%``; ``partialFingerprints`` (control and place, not line nor
message) keep an alert the same alert from one run to the next.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from compliance import __version__
from compliance.formats import register
from compliance.models.common import Severity, Status
from compliance.models.results import ControlResult, GateReport, SourceLocation

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/compliance-gate/compliance-gate"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}
_SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "0.0"}
# Code scanning shows results as alerts: only findings are results (a pass is no alert).
FINDINGS = (Status.FAIL, Status.ERROR, Status.WAIVED)
FINGERPRINT_KEY = "complianceFinding/v1"


def _rule(r: ControlResult) -> dict[str, Any]:
    clauses = [f"{fw.value}:{ref}" for fw, refs in sorted(r.clauses.items()) for ref in refs]
    help_text, help_markdown = r.title, f"**{r.control_id}**: {r.title}"
    if r.remediation:
        settings = [f"{k} = {orjson.dumps(v).decode()};" for k, v in sorted(r.remediation.get("nixos", {}).items())]
        text = r.remediation.get("text")
        help_text += "\n\nRemediation: " + "; ".join([*settings, *([text] if text else [])])
        if text:
            help_markdown += f"\n\n**Remediation:** {text}"
        if settings:
            help_markdown += "\n\nIn the NixOS configuration:\n\n```nix\n" + "\n".join(settings) + "\n```"
    if clauses:
        help_markdown += "\n\nClauses: " + ", ".join(f"`{c}`" for c in clauses)
    return {
        "id": r.control_id,
        "name": r.control_id.replace("-", ""),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.title},
        "help": {"text": help_text, "markdown": help_markdown},
        "defaultConfiguration": {"level": _LEVEL[r.severity]},
        "properties": {"tags": ["compliance", *clauses], "security-severity": _SECURITY_SEVERITY[r.severity]},
    }


def _invocation(report: GateReport) -> dict[str, Any]:
    """The run's invocation; what the run says about itself (the SBOM was written by the
    gate, the facts evaluated in the same step) goes with it as notifications, where SARIF
    viewers show run-level messages."""
    a = report.assessment
    invocation: dict[str, Any] = {"executionSuccessful": True, "endTimeUtc": a.created.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if a.notes:
        invocation["toolExecutionNotifications"] = [{"level": "note", "message": {"text": note}} for note in a.notes]
    return invocation


def fingerprint(r: ControlResult) -> str:
    """The same finding has the same fingerprint on every run: the control and where it
    is placed (file and option, not the line, which moves with unrelated edits, nor the
    message, which quotes observed values)."""
    primary = r.locations[0] if r.locations else None
    key = "|".join([r.control_id, primary.uri if primary else "", primary.option or "" if primary else ""])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _location(location: SourceLocation) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": location.uri}
    if location.uri_base:
        artifact["uriBaseId"] = f"%{location.uri_base}%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if location.line:
        physical["region"] = {"startLine": location.line}
    item: dict[str, Any] = {"physicalLocation": physical}
    if location.option:
        item["logicalLocations"] = [{"fullyQualifiedName": location.option, "kind": "member"}]
        item["message"] = {"text": f"defines {location.option}"}
    return item


def _result(r: ControlResult, rule_index: int) -> dict[str, Any]:
    if r.status is Status.ERROR:
        level = "error"
        text = f"error: {r.message}"
    else:
        level = _LEVEL[r.severity]
        text = f"{r.status.value}: {r.message}" if r.status is Status.WAIVED else r.message
    item: dict[str, Any] = {
        "ruleId": r.control_id,
        "ruleIndex": rule_index,
        "kind": "fail",
        "level": level,
        "message": {"text": text or r.status.value},
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(r)},
        "properties": {"status": r.status.value, "observed": [c.observed for c in r.checks]},
    }
    if r.locations:
        item["locations"] = [_location(loc) for loc in r.locations]
    if r.waiver:
        item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f"{r.waiver.id}: {r.waiver.reason} (approver {r.waiver.approver or 'none'})"}]
    return item


@register("sarif", ".sarif")
def render_sarif(report: GateReport) -> bytes:
    a = report.assessment
    results_sorted = sorted(a.results, key=lambda r: r.control_id)
    index = {r.control_id: i for i, r in enumerate(results_sorted)}
    results = [_result(r, index[r.control_id]) for r in results_sorted if r.status in FINDINGS]
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": a.tool,
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in results_sorted],
                    }
                },
                "automationDetails": {"id": f"compliance-gate/{'+'.join(a.profiles) or 'all'}/"},
                "invocations": [_invocation(report)],
                "results": results,
                "properties": {"verdict": report.decision.verdict, "profiles": a.profiles, "catalog": a.catalog_digest,
                               "assessment": a.id, "notes": a.notes,
                               "counts": {s.value: n for s, n in sorted(a.counts().by_status.items())}},
            }
        ],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
