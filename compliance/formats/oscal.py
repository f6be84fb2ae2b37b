"""OSCAL assessment-results 1.1.x (NIST Open Security Controls Assessment Language).

One result per assessment: the reviewed controls, one observation per control (what the
check saw, with the observed values in its remarks) and one finding per control (whether
its objective is satisfied). Statuses map fail-closed: only ``pass`` (and
``not_applicable``) are ``satisfied``; ``error``, ``manual`` and ``waived`` are
``not-satisfied`` with reason ``other`` and the status as a property. The inputs the
assessment was judged on are back-matter resources with their SHA-256.

Each clause of the frameworks the assessment reports on is a finding of its own, with the
standing :mod:`compliance.catalog.standing` recorded: only ``satisfied`` is ``satisfied``;
``partial``, ``waived``, ``attested`` and the others are ``not-satisfied``, with the standing
as a property and, in the remarks, the reason and each citation's scope and sentence.

UUIDs are version 5, derived from the assessment id, so the same report renders the same
bytes. Validated against the official NIST schema in the test suite.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import orjson

from compliance.formats import register
from compliance.models.common import Status
from compliance.models.results import (
    Assessment,
    ClauseResult,
    ClauseStanding,
    ControlResult,
    GateReport,
)
from compliance.util.clock import isoformat

OSCAL_VERSION = "1.1.3"
NS = "https://compliance-gate.dev/ns/oscal"
OSCAL_NAMESPACE = uuid.UUID("9f0c2b7e-6a1d-5e3f-8b4c-2d7a1e6f3c90")
_STATE = {
    Status.PASS: ("satisfied", "pass"),
    Status.NOT_APPLICABLE: ("satisfied", "other"),
    Status.FAIL: ("not-satisfied", "fail"),
    Status.ERROR: ("not-satisfied", "other"),
    Status.MANUAL: ("not-satisfied", "other"),
    Status.WAIVED: ("not-satisfied", "other"),
}
_TOKEN_BAD = re.compile(r"[^\w.\-]", re.UNICODE)


def _uuid(assessment: Assessment, *parts: str) -> str:
    return str(uuid.uuid5(OSCAL_NAMESPACE, "/".join((assessment.id, *parts))))


def _token(value: str) -> str:
    """An OSCAL token (XML NCName): letters, digits, '.', '-', '_', not starting with a digit."""
    token = _TOKEN_BAD.sub("_", value)
    return token if token and (token[0].isalpha() or token[0] == "_") else f"_{token}"


def _line(value: str) -> str:
    """An OSCAL string: no line breaks, no leading or trailing white space."""
    return " ".join(value.split())


def _prop(name: str, value: str, **extra: str) -> dict[str, str] | None:
    text = _line(value)
    return {"name": name, "ns": NS, "value": text, **extra} if text else None


def _props(*items: dict[str, str] | None) -> list[dict[str, str]]:
    return [item for item in items if item is not None]


def _subject(a: Assessment) -> dict[str, Any] | None:
    s = a.subject
    props = _props(
        _prop("subject-kind", s.kind),
        _prop("store-path", s.store_path or ""),
        _prop("nar-sha256", s.nar_sha256 or ""),
        _prop("commit", s.commit or ""),
        _prop("host", s.host or ""),
        _prop("boot-id", s.boot_id or ""),
    )
    label = s.name or s.host or s.store_path
    if not label:
        return None
    return {"uuid": _uuid(a, "subject"), "description": f"The release assessed: {label}", "props": props}


def _observation(a: Assessment, r: ControlResult, subject: dict[str, Any] | None) -> dict[str, Any]:
    observed = [{"check": c.function, "status": c.status.value, "observed": c.observed} for c in r.checks]
    item: dict[str, Any] = {
        "uuid": _uuid(a, "observation", r.control_id),
        "title": _line(f"{r.control_id} {r.title}"),
        "description": r.message or r.status.value,
        "props": _props(_prop("status", r.status.value), _prop("severity", r.severity.value)),
        "methods": ["EXAMINE" if r.status is Status.MANUAL else "TEST"],
        "types": ["control-objective"],
        "collected": isoformat(a.created),
        "relevant-evidence": [{"href": "results.json", "description": "The full assessment result, with the observed values."}],
    }
    if subject is not None:
        item["subjects"] = [{"subject-uuid": subject["uuid"], "type": "inventory-item"}]
    if observed:
        item["remarks"] = orjson.dumps(observed, option=orjson.OPT_SORT_KEYS).decode()
    return item


def _finding(a: Assessment, r: ControlResult) -> dict[str, Any]:
    state, reason = _STATE[r.status]
    clauses = [_prop("clause", ref, **{"class": _token(fw.value)}) for fw, refs in sorted(r.clauses.items()) for ref in refs]
    status: dict[str, Any] = {"state": state, "reason": reason}
    if r.waiver is not None:
        status["remarks"] = f"Waived by {r.waiver.id} until {isoformat(r.waiver.expires)}: {r.waiver.reason}"
    return {
        "uuid": _uuid(a, "finding", r.control_id),
        "title": _line(f"{r.control_id}: {r.title}"),
        "description": r.message or r.status.value,
        "props": _props(_prop("status", r.status.value), _prop("severity", r.severity.value), *clauses),
        "target": {"type": "objective-id", "target-id": _token(r.control_id), "status": status},
        "related-observations": [{"observation-uuid": _uuid(a, "observation", r.control_id)}],
    }


def _clause_finding(a: Assessment, row: ClauseResult) -> dict[str, Any]:
    """One clause's standing: satisfied only when the standing is ``satisfied``."""
    satisfied = row.standing is ClauseStanding.SATISFIED
    reason = "pass" if satisfied else "fail" if row.standing in (ClauseStanding.FAILED, ClauseStanding.WAIVED) else "other"
    claims = [
        f"{c.control_id} [{', '.join(c.checks) or 'attestation'}] scope {c.scope.value}: {c.evidences} ({c.reason})" for c in row.citations
    ]
    scopes = sorted({c.scope.value for c in row.citations})
    ran = sorted({c.control_id for c in row.citations if c.status is not None})
    key = f"{row.framework.value}:{row.clause}"
    finding: dict[str, Any] = {
        "uuid": _uuid(a, "clause", key),
        "title": _line(f"{row.framework.value} {row.clause}: {row.title or row.clause}"),
        "description": _line(f"Standing {row.standing.value}: {row.reason}"),
        "props": _props(
            _prop("clause", row.clause, **{"class": _token(row.framework.value)}),
            _prop("clause-standing", row.standing.value),
            *(_prop("citation-scope", scope) for scope in scopes),
            _prop("level", row.level or ""),
        ),
        "target": {
            "type": "statement-id",
            "target-id": _token(key),
            "status": {"state": "satisfied" if satisfied else "not-satisfied", "reason": reason, "remarks": _line(row.reason)},
        },
    }
    if claims:
        finding["remarks"] = "\n".join(claims)
    if ran:
        finding["related-observations"] = [{"observation-uuid": _uuid(a, "observation", cid)} for cid in ran]
    return finding


def _resources(a: Assessment) -> list[dict[str, Any]]:
    return [
        {
            "uuid": _uuid(a, "input", str(index)),
            "title": _line(f"Input ({ref.kind}): {ref.path}"),
            "props": _props(_prop("input-kind", ref.kind), _prop("size", str(ref.size))),
            "rlinks": [{"href": quote(ref.path, safe="/:@-._~"), "hashes": [{"algorithm": "SHA-256", "value": ref.sha256}]}],
        }
        for index, ref in enumerate(a.inputs)
    ]


def assessment_results(report: GateReport) -> dict[str, Any]:
    a = report.assessment
    decision = report.decision
    results = sorted(a.results, key=lambda r: r.control_id)
    subject = _subject(a)
    when = isoformat(a.created)
    result: dict[str, Any] = {
        "uuid": _uuid(a, "result"),
        "title": f"Release gate: {decision.verdict}",
        "description": (
            f"Static assessment of {a.subject.name or a.subject.store_path or 'the release'} against "
            f"{len(results)} controls (profiles: {', '.join(a.profiles) or 'all controls'}). Gate verdict: {decision.verdict}."
        ),
        "start": when,
        "end": when,
        "props": _props(
            _prop("verdict", decision.verdict),
            _prop("assessment-id", a.id),
            _prop("policy-digest", decision.policy_digest),
            _prop("catalog-digest", a.catalog_digest),
            *(_prop("profile", p) for p in a.profiles),
        ),
        "reviewed-controls": {
            "control-selections": [
                {"include-controls": [{"control-id": _token(r.control_id)} for r in results]} if results else {"include-all": {}}
            ]
        },
    }
    if subject is not None:
        result["local-definitions"] = {"inventory-items": [subject]}
    if results:
        result["observations"] = [_observation(a, r, subject) for r in results]
        result["findings"] = [_finding(a, r) for r in results]
    if a.clause_standings:
        result.setdefault("findings", []).extend(_clause_finding(a, row) for row in a.clause_standings)
    if a.notes:
        result["remarks"] = "\n".join(a.notes)
    doc: dict[str, Any] = {
        "uuid": _uuid(a, "assessment-results"),
        "metadata": {
            "title": _line(f"Compliance assessment of {a.subject.name or a.subject.store_path or a.subject.host or 'a release'}"),
            "last-modified": when,
            "version": a.id,
            "oscal-version": OSCAL_VERSION,
            "props": _props(_prop("tool", f"{a.tool} {a.tool_version}")),
        },
        "import-ap": {
            "href": f"urn:compliance-gate:catalog:{a.catalog_digest}",
            "remarks": "No separate assessment plan: the controls, parameters and profiles come from the compliance-gate catalog with this digest.",
        },
        "results": [result],
    }
    resources = _resources(a)
    if resources:
        doc["back-matter"] = {"resources": resources}
    return {"assessment-results": doc}


@register("oscal", ".json")
def render_oscal(report: GateReport) -> bytes:
    return orjson.dumps(assessment_results(report), option=orjson.OPT_INDENT_2) + b"\n"
