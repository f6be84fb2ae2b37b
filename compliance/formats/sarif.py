"""SARIF 2.1.0: one rule per control, one result per control that ran.

``kind`` says whether the control failed, passed, needs a review (manual), or does not
apply. SARIF gives a level only to ``fail`` results (§3.27.10: any other kind has level
``none``), so a control that could not decide is a ``fail`` at level ``error``, its
message starting with "error:": the gate fails closed, and a code-scanning service must
show it, not file it away as a note. Failures take their level from the severity
(critical/high → error, medium → warning, low/info → note). Waived results carry an
accepted external suppression with the waiver's justification. Each result points at the
input the subject was read from, so code-scanning services can place it.
"""

from __future__ import annotations

from typing import Any

import orjson

from compliance import __version__
from compliance.formats import register
from compliance.models.common import Severity, Status
from compliance.models.results import ControlResult, GateReport

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/compliance-gate/compliance-gate"
_LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note", Severity.INFO: "note"}
_SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0", Severity.INFO: "0.0"}
_KIND = {
    Status.FAIL: "fail",
    Status.ERROR: "fail",
    Status.WAIVED: "fail",
    Status.PASS: "pass",
    Status.MANUAL: "review",
    Status.NOT_APPLICABLE: "notApplicable",
}


def _rule(r: ControlResult) -> dict[str, Any]:
    clauses = [f"{fw.value}:{ref}" for fw, refs in sorted(r.clauses.items()) for ref in refs]
    help_text = r.title
    if r.remediation:
        help_text += "\n\nRemediation: " + "; ".join(
            [*(f"{k} = {orjson.dumps(v).decode()}" for k, v in sorted(r.remediation.get("nixos", {}).items())),
             *([r.remediation["text"]] if r.remediation.get("text") else [])]
        )
    return {
        "id": r.control_id,
        "name": r.control_id.replace("-", ""),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.title},
        "help": {"text": help_text},
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


@register("sarif", ".sarif")
def render_sarif(report: GateReport) -> bytes:
    a = report.assessment
    results_sorted = sorted(a.results, key=lambda r: r.control_id)
    primary = next((i.path for i in a.inputs if i.kind in ("facts", "closure", "sbom")), None)
    results: list[dict[str, Any]] = []
    for index, r in enumerate(results_sorted):
        level = _LEVEL[r.severity] if r.status in (Status.FAIL, Status.WAIVED) else ("error" if r.status is Status.ERROR else "none")
        item: dict[str, Any] = {
            "ruleId": r.control_id,
            "ruleIndex": index,
            "kind": _KIND[r.status],
            "level": level,
            "message": {"text": f"{r.status.value}: {r.message}" if r.message else r.status.value},
            "properties": {"status": r.status.value, "observed": [c.observed for c in r.checks]},
        }
        if primary:
            item["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": primary}}}]
        if r.waiver:
            item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": f"{r.waiver.id}: {r.waiver.reason} (approver {r.waiver.approver or 'none'})"}]
        results.append(item)
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
                "automationDetails": {"id": f"compliance-gate/{a.id}"},
                "invocations": [_invocation(report)],
                "results": results,
                "properties": {"verdict": report.decision.verdict, "profiles": a.profiles, "catalog": a.catalog_digest,
                               "notes": a.notes},
            }
        ],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
