"""Fuzz targets for every reader: JSON (duplicate keys, deep nesting, odd encodings), TOML,
SPDX tag-value and packet tarballs. Each target feeds a generated input to the real reader
and checks the contract: a value, or an error the tool raises on purpose (one line naming
the source), never another exception. ``tests/test_fuzz_readers.py`` runs them briefly in
CI; ``scripts/fuzz`` runs them longer and prints how many cases ran."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from compliance.errors import ComplianceError, InputError, MalformedJSON
from compliance.util.jsonparse import loads_json

COUNTS: dict[str, int] = {}

_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
json_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5), max_leaves=30)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1"]


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


def _with_duplicate(pairs: list[tuple[str, Any]], key: str, ascii_only: bool) -> str:
    items = [(key, None), *pairs, (key, 1)]
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=ascii_only)}: {json.dumps(v)}" for k, v in items) + "}"


@st.composite
def duplicated_documents(draw: st.DrawFn) -> tuple[str, str]:
    """A JSON text with one object holding ``key`` twice, somewhere inside a value."""
    key = draw(st.text(max_size=8))
    pairs = draw(st.lists(st.tuples(st.text(max_size=8).filter(lambda k: k != key), json_values), max_size=4, unique_by=lambda p: p[0]))
    inner = _with_duplicate(pairs, key, draw(st.booleans()))
    depth = draw(st.integers(0, 5))
    return "[" * depth + inner + "]" * depth, key


def json_roundtrip(value: Any, ascii_only: bool) -> None:
    _count("json")
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert loads_json(text.encode()) == json.loads(text)


def json_duplicate(document: tuple[str, str]) -> None:
    _count("json-duplicate")
    text, key = document
    try:
        loads_json(text.encode())
    except MalformedJSON as exc:
        assert exc.problem == f"duplicate key {json.dumps(key)}", exc.problem
    else:
        raise AssertionError(f"a duplicate key {key!r} was accepted: {text}")


def json_depth(depth: int, kind: str) -> None:
    _count("json-depth")
    text = ("[" * depth + "]" * depth) if kind == "array" else ('{"a":' * depth + "1" + "}" * depth)
    try:
        loads_json(text.encode())
    except MalformedJSON as exc:
        assert depth > 1000 and "depth" in exc.problem, (depth, exc.problem)


def json_bytes(data: bytes) -> None:
    _count("json-bytes")
    from compliance.util.fsutil import parse_json

    try:
        parse_json(data, "fuzz.json")
    except InputError as exc:
        assert str(exc).startswith("fuzz.json: ") and "\n" not in str(exc)


def sbom_encoded(value: Any, encoding: str) -> None:
    """A JSON document in an odd encoding: read as its UTF-8 self would be, or refused."""
    _count("sbom-encoding")
    from compliance.inputs.sbom import parse_sbom

    text = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [], "metadata": {"x": value}})
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        return
    try:
        parse_sbom(data, "fuzz.cdx.json")
    except InputError as exc:
        assert str(exc).startswith("fuzz.cdx.json: ")


def toml_text(text: str) -> None:
    _count("toml")
    from compliance.inputs.documents import load_document

    try:
        load_document("fuzz.toml", text.encode("utf-8", "surrogatepass"))
    except InputError as exc:
        assert str(exc).startswith("fuzz.toml: ") and "\n" not in str(exc)


TAGS = ["SPDXVersion", "DataLicense", "SPDXID", "DocumentName", "DocumentNamespace", "Creator", "Created", "PackageName",
        "PackageVersion", "PackageSupplier", "PackageChecksum", "ExternalRef", "Relationship", "PackageLicenseConcluded",
        "PackageFileName", "FileName", "PrimaryPackagePurpose", "Unknown"]
tag_lines = st.lists(st.tuples(st.sampled_from(TAGS), st.text(max_size=40).map(lambda v: v.replace("\n", " "))), max_size=30)


def tag_value(lines: list[tuple[str, str]]) -> None:
    _count("tag-value")
    from compliance.inputs.sbom import spdx_tag_reader

    text = "SPDXVersion: SPDX-2.3\n" + "".join(f"{tag}: {value}\n" for tag, value in lines)
    try:
        spdx_tag_reader.parse(text, "fuzz.spdx")
    except InputError as exc:
        assert str(exc).startswith("fuzz.spdx: ")


member_names = st.sampled_from(["manifest.json", "results.json", "inputs/sbom.json", "../escape", "/abs", "a/../../b", "dir/", "ok.txt", "x" * 120])


@st.composite
def tarballs(draw: st.DrawFn) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=draw(st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]))) as tar:
        for _ in range(draw(st.integers(0, 6))):
            info = tarfile.TarInfo(draw(member_names))
            kind = draw(st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE]))
            info.type = kind
            data = draw(st.binary(max_size=64)) if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = draw(member_names)
            try:
                tar.addfile(info, io.BytesIO(data))
            except ValueError:  # a name this tar format cannot hold
                continue
    raw = buffer.getvalue()
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut]
    return gzip.compress(raw, mtime=0)


def tarball(data: bytes) -> None:
    _count("tar")
    from compliance.evidence.archive import read_archive

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "packet.tar.gz"
        path.write_bytes(data)
        try:
            read_archive(path)
        except ComplianceError as exc:
            assert "\n" not in str(exc)
