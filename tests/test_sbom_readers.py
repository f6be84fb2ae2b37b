"""SBOM readers: real third-party documents, every format into one component model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import InputError
from compliance.inputs.sbom import parse_sbom, read_sbom

# file, format, spec version, components, with a store path, with a licence, described
REAL = [
    ("cyclonedx/laravel-7.12.0.bom.1.4.json", "cyclonedx", "1.4", 63, 0, 62, 1),
    ("cyclonedx/dropwizard-1.3.15-vulns.cdx-1.5.json", "cyclonedx", "1.5", 168, 0, 133, 1),
    ("cyclonedx/syft-alpine-container.cdx-1.6.json", "cyclonedx", "1.6", 17, 0, 15, 1),
    ("nix/genealogos-hello.cdx-1.5.json", "cyclonedx", "1.5", 179, 179, 99, 0),
    ("nix/nixos-23.11-system.sbomnix-1.4.6.cdx-1.3.json", "cyclonedx", "1.3", 628, 628, 0, 1),
    ("spdx/SPDXJSONExample-v2.3.spdx.json", "spdx", "2.3", 4, 0, 2, 1),
    ("spdx/SPDXTagExample-v2.3.spdx", "spdx", "2.3", 4, 0, 2, 1),
    ("spdx/examplemaven-0.0.1-enriched.spdx.json", "spdx", "2.3", 6, 0, 2, 1),
]


@pytest.mark.parametrize(("name", "fmt", "spec", "count", "stored", "licensed", "described"), REAL)
def test_real_sboms(shared_data: Path, name: str, fmt: str, spec: str, count: int, stored: int, licensed: int, described: int) -> None:
    sbom = read_sbom(shared_data / name)
    assert (sbom.format, sbom.spec_version, len(sbom.components)) == (fmt, spec, count)
    assert sum(1 for c in sbom.components if c.store_path) == stored
    assert sum(1 for c in sbom.components if c.licenses) == licensed
    assert len(sbom.described) == described


def test_sbomnix_output_paths_and_dependencies(shared_data: Path) -> None:
    sbom = read_sbom(shared_data / "nix/nixos-23.11-system.sbomnix-1.4.6.cdx-1.3.json")
    top = next(c for c in sbom.components if c.ref == sbom.described[0])
    assert top.store_path == "/nix/store/39j31iqf9qw9b77hn3vyc1r9rdqdmd8y-nixos-system-nixos-23.11.20231119.e4ad989"
    assert top.depends_on and sbom.has_dependency_graph


def test_spdx_json_and_tag_value_examples_agree(shared_data: Path) -> None:
    """The SPDX project's JSON and tag-value examples describe the same packages."""
    as_json = read_sbom(shared_data / "spdx/SPDXJSONExample-v2.3.spdx.json")
    as_tag = read_sbom(shared_data / "spdx/SPDXTagExample-v2.3.spdx")
    key = lambda s: sorted((c.ref, c.name, c.version, c.purl, tuple(sorted(c.hashes.items()))) for c in s.components)  # noqa: E731
    assert key(as_json) == key(as_tag)
    assert as_json.described == as_tag.described


# ---------------------------------------------------------------------------- round trips

component = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[a-z][a-z0-9\-]{0,12}", fullmatch=True),
        "version": st.one_of(st.none(), st.from_regex(r"[0-9][0-9.]{0,6}", fullmatch=True)),
        "licence": st.one_of(st.none(), st.sampled_from(["MIT", "Apache-2.0", "GPL-2.0-only OR MIT", "BSD-3-Clause"])),
        "sha256": st.one_of(st.none(), st.binary(min_size=32, max_size=32).map(bytes.hex)),
    }
)


def _cyclonedx(comps: list[dict[str, object]]) -> bytes:
    items = []
    for i, c in enumerate(comps):
        item: dict[str, object] = {"type": "library", "bom-ref": f"ref-{i}", "name": c["name"]}
        if c["version"]:
            item["version"] = c["version"]
        if c["licence"]:
            item["licenses"] = [{"expression": c["licence"]}] if " " in str(c["licence"]) else [{"license": {"id": c["licence"]}}]
        if c["sha256"]:
            item["hashes"] = [{"alg": "SHA-256", "content": c["sha256"]}]
        items.append(item)
    deps = [{"ref": f"ref-{i}", "dependsOn": [f"ref-{i - 1}"]} for i in range(1, len(comps))]
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": items, "dependencies": deps}).encode()


def _spdx_json(comps: list[dict[str, object]]) -> bytes:
    pkgs = []
    for i, c in enumerate(comps):
        pkg: dict[str, object] = {"SPDXID": f"SPDXRef-p{i}", "name": c["name"], "downloadLocation": "NOASSERTION",
                                  "licenseConcluded": c["licence"] or "NOASSERTION"}
        if c["version"]:
            pkg["versionInfo"] = c["version"]
        if c["sha256"]:
            pkg["checksums"] = [{"algorithm": "SHA256", "checksumValue": c["sha256"]}]
        pkgs.append(pkg)
    rels = [{"spdxElementId": f"SPDXRef-p{i}", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": f"SPDXRef-p{i - 1}"} for i in range(1, len(comps))]
    return json.dumps({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": pkgs, "relationships": rels}).encode()


def _spdx_tag(comps: list[dict[str, object]]) -> bytes:
    lines = ["SPDXVersion: SPDX-2.3", "DataLicense: CC0-1.0", "SPDXID: SPDXRef-DOCUMENT", "DocumentName: x", ""]
    for i, c in enumerate(comps):
        lines += [f"PackageName: {c['name']}", f"SPDXID: SPDXRef-p{i}", "PackageDownloadLocation: NOASSERTION"]
        if c["version"]:
            lines.append(f"PackageVersion: {c['version']}")
        lines.append(f"PackageLicenseConcluded: {c['licence'] or 'NOASSERTION'}")
        if c["sha256"]:
            lines.append(f"PackageChecksum: SHA256: {c['sha256']}")
        lines += ["PackageComment: <text>a comment", "FileName: ./not-a-package-field", "</text>", ""]
    lines += [f"Relationship: SPDXRef-p{i} DEPENDS_ON SPDXRef-p{i - 1}" for i in range(1, len(comps))]
    return "\n".join(lines).encode()


@given(st.lists(component, min_size=1, max_size=15))
@settings(max_examples=60)
def test_every_format_reads_into_the_same_components(comps: list[dict[str, object]]) -> None:
    docs = {"cdx": parse_sbom(_cyclonedx(comps), "c"), "spdx": parse_sbom(_spdx_json(comps), "s"), "tv": parse_sbom(_spdx_tag(comps), "t")}
    for sbom in docs.values():
        assert [(c.name, c.version) for c in sbom.components] == [(c["name"], c["version"]) for c in comps]
        assert [c.licenses for c in sbom.components] == [((c["licence"],) if c["licence"] else ()) for c in comps]
        assert [c.hashes.get("sha256") for c in sbom.components] == [c["sha256"] for c in comps]
        assert [len(c.depends_on) for c in sbom.components] == [0] + [1] * (len(comps) - 1)


@given(st.binary(max_size=300))
def test_garbage_is_an_input_error_never_a_crash(data: bytes) -> None:
    try:
        parse_sbom(data, "garbage")
    except InputError as exc:
        assert str(exc).startswith("garbage: ")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty file"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"version": "1"}]}', "has no 'name' string"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.1"}', "not supported"),
        (b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}', "must be a list"),
        (b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}]}', "needs 'SPDXID'"),
        (b'{"spdxVersion": "SPDX-3.0"}', "not supported"),
        (b'{"hello": "world"}', "unknown SBOM format"),
        (b"SPDXVersion: SPDX-2.3\nPackageName: x\nPackageVersion: 1\n", "needs SPDXID"),
        (b"SPDXVersion: SPDX-2.3\nPackageComment: <text>never closed\n", "never closed"),
        (b"just some text", "unknown SBOM format"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "unknown SBOM format"),
    ],
)
def test_bad_sboms_name_the_problem(data: bytes, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as err:
        parse_sbom(data, "bom.json")
    assert str(err.value).startswith("bom.json: ")


def _spdx(relationships: list[tuple[str, str, str]]) -> bytes:
    packages = [{"SPDXID": f"SPDXRef-{n}", "name": n, "versionInfo": "1.0"} for n in ("app", "lib")]
    files = [{"SPDXID": "SPDXRef-file", "fileName": "./bin/app"}]
    rels = [{"spdxElementId": a, "relationshipType": t, "relatedSpdxElement": b} for a, t, b in relationships]
    doc = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "packages": packages, "files": files, "relationships": rels}
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("relationships", "graph", "app_depends_on"), [
    ([("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-app"), ("SPDXRef-app", "CONTAINS", "SPDXRef-file")], False, ("SPDXRef-file",)),
    ([("SPDXRef-app", "DEPENDS_ON", "SPDXRef-lib")], True, ("SPDXRef-lib",)),
    ([("SPDXRef-lib", "RUNTIME_DEPENDENCY_OF", "SPDXRef-app")], True, ("SPDXRef-lib",)),
    ([("SPDXRef-app", "DEPENDS_ON", "SPDXRef-elsewhere")], False, ("SPDXRef-elsewhere",)),
])
def test_spdx_dependency_graph_needs_an_edge_between_packages(relationships: list[tuple[str, str, str]], graph: bool, app_depends_on: tuple[str, ...]) -> None:
    sbom = parse_sbom(_spdx(relationships), "sbom.spdx.json")
    assert sbom.has_dependency_graph is graph
    assert next(c for c in sbom.components if c.name == "app").depends_on == app_depends_on
