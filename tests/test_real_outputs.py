"""Real outputs of the tools around the gate, read as they are: every shape of Nix's
path-info JSON (up to 2.33's wrapped, structured ``--json-format 2``), SBOMs with a
byte-order mark or in UTF-16, osv-scanner results for git sources, and SBOMs written with
the output name out of the purl version."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from compliance.inputs.closure import json_format_args, parse_closure
from compliance.nix.hashes import nix32_encode, sha256_hex
from compliance.nix.storepath import split_output
from compliance.sbomgen.purl_build import nix_purl

FOO = "/nix/store/n5wkd9frr45pa74if5gpz9j7mifg27fh-foo"
BAR = "/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar"
DIGEST = base64.b64decode("FePFYIlMuycIXPZbWi7LGEiMmZSX9FMbaQenWBzm1Sc=")


def _vector(shared: Path, version: int) -> dict[str, Any]:
    doc = json.loads((shared / "nix" / f"nix-path-info.json-v{version}.impure.json").read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("form", ["base64", "base16", "nix32", "sri"])
def test_nix_2_33_wrapped_document_with_structured_hashes(form: str) -> None:
    text = {"base64": base64.b64encode(DIGEST).decode(), "base16": DIGEST.hex(), "nix32": nix32_encode(DIGEST),
            "sri": "sha256-" + base64.b64encode(DIGEST).decode()}[form]
    structured = {"algorithm": "sha256", "format": form, "hash": text}
    doc = {
        "version": 2,
        "storeDir": "/nix/store",
        "info": {
            BAR[len("/nix/store/"):]: {"narHash": structured, "narSize": 34878, "references": [FOO[len("/nix/store/"):]],
                                      "ca": {"method": "nar", "hash": structured}, "deriver": "g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar.drv",
                                      "signatures": [{"keyName": "asdf", "sig": "AAAA"}], "version": 2},
            FOO[len("/nix/store/"):]: {"narHash": structured, "narSize": 1, "references": []},
        },
    }
    closure = parse_closure(json.dumps(doc).encode(), "nix-2.33.json")
    assert closure.roots == (BAR,)
    bar = closure.paths[BAR]
    assert bar.references == (FOO,)
    assert bar.deriver == BAR + ".drv"
    assert bar.signatures == ("asdf:AAAA",)
    assert bar.nar_hash is not None and sha256_hex(bar.nar_hash) == DIGEST.hex()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_upstream_vectors_wrapped_as_nix_2_33_prints_them(shared_data: Path, version: int) -> None:
    info = _vector(shared_data, version)
    doc = {"version": 2, "storeDir": "/nix/store",
           "info": {BAR: info, FOO: {"narHash": info["narHash"], "references": []}}}
    closure = parse_closure(json.dumps(doc).encode(), "vector")
    assert closure.paths[BAR].nar_size == 34878 and closure.paths[BAR].references == (BAR, FOO)


def test_an_unknown_structured_hash_format_is_named() -> None:
    from compliance.errors import InputError

    doc = {"version": 2, "info": {FOO: {"narHash": {"algorithm": "sha256", "format": "base58", "hash": "x"}, "references": []}}}
    with pytest.raises(InputError) as caught:
        parse_closure(json.dumps(doc).encode(), "c.json")
    assert str(caught.value) == f"c.json: {FOO}: 'narHash': unknown hash format 'base58' (expected base16, nix32, base64 or sri)"


@pytest.mark.parametrize(("line", "args"), [
    ("nix (Nix) 2.8.0", []),
    ("nix (Nix) 2.32.4", []),
    ("nix (Nix) 2.33.0", ["--json-format", "2"]),
    ("nix (Nix) 3.0.1", ["--json-format", "2"]),
])
def test_the_live_query_asks_for_a_format_it_reads(line: str, args: list[str]) -> None:
    assert json_format_args(line) == args


@pytest.mark.parametrize(("version", "split"), [
    ("3.0.13-bin", ("3.0.13", "bin")),
    ("3.0.13", ("3.0.13", None)),
    ("1.0-rc1", ("1.0-rc1", None)),
    ("2.39.3-lib", ("2.39.3", "lib")),
    (None, (None, None)),
])
def test_output_names_are_split_from_versions(version: str | None, split: tuple[str | None, str | None]) -> None:
    assert split_output(version) == split


def test_a_purl_carries_the_output_as_a_qualifier() -> None:
    assert nix_purl("openssl", "3.0.13", "bin") == "pkg:nix/openssl@3.0.13?output=bin"
    assert nix_purl("openssl", "3.0.13") == "pkg:nix/openssl@3.0.13"


def test_a_written_sbom_keeps_output_names_out_of_versions(tmp_path: Path) -> None:
    from tests.support.cli import run

    entries = [
        {"path": "/nix/store/" + "a" * 32 + "-openssl-3.0.13-bin", "narHash": "sha256-" + "A" * 43 + "=", "narSize": 1,
         "references": ["/nix/store/" + "b" * 32 + "-openssl-3.0.13"]},
        {"path": "/nix/store/" + "b" * 32 + "-openssl-3.0.13", "narHash": "sha256-" + "A" * 43 + "=", "narSize": 1, "references": []},
    ]
    closure = tmp_path / "closure.json"
    closure.write_text(json.dumps(entries))
    for fmt in ("cyclonedx", "spdx", "spdx-tv"):
        out = tmp_path / f"sbom.{fmt}"
        result = run("sbom", "--closure", str(closure), "--format", fmt, "-o", str(out))
        assert result.code == 0, result.stderr
        text = out.read_text()
        assert "3.0.13-bin" not in text.replace("openssl-3.0.13-bin", ""), fmt
        assert "pkg:nix/openssl@3.0.13?output=bin" in text, fmt


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom", "utf-32"])
@pytest.mark.parametrize("name", ["spdx/SPDXJSONExample-v2.3.spdx.json", "spdx/SPDXTagExample-v2.3.spdx"])
def test_spdx_with_a_byte_order_mark_is_read(shared_data: Path, encoding: str, name: str) -> None:
    from compliance.inputs.sbom import parse_sbom

    text = (shared_data / name).read_text(encoding="utf-8")
    data = {"utf-16-le-bom": b"\xff\xfe" + text.encode("utf-16-le"), "utf-16-be-bom": b"\xfe\xff" + text.encode("utf-16-be")}.get(
        encoding) or text.encode(encoding)
    expected = parse_sbom(text.encode("utf-8"), name)
    assert parse_sbom(data, name).components == expected.components


def test_a_byte_order_mark_that_lies_is_named() -> None:
    from compliance.errors import InputError
    from compliance.inputs.sbom import parse_sbom

    with pytest.raises(InputError) as caught:
        parse_sbom(b"\xff\xfe{\x00\x00\xd8", "sbom.json")
    assert str(caught.value).startswith("sbom.json: starts with a UTF-16-LE byte-order mark but is not UTF-16-LE text")


def _osv_git(commit: str) -> dict[str, Any]:
    return {"results": [{"source": {"path": "/src/release", "type": "git"}, "packages": [{
        "package": {"name": "", "version": "", "ecosystem": "", "commit": commit},
        "vulnerabilities": [{"id": "OSV-2099-1", "summary": "a bug in a vendored checkout", "affected": [],
                             "database_specific": {"severity": "HIGH"}}],
        "groups": [{"ids": ["OSV-2099-1"], "aliases": [], "max_severity": "7.5"}],
    }]}]}


def test_osv_scanner_results_for_git_sources_are_read() -> None:
    from compliance.inputs.scanners import load_vulnerability_reports

    commit = "0123456789abcdef0123456789abcdef01234567"
    data = load_vulnerability_reports([("osv.json", json.dumps(_osv_git(commit)).encode())])
    (finding,) = data.findings
    assert (finding.component.name, finding.component.version) == ("git:/src/release", commit)
    assert finding.id == "OSV-2099-1" and finding.severity.value == "high"


def test_osv_git_findings_are_listed_by_the_gate(tmp_path: Path) -> None:
    from tests.support.cli import run
    from tests.support.inputs import gate_args, write_release

    files = write_release(tmp_path / "release")
    report = tmp_path / "osv.json"
    report.write_text(json.dumps(_osv_git("0123456789abcdef0123456789abcdef01234567")))
    args = gate_args(files)
    args[args.index("--vulns") + 1] = str(report)
    result = run(*args, "--format", "json")
    assert result.code in (0, 1), result.stderr
    assert "OSV-2099-1" in result.stdout


def test_a_package_with_neither_name_nor_commit_is_still_refused() -> None:
    from compliance.errors import InputError
    from compliance.inputs.scanners import load_vulnerability_reports

    doc = _osv_git("")
    with pytest.raises(InputError) as caught:
        load_vulnerability_reports([("osv.json", json.dumps(doc).encode())])
    assert "missing (and no commit: not a git source either)" in str(caught.value)


def test_the_matcher_places_a_finding_on_an_output_by_its_qualified_purl() -> None:
    from compliance.inputs.sbom import parse_sbom
    from compliance.models.vulns import ComponentRef
    from compliance.sbomgen.sbom_files import write_sbom
    from compliance.vulns.inventory import Inventory

    bin_path = "/nix/store/" + "a" * 32 + "-openssl-3.0.13-bin"
    out_path = "/nix/store/" + "b" * 32 + "-openssl-3.0.13"
    entries = [{"path": bin_path, "narHash": "sha256-" + "A" * 43 + "=", "references": [out_path]},
               {"path": out_path, "narHash": "sha256-" + "A" * 43 + "=", "references": []}]
    closure = parse_closure(json.dumps(entries).encode(), "closure.json")
    sbom = parse_sbom(write_sbom(closure, "cyclonedx"), "sbom.cdx.json")
    inventory = Inventory(closure, sbom)
    qualified = inventory.locate(ComponentRef(purl="pkg:nix/openssl@3.0.13?output=bin"))
    assert qualified is not None and bin_path in qualified.paths
    by_name = inventory.locate(ComponentRef(name="openssl", version="3.0.13"))
    assert by_name is not None and set(by_name.paths) == {bin_path, out_path}
