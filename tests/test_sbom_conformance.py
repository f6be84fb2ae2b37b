"""SBOM conformance is judged (SC-14): every JSON SBOM against the official schema of its
declared version, and the NTIA minimum elements, each failing on its own. The CycloneDX
specification's own invalid documents are reported, never read and signed silently."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from compliance.assess import engine
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.checks.predicate_subject import Subject
from compliance.inputs.sbom import parse_sbom
from compliance.models.control import CheckKind
from tests.support.cli import run
from tests.support.inputs import gate_args, write_release

INVALID = Path(__file__).resolve().parent / "data" / "cyclonedx-invalid"
FIXTURE = json.loads((Path(__file__).resolve().parent / "fixtures" / "controls" / "SC-14" / "pass.json").read_text())["static"]["sbom"]
CATALOG = load_catalog()
SC14 = next(s for s in select(CATALOG, [], CheckKind.STATIC).controls if s.control.id == "SC-14")


def _judge(data: bytes) -> tuple[str, str, dict[str, Any]]:
    sbom = parse_sbom(data, "sbom.json")
    result = engine.evaluate_control(SC14, CheckKind.STATIC, Subject(sbom=sbom))
    return result.status.value, result.message, dict(result.checks[0].observed)


@pytest.mark.parametrize("name", sorted(p.name for p in INVALID.glob("*.json")))
def test_the_specifications_invalid_documents_are_reported(name: str) -> None:
    status, message, observed = _judge((INVALID / name).read_bytes())
    assert status == "fail", message
    assert observed["schema"] == "bom-1.6.schema.json" and observed["schema_violations"] >= 1
    assert "violation(s) of bom-1.6.schema.json" in message


@pytest.mark.parametrize(("name", "pointer"), [
    ("invalid-metadata-timestamp-1.6.json", '/metadata/timestamp: "2020-04-13" is not a "date-time"'),
    ("invalid-component-type-1.6.json", '/components/0/type: "foo" is not one of'),
    ("invalid-hash-sha256-1.6.json", '/components/0/hashes/2/content: "foo" does not match'),
    ("invalid-serialnumber-1.6.json", '/serialNumber: "urn:uuid:3e671687-395b-41f5-a30f" does not match'),
])
def test_a_violation_names_where_and_what(name: str, pointer: str) -> None:
    _, _, observed = _judge((INVALID / name).read_bytes())
    assert observed["violations"][0].startswith(pointer), observed["violations"]


def test_the_conforming_fixture_passes() -> None:
    status, message, observed = _judge(json.dumps(FIXTURE).encode())
    assert status == "pass", message
    assert observed["ntia_missing"] == [] and observed["schema_violations"] == 0


def _without(path: list[str]) -> dict[str, Any]:
    doc = copy.deepcopy(FIXTURE)
    for component in [doc["metadata"]["component"], *doc["components"]] if path[0] == "*" else []:
        component.pop(path[1], None)
    if path[0] != "*":
        target = doc
        for key in path[:-1]:
            target = target[key]
        target.pop(path[-1])
    return doc


@pytest.mark.parametrize(("path", "element"), [
    (["*", "supplier"], "supplier (1 of 1 components)"),
    (["*", "version"], "version (1 of 1 components)"),
    (["*", "purl"], "unique identifier (purl, CPE or SWID) (1 of 1 components)"),
    (["dependencies"], "dependency relationships"),
    (["metadata", "tools"], "author of the SBOM data (metadata.authors or tools)"),
    (["metadata", "timestamp"], "timestamp (metadata.timestamp)"),
])
def test_each_missing_ntia_element_fails_alone(path: list[str], element: str) -> None:
    status, message, observed = _judge(json.dumps(_without(path)).encode())
    assert status == "fail", message
    assert observed["ntia_missing"] == [element]
    assert observed["schema_violations"] == 0
    assert message == f"NTIA minimum elements missing: {element}"


def test_spdx_json_is_validated_against_the_spdx_2_3_schema(shared_data: Path) -> None:
    doc = json.loads((shared_data / "spdx" / "SPDXJSONExample-v2.3.spdx.json").read_text())
    doc["creationInfo"]["created"] = "yesterday"
    doc["packages"][0]["downloadLocation"] = 42
    status, _, observed = _judge(json.dumps(doc).encode())
    assert status == "fail" and observed["schema"] == "spdx-2.3.schema.json"
    assert observed["schema_violations"] >= 1


def test_spdx_tag_value_is_judged_on_ntia_elements(shared_data: Path) -> None:
    status, _, observed = _judge((shared_data / "spdx" / "SPDXTagExample-v2.3.spdx").read_bytes())
    assert status == "fail"
    assert observed["schema"].startswith("none (tag-value")
    assert "supplier (3 of 4 components)" in observed["ntia_missing"]


def test_a_version_without_a_shipped_schema_is_an_error_never_a_pass() -> None:
    from compliance.models.subject import Sbom, SbomConformance

    sbom = Sbom(source="old.json", format="spdx", spec_version="2.2", encoding="json", components=(),
                conformance=SbomConformance(schema_file=None))
    result = engine.evaluate_control(SC14, CheckKind.STATIC, Subject(sbom=sbom))
    assert result.status.value == "error"
    assert "no official schema of spdx 2.2 is shipped" in result.message


def test_the_gate_reports_an_invalid_sbom(tmp_path: Path) -> None:
    files = write_release(tmp_path / "release")
    doc = json.loads(files["sbom"].read_text())
    doc["metadata"]["timestamp"] = "2020-04-13"
    files["sbom"].write_text(json.dumps(doc))
    result = run(*gate_args(files), "--format", "json")
    assert result.code in (0, 1), result.stderr  # whether a medium control blocks is the policy's call
    sc14 = next(r for r in json.loads(result.stdout)["assessment"]["results"] if r["control_id"] == "SC-14")
    assert sc14["status"] == "fail" and "/metadata/timestamp" in sc14["message"]
