"""SBOMs written from real closures built with nix-bin, checked against what Nix itself says.

Expected names, versions and purls are written out by hand (not computed with the code
under test); hashes, derivers and references come from separate Nix commands
(``nix-store --dump``, ``-qd``, ``--references``).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import InputError, UsageError
from compliance.inputs.closure import read_closure
from compliance.inputs.sbom import parse_sbom
from compliance.models.subject import Sbom
from compliance.sbomgen.sbom_files import FORMATS, write_sbom
from tests.support import nix

pytestmark = pytest.mark.nix

# store name → (name, version, purl), as Nix's DrvName and the purl spec have them
EXPECTED = {
    "myapp-1.0": ("myapp", "1.0", "pkg:nix/myapp@1.0"),
    "curl-8.6.0": ("curl", "8.6.0", "pkg:nix/curl@8.6.0"),
    "openssl-3.0.13": ("openssl", "3.0.13", "pkg:nix/openssl@3.0.13"),
    "zlib-1.3.1": ("zlib", "1.3.1", "pkg:nix/zlib@1.3.1"),
    "source": ("source", None, "pkg:nix/source"),
    "python3.11-pyyaml-6.0.1": ("python3.11-pyyaml", "6.0.1", "pkg:nix/python3.11-pyyaml@6.0.1"),
    "linux-config-6.6.30": ("linux-config", "6.6.30", "pkg:nix/linux-config@6.6.30"),
}
FIXED_TIME = "2026-11-01T00:00:00Z"  # SOURCE_DATE_EPOCH of tests/conftest.py


def _nix(*args: str) -> bytes:
    return subprocess.run(list(args), capture_output=True, check=True, env=nix.nix_env(), timeout=120).stdout


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not nix.have_nix():
        pytest.skip("needs Debian's nix-bin, as root")
    return nix.build_release(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def truth(release: str) -> dict[str, dict[str, Any]]:
    """What Nix says about every path of the release, asked path by path."""
    facts: dict[str, dict[str, Any]] = {}
    for path in nix.requisites(release):
        refs = _nix("nix-store", "--query", "--references", path).decode().split()
        facts[path] = {
            "sha256": hashlib.sha256(_nix("nix-store", "--dump", path)).hexdigest(),
            "deriver": _nix("nix-store", "--query", "--deriver", path).decode().strip(),
            "depends_on": sorted(r for r in refs if r != path),
        }
    return facts


def _store_name(path: str) -> str:
    return path.rsplit("/", 1)[-1][33:]


def _by_store_path(sbom: Sbom) -> dict[str, Any]:
    return {c.store_path or "": c for c in sbom.components}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_store_path_is_one_component_as_nix_describes_it(release: str, truth: dict[str, dict[str, Any]], fmt: str) -> None:
    closure, _ = read_closure(release)
    sbom = parse_sbom(write_sbom(closure, fmt), f"sbom.{fmt}")
    components = _by_store_path(sbom)
    assert len(sbom.components) == len(components) == len(truth) == 7
    assert set(components) == set(truth)
    ref_to_path = {c.ref: c.store_path for c in sbom.components}
    for path, facts in truth.items():
        component = components[path]
        assert (component.name, component.version, component.purl) == EXPECTED[_store_name(path)]
        assert component.hashes == {"sha256": facts["sha256"]}
        assert sorted(ref_to_path[r] or "" for r in component.depends_on) == facts["depends_on"]
    assert [ref_to_path[r] for r in sbom.described] == [release]
    assert sbom.has_dependency_graph
    assert sbom.created is not None and sbom.created.strftime("%Y-%m-%dT%H:%M:%SZ") == FIXED_TIME
    assert sbom.spec_version == ("1.6" if fmt == "cyclonedx" else "2.3")


def test_cyclonedx_names_store_path_and_deriver_as_sbomnix_does(release: str, truth: dict[str, dict[str, Any]]) -> None:
    closure, _ = read_closure(release)
    doc = json.loads(write_sbom(closure, "cyclonedx"))
    top = doc["metadata"]["component"]
    assert top["bom-ref"] == release and top["type"] == "application"
    for component in [top, *doc["components"]]:
        props = {p["name"]: p["value"] for p in component["properties"]}
        assert props == {"nix:output_path": component["bom-ref"], "nix:drv_path": truth[component["bom-ref"]]["deriver"]}
        assert component["hashes"] == [{"alg": "SHA-256", "content": truth[component["bom-ref"]]["sha256"]}]
    leaves = [d for d in doc["dependencies"] if not d["dependsOn"]]
    assert {d["ref"] for d in leaves} == {p for p, f in truth.items() if not f["depends_on"]}


@pytest.mark.parametrize("fmt", ["spdx", "spdx-tv"])
def test_spdx_carries_the_deriver_and_describes_the_top_level(release: str, truth: dict[str, dict[str, Any]], fmt: str) -> None:
    closure, _ = read_closure(release)
    text = write_sbom(closure, fmt).decode()
    if fmt == "spdx-tv":
        blocks = {b.split("PackageFileName: ", 1)[1].split("\n", 1)[0]: b for b in text.split("\n\n") if "PackageFileName: " in b}
        assert set(blocks) == set(truth)
        for path, facts in truth.items():
            assert f"\nExternalRef: OTHER nix:drv_path {facts['deriver']}\n" in blocks[path]
        return
    doc = json.loads(text)
    packages = {p["packageFileName"]: p for p in doc["packages"]}
    assert set(packages) == set(truth)
    for path, facts in truth.items():
        refs = {r["referenceType"]: r["referenceLocator"] for r in packages[path]["externalRefs"] if r["referenceCategory"] == "OTHER"}
        assert refs == {"nix:output_path": path, "nix:drv_path": facts["deriver"]}
    top = packages[release]["SPDXID"]
    assert doc["documentDescribes"] == [top]
    assert {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": top} in doc["relationships"]


def test_same_closure_same_bytes_whatever_the_input_shape(release: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live store path, Nix 2.8's list-shaped path-info and the newer object shape give
    one closure, hence byte-identical SBOMs; the time is SOURCE_DATE_EPOCH's."""
    listed = nix.path_info(release)
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps(listed))
    as_object = tmp_path / "object.json"
    as_object.write_text(json.dumps({e["path"]: {k: v for k, v in e.items() if k != "path"} for e in listed}))
    for fmt in FORMATS:
        outputs = {write_sbom(read_closure(spec)[0], fmt) for spec in (release, str(as_list), str(as_object))}
        assert len(outputs) == 1
        assert FIXED_TIME.encode() in outputs.pop()
    first = json.loads(write_sbom(read_closure(release)[0], "cyclonedx"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    later = json.loads(write_sbom(read_closure(release)[0], "cyclonedx"))
    assert later["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"
    assert later["serialNumber"] == first["serialNumber"]  # identity is the closure's, not the time's


def test_another_closure_gets_another_identity(release: str, tmp_path: Path) -> None:
    other = nix.build_release(tmp_path, kconfig="CONFIG_MODULES=y\n", name="other")
    assert other != release
    ours = json.loads(write_sbom(read_closure(release)[0], "cyclonedx"))
    theirs = json.loads(write_sbom(read_closure(other)[0], "cyclonedx"))
    assert ours["serialNumber"] != theirs["serialNumber"]
    spdx_ours = json.loads(write_sbom(read_closure(release)[0], "spdx"))
    spdx_theirs = json.loads(write_sbom(read_closure(other)[0], "spdx"))
    assert spdx_ours["documentNamespace"] != spdx_theirs["documentNamespace"]
    tag_ours = write_sbom(read_closure(release)[0], "spdx-tv").decode()
    assert f"DocumentNamespace: {spdx_ours['documentNamespace']}\n" in tag_ours  # one document, two encodings


def test_a_listing_gives_components_but_claims_no_dependency_graph(release: str, tmp_path: Path) -> None:
    """``nix-store -qR`` output has no references: an SBOM must not claim "no dependencies"."""
    listing = tmp_path / "closure.txt"
    listing.write_text("\n".join(nix.requisites(release)) + "\n")
    closure, _ = read_closure(str(listing))
    for fmt in FORMATS:
        data = write_sbom(closure, fmt)
        sbom = parse_sbom(data, fmt)
        assert {(c.name, c.version, c.purl) for c in sbom.components} == set(EXPECTED.values())
        assert not sbom.has_dependency_graph
        assert all(not c.depends_on and not c.hashes for c in sbom.components)
    assert "dependencies" not in json.loads(write_sbom(closure, "cyclonedx"))


def test_several_top_level_paths(release: str, tmp_path: Path) -> None:
    """path-info of two unrelated paths: SPDX describes both; CycloneDX describes the
    closure, which depends on both, and every store path stays a component."""
    closure, _ = read_closure(release)
    by_name = {i.name: i.path for i in closure.paths.values()}
    tops = sorted([by_name["curl"], by_name["python3.11-pyyaml"]])
    pi = tmp_path / "two.json"
    pi.write_bytes(_nix("nix", "path-info", "--json", "--recursive", *tops))
    two, _ = read_closure(str(pi))
    assert two.roots == tuple(tops)
    doc = json.loads(write_sbom(two, "cyclonedx"))
    main = doc["metadata"]["component"]
    assert {c["bom-ref"] for c in doc["components"]} == set(two.paths)
    assert next(d for d in doc["dependencies"] if d["ref"] == main["bom-ref"])["dependsOn"] == tops
    spdx = parse_sbom(write_sbom(two, "spdx"), "two.spdx.json")
    assert sorted(c.store_path or "" for c in spdx.components if c.ref in spdx.described) == tops


def test_a_nar_hash_that_is_not_sha256_is_an_input_error(release: str, tmp_path: Path) -> None:
    entries = nix.path_info(release)
    entries[0]["narHash"] = "sha256-not+base64"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(entries))
    closure, _ = read_closure(str(bad))
    with pytest.raises(InputError, match=rf"^{bad}: {entries[0]['path']}: narHash"):
        write_sbom(closure, "spdx")


def test_unknown_format_is_a_usage_error(release: str) -> None:
    with pytest.raises(UsageError, match="unknown SBOM format 'xml'"):
        write_sbom(read_closure(release)[0], "xml")

