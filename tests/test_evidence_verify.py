"""Verifying packets: every byte matters, every file is accounted for, only the right key
passes, and the output names each failed check and file. Exit 0 valid, 1 invalid, 2
unreadable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from compliance import formats
from compliance.evidence.layout import (
    MANIFEST,
    MANIFEST_BUNDLE,
    MANIFEST_SIGNATURE,
    STATEMENT_BUNDLE,
    STATEMENT_ENVELOPE,
)
from compliance.evidence.manifest import FileEntry, parse_manifest
from compliance.evidence.packet import Packet
from compliance.evidence.packet_verify import Verification, verify_packet
from compliance.evidence.tarball import packet_tarball
from compliance.runs.gate_run import GateRun
from compliance.signing.bundle import message_bundle
from compliance.signing.detached import encode_signature
from compliance.signing.keys import PublicKey, load_public_key
from tests.support.cli import one_line_error, run
from tests.support.evidence import (
    FIXED_TIME,
    KeyPair,
    build_files,
    flip,
    make_key_pair,
    release_run,
    write_directory,
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def public(keys: KeyPair) -> PublicKey:
    return load_public_key(keys.public)


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    return release_run(tmp_path_factory.mktemp("release"))


@pytest.fixture(scope="module")
def files(gate_run: GateRun, keys: KeyPair) -> dict[str, bytes]:
    return build_files(gate_run, keys, include_pdf=True)


def failures(result: Verification) -> dict[str, list[str]]:
    """check name → messages of its failures."""
    return {step.name: [f.message for f in step.failures] for step in result.steps if step.failures}


def test_a_fresh_packet_is_valid(files: dict[str, bytes], public: PublicKey) -> None:
    result = verify_packet(Packet("p", files), public)
    assert result.valid, failures(result)
    assert [s.name for s in result.steps] == ["manifest", "manifest-signature", "manifest-bundle", "statement", "files", "agreement"]


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_flipping_one_byte_in_any_file_is_caught_and_names_the_file(files: dict[str, bytes], public: PublicKey, position: str) -> None:
    for name, data in sorted(files.items()):
        index = {"first": 0, "middle": len(data) // 2, "last": len(data) - 1}[position]
        result = verify_packet(Packet("p", {**files, name: flip(data, index)}), public)
        assert not result.valid, f"{name} byte {index} changed and the packet still verifies"
        assert name in result.failed_files, (name, failures(result))


def test_a_removed_file_is_named(files: dict[str, bytes], public: PublicKey) -> None:
    for name in files:
        result = verify_packet(Packet("p", {k: v for k, v in files.items() if k != name}), public)
        assert not result.valid and name in result.failed_files, name
        assert any(name in m and "missing" in m for ms in failures(result).values() for m in ms), failures(result)


def test_an_added_file_is_named(files: dict[str, bytes], public: PublicKey) -> None:
    result = verify_packet(Packet("p", {**files, "inputs/extra.json": b"{}"}), public)
    assert failures(result) == {"files": ["inputs/extra.json: extra file, not listed in the manifest"]}


def test_another_key_fails_every_signature(files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> None:
    other = load_public_key(make_key_pair(tmp_path_factory.mktemp("other")).public)
    result = verify_packet(Packet("p", files), other)
    found = failures(result)
    assert set(found) == {"manifest-signature", "manifest-bundle", "statement"}
    assert "the manifest names key SHA256:" in found["manifest-signature"][0]
    assert any("signed with another key" in m for m in found["manifest-bundle"])
    assert {MANIFEST_SIGNATURE, MANIFEST_BUNDLE, STATEMENT_ENVELOPE, STATEMENT_BUNDLE} <= set(result.failed_files)


def test_a_resigned_manifest_that_disagrees_with_the_statement_is_caught(files: dict[str, bytes], gate_run: GateRun, keys: KeyPair, public: PublicKey) -> None:
    """Someone holding the key swaps results.json and re-signs the manifest but not the
    statement: the signatures verify, the agreement check does not."""
    signer = keys.signer()
    forged_results = formats.render("json", gate_run.report.model_copy(update={"decision": gate_run.report.decision.model_copy(update={"verdict": "pass", "passed": True})}))
    manifest = parse_manifest(files[MANIFEST], MANIFEST)
    entries = [e if e.path != "results.json" else FileEntry(path=e.path, sha256=hashlib.sha256(forged_results).hexdigest(), size=len(forged_results)) for e in manifest.files]
    forged_manifest = manifest.model_copy(update={"files": entries, "verdict": "pass", "passed": True}).to_bytes()
    signature = signer.sign(forged_manifest)
    forged = {
        **files, "results.json": forged_results, MANIFEST: forged_manifest,
        MANIFEST_SIGNATURE: encode_signature(signature), MANIFEST_BUNDLE: message_bundle(forged_manifest, signature, signer.public_key).to_json(),
    }
    result = verify_packet(Packet("p", forged), public)
    found = failures(result)
    assert set(found) == {"agreement"}, found
    assert any("manifest digest is not the sha256 of manifest.json" in m for m in found["agreement"])
    assert any("verdict" in m for m in found["agreement"])


def test_a_link_inside_a_directory_packet_is_invalid(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    packet = write_directory(files, tmp_path / "packet")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside")
    (packet / "report.html").unlink()
    os.symlink(secret, packet / "report.html")
    result = run("evidence", "verify", str(packet), "--key", str(keys.public))
    assert result.code == 1
    assert "FAILED  files               report.html: is a symbolic link, not a regular file" in result.stdout


def test_cli_valid_directory_and_tarball(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    directory = write_directory(files, tmp_path / "packet")
    tarball = tmp_path / "packet.tar.gz"
    tarball.write_bytes(packet_tarball(files, FIXED_TIME))
    for packet in (directory, tarball):
        result = run("evidence", "verify", str(packet), "--key", str(keys.public))
        assert result.code == 0, result.stdout + result.stderr
        assert result.stdout.count("\nok      ") == 6 and result.stdout.rstrip().endswith("VALID: every check passed")


@pytest.mark.skipif(shutil.which("tar") is None, reason="needs tar")
def test_a_packet_re_tarred_with_tar_is_valid(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    """``tar -czf p.tar.gz -C packet .`` writes './' and './name' entries: read as the packet."""
    directory = write_directory(files, tmp_path / "packet")
    tarball = tmp_path / "p.tar.gz"
    subprocess.run(["tar", "-czf", str(tarball), "-C", str(directory), "."], check=True)
    listed = subprocess.run(["tar", "-tzf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    assert "./" in listed and "./manifest.json" in listed
    result = run("evidence", "verify", str(tarball), "--key", str(keys.public))
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("VALID: every check passed")


def test_an_extra_empty_directory_is_named(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    directory = write_directory(files, tmp_path / "packet")
    (directory / "notes" / "empty").mkdir(parents=True)
    (directory / "inputs" / "more").mkdir()
    tarball = tmp_path / "p.tar.gz"
    subprocess.run(["tar", "-czf", str(tarball), "-C", str(directory), "."], check=True)
    for packet in (directory, tarball):
        result = run("evidence", "verify", str(packet), "--key", str(keys.public))
        assert result.code == 1, result.stdout + result.stderr
        for name in ("notes", "notes/empty", "inputs/more"):
            assert f"{name}: extra directory, holds no file of the packet" in result.stdout
        assert "exports: extra" not in result.stdout and "inputs: extra" not in result.stdout
        assert "files: inputs/more, notes, notes/empty" in result.stdout


def test_cli_tampered_tarball_names_the_check_and_file(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    tampered = {**files, "exports/results.sarif": flip(files["exports/results.sarif"], 10)}
    tarball = tmp_path / "packet.tar.gz"
    tarball.write_bytes(packet_tarball(tampered, FIXED_TIME))
    result = run("evidence", "verify", str(tarball), "--key", str(keys.public))
    assert result.code == 1
    assert "FAILED  files               exports/results.sarif: sha256 " in result.stdout
    assert result.stdout.rstrip().endswith("INVALID: 1 check(s) failed (files); files: exports/results.sarif")


def test_cli_removed_and_added_files_and_other_key(files: dict[str, bytes], keys: KeyPair, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = write_directory(files, tmp_path / "packet")
    (directory / "report.pdf").unlink()
    (directory / "inputs" / "notes.txt").write_text("added")
    result = run("evidence", "verify", str(directory), "--key", str(keys.public))
    assert result.code == 1
    assert "report.pdf: listed in the manifest but missing from the packet" in result.stdout
    assert "inputs/notes.txt: extra file, not listed in the manifest" in result.stdout

    intact = write_directory(files, tmp_path / "intact")
    other = make_key_pair(tmp_path_factory.mktemp("other"))
    result = run("evidence", "verify", str(intact), "--key", str(other.public))
    assert result.code == 1 and "FAILED  manifest-signature" in result.stdout


def test_cli_unreadable_input_exits_2_with_one_line(files: dict[str, bytes], keys: KeyPair, tmp_path: Path) -> None:
    missing = run("evidence", "verify", str(tmp_path / "nope.tar.gz"), "--key", str(keys.public))
    assert missing.code == 2 and "nope.tar.gz: no such packet" in one_line_error(missing)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    junk = run("evidence", "verify", str(tmp_path / "junk.tar.gz"), "--key", str(keys.public))
    assert junk.code == 2 and "junk.tar.gz: not a gzip-compressed tarball" in one_line_error(junk)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(packet_tarball(files, FIXED_TIME)[:5000])
    cut = run("evidence", "verify", str(truncated), "--key", str(keys.public))
    assert cut.code == 2 and "truncated.tar.gz: " in one_line_error(cut)
    (tmp_path / "bad.pub").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    bad_key = run("evidence", "verify", str(write_directory(files, tmp_path / "p")), "--key", str(tmp_path / "bad.pub"))
    assert bad_key.code == 2 and "bad.pub: not a PEM public key" in one_line_error(bad_key)
    no_key = run("evidence", "verify", str(tmp_path / "p"))
    assert no_key.code == 2 and "--key" in no_key.stderr


def test_an_empty_directory_is_not_a_packet(keys: KeyPair, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = run("evidence", "verify", str(tmp_path / "empty"), "--key", str(keys.public))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {tmp_path / 'empty'}: an empty directory, no manifest.json: not an evidence packet"


def test_a_folder_holding_something_else_is_an_invalid_packet(keys: KeyPair, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not a packet")
    result = run("evidence", "verify", str(tmp_path / "other"), "--key", str(keys.public))
    assert result.code == 1
    assert "manifest.json: missing from the packet" in result.stdout
    assert "SKIPPED files" in result.stdout


def test_manifest_must_be_canonical(files: dict[str, bytes], public: PublicKey) -> None:
    pretty = json.dumps(json.loads(files[MANIFEST]), indent=2).encode()
    result = verify_packet(Packet("p", {**files, MANIFEST: pretty}), public)
    assert any("not in canonical JSON form" in m for m in failures(result)["manifest"])
