"""The auditor's report: HTML and PDF rendered from a gate report.

Contract used by the evidence packet builder (``compliance.evidence``) and by
``compliance evidence report``: :class:`ReportContext` carries what the report needs
beyond the assessment itself, and :func:`render_html` / :func:`render_pdf` return bytes
that are identical for the same inputs and ``SOURCE_DATE_EPOCH``.

The work is split by job: :mod:`.view` chooses and orders what is printed, :mod:`.coverage`
builds the per-framework matrix, :mod:`.html` lays it out with the Jinja2 templates under
``templates/report``, :mod:`.pdf` turns that HTML into a reproducible PDF.
"""

from __future__ import annotations

from compliance.models.results import GateReport
from compliance.report.context import ReportContext
from compliance.report.html import render_view
from compliance.report.pdf import html_to_pdf
from compliance.report.view import build_view

__all__ = ["ReportContext", "render_html", "render_pdf"]


def render_html(report: GateReport, context: ReportContext) -> bytes:
    """The self-contained HTML report (style sheet inlined), UTF-8."""
    return render_view(build_view(report, context)).encode("utf-8")


def render_pdf(report: GateReport, context: ReportContext) -> bytes:
    """The PDF report: the same layout as the HTML, on A4 pages with numbered footers."""
    view = build_view(report, context)
    return html_to_pdf(render_view(view), producer=view.producer)
