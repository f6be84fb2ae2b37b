"""JUnit XML: one test case per control, for CI systems that display test reports.

fail → ``<failure>``, error → ``<error>``, not applicable / waived / manual → ``<skipped>``
with the reason. Validates against the Ant JUnit schema (Windy Road) that most CI
systems accept.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import quoteattr

from ..models.common import Status
from ..models.results import GateReport
from . import register

# What XML 1.0 cannot hold, even as a character reference: control characters but tab,
# line feed and carriage return, surrogates, U+FFFE and U+FFFF. Messages quote inputs.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(value: str) -> str:
    return quoteattr(_LINE_BREAKS.sub("", _NOT_XML.sub("", value)))


@register("junit", ".xml")
def render_junit(report: GateReport) -> bytes:
    a = report.assessment
    results = sorted(a.results, key=lambda r: r.control_id)
    failures = sum(1 for r in results if r.status is Status.FAIL)
    errors = sum(1 for r in results if r.status is Status.ERROR)
    skipped = sum(1 for r in results if r.status in (Status.NOT_APPLICABLE, Status.WAIVED, Status.MANUAL))
    name = f"compliance gate: {a.subject.name or a.subject.host or a.subject.store_path or 'subject'}"
    hostname = a.subject.host or a.subject.name or "nix-closure"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<testsuite name={_attr(name)} timestamp={_attr(a.created.strftime('%Y-%m-%dT%H:%M:%S'))} "
        f'hostname={_attr(hostname)} tests="{len(results)}" failures="{failures}" errors="{errors}" skipped="{skipped}" time="0">',
        "  <properties>",
        f'    <property name="assessment" value={_attr(a.id)}/>',
        f'    <property name="profiles" value={_attr(",".join(a.profiles))}/>',
        f'    <property name="verdict" value={_attr(report.decision.verdict)}/>',
        f'    <property name="catalog" value={_attr(a.catalog_digest)}/>',
        "  </properties>",
    ]
    for r in results:
        classname = f"compliance.{r.severity.value}"
        open_tag = f'  <testcase name={_attr(f"{r.control_id} {r.title}")} classname={_attr(classname)} time="0"'
        detail = _text(r.message + "".join(f"\nnote: {n}" for n in r.notes))
        if r.status is Status.FAIL:
            lines += [f"{open_tag}>", f"    <failure message={_attr(r.message)} type=\"{r.severity.value}\">{detail}</failure>", "  </testcase>"]
        elif r.status is Status.ERROR:
            lines += [f"{open_tag}>", f'    <error message={_attr(r.message)} type="error">{detail}</error>', "  </testcase>"]
        elif r.status in (Status.NOT_APPLICABLE, Status.WAIVED, Status.MANUAL):
            why = r.status.value + (f" by {r.waiver.id}: {r.waiver.reason}" if r.waiver else f": {r.message}")
            lines += [f"{open_tag}>", f"    <skipped message={_attr(why)}/>", "  </testcase>"]
        else:
            lines.append(f"{open_tag}/>")
    lines += ["  <system-out/>", "  <system-err/>", "</testsuite>", ""]
    return "\n".join(lines).encode("utf-8")
