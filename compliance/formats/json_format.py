"""results.json: the whole report, keys sorted, two-space indentation."""

from __future__ import annotations

import orjson

from compliance.formats import register
from compliance.models.results import GateReport


def report_document(report: GateReport) -> dict[str, object]:
    return report.to_jsonable()


@register("json", ".json")
def render_json(report: GateReport) -> bytes:
    return orjson.dumps(report_document(report), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
