"""The report as data: everything the templates print, already chosen, ordered and worded.

Templates stay free of logic: they lay out what this module decides. The decisions are
the ones an auditor relies on, so they live in typed, tested Python: which facts identify
the subject, which controls need attention first (blocking, then by status and severity),
how observed values are cut down, which waivers did not apply and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance import TOOL_NAME, __version__
from compliance.assess.verdict_reason import explain
from compliance.catalog.loader import Catalog
from compliance.checks.judges import sysctl_matches
from compliance.models.common import Status
from compliance.models.frameworks import FrameworkId
from compliance.models.params import Bound
from compliance.models.results import Assessment, ControlResult, GateReport, Reason
from compliance.models.subject import InputRef
from compliance.report.attestation_rows import AttestationView, attestation_views
from compliance.report.changes_section import ChangesView, changes_view
from compliance.report.context import ReportContext
from compliance.report.coverage_matrix import CoverageMatrix, coverage_matrix, natural_key
from compliance.report.sbom_summary import SbomSummary, summarise_sbom
from compliance.report.values import nix_assignments, observed_text
from compliance.util.clock import isoformat

REPORT_TITLE = "Compliance evidence report"

# The order statuses are listed in: what needs attention first.
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.WAIVED, Status.MANUAL, Status.PASS, Status.NOT_APPLICABLE)
STATUS_LABELS = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.ERROR: "error",
    Status.NOT_APPLICABLE: "not applicable",
    Status.WAIVED: "waived",
    Status.MANUAL: "manual",
}
_STATUS_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}
FRAMEWORK_LABELS = {"nis2": "NIS2", "dora": "DORA", "iso27001": "ISO/IEC 27001", "anssi": "ANSSI BP-028"}


def status_label(status: Status | str) -> str:
    return STATUS_LABELS.get(Status(status), str(status))


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    mono: bool = False
    missing: bool = False  # printed as an absence ("not recorded"), never left blank


@dataclass(frozen=True)
class Cover:
    subject_name: str
    passed: bool
    verdict: str
    subject: tuple[Fact, ...]
    assessment: tuple[Fact, ...]


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ReasonView:
    control_id: str | None
    status: str | None
    severity: str | None
    message: str


@dataclass(frozen=True)
class Summary:
    total: int
    counts: tuple[StatusCount, ...]
    passed: bool
    verdict: str
    blocking: tuple[ReasonView, ...]
    non_blocking: tuple[ReasonView, ...]
    notes: tuple[str, ...]
    policy: PolicyView


@dataclass(frozen=True)
class PolicyView:
    """The policy applied: its settings (defaults included), where it came from, the
    sentence that explains the verdict, the waivers given and the parameters' sources."""

    explanation: str
    settings: tuple[Fact, ...]
    waivers: tuple[tuple[str, str, str, str], ...]  # id, control, applied or not, outcome
    parameters: tuple[tuple[str, str, str, str], ...]  # control, parameter, value, source
    recorded: bool  # False for a report written before the policy was recorded


@dataclass(frozen=True)
class CheckView:
    kind: str
    function: str
    status: str
    message: str
    observed: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ParamView:
    name: str
    value: str
    source: str


@dataclass(frozen=True)
class Finding:
    """A failed or errored control, with what was seen and what to change."""

    control_id: str
    title: str
    severity: str
    status: str
    message: str
    blocking: bool
    checks: tuple[CheckView, ...]
    clauses: tuple[tuple[str, str], ...]  # framework label, references
    params: tuple[ParamView, ...]
    nixos: tuple[str, ...]  # lines of a NixOS configuration
    remediation_text: str | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class WaiverView:
    control_id: str
    title: str
    severity: str
    waiver_id: str
    approver: str
    risk: str
    expires: str
    reason: str
    covered_status: str


@dataclass(frozen=True)
class RefusedWaiver:
    control_id: str
    status: str
    note: str


@dataclass(frozen=True)
class ManualView:
    control_id: str
    title: str
    message: str
    attestations: tuple[AttestationView, ...]


@dataclass(frozen=True)
class ControlRow:
    control_id: str
    title: str
    severity: str
    status: str


@dataclass(frozen=True)
class InputView:
    kind: str
    path: str
    size: str
    sha256: str


@dataclass(frozen=True)
class Appendix:
    inputs: tuple[InputView, ...]
    sbom: SbomSummary | None
    sbom_by_digest: bool  # an SBOM was an input, but only its digest is at hand
    verify_commands: tuple[str, ...]
    facts: tuple[Fact, ...]


@dataclass(frozen=True)
class ReportView:
    title: str
    packet_id: str
    subject_short: str
    producer: str  # this tool and version: the PDF producer
    cover: Cover
    summary: Summary
    coverage: CoverageMatrix
    findings: tuple[Finding, ...]
    waivers: tuple[WaiverView, ...]
    refused_waivers: tuple[RefusedWaiver, ...]
    manual: tuple[ManualView, ...]
    attestations: tuple[AttestationView, ...]
    controls: tuple[ControlRow, ...]
    appendix: Appendix
    changes: ChangesView | None = None


def _subject_facts(assessment: Assessment) -> tuple[Fact, ...]:
    s = assessment.subject
    facts = [Fact("Subject", s.name or s.host or s.kind)]
    if s.kind == "nix-closure" or s.store_path or s.nar_sha256:
        facts.append(Fact("Store path", s.store_path or "not recorded", mono=True, missing=s.store_path is None))
        facts.append(Fact("NAR sha256", s.nar_sha256 or "not recorded", mono=True, missing=s.nar_sha256 is None))
    facts.append(Fact("Commit", s.commit or "not recorded", mono=s.commit is not None, missing=s.commit is None))
    for label, value in (("Host", s.host), ("Machine id", s.machine_id), ("Boot id", s.boot_id)):
        if value:
            facts.append(Fact(label, value, mono=label != "Host"))
    return tuple(facts)


def _assessment_facts(report: GateReport, context: ReportContext) -> tuple[Fact, ...]:
    a = report.assessment
    frameworks = ", ".join(FRAMEWORK_LABELS.get(f.value, f.value) for f in a.frameworks)
    facts = [
        Fact("Assessed at", isoformat(a.created)),
        Fact("Checks", "static (before deployment)" if a.mode.value == "static" else "runtime (on the running host)"),
        Fact("Tool", f"{a.tool} {a.tool_version}"),
    ]
    if a.tool_version != __version__ or a.tool != TOOL_NAME:
        facts.append(Fact("Report rendered by", f"{TOOL_NAME} {__version__}"))
    facts += [
        Fact("Profiles", ", ".join(a.profiles) or "none: every control of the catalog"),
        Fact("Frameworks", frameworks or "none named by the profiles"),
        Fact("Packet id", context.packet_id, mono=True),
        Fact("Assessment id", a.id, mono=True),
        Fact(
            "Signing key",
            context.key_fingerprint or "not signed",
            mono=context.key_fingerprint is not None,
            missing=context.key_fingerprint is None,
        ),
    ]
    return tuple(facts)


def _reason(reason: Reason) -> ReasonView:
    return ReasonView(
        reason.control_id,
        reason.status.value if reason.status else None,
        reason.severity.value if reason.severity else None,
        reason.message,
    )


def _summary(report: GateReport) -> Summary:
    a, d = report.assessment, report.decision
    counts = a.counts()
    return Summary(
        total=counts.total,
        counts=tuple(StatusCount(s.value, STATUS_LABELS[s], counts.by_status.get(s, 0)) for s in STATUS_ORDER),
        passed=d.passed,
        verdict="PASS" if d.passed else "FAIL",
        blocking=tuple(_reason(r) for r in d.blocking),
        non_blocking=tuple(_reason(r) for r in d.non_blocking),
        notes=tuple(a.notes),
        policy=_policy(report),
    )


_POLICY_LABELS = {
    "block_severities": "Failures that block, by severity",
    "errors_block": "Errors (could not decide) block",
    "manual_blocks": "Manual reviews block",
    "min_decided": "Share of controls that must reach a decision",
    "require_waiver_approver": "A waiver needs an approver",
    "max_waiver_days": "Longest waiver, in days",
    "block_controls": "Always block on",
    "never_block": "Never block on",
}


def _setting_text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if value is None:
        return "no limit"
    return str(value)


def _policy(report: GateReport) -> PolicyView:
    applied = report.policy
    if applied is None:
        return PolicyView(
            explanation=explain(report.decision, None),
            settings=(Fact("Policy digest", report.decision.policy_digest, mono=True),),
            waivers=(), parameters=(), recorded=False,
        )
    settings = applied.settings.model_dump(mode="json")
    facts = [Fact("Source", applied.source, mono=applied.source.endswith((".toml", ".json"))), Fact("Digest", applied.digest, mono=True)]
    facts += [Fact(_POLICY_LABELS.get(name, name), _setting_text(settings[name])) for name in _POLICY_LABELS if name in settings]
    return PolicyView(
        explanation=applied.explanation,
        settings=tuple(facts),
        waivers=tuple((w.id, w.control, "applied" if w.applied else "not applied", w.outcome) for w in applied.waivers),
        parameters=tuple((p.control_id, p.name, observed_text(p.value), p.source) for p in applied.parameters),
        recorded=True,
    )


def by_framework(clauses: dict[FrameworkId, list[str]]) -> list[tuple[FrameworkId, list[str]]]:
    """Clause references in the frameworks' own order, whatever order the mapping came in."""
    return [(fw, clauses[fw]) for fw in FrameworkId if clauses.get(fw)]


def _clauses(result: ControlResult) -> tuple[tuple[str, str], ...]:
    """Framework label → the references cited, each marked with its scope and checks."""
    if not result.citations:
        return tuple((FRAMEWORK_LABELS[fw.value], ", ".join(refs)) for fw, refs in by_framework(result.clauses))
    marked: dict[FrameworkId, list[str]] = {}
    for cite in result.citations:
        checks = "attestation" if cite.checks == "attestation" else ", ".join(cite.checks)
        marked.setdefault(cite.framework, []).extend(f"{ref} ({cite.scope.value}: {checks})" for ref in cite.clauses)
    return tuple((FRAMEWORK_LABELS[fw.value], "; ".join(refs)) for fw, refs in by_framework(marked))


def _params(result: ControlResult) -> tuple[ParamView, ...]:
    return tuple(
        ParamView(name, observed_text(value), result.param_sources.get(name, "default"))
        for name, value in sorted(result.params.items())
    )


# Checks whose outcome names each sysctl off baseline (observed["mismatches"]: key →
# {"value", "expected"}): their hint is built from what failed, not the catalog's block.
SYSCTL_CHECKS = frozenset({"sysctl_baseline", "sysctl_runtime"})
SYSCTL_OPTION = "boot.kernel.sysctl"


def _sysctl_setting(expected: str, suggested: Any) -> Any:
    """The value to set for a sysctl expected to be ``expected``: the catalog's when it
    meets the expectation, else the bound itself (``">=2"`` → 2), else the text."""
    if suggested is not None and sysctl_matches(suggested, expected):
        return suggested
    try:
        return Bound.parse(expected).value
    except ValueError:
        return " ".join(expected.split())


def _failing_sysctls(result: ControlResult, suggested: dict[str, Any]) -> dict[str, Any] | None:
    """Each sysctl the failing checks name, with the value to set; None when no check names them."""
    found: dict[str, Any] | None = None
    for check in result.checks:
        mismatches = check.observed.get("mismatches")
        if check.function not in SYSCTL_CHECKS or check.status != Status.FAIL or not isinstance(mismatches, dict):
            continue
        found = found or {}
        for key, mismatch in mismatches.items():
            if isinstance(mismatch, dict) and isinstance(mismatch.get("expected"), str):
                found[str(key)] = _sysctl_setting(mismatch["expected"], suggested.get(str(key)))
    return found if found else None


def _nixos_lines(result: ControlResult) -> tuple[str, ...]:
    """The options to set: for sysctls a failing check names, those it names (and only
    those); for anything else, the catalog's remediation block."""
    options = dict((result.remediation or {}).get("nixos") or {})
    catalog_sysctls = options.get(SYSCTL_OPTION)
    failing = _failing_sysctls(result, catalog_sysctls if isinstance(catalog_sysctls, dict) else {})
    if failing is not None:
        options[SYSCTL_OPTION] = failing
    lines: list[str] = []
    for option, value in sorted(options.items()):
        lines.extend(nix_assignments(str(option), value))
    return tuple(lines)


def _finding(result: ControlResult, blocking: set[str]) -> Finding:
    remediation = result.remediation or {}
    text = remediation.get("text")
    return Finding(
        control_id=result.control_id,
        title=result.title,
        severity=result.severity.value,
        status=result.status.value,
        message=result.message,
        blocking=result.control_id in blocking,
        checks=tuple(
            CheckView(
                c.kind.value,
                c.function,
                c.status.value,
                c.message,
                tuple((key, observed_text(value)) for key, value in sorted(c.observed.items())),
            )
            for c in result.checks
        ),
        clauses=_clauses(result),
        params=_params(result),
        nixos=_nixos_lines(result),
        remediation_text=str(text) if text else None,
        notes=tuple(result.notes),
    )


def _findings(report: GateReport) -> tuple[Finding, ...]:
    blocking = {r.control_id for r in report.decision.blocking if r.control_id}
    failed = [r for r in report.assessment.results if r.status in (Status.FAIL, Status.ERROR)]
    failed.sort(
        key=lambda r: (
            r.control_id not in blocking,
            _STATUS_RANK[r.status],
            -r.severity.rank,
            natural_key(r.control_id),
        )
    )
    return tuple(_finding(r, blocking) for r in failed)


def _waivers(assessment: Assessment) -> tuple[tuple[WaiverView, ...], tuple[RefusedWaiver, ...]]:
    applied: list[WaiverView] = []
    refused: list[RefusedWaiver] = []
    for result in sorted(assessment.results, key=lambda r: natural_key(r.control_id)):
        if result.waiver is not None:
            w = result.waiver
            applied.append(
                WaiverView(
                    result.control_id,
                    result.title,
                    result.severity.value,
                    w.id,
                    w.approver or "none",
                    w.risk,
                    isoformat(w.expires),
                    w.reason,
                    w.covered_status.value,
                )
            )
        refused += [
            RefusedWaiver(result.control_id, result.status.value, note)
            for note in result.notes
            if "waiver" in note.lower() and "does not waive" in note.lower()
        ]
    return tuple(applied), tuple(refused)


def _answering(result: ControlResult, attestations: list[AttestationView], catalog: Catalog | None) -> tuple[AttestationView, ...]:
    """The attestations that answer a clause the control cites."""
    frameworks = catalog.frameworks if catalog is not None else {}
    found: list[AttestationView] = []
    for fw, refs in by_framework(result.clauses):
        framework = frameworks.get(fw)
        for ref in refs:
            clause = (framework.resolve(ref) if framework is not None else ref) or ref
            found += [a for a in attestations if a not in found and a.answers(fw, clause, framework)]
    return tuple(found)


def _manual(assessment: Assessment, attestations: list[AttestationView], catalog: Catalog | None) -> tuple[ManualView, ...]:
    return tuple(
        ManualView(r.control_id, r.title, r.message, _answering(r, attestations, catalog))
        for r in sorted(assessment.results, key=lambda r: natural_key(r.control_id))
        if r.status is Status.MANUAL
    )


def _controls(assessment: Assessment) -> tuple[ControlRow, ...]:
    return tuple(
        ControlRow(
            r.control_id,
            r.title,
            r.severity.value,
            r.status.value,
        )
        for r in sorted(assessment.results, key=lambda r: natural_key(r.control_id))
    )


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _inputs(refs: list[InputRef]) -> tuple[InputView, ...]:
    return tuple(InputView(r.kind, r.path, _size(r.size), r.sha256) for r in refs)


def _appendix(report: GateReport, context: ReportContext) -> Appendix:
    a, d = report.assessment, report.decision
    facts = (
        Fact("Assessment id", a.id, mono=True),
        Fact("Catalog digest", a.catalog_digest, mono=True),
        Fact("Policy digest", d.policy_digest, mono=True),
        Fact("Results schema", a.schema_, mono=True),
    )
    inputs = context.inputs or a.inputs
    return Appendix(
        inputs=_inputs(inputs),
        sbom=summarise_sbom(context.sbom) if context.sbom is not None else None,
        sbom_by_digest=context.sbom is None and any(i.kind.startswith("sbom") for i in inputs),
        verify_commands=tuple(context.verify_commands),
        facts=facts,
    )


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_view(report: GateReport, context: ReportContext) -> ReportView:
    a = report.assessment
    attestations = attestation_views(a.attestations, context.attestations)
    subject_name = a.subject.name or a.subject.host or a.subject.store_path or a.subject.kind
    waivers, refused = _waivers(a)
    summary = _summary(report)
    return ReportView(
        title=f"{REPORT_TITLE}: {subject_name}",
        packet_id=context.packet_id,
        subject_short=_short(subject_name),
        producer=f"{TOOL_NAME} {__version__}",
        cover=Cover(subject_name, summary.passed, summary.verdict, _subject_facts(a), _assessment_facts(report, context)),
        summary=summary,
        coverage=coverage_matrix(a, context.catalog, attestations),
        findings=_findings(report),
        waivers=waivers,
        refused_waivers=refused,
        manual=_manual(a, attestations, context.catalog),
        attestations=tuple(attestations),
        controls=_controls(a),
        appendix=_appendix(report, context),
        changes=changes_view(context.changes) if context.changes is not None else None,
    )
