"""The decision as text, for the control plane's log and the operator reading it: the
verdict first, then every reason (host, control, severity, what was found), then one line
per host, then the files nobody can be held to."""

from __future__ import annotations

from collections.abc import Iterable

from compliance.formats.console import Verdict as ConsoleVerdict
from compliance.promote.wave_decision import Finding, Verdict, WaveDecision
from compliance.util.clock import isoformat

HEADLINE = {Verdict.PROMOTE: "PROMOTE", Verdict.HOLD: "HOLD", Verdict.ROLLBACK: "ROLL BACK"}


def _clip(text: str) -> str:
    """One line, never cut: the reason is what the operator reads."""
    return " ".join(text.split())


def _finding_line(finding: Finding, host_width: int) -> str:
    what = []
    if finding.control_id:
        what.append(finding.control_id)
        if finding.severity:
            what.append(finding.severity.value)
        if finding.status:
            what.append(finding.status.value)
    elif finding.evidence:
        what.append(finding.evidence.value.replace("_", " "))
    where = finding.host or finding.file or "wave"
    head = " ".join(what)
    return f"  {finding.action.value:<8}  {where:<{host_width}}  {head + ': ' if head else ''}{_clip(finding.message)}"


def _findings(title: str, findings: Iterable[Finding], host_width: int) -> list[str]:
    rows = [_finding_line(f, host_width) for f in findings]
    return [f"{title}:", *rows] if rows else []


def render_decision_text(decision: WaveDecision) -> bytes:
    s = decision.summary
    counts = ", ".join(f"{n} {status.value.replace('_', ' ')}" for status, n in s.by_evidence.items())
    coverage = "; ".join(f"{c.group}: {c.valid} of {c.hosts} valid (needs {c.needed})" for c in s.coverage)
    names = [h.name for h in decision.hosts] + [r.file for r in decision.unattributed] + ["wave"]
    width = max(len(n) for n in names)
    lines = [
        f"{HEADLINE[decision.verdict]}: wave {decision.wave} (exit {decision.exit_code})",
        f"Decided:  {isoformat(decision.decided_at)}   nonce {decision.nonce}",
        f"Hosts:    {s.hosts} ({s.canaries} {'canary' if s.canaries == 1 else 'canaries'}): {counts}" + (f"; {s.nixfleet} on nixfleet evidence" if s.nixfleet else ""),
        f"Coverage: {coverage}",
        "",
    ]
    lines += _findings("Reasons", decision.reasons, width)
    lines += _findings("Notes", decision.notes, width)
    lines.append("Hosts:")
    for host in decision.hosts:
        role = "canary" if host.canary else ""
        source = host.reports[0].file if len(host.reports) == 1 else f"{len(host.reports)} reports" if host.reports else "-"
        lines.append(f"  {host.name:<{width}}  {role:<6}  {host.evidence.value:<13}  {host.outcome.value:<9}  {source}")
    if decision.unattributed:
        lines.append("Unattributed files:")
        for ref in decision.unattributed:
            lines.append(f"  {ref.file:<{width}}  {ref.status.value:<13}  {_clip(ref.message)}")
    return ("\n".join(lines) + "\n").encode()


_TONE = {Verdict.PROMOTE: "good", Verdict.HOLD: "hold", Verdict.ROLLBACK: "bad"}


def _finding_item(finding: Finding) -> str:
    return " ".join(_finding_line(finding, 0).split())


def decision_verdict(decision: WaveDecision, outputs: list[tuple[str, str]]) -> ConsoleVerdict:
    """The decision's verdict on standard error: what the control plane's log shows even
    when the decision itself went to files."""
    s = decision.summary
    counts = ", ".join(f"{n} {status.value.replace('_', ' ')}" for status, n in s.by_evidence.items())
    return ConsoleVerdict(
        command="compliance promote",
        headline=HEADLINE[decision.verdict],
        tone=_TONE[decision.verdict],
        summary=f"wave {decision.wave}: {s.hosts} hosts ({counts}), exit {decision.exit_code}",
        why="; ".join(f"{c.group}: {c.valid} of {c.hosts} valid (needs {c.needed})" for c in s.coverage),
        items_title="reasons",
        items=[_finding_item(f) for f in decision.reasons],
        outputs=outputs,
        details=[
            ("notes", [_finding_item(f) for f in decision.notes]),
            ("hosts", [f"{h.name}: {h.evidence.value}, {h.outcome.value}" for h in decision.hosts]),
        ],
    )
