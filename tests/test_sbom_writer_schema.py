"""SBOMs written from real closures against the official schemas and the field's libraries.

CycloneDX 1.6: the official schema (../shared/data) and the copy cyclonedx-python-lib
ships; cyclonedx-python-lib's own strict validator and deserialiser. SPDX 2.3: the official
JSON schema (../shared/data); spdx-tools parses both encodings and its full validation
reports nothing. Each validator is first shown to reject a broken document, so that a
pass means something.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from compliance.inputs.closure import read_closure
from compliance.inputs.sbom import parse_sbom
from compliance.models.subject import Closure
from compliance.sbomgen.sbom_files import write_sbom
from tests.support import nix
from tests.support import sbom_schemas as schemas

pytestmark = pytest.mark.nix


@pytest.fixture(scope="module")
def closures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Closure]:
    """The release read live, as a listing (no graph, no hashes), and two top-level paths."""
    if not nix.have_nix():
        pytest.skip("needs Debian's nix-bin, as root")
    work = tmp_path_factory.mktemp("closures")
    top = nix.build_release(work)
    live, _ = read_closure(top)
    listing = work / "closure.txt"
    listing.write_text("\n".join(nix.requisites(top)) + "\n")
    by_name = {i.name: i.path for i in live.paths.values()}
    two = work / "two.json"
    two.write_text(json.dumps(nix.path_info(by_name["curl"]) + nix.path_info(by_name["source"])))
    return {"live": live, "listing": read_closure(str(listing))[0], "two-roots": read_closure(str(two))[0]}


KINDS = ["live", "listing", "two-roots"]


def _cyclonedx(closures: dict[str, Closure], kind: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(write_sbom(closures[kind], "cyclonedx"))
    return doc


def _broken_cyclonedx(doc: dict[str, Any]) -> dict[str, Any]:
    broken = copy.deepcopy(doc)
    broken["components"][0]["hashes"] = [{"alg": "SHA-256", "content": "not-hex"}]
    return broken


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("schema", ["official", "shipped-with-cyclonedx-python-lib"])
def test_cyclonedx_valid_against_the_schema(closures: dict[str, Closure], kind: str, schema: str, request: pytest.FixtureRequest) -> None:
    if schema == "official":
        validator = schemas.official_cyclonedx_1_6(request.getfixturevalue("shared_data"))
    else:
        validator = schemas.bundled_cyclonedx_1_6()
    doc = _cyclonedx(closures, kind)
    assert schemas.errors(validator, _broken_cyclonedx(doc))
    assert schemas.errors(validator, doc) == []


@pytest.mark.parametrize("kind", KINDS)
def test_spdx_json_valid_against_the_official_schema(closures: dict[str, Closure], kind: str, shared_data: Path) -> None:
    validator = schemas.official_spdx_2_3(shared_data)
    doc = json.loads(write_sbom(closures[kind], "spdx"))
    broken = copy.deepcopy(doc)
    del broken["packages"][0]["downloadLocation"]
    assert schemas.errors(validator, broken)
    assert schemas.errors(validator, doc) == []


@pytest.mark.parametrize("kind", KINDS)
def test_cyclonedx_python_lib_accepts_and_reads_it(closures: dict[str, Closure], kind: str) -> None:
    from cyclonedx.model.bom import Bom
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    doc = _cyclonedx(closures, kind)
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    assert validator.validate_str(json.dumps(_broken_cyclonedx(doc))) is not None
    assert validator.validate_str(json.dumps(doc)) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bom = Bom.from_json(doc)  # type: ignore[attr-defined]
    ours = parse_sbom(json.dumps(doc).encode(), "sbom.cdx.json")
    theirs = [bom.metadata.component, *bom.components]
    assert sorted((c.name, c.version or None, str(c.purl) if c.purl else None) for c in theirs) == sorted((c.name, c.version, c.purl) for c in ours.components)
    assert {str(d.ref) for d in bom.dependencies} == ({c.ref for c in ours.components} if ours.has_dependency_graph else set())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("fmt", "suffix"), [("spdx", ".spdx.json"), ("spdx-tv", ".spdx")])
def test_spdx_tools_validates_and_reads_both_encodings(closures: dict[str, Closure], kind: str, fmt: str, suffix: str, tmp_path: Path) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    data = write_sbom(closures[kind], fmt)
    path = tmp_path / f"sbom{suffix}"
    path.write_bytes(data)
    document = parse_file(str(path))
    assert [m.validation_message for m in validate_full_spdx_document(document)] == []
    ours = parse_sbom(data, str(path))
    assert sorted((p.spdx_id, p.name, p.version, tuple(c.value for c in p.checksums)) for p in document.packages) == sorted(
        (c.ref, c.name, c.version, tuple(c.hashes.values())) for c in ours.components
    )
    theirs_edges = sorted((r.spdx_element_id, r.related_spdx_element_id) for r in document.relationships if r.relationship_type.name == "DEPENDS_ON")
    assert theirs_edges == sorted((c.ref, d) for c in ours.components for d in c.depends_on)


def test_spdx_tools_reports_a_broken_document(closures: dict[str, Closure], tmp_path: Path) -> None:
    """The same check on a package that lost its checksum format: spdx-tools notices."""
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    doc = json.loads(write_sbom(closures["live"], "spdx"))
    doc["packages"][0]["checksums"][0]["checksumValue"] = "not-hex"
    path = tmp_path / "broken.spdx.json"
    path.write_text(json.dumps(doc))
    assert validate_full_spdx_document(parse_file(str(path)))
