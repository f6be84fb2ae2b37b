"""Round trips on generated closures: path-info JSON → closure → SBOM (each format) → the
project's SBOM readers → the same store paths, names, versions, hashes, dependencies and
top-level paths; and the CycloneDX / SPDX JSON output valid against the schemas.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from compliance.errors import InputError
from compliance.inputs.closure import parse_closure
from compliance.inputs.sbom import parse_sbom
from compliance.models.subject import Closure
from compliance.nix.hashes import NIX32, nix32_encode, to_sri
from compliance.nix.storepath import split_output
from compliance.sbomgen.purl_build import nix_purl
from compliance.sbomgen.sbom_files import FORMATS, write_sbom
from tests.support import sbom_schemas as schemas

NAME_CHAR = "A-Za-z0-9+\\-._?="
_bare_name = st.from_regex(rf"[A-Za-z0-9+\-_?=][{NAME_CHAR}]{{0,24}}", fullmatch=True)
_package = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z][a-z0-9]{0,5}){0,2}(3\.11)?", fullmatch=True)
_version = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}(-(bin|dev|lib|man|rc1))?", fullmatch=True)
_store_name = st.one_of(_bare_name, st.builds(lambda p, v: f"{p}-{v}", _package, _version))
_digest = st.binary(min_size=32, max_size=32)


@st.composite
def path_info_documents(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """A valid ``nix path-info --json -r`` list: references only point to earlier paths
    (or to the path itself), NAR hashes in every notation Nix prints."""
    count = draw(st.integers(1, 12))
    hashes = draw(st.lists(st.text(NIX32, min_size=32, max_size=32), min_size=count, max_size=count, unique=True))
    paths = [f"/nix/store/{h}-{draw(_store_name)}" for h in hashes]
    digests: dict[str, bytes] = {}
    entries = []
    for index, path in enumerate(paths):
        digest = draw(_digest)
        digests[path] = digest
        notation = draw(st.sampled_from(["sri", "nix32", "hex"]))
        nar_hash = {"sri": to_sri("sha256", digest.hex()), "nix32": f"sha256:{nix32_encode(digest)}", "hex": f"sha256:{digest.hex()}"}[notation]
        refs = draw(st.lists(st.sampled_from(paths[: index + 1]), unique=True)) if index else draw(st.lists(st.just(path), max_size=1))
        entry: dict[str, Any] = {"path": path, "narHash": nar_hash, "narSize": draw(st.integers(0, 2**40)), "references": refs}
        if draw(st.booleans()):
            entry["deriver"] = f"{path}.drv"
        entries.append(entry)
    return entries, digests


def _closure(entries: list[dict[str, Any]]) -> Closure:
    return parse_closure(json.dumps(entries).encode(), "generated.json")


def _expected_name(closure: Closure, path: str) -> tuple[str, str | None]:
    info = closure.paths[path]
    if info.name:
        return info.name, split_output(info.version)[0]  # the output name is a purl qualifier
    return info.basename.split("-", 1)[1], None  # "-1.0": DrvName leaves no name


@settings(max_examples=80, deadline=None)
@given(path_info_documents(), st.sampled_from(FORMATS))
def test_every_format_reads_back_to_the_closure(doc: tuple[list[dict[str, Any]], dict[str, bytes]], fmt: str) -> None:
    entries, digests = doc
    closure = _closure(entries)
    data = write_sbom(closure, fmt)
    assert write_sbom(closure, fmt) == data
    sbom = parse_sbom(data, f"generated.{fmt}")
    stored = [c for c in sbom.components if c.store_path]
    synthetic = [c for c in sbom.components if not c.store_path]
    assert len(stored) == len(closure.paths) and {c.store_path for c in stored} == set(closure.paths)
    assert len(synthetic) == (1 if fmt == "cyclonedx" and len(closure.roots) > 1 else 0)
    ref_to_path = {c.ref: c.store_path for c in stored}
    for component in stored:
        assert component.store_path is not None
        info = closure.paths[component.store_path]
        assert (component.name, component.version) == _expected_name(closure, info.path)
        assert component.hashes == {"sha256": digests[info.path].hex()}
        assert sorted(ref_to_path[r] or "" for r in component.depends_on) == sorted(r for r in info.references if r != info.path)
        purl = PackageURL.from_string(component.purl or "")
        assert (purl.type, purl.name, purl.version) == ("nix", component.name, component.version)
    described = [ref_to_path.get(r) for r in sbom.described]
    if synthetic:
        assert sbom.described == (synthetic[0].ref,)
        assert sorted(ref_to_path[r] or "" for r in synthetic[0].depends_on) == sorted(closure.roots)
    else:
        assert sorted(p or "" for p in described) == sorted(closure.roots)
    has_edges = any(r != info.path for info in closure.paths.values() for r in info.references)
    assert sbom.has_dependency_graph == (has_edges or fmt == "cyclonedx")


_BUNDLED_CYCLONEDX = schemas.bundled_cyclonedx_1_6()


@settings(max_examples=40, deadline=None)
@given(path_info_documents())
def test_cyclonedx_is_valid_against_the_bundled_schema(doc: tuple[list[dict[str, Any]], dict[str, bytes]]) -> None:
    assert schemas.errors(_BUNDLED_CYCLONEDX, json.loads(write_sbom(_closure(doc[0]), "cyclonedx"))) == []


@pytest.fixture(scope="module")
def official(shared_data: Path) -> dict[str, Any]:
    return {"cyclonedx": schemas.official_cyclonedx_1_6(shared_data), "spdx": schemas.official_spdx_2_3(shared_data)}


@settings(max_examples=40, deadline=None)
@given(doc=path_info_documents(), fmt=st.sampled_from(["cyclonedx", "spdx"]))
def test_json_formats_are_valid_against_the_official_schemas(official: dict[str, Any], doc: tuple[list[dict[str, Any]], dict[str, bytes]], fmt: str) -> None:
    assert schemas.errors(official[fmt], json.loads(write_sbom(_closure(doc[0]), fmt))) == []


# packageurl-python strips white space around a name and leaves '/' unencoded in a
# version; no store name has either, so both are left out here.
_purl_text = st.text(min_size=1).filter(lambda s: s == s.strip() and "/" not in s)


@settings(max_examples=200, deadline=None)
@given(name=_purl_text, version=st.one_of(st.none(), _purl_text))
def test_purl_encodes_as_packageurl_python_does(name: str, version: str | None) -> None:
    """Any text, not only Nix's alphabet: the reference implementation agrees."""
    assert nix_purl(name, version) == PackageURL(type="nix", name=name, version=version).to_string()
    parsed = PackageURL.from_string(nix_purl(name, version))
    assert (parsed.name, parsed.version) == (name, version)


@pytest.mark.parametrize(
    ("name", "version", "purl"),
    [
        ("gtk+3", "3.24.41", "pkg:nix/gtk%2B3@3.24.41"),  # '+' would read back as a space
        ("foo?bar", None, "pkg:nix/foo%3Fbar"),  # '?' would start the qualifiers
        ("a=b", "1_2~rc", "pkg:nix/a%3Db@1_2~rc"),  # '_' and '~' stay as they are
        ("python3.11-pyyaml", "6.0.1-dist", "pkg:nix/python3.11-pyyaml@6.0.1-dist"),
        ("x", "1:2", "pkg:nix/x@1:2"),  # the colon is never encoded
        ("x", "", "pkg:nix/x"),
    ],
)
def test_purl_percent_encoding(name: str, version: str | None, purl: str) -> None:
    assert nix_purl(name, version) == purl


def test_a_name_nix_cannot_split_keeps_the_whole_store_name() -> None:
    """``-1.0``: DrvName's name is empty; an SBOM component needs one."""
    path = f"/nix/store/{NIX32[:32]}--1.0"
    closure = _closure([{"path": path, "narHash": to_sri("sha256", "00" * 32), "references": []}])
    assert closure.paths[path].name == ""
    (component,) = parse_sbom(write_sbom(closure, "cyclonedx"), "x").components
    assert (component.name, component.version, component.purl) == ("-1.0", None, "pkg:nix/-1.0")


def test_a_top_level_path_outside_the_closure_is_an_input_error() -> None:
    path = f"/nix/store/{NIX32[:32]}-app-1.0"
    closure = _closure([{"path": path, "narHash": to_sri("sha256", "00" * 32), "references": []}])
    broken = closure.model_copy(update={"roots": (f"/nix/store/{NIX32[1:33]}-gone-1.0",)})
    with pytest.raises(InputError, match=r"^generated.json: top-level path /nix/store/\S+-gone-1.0 is not in the closure$"):
        write_sbom(broken, "cyclonedx")
    assert gc.isenabled()  # the writer pauses the cycle collector, and gives it back on failure too
