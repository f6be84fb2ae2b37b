"""The cosign signer: ``cosign sign-blob`` behind the same Signer interface.

No cosign binary can be installed on this machine; the tests that need the real one skip
without it. The wrapper's own work (offline flags, reading the signature, checking it
against the key, reporting failures) is exercised with a stand-in on PATH that signs with
openssl, so the signatures it returns are real ECDSA P-256 signatures.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from compliance.errors import SigningError
from compliance.evidence.packet import Packet
from compliance.evidence.packet_verify import verify_packet
from compliance.runs.evidence_run import packet_files
from compliance.runs.gate_run import GateRun
from compliance.signing.keys import decrypt_private_key, load_public_key
from compliance.signing.signers import CosignSigner, open_signer
from tests.support.cli import one_line_error, run
from tests.support.evidence import PASSWORD, KeyPair, cli_env, make_key_pair, release_run
from tests.support.inputs import gate_args, write_release

STAND_IN = """#!/bin/sh
# Stands in for cosign: answers version, public-key and sign-blob, signing with openssl.
echo "$*" >> "$STAND_IN_LOG"
case "$1" in
  version) echo "GitVersion:    v3.0.2"; exit 0 ;;
  public-key) cat "$STAND_IN_PUB"; exit 0 ;;
  sign-blob)
    shift; out=""; blob=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --output-signature) out="$2"; shift 2 ;;
        --key) shift 2 ;;
        --*) shift ;;
        *) blob="$1"; shift ;;
      esac
    done
    [ -n "$STAND_IN_FAIL" ] && { echo "Error: signing $blob: decrypt: encrypted: decryption failed" >&2; exit 1; }
    openssl dgst -sha256 -sign "$STAND_IN_PEM" "$blob" | base64 -w0 > "$out"; exit 0 ;;
esac
echo "Error: unknown command $1" >&2; exit 1
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    return release_run(tmp_path_factory.mktemp("release"))


@pytest.fixture
def stand_in(keys: KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    private = decrypt_private_key(keys.private.read_bytes(), PASSWORD.encode(), "cosign.key")
    pem = tmp_path / "plain.pem"
    pem.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "cosign"
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("STAND_IN_LOG", str(tmp_path / "calls.log"))
    monkeypatch.setenv("STAND_IN_PUB", str(keys.public))
    monkeypatch.setenv("STAND_IN_PEM", str(pem))
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    monkeypatch.delenv("STAND_IN_FAIL", raising=False)
    return script


def test_cosign_signer_signs_offline_and_the_packet_verifies(stand_in: Path, keys: KeyPair, gate_run: GateRun, tmp_path: Path) -> None:
    signer = CosignSigner(keys.private, executable=str(stand_in))
    assert signer.public_key == load_public_key(keys.public)
    files = packet_files(gate_run, signer, include_pdf=False)
    result = verify_packet(Packet("cosign-signed", files), load_public_key(keys.public))
    assert result.valid, [f.message for step in result.steps for f in step.failures]
    calls = (tmp_path / "calls.log").read_text().splitlines()
    sign_calls = [c for c in calls if c.startswith("sign-blob")]
    assert len(sign_calls) == 2  # the manifest, and the statement's PAE bytes
    for call in sign_calls:  # never a transparency-log upload, never a signing config fetch
        assert "--tlog-upload=false" in call and "--use-signing-config=false" in call and "--new-bundle-format=false" in call
        assert f"--key {keys.private}" in call


def test_cosign_failure_is_a_signing_error_with_its_message(stand_in: Path, keys: KeyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    signer = CosignSigner(keys.private, executable=str(stand_in))
    monkeypatch.setenv("STAND_IN_FAIL", "1")
    with pytest.raises(SigningError, match=r"cosign sign-blob failed \(exit 1\): Error: signing .*decryption failed"):
        signer.sign(b"blob")


def test_cosign_signature_by_another_key_is_refused(stand_in: Path, keys: KeyPair, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    other = make_key_pair(tmp_path_factory.mktemp("other"))
    monkeypatch.setenv("STAND_IN_PUB", str(other.public))  # cosign reports one key, signs with another
    signer = CosignSigner(keys.private, executable=str(stand_in))
    with pytest.raises(SigningError, match="does not verify"):
        signer.sign(b"blob")


def test_gate_signs_through_cosign_on_path(stand_in: Path, keys: KeyPair, tmp_path: Path) -> None:
    files = write_release(tmp_path / "release")
    out = tmp_path / "packet.tar.gz"
    env = {**cli_env(), "PATH": f"{stand_in.parent}{os.pathsep}{os.environ['PATH']}"}
    result = run(*gate_args(files), "--evidence", str(out), "--key", str(keys.private), "--signer", "cosign", env=env)
    assert result.code in (0, 1), result.stderr
    verified = run("evidence", "verify", str(out), "--key", str(keys.public))
    assert verified.code == 0, verified.stdout


@pytest.mark.skipif(shutil.which("cosign") is not None, reason="a cosign binary is installed")
def test_cosign_signer_without_cosign_is_a_usage_error(keys: KeyPair, tmp_path: Path) -> None:
    with pytest.raises(SigningError, match="no cosign binary on PATH"):
        open_signer("cosign", keys.private)
    files = write_release(tmp_path / "release")
    result = run(*gate_args(files), "--evidence", str(tmp_path / "p"), "--key", str(keys.private), "--signer", "cosign", env=cli_env())
    assert result.code == 2
    assert "no cosign binary on PATH" in one_line_error(result)
    assert not (tmp_path / "p").exists()


@pytest.mark.skipif(shutil.which("cosign") is None, reason="needs a real cosign binary")
def test_real_cosign_signs_and_verifies_a_packet(keys: KeyPair, gate_run: GateRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSIGN_PASSWORD", PASSWORD)
    files = packet_files(gate_run, CosignSigner(keys.private))
    assert verify_packet(Packet("cosign", files), load_public_key(keys.public)).valid
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    for args in (
        ["verify-blob", "--key", str(keys.public), "--bundle", "manifest.json.sigstore.json", "--insecure-ignore-tlog=true", "manifest.json"],
        ["verify-blob", "--key", str(keys.public), "--signature", "manifest.json.sig", "--insecure-ignore-tlog=true", "manifest.json"],
    ):
        proc = subprocess.run(["cosign", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
