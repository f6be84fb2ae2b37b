"""JUnit XML: one test case per control, for CI systems that display test reports.

The suite follows the gate's verdict: only a blocking result fails it. A blocking failure
(or a blocking manual control) is a ``<failure>``, a blocking error an ``<error>``, a
blocking reason that no control carries (too few controls decided) a failed test case of
its own: ``failures`` + ``errors`` is the number of blocking findings, so a passing gate
never shows red tests. A failure or error the policy does not block is a ``<skipped>``
saying so, listed again in the suite's properties and ``<system-out>``; not applicable,
waived and manual controls are skipped with the reason. ``junit-strict`` is the strict
reading: every failure a ``<failure>``, every error an ``<error>``, whatever blocks.
Validates against the Ant JUnit schema (Windy Road) and Jenkins xUnit's.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from compliance.formats import register
from compliance.models.common import Status
from compliance.models.results import ControlResult, GateReport, Reason

# What XML 1.0 cannot hold, even as a character reference: control characters but tab,
# line feed and carriage return, surrogates, U+FFFE and U+FFFF. Messages quote inputs.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return quoteattr(_LINE_BREAKS.sub("", _NOT_XML.sub("", value)))


def _blocking(report: GateReport) -> tuple[set[str], list[Reason]]:
    """Control ids that block the gate, and the blocking reasons no control carries
    (nothing selected, too few controls decided)."""
    d = report.decision
    return {r.control_id for r in d.blocking if r.control_id}, [r for r in d.blocking if not r.control_id]


def _case(r: ControlResult, *, blocks: bool, strict: bool) -> list[str]:
    classname = f"compliance.{r.severity.value}"
    open_tag = f'  <testcase name={_attr(f"{r.control_id} {r.title}")} classname={_attr(classname)} time="0"'
    detail = _text(r.message + "".join(f"\nnote: {n}" for n in r.notes))
    fails = r.status is Status.FAIL or (r.status is Status.MANUAL and blocks)
    if fails and (blocks or strict):
        kind = r.severity.value if r.status is Status.FAIL else "manual"
        return [f"{open_tag}>", f"    <failure message={_attr(r.message)} type={_attr(kind)}>{detail}</failure>", "  </testcase>"]
    if r.status is Status.ERROR and (blocks or strict):
        return [f"{open_tag}>", f'    <error message={_attr(r.message)} type="error">{detail}</error>', "  </testcase>"]
    if r.status in (Status.FAIL, Status.ERROR):
        return [f"{open_tag}>", f"    <skipped message={_attr(_not_blocking(r))}/>", "  </testcase>"]
    if r.status in (Status.NOT_APPLICABLE, Status.WAIVED, Status.MANUAL):
        why = r.status.value + (f" by {r.waiver.id}: {r.waiver.reason}" if r.waiver else f": {r.message}")
        return [f"{open_tag}>", f"    <skipped message={_attr(why)}/>", "  </testcase>"]
    return [f"{open_tag}/>"]


def _not_blocking(r: ControlResult) -> str:
    return f"{r.status.value}, not blocking under the policy ({r.severity.value}): {r.message}"


def _render(report: GateReport, *, strict: bool) -> bytes:
    a = report.assessment
    results = sorted(a.results, key=lambda r: r.control_id)
    blocking_ids, unattached = _blocking(report)
    cases: list[str] = []
    for r in results:
        cases += _case(r, blocks=r.control_id in blocking_ids, strict=strict)
    # A blocking reason no control carries is a failure of the gate itself.
    for reason in unattached:
        cases += [f'  <testcase name={_attr("gate policy: " + reason.message)} classname="compliance.policy" time="0">',
                  f'    <failure message={_attr(reason.message)} type="policy">{_text(reason.message)}</failure>', "  </testcase>"]
    failures = sum(1 for line in cases if line.startswith("    <failure "))
    errors = sum(1 for line in cases if line.startswith("    <error "))
    skipped = sum(1 for line in cases if line.startswith("    <skipped "))
    not_blocking = [r for r in results if r.status in (Status.FAIL, Status.ERROR) and r.control_id not in blocking_ids]
    name = f"compliance gate: {a.subject.name or a.subject.host or a.subject.store_path or 'subject'}"
    hostname = a.subject.host or a.subject.name or "nix-closure"
    explanation = report.policy.explanation if report.policy else None
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<testsuite name={_attr(name)} timestamp={_attr(a.created.strftime('%Y-%m-%dT%H:%M:%S'))} "
        f'hostname={_attr(hostname)} tests="{len(results) + len(unattached)}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="0">',
        "  <properties>",
        f'    <property name="assessment" value={_attr(a.id)}/>',
        f'    <property name="profiles" value={_attr(",".join(a.profiles))}/>',
        f'    <property name="verdict" value={_attr(report.decision.verdict)}/>',
        f'    <property name="reading" value="{"strict" if strict else "policy"}"/>',
        *([f'    <property name="why" value={_attr(explanation)}/>'] if explanation else []),
        f'    <property name="catalog" value={_attr(a.catalog_digest)}/>',
        *(f'    <property name="note" value={_attr(note)}/>' for note in a.notes),
        *([] if strict else [f'    <property name="not-blocking" value={_attr(f"{r.control_id}: {_not_blocking(r)}")}/>' for r in not_blocking]),
        "  </properties>",
        *cases,
    ]
    # What the run says about itself (e.g. the SBOM was generated by the gate), and the
    # findings that do not block, also go to the suite's output, which CI systems show
    # where property lists are hidden.
    said = [*(f"note: {note}" for note in a.notes), *([f"verdict: {explanation}"] if explanation else []),
            *([] if strict else [f"not blocking: {r.control_id}: {_not_blocking(r)}" for r in not_blocking])]
    system_out = _text("".join(f"{line}\n" for line in said))
    lines += [f"  <system-out>{system_out}</system-out>" if system_out else "  <system-out/>", "  <system-err/>", "</testsuite>", ""]
    return "\n".join(lines).encode("utf-8")


@register("junit", ".xml")
def render_junit(report: GateReport) -> bytes:
    """The policy's reading: only what blocks the gate fails the suite."""
    return _render(report, strict=False)


@register("junit-strict", ".xml")
def render_junit_strict(report: GateReport) -> bytes:
    """The strict reading: every failed control is a failure and every error an error,
    whatever the policy says blocks (a suite that can be red beside a green gate)."""
    return _render(report, strict=True)
