"""Building packets: the documented layout, the release binding, no private key inside,
byte-identical output for the same inputs, key and SOURCE_DATE_EPOCH."""

from __future__ import annotations

import base64
import dataclasses
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from compliance import formats
from compliance.assess.assessment import input_ref
from compliance.errors import UsageError
from compliance.evidence.archive import read_archive
from compliance.evidence.layout import PREDICATE_TYPE, UNLISTED
from compliance.evidence.packet import Packet, open_packet
from compliance.evidence.packet_verify import verify_packet
from compliance.evidence.tarball import packet_tarball
from compliance.runs.evidence_run import packet_files
from compliance.runs.gate_run import GateOptions, GateRun, LoadedInput, run_gate
from compliance.signing.keys import decrypt_private_key, load_public_key
from compliance.util.canonical import canonical_json
from tests.support import nix
from tests.support.cli import one_line_error, run
from tests.support.evidence import (
    FIXED_TIME,
    PASSWORD,
    KeyPair,
    build_files,
    cli_env,
    make_key_pair,
    release_run,
    write_directory,
)
from tests.support.inputs import gate_args, write_release

EXPECTED_FILES = {
    "manifest.json", "manifest.json.sig", "manifest.json.sigstore.json", "statement.dsse.json", "statement.sigstore.json",
    "results.json", "report.pdf", "report.html",
    "exports/assessment-results.oscal.json", "exports/results.sarif", "exports/junit.xml",
    "inputs/closure-closure.json", "inputs/sbom-sbom.cdx.json", "inputs/facts-facts.json", "inputs/flake-lock-flake.lock",
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GateRun]:
    directory = tmp_path_factory.mktemp("release")
    return directory, release_run(directory)


@pytest.fixture(scope="module")
def files(release: tuple[Path, GateRun], keys: KeyPair) -> dict[str, bytes]:
    return build_files(release[1], keys, include_pdf=True)


def test_packet_holds_the_documented_files(files: dict[str, bytes]) -> None:
    assert set(files) == EXPECTED_FILES


def test_manifest_is_canonical_and_lists_every_other_file(files: dict[str, bytes], keys: KeyPair) -> None:
    raw = files["manifest.json"]
    manifest = json.loads(raw)
    assert canonical_json(manifest) == raw
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(files) - set(UNLISTED)
    for path, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest() and entry["size"] == len(files[path])
    assert manifest["key_fingerprint"] == load_public_key(keys.public).fingerprint
    assert manifest["created"] == "2026-11-01T00:00:00Z"
    assert manifest["predicate_type"] == PREDICATE_TYPE


def test_inputs_are_kept_verbatim(files: dict[str, bytes], release: tuple[Path, GateRun]) -> None:
    manifest = json.loads(files["manifest.json"])
    assert {i["kind"] for i in manifest["inputs"]} == {"closure", "sbom", "facts", "flake-lock"}
    for item in manifest["inputs"]:
        original = Path(item["path"]).read_bytes()
        assert files[item["file"]] == original
        assert item["sha256"] == hashlib.sha256(original).hexdigest()


def test_statement_binds_the_release_and_the_manifest(files: dict[str, bytes], release: tuple[Path, GateRun]) -> None:
    closure = json.loads((release[0] / "closure.json").read_bytes())
    top = closure[-1]  # the generator writes the top-level path last
    nar = base64.b64decode(top["narHash"].removeprefix("sha256-")).hex()
    envelope = json.loads(files["statement.dsse.json"])
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": top["path"], "digest": {"sha256": nar}}]
    assert statement["predicateType"] == PREDICATE_TYPE
    predicate = statement["predicate"]
    assert predicate["manifest"] == {"path": "manifest.json", "sha256": hashlib.sha256(files["manifest.json"]).hexdigest()}
    assert predicate["results"]["sha256"] == hashlib.sha256(files["results.json"]).hexdigest()
    assert predicate["verdict"] == release[1].report.decision.verdict
    assert sum(predicate["counts"].values()) == len(release[1].report.assessment.results)
    assert json.loads(files["statement.sigstore.json"])["dsseEnvelope"] == envelope


def test_results_exports_and_report_come_from_the_run(files: dict[str, bytes], release: tuple[Path, GateRun], tmp_path: Path) -> None:
    report = release[1].report
    assert files["results.json"] == formats.render("json", report)
    assert files["exports/assessment-results.oscal.json"] == formats.render("oscal", report)
    assert files["exports/results.sarif"] == formats.render("sarif", report)
    assert files["exports/junit.xml"] == formats.render("junit", report)
    packet_id = json.loads(files["manifest.json"])["packet_id"]
    html = files["report.html"].decode()
    assert packet_id in html and "compliance evidence verify PACKET --key cosign.pub" in html
    assert files["report.pdf"].startswith(b"%PDF-")
    (tmp_path / "report.pdf").write_bytes(files["report.pdf"])
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert packet_id in " ".join(text.split())


def test_no_private_key_enters_the_packet(files: dict[str, bytes], keys: KeyPair) -> None:
    private = decrypt_private_key(keys.private.read_bytes(), PASSWORD.encode(), "cosign.key")
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    encrypted_body = b"".join(keys.private.read_bytes().splitlines()[1:-1])
    for path, data in files.items():
        assert b"PRIVATE KEY" not in data, path
        assert scalar not in data and pkcs8 not in data and encrypted_body[:40] not in data, path


def test_an_input_holding_a_private_key_is_refused(release: tuple[Path, GateRun], keys: KeyPair) -> None:
    leaked = keys.private.read_bytes()
    run_with_key = dataclasses.replace(release[1], inputs=[*release[1].inputs, LoadedInput(input_ref("facts", "oops.json", leaked), leaked)])
    with pytest.raises(UsageError, match=r"oops\.json: holds a private key"):
        packet_files(run_with_key, keys.signer(), include_pdf=False)


def test_large_inputs_are_kept_by_digest_only(release: tuple[Path, GateRun], keys: KeyPair) -> None:
    files = packet_files(release[1], keys.signer(), include_pdf=False, max_input_bytes=4096)
    manifest = json.loads(files["manifest.json"])
    kept = {i["kind"]: i.get("file") for i in manifest["inputs"]}
    assert kept["closure"] is None and kept["sbom"] is None  # tens of kilobytes
    assert kept["flake-lock"] == "inputs/flake-lock-flake.lock"
    assert not any(p.startswith("inputs/closure") for p in files)
    assert verify_packet(Packet("p", files), load_public_key(keys.public)).valid


def test_same_inputs_give_byte_identical_directories_and_tarballs(release: tuple[Path, GateRun], keys: KeyPair, tmp_path: Path) -> None:
    first = packet_files(release[1], keys.signer(), include_pdf=False)
    second = packet_files(release[1], keys.signer(), include_pdf=False)
    assert first == second
    a, b = write_directory(first, tmp_path / "a"), write_directory(second, tmp_path / "b")
    assert sorted(p.relative_to(a) for p in a.rglob("*")) == sorted(p.relative_to(b) for p in b.rglob("*"))
    for path in a.rglob("*"):
        twin = b / path.relative_to(a)
        assert path.stat().st_mode == twin.stat().st_mode and int(path.stat().st_mtime) == FIXED_TIME
        if path.is_file():
            assert path.read_bytes() == twin.read_bytes()
    assert packet_tarball(first, FIXED_TIME) == packet_tarball(second, FIXED_TIME)


def test_tarball_entries_are_normalised(files: dict[str, bytes]) -> None:
    data = packet_tarball(files, FIXED_TIME)
    assert data[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no flags: no file name, no comment
    assert data[4:8] == b"\0\0\0\0"  # gzip mtime 0
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == ["exports", "inputs", *sorted(files)]
    for member in members:
        assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (0, 0, "", "", FIXED_TIME)
        assert member.mode == (0o755 if member.isdir() else 0o644)
        assert member.isdir() or member.isreg()
    assert read_archive_bytes(data) == files


def read_archive_bytes(data: bytes) -> dict[str, bytes]:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".tar.gz") as handle:
        handle.write(data)
        handle.flush()
        return read_archive(handle.name)


@pytest.mark.slow
def test_gate_writes_identical_packets_in_separate_processes(keys: KeyPair, tmp_path: Path) -> None:
    """PDF included: two gate runs, one to a tarball and one to a directory, same bytes."""
    release = write_release(tmp_path / "release")
    first = run(*gate_args(release), "--evidence", "packet.tar.gz", "--key", str(keys.private), env=cli_env(), cwd=tmp_path)
    second = run(*gate_args(release), "--evidence", "packet", "--key", str(keys.private), env=cli_env(), cwd=tmp_path)
    assert first.code == second.code and first.code in (0, 1), first.stderr + second.stderr
    tarball = (tmp_path / "packet.tar.gz").read_bytes()
    directory = open_packet(tmp_path / "packet")
    assert read_archive(tmp_path / "packet.tar.gz") == directory.files
    assert packet_tarball(directory.files, FIXED_TIME) == tarball
    assert "report.pdf" in directory.files


def test_gate_refuses_to_overwrite_a_directory(keys: KeyPair, tmp_path: Path) -> None:
    release = write_release(tmp_path / "release")
    out = tmp_path / "packet"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = run(*gate_args(release), "--evidence", str(out), "--key", str(keys.private), env=cli_env())
    assert result.code == 2
    assert "already exists" in one_line_error(result)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".packet")]  # no staging left behind


def test_the_report_verify_commands_work_as_printed(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    from compliance.evidence.commands import verify_commands

    packet = write_directory(files, tmp_path / "packet")
    shutil.copy(keys.public, tmp_path / "cosign.pub")
    commands = verify_commands("/nix/store/x")
    setup = next(c for c in commands if "mktemp -d" in c)
    openssl_command = next(c for c in commands if "openssl dgst" in c)
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir()
    ok = subprocess.run(["bash", "-c", f"set -e\n{setup}\ncd packet\n{openssl_command}"], cwd=tmp_path, capture_output=True, text=True,
                        env={**os.environ, "TMPDIR": str(scratch_root)}, check=False)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout, ok.stdout + ok.stderr
    assert sorted(p.name for p in packet.iterdir()) == sorted({path.split("/")[0] for path in files})  # nothing left in the packet
    if shutil.which("jq"):
        sums = next(c for c in commands if "sha256sum -c" in c)
        checked = subprocess.run(["bash", "-c", sums], cwd=packet, capture_output=True, text=True, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        (packet / "report.html").write_bytes(b"changed")
        assert subprocess.run(["bash", "-c", sums], cwd=packet, capture_output=True, check=False).returncode != 0


@nix.requires_nix
def test_statement_subject_is_the_nar_hash_of_a_real_closure(keys: KeyPair, tmp_path: Path) -> None:
    """The statement's subject digest is what ``nix-store --dump PATH | sha256sum`` prints,
    so ``cosign verify-blob-attestation`` can check it against the NAR itself."""
    store_path = nix.build_release(tmp_path)
    gate_run = run_gate(GateOptions(closure=store_path))
    files = packet_files(gate_run, keys.signer(), include_pdf=False)
    statement = json.loads(base64.b64decode(json.loads(files["statement.dsse.json"])["payload"]))
    nar = subprocess.run(["nix-store", "--dump", store_path], capture_output=True, check=True, env=nix.nix_env()).stdout
    assert statement["subject"] == [{"name": store_path, "digest": {"sha256": hashlib.sha256(nar).hexdigest()}}]
    assert verify_packet(Packet("nix", files), load_public_key(keys.public)).valid


def test_a_wrong_password_is_one_line_and_no_packet(keys: KeyPair, tmp_path: Path) -> None:
    release = write_release(tmp_path / "release")
    out = tmp_path / "packet.tar.gz"
    result = run(*gate_args(release), "--evidence", str(out), "--key", str(keys.private), env={**cli_env(), "COSIGN_PASSWORD": "wrong"})
    assert result.code == 2
    assert f"{keys.private}: wrong password (COSIGN_PASSWORD) or corrupted key" in one_line_error(result)
    assert not out.exists() and not list(tmp_path.glob(".packet*"))
