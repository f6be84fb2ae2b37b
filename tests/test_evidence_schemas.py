"""The published JSON Schemas (evidence/*.schema.json): up to date with the models, and the
documents of a real packet validate against them (jsonschema-rs, draft 2020-12)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from compliance.promote.published_schemas import SCHEMAS, schema_bytes
from tests.support.evidence import build_files, make_key_pair, release_run

EVIDENCE = Path(__file__).resolve().parents[1] / "evidence"


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_published_schema_is_up_to_date(name: str) -> None:
    assert (EVIDENCE / name).read_bytes() == schema_bytes(name), (
        f"evidence/{name} is stale: run '.venv/bin/python -m compliance.promote.published_schemas evidence'"
    )


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    keys = make_key_pair(tmp_path_factory.mktemp("keys"))
    files = build_files(release_run(tmp_path_factory.mktemp("release")), keys)
    statement = json.loads(base64.b64decode(json.loads(files["statement.dsse.json"])["payload"]))
    return {
        "packet-manifest.schema.json": json.loads(files["manifest.json"]),
        "results.schema.json": json.loads(files["results.json"]),
        "gate-predicate.schema.json": statement["predicate"],
    }


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_packet_documents_validate_against_the_published_schemas(name: str, documents: dict[str, Any]) -> None:
    validator = jsonschema_rs.validator_for(json.loads((EVIDENCE / name).read_text()), validate_formats=True)
    document = documents[name]
    assert [e.message for e in validator.iter_errors(document)] == []
    broken = {**document, "unexpected": True}
    assert not validator.is_valid(broken)  # the schemas are closed: a stray field is an error
