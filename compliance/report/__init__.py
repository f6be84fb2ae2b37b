"""The auditor's report: HTML and PDF rendered from a gate report.

Contract used by the evidence packet builder (``compliance.evidence``) and by
``compliance evidence report``: :class:`ReportContext` carries what the report needs
beyond the assessment itself, and :func:`render_html` / :func:`render_pdf` return bytes
that are identical for the same inputs and ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from ..catalog import Catalog
from ..models.results import GateReport
from ..models.subject import InputRef, Sbom


@dataclass(frozen=True)
class ReportContext:
    packet_id: str
    key_fingerprint: str | None = None
    inputs: list[InputRef] = field(default_factory=list)
    verify_commands: list[str] = field(default_factory=list)
    catalog: Catalog | None = None  # framework clause lists for the coverage matrix
    sbom: Sbom | None = None  # for the SBOM summary in the appendix
    attestations: list[Any] = field(default_factory=list)  # manual attestations, when given


def render_html(report: GateReport, context: ReportContext) -> bytes:
    """Placeholder rendering until the templates land: a plain page with the results."""
    a = report.assessment
    rows = "".join(
        f"<tr><td>{html.escape(r.control_id)}</td><td>{r.status.value}</td><td>{html.escape(r.title)}</td></tr>"
        for r in a.results
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Compliance report {html.escape(context.packet_id)}</title></head>"
        f"<body><h1>Compliance report</h1><p>Packet {html.escape(context.packet_id)}</p>"
        f"<p>Decision: {report.decision.verdict}</p><table>{rows}</table></body></html>"
    )
    return page.encode("utf-8")


def render_pdf(report: GateReport, context: ReportContext) -> bytes:
    import weasyprint

    pdf = weasyprint.HTML(string=render_html(report, context).decode("utf-8")).write_pdf()
    assert isinstance(pdf, bytes)
    return pdf
