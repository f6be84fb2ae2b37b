"""The published JSON Schemas of the documents a packet holds, generated from the models.

It gathers the documents of every stage, the wave gate's included, so it sits in the top
library layer (``promote``), above everything whose models it reads.

``evidence/*.schema.json`` are these documents, committed so that auditors and other tools
can validate a packet without this code; the test suite fails when a model changes and
the files were not regenerated (``python -m compliance.promote.published_schemas evidence``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from compliance.evidence.layout import MANIFEST_SCHEMA, PREDICATE_SCHEMA
from compliance.evidence.manifest import Manifest
from compliance.evidence.predicate import GatePredicate
from compliance.models.evidence_history import DIFF_SCHEMA, LOG_SCHEMA, EvidenceDiff, EvidenceLog
from compliance.models.probe import PROBE_REPORT_SCHEMA, probe_report_schema
from compliance.models.results import RESULTS_SCHEMA, GateReport
from compliance.promote.wave import WAVE_SCHEMA, wave_schema
from compliance.promote.wave_decision import DECISION_SCHEMA, decision_schema

DIALECT = "https://json-schema.org/draft/2020-12/schema"

# file name → (schema id, title, model)
SCHEMAS: dict[str, tuple[str, str, type[BaseModel]]] = {
    "packet-manifest.schema.json": (MANIFEST_SCHEMA, "compliance-gate evidence packet manifest (manifest.json)", Manifest),
    "results.schema.json": (RESULTS_SCHEMA, "compliance-gate gate report (results.json)", GateReport),
    "gate-predicate.schema.json": (PREDICATE_SCHEMA, "compliance-gate in-toto predicate (statement.dsse.json payload)", GatePredicate),
}


# Documents about several packets or reports ('evidence diff' and 'evidence log' --format json).
HISTORY_SCHEMAS: dict[str, tuple[str, str, type[BaseModel]]] = {
    "evidence-diff.schema.json": (DIFF_SCHEMA, "compliance-gate evidence diff (compliance evidence diff, probe diff)", EvidenceDiff),
    "evidence-log.schema.json": (LOG_SCHEMA, "compliance-gate evidence log (compliance evidence log)", EvidenceLog),
}


def _probe_report_body() -> dict[str, Any]:
    return {k: v for k, v in probe_report_schema().items() if k not in ("$schema", "$id", "title")}


# The wave gate's documents, which no packet holds: file name → (schema id, title, body).
WAVE_GATE_SCHEMAS: dict[str, tuple[str, str, Callable[[], dict[str, Any]]]] = {
    "wave.schema.json": (WAVE_SCHEMA, "compliance-gate wave file (compliance promote --wave)", wave_schema),
    "decision.schema.json": (DECISION_SCHEMA, "compliance-gate wave decision (compliance promote)", decision_schema),
    "probe-report.schema.json": (PROBE_REPORT_SCHEMA, "compliance-gate probe report", _probe_report_body),
}


def schema_document(name: str) -> dict[str, Any]:
    if name in WAVE_GATE_SCHEMAS:
        schema_id, title, make = WAVE_GATE_SCHEMAS[name]
        return {"$schema": DIALECT, "$id": schema_id, "title": title, **make()}
    schema_id, title, model = SCHEMAS[name] if name in SCHEMAS else HISTORY_SCHEMAS[name]
    body = model.model_json_schema(by_alias=True, mode="serialization")
    body.pop("title", None)
    return {"$schema": DIALECT, "$id": schema_id, "title": title, **body}


def schema_bytes(name: str) -> bytes:
    return orjson.dumps(schema_document(name), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_schemas(directory: Path) -> list[Path]:
    from compliance.util.fsutil import atomic_write

    written = []
    for name in [*SCHEMAS, *WAVE_GATE_SCHEMAS, *HISTORY_SCHEMAS]:
        atomic_write(directory / name, schema_bytes(name))
        written.append(directory / name)
    return written


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    for path in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "evidence")):
        print(path)
