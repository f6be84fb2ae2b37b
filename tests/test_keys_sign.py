"""compliance keys sign / verify: any file signed as the packets' manifest is, and every way a
signature can fail to match is reported for that reason alone. The SBOM of a wheel refuses a
dependency it cannot account for."""

from __future__ import annotations

import base64
import email.message
import shutil
import subprocess
from pathlib import Path

import pytest

from compliance.errors import InputError
from compliance.sbomgen.pydist import resolve
from tests.support.cli import one_line_error, run

PASSWORD = {"COSIGN_PASSWORD": "sign-test"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    for name in ("signer", "other"):
        assert run("keys", "generate", "--output-key-prefix", str(folder / name), env=PASSWORD).code == 0
    return {"key": folder / "signer.key", "pub": folder / "signer.pub", "other": folder / "other.pub"}


@pytest.fixture
def signed(tmp_path: Path, keys: dict[str, Path]) -> Path:
    blob = tmp_path / "artefact.bin"
    blob.write_bytes(b"release artefact\n")
    result = run("keys", "sign", str(blob), "--key", str(keys["key"]), env=PASSWORD)
    assert result.code == 0, result.stderr
    return blob


def test_a_signed_file_verifies(signed: Path, keys: dict[str, Path]) -> None:
    result = run("keys", "verify", str(signed), "--key", str(keys["pub"]))
    assert result.code == 0, result.stdout
    assert result.stdout.startswith(f"OK      {signed}")


def test_the_detached_signature_is_what_openssl_verifies(signed: Path, keys: dict[str, Path], tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    der = tmp_path / "sig.der"
    der.write_bytes(base64.b64decode(Path(f"{signed}.sig").read_bytes(), validate=True))
    done = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(keys["pub"]), "-signature", str(der), str(signed)],
                          capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "Verified OK"


def test_signing_is_deterministic(signed: Path, keys: dict[str, Path]) -> None:
    before = Path(f"{signed}.sig").read_bytes(), Path(f"{signed}.sigstore.json").read_bytes()
    assert run("keys", "sign", str(signed), "--key", str(keys["key"]), env=PASSWORD).code == 0
    assert (Path(f"{signed}.sig").read_bytes(), Path(f"{signed}.sigstore.json").read_bytes()) == before


def test_another_key_is_refused_by_both_signatures(signed: Path, keys: dict[str, Path]) -> None:
    result = run("keys", "verify", str(signed), "--key", str(keys["other"]))
    assert result.code == 1
    assert f"{signed}.sig: the signature does not verify with key" in result.stdout
    assert f"{signed}.sigstore.json: signed with another key" in result.stdout


def test_a_changed_file_is_refused(signed: Path, keys: dict[str, Path]) -> None:
    signed.write_bytes(b"release artefact, changed\n")
    result = run("keys", "verify", str(signed), "--key", str(keys["pub"]))
    assert result.code == 1
    assert "messageDigest is not the SHA-256 of the signed file" in result.stdout


@pytest.mark.parametrize("suffix", [".sig", ".sigstore.json"])
def test_a_missing_signature_is_refused_alone(signed: Path, keys: dict[str, Path], suffix: str) -> None:
    Path(f"{signed}{suffix}").unlink()
    result = run("keys", "verify", str(signed), "--key", str(keys["pub"]))
    assert result.code == 1
    assert f"FAILED  {signed}: {signed}{suffix}: missing" in result.stdout


def test_a_signature_spelt_otherwise_is_refused(signed: Path, keys: dict[str, Path]) -> None:
    sig = Path(f"{signed}.sig")
    sig.write_bytes(sig.read_bytes() + b"\n")
    result = run("keys", "verify", str(signed), "--key", str(keys["pub"]))
    assert result.code == 1
    assert f"{signed}.sig: the detached signature is not valid base64" in result.stdout


def test_nothing_is_written_when_one_file_is_missing(tmp_path: Path, keys: dict[str, Path]) -> None:
    present = tmp_path / "present"
    present.write_bytes(b"x")
    result = run("keys", "sign", str(present), str(tmp_path / "absent"), "--key", str(keys["key"]), env=PASSWORD)
    assert result.code == 2
    assert "absent: no such file to sign" in one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["present"]


def _metadata(*requires: str) -> email.message.Message:
    message = email.message.Message()
    message["Name"], message["Version"] = "example", "1.0"
    for line in requires:
        message["Requires-Dist"] = line
    return message


def test_a_requirement_that_is_not_installed_is_an_error() -> None:
    with pytest.raises(InputError, match="requirement no-such-distribution-xyz is not installed"):
        resolve(_metadata("no-such-distribution-xyz"), "example.whl")


def test_an_installed_version_outside_the_range_is_an_error() -> None:
    with pytest.raises(InputError, match=r"requirement pydantic<1: installed version .* does not satisfy it"):
        resolve(_metadata("pydantic<1"), "example.whl")


def test_extras_and_other_platforms_are_not_runtime_dependencies() -> None:
    _, packages = resolve(_metadata("no-such-distribution-xyz; extra == 'test'",
                                    "no-such-distribution-abc; sys_platform == 'nonexistent'", "click"), "example.whl")
    assert "click" in [p.name for p in packages]
