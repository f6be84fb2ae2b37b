"""HTML rendering: the view model through the Jinja2 templates under ``templates/report``.

The HTML is self-contained (the style sheet is inlined), so the ``report.html`` of a
packet opens anywhere, offline. It is also the source of the PDF: one layout, two media.
Autoescaping is on and undefined names are errors, so a template typo fails the render
instead of printing an empty cell.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from compliance.errors import TemplateError
from compliance.models.results import ClauseStanding
from compliance.report.view import FRAMEWORK_LABELS, ReportView, status_label
from compliance.util.datafiles import data_dir

TEMPLATE = "report.html.j2"
STYLESHEET = "report.css"


def templates_dir() -> Path:
    return data_dir("templates") / "report"


def css_string(text: str) -> Markup:
    """A CSS string literal; safe inside a ``<style>`` element (no ``</style>`` can appear)."""
    out = []
    for char in str(text):
        if char in '"\\<>&' or ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return Markup('"' + "".join(out) + '"')


def _clause_state_label(state: ClauseStanding) -> str:
    """``needs-runtime-evidence`` → ``needs runtime evidence``."""
    return state.value.replace("-", " ")


@cache
def _environment(root: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["css_string"] = css_string
    env.globals["status_label"] = status_label
    env.globals["clause_state_label"] = _clause_state_label
    env.globals["framework_label"] = lambda fw: FRAMEWORK_LABELS[str(fw)]
    return env


def _stylesheet(root: Path) -> Markup:
    try:
        return Markup((root / STYLESHEET).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{root / STYLESHEET}: cannot read the report style sheet: {exc.strerror or exc}") from None


def render_view(view: ReportView) -> str:
    root = templates_dir()
    try:
        template = _environment(root).get_template(TEMPLATE)
        return template.render(view=view, stylesheet=_stylesheet(root))
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"{root}: report template {exc.name} is missing") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{root}: report template error: {exc}") from None
