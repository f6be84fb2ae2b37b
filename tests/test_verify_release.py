"""``evidence verify`` says which release it verified (store path, NAR hash, commit),
under which profiles, when and with which verdict, in text and JSON; told which release
to expect, a valid packet of another one is exit 1 with a line saying so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run
from tests.support.evidence import KeyPair, cli_env, make_key_pair
from tests.support.inputs import gate_args, write_release

COMMIT = "3f2a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def packet(tmp_path_factory: pytest.TempPathFactory, keys: KeyPair) -> tuple[Path, dict[str, object]]:
    folder = tmp_path_factory.mktemp("release")
    files = write_release(folder)
    out = folder / "packet"
    result = run(*gate_args(files), "-p", "nis2-essential", "--commit", COMMIT, "--evidence", str(out), "--key", str(keys.private), env=cli_env())
    assert result.code in (0, 1), result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    return out, manifest


def test_text_output_names_the_release_profiles_time_and_verdict(packet: tuple[Path, dict[str, object]], keys: KeyPair) -> None:
    out, manifest = packet
    subject = manifest["subject"]
    assert isinstance(subject, dict)
    result = run("evidence", "verify", str(out), "--key", str(keys.public))
    assert result.code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert f"subject  {subject['store_path']}" in lines
    assert f"nar hash sha256:{subject['nar_sha256']}" in lines
    assert f"commit   {COMMIT}" in lines
    assert f"profiles {', '.join(manifest['profiles'])}" in lines  # type: ignore[arg-type]
    assert "created  2026-11-01T00:00:00Z" in lines
    verdict = [ln for ln in lines if ln.startswith("verdict  ")]
    assert verdict == [f"verdict  {manifest['verdict']} (the gate {'passed' if manifest['passed'] else 'did not pass'})"]
    assert lines[-1] == "VALID: every check passed"


def test_json_output_says_the_same(packet: tuple[Path, dict[str, object]], keys: KeyPair) -> None:
    out, manifest = packet
    result = run("evidence", "verify", str(out), "--key", str(keys.public), "--format", "json")
    assert result.code == 0
    doc = json.loads(result.stdout)
    assert doc["valid"] is True and doc["expected_release"] is True
    verified = doc["verified"]
    assert verified["subject"]["store_path"] == manifest["subject"]["store_path"]  # type: ignore[index]
    assert verified["subject"]["commit"] == COMMIT
    assert verified["profiles"] == manifest["profiles"] and verified["verdict"] == manifest["verdict"]
    assert verified["created"] == "2026-11-01T00:00:00Z"
    assert [s["name"] for s in doc["steps"]][:1] == ["manifest"] and all(s["ok"] for s in doc["steps"])


def test_the_expected_release_passes(packet: tuple[Path, dict[str, object]], keys: KeyPair) -> None:
    out, manifest = packet
    subject = manifest["subject"]
    assert isinstance(subject, dict)
    result = run("evidence", "verify", str(out), "--key", str(keys.public), "--expect-subject", subject["store_path"],
                 "--expect-nar-hash", subject["nar_sha256"], "--expect-commit", COMMIT[:12])
    assert result.code == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "VALID: every check passed; the expected release (subject, nar-hash, commit)"


@pytest.mark.parametrize("what", ["subject", "nar-hash", "commit"])
def test_a_valid_packet_of_another_release_is_exit_1(packet: tuple[Path, dict[str, object]], keys: KeyPair, what: str) -> None:
    out, manifest = packet
    subject = manifest["subject"]
    assert isinstance(subject, dict)
    other = {"subject": "/nix/store/" + "z" * 32 + "-nixos-system-other-24.05",
             "nar-hash": "0" * 64, "commit": "0" * 40}[what]
    actual = {"subject": subject["store_path"], "nar-hash": subject["nar_sha256"], "commit": COMMIT}[what]
    result = run("evidence", "verify", str(out), "--key", str(keys.public), f"--expect-{what}", other)
    assert result.code == 1
    assert result.stdout.splitlines()[-1] == f"WRONG RELEASE: the packet's {what} is {actual}, expected {other}"
    doc = json.loads(run("evidence", "verify", str(out), "--key", str(keys.public), f"--expect-{what}", other, "--format", "json").stdout)
    assert doc["valid"] is True and doc["expected_release"] is False
    assert doc["expectations"] == [{"what": what, "expected": other, "actual": actual, "ok": False}]


def test_an_expected_nar_hash_in_sri_notation_is_compared_as_hex(packet: tuple[Path, dict[str, object]], keys: KeyPair) -> None:
    import base64

    out, manifest = packet
    subject = manifest["subject"]
    assert isinstance(subject, dict)
    sri = "sha256-" + base64.b64encode(bytes.fromhex(str(subject["nar_sha256"]))).decode()
    result = run("evidence", "verify", str(out), "--key", str(keys.public), "--expect-nar-hash", sri)
    assert result.code == 0, result.stdout
