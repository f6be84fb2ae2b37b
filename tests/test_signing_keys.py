"""cosign-compatible keys: the format cosign writes and reads, deterministic signatures
that openssl verifies, and clear errors for every other kind of key."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.errors import SigningError, UsageError
from compliance.signing.keys import (
    ENCRYPTED_LABEL,
    NativeSigner,
    decrypt_private_key,
    load_public_key,
    parse_public_key,
    write_key_pair,
)
from tests.support.cli import Result, one_line_error, run
from tests.support.evidence import PASSWORD, KeyPair, make_key_pair

# Encrypted keys from cosign's own test suite (sigstore/cosign pkg/cosign/keys_test.go,
# Apache-2.0), password "hello": a PKCS#8 P-256 key cosign loads, and a SEC1 key that
# cosign itself refuses ("use ParseECPrivateKey instead for this key format").
COSIGN_SIGSTORE_KEY = b"""-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjozMjc2OCwiciI6
OCwicCI6MX0sInNhbHQiOiI3T3VGd2VsbWZZNXVId2NoaURSc210anNwZ2ZlZjFG
Mk5lOGFDTjVLYVpZPSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJQNHk4OGhCb3ZTa09MbXN0bFVBaGJwdDJ0K2xTNUxQSCJ9LCJj
aXBoZXJ0ZXh0IjoiMnB1QzdyZldJOWh3bnJlQ2s4aUZDRlVwQlRrSzRJNlIvbFBF
cnBDekpXUGpJWXl4eGVIL1A2VW52cFJHdVhla1NNb3JMdGhLamdoQ1JlNy82NDVH
QWtoVm1LRC92eEF0S2EvbE1abENSQ3FlekJGUFd1dzNpeFRtZ2xhb2J1ZFVSbUVs
bmNGOGlZbzBTMVl6Y1ZOMVFwY2J2c0dNcUlYRzVlbmdteGp5dCtBcXlyZTF0Q0Y0
V01tU1BlaEljNlBqd2h1Q2xHaVpJUWRvTGc9PSJ9
-----END ENCRYPTED SIGSTORE PRIVATE KEY-----
"""
COSIGN_SEC1_KEY = b"""-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----
eyJrZGYiOnsibmFtZSI6InNjcnlwdCIsInBhcmFtcyI6eyJOIjo2NTUzNiwiciI6
OCwicCI6MX0sInNhbHQiOiJHK3F5WTYrNzhNS0JzMXNGTGs1ajYwcS9kS3Z1czBW
VkhlSHZybC9POTF3PSJ9LCJjaXBoZXIiOnsibmFtZSI6Im5hY2wvc2VjcmV0Ym94
Iiwibm9uY2UiOiJRc2JGdG13WDRDK2ttV3ZCcVRaMEFGOUFYdk1jRmg1SCJ9LCJj
aXBoZXJ0ZXh0IjoiREM5T28zeldiYVQzSXYwdFVnWEdycjUxYW1samwwNlQ5MTNP
VkxPbWpuMWhnK2o2WXRUbWg3SGhZSlY1N2J5eGE0Q281bE9YYmRqbTJ3aklubEd1
Um5aZCt5OExnekpSNzFSeEhKVzgrWmRlcFJmYWJMTjdHbDgrSFZEcERVQ3NxQnRh
VngyblpGbFEwWUl1anZwbFphblNGaUVvdERLVGkxZ3VhUXIwUHNzYU01NXZxbTRY
WS9rPSJ9
-----END ENCRYPTED COSIGN PRIVATE KEY-----
"""


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


def openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=False, timeout=60)


def test_generated_pair_has_cosign_format(keys: KeyPair) -> None:
    text = keys.private.read_text()
    assert text.startswith(f"-----BEGIN {ENCRYPTED_LABEL}-----\n")
    body = base64.b64decode("".join(text.strip().splitlines()[1:-1]))
    doc = json.loads(body)
    assert doc["kdf"] == {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1}, "salt": doc["kdf"]["salt"]}
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 32
    assert doc["cipher"]["name"] == "nacl/secretbox" and len(base64.b64decode(doc["cipher"]["nonce"])) == 24
    assert stat.S_IMODE(keys.private.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.public.stat().st_mode) == 0o644
    # The public key is a plain SPKI PEM that openssl reads as a P-256 key.
    out = openssl("pkey", "-pubin", "-in", str(keys.public), "-noout", "-text")
    assert out.returncode == 0 and b"prime256v1" in out.stdout


def test_signatures_are_deterministic_and_openssl_verifies_them(keys: KeyPair, tmp_path: Path) -> None:
    signer = keys.signer()
    message = b"release manifest\n"
    first, second = signer.sign(message), signer.sign(message)
    assert first == second  # RFC 6979
    assert signer.public_key.verify(first, message)
    (tmp_path / "blob").write_bytes(message)
    (tmp_path / "sig.der").write_bytes(first)
    ok = openssl("dgst", "-sha256", "-verify", str(keys.public), "-signature", str(tmp_path / "sig.der"), str(tmp_path / "blob"))
    assert ok.returncode == 0 and b"Verified OK" in ok.stdout
    (tmp_path / "blob").write_bytes(message + b"x")
    bad = openssl("dgst", "-sha256", "-verify", str(keys.public), "-signature", str(tmp_path / "sig.der"), str(tmp_path / "blob"))
    assert bad.returncode == 1


def test_openssl_signatures_verify_with_the_public_key(tmp_path: Path) -> None:
    key_pem = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256").stdout
    (tmp_path / "k.pem").write_bytes(key_pem)
    pub_pem = openssl("pkey", "-in", str(tmp_path / "k.pem"), "-pubout").stdout
    (tmp_path / "blob").write_bytes(b"payload")
    sig = openssl("dgst", "-sha256", "-sign", str(tmp_path / "k.pem"), str(tmp_path / "blob")).stdout
    key = parse_public_key(pub_pem, "openssl.pub")
    assert key.verify(sig, b"payload")
    assert not key.verify(sig, b"payload!")


def test_a_key_written_by_cosign_loads_and_signs() -> None:
    key = decrypt_private_key(COSIGN_SIGSTORE_KEY, b"hello", "cosign-test.key")
    signer = NativeSigner(key)
    assert signer.public_key.verify(signer.sign(b"blob"), b"blob")


def test_a_sec1_key_inside_cosign_encryption_is_refused_like_cosign_does() -> None:
    with pytest.raises(SigningError, match="not PKCS#8"):
        decrypt_private_key(COSIGN_SEC1_KEY, b"hello", "sec1.key")


def test_wrong_password_is_a_clear_error(keys: KeyPair) -> None:
    with pytest.raises(SigningError, match=r"cosign\.key: wrong password"):
        NativeSigner.from_file(keys.private, b"not the password")


@pytest.mark.parametrize(
    ("pem_args", "expected"),
    [
        (("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"), "'PRIVATE KEY' PEM; expected a cosign key"),
        (("ecparam", "-name", "prime256v1", "-genkey", "-noout"), "'EC PRIVATE KEY' PEM; expected a cosign key"),
    ],
)
def test_plain_private_keys_are_refused_with_the_reason(tmp_path: Path, pem_args: tuple[str, ...], expected: str) -> None:
    path = tmp_path / "plain.key"
    path.write_bytes(openssl(*pem_args).stdout)
    with pytest.raises(SigningError, match=expected):
        NativeSigner.from_file(path, b"")


def test_public_keys_other_than_p256_are_refused(tmp_path: Path) -> None:
    key_pem = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384").stdout
    (tmp_path / "k.pem").write_bytes(key_pem)
    (tmp_path / "p384.pub").write_bytes(openssl("pkey", "-in", str(tmp_path / "k.pem"), "-pubout").stdout)
    with pytest.raises(SigningError, match="only ECDSA P-256"):
        load_public_key(tmp_path / "p384.pub")
    (tmp_path / "junk.pub").write_text("hello")
    with pytest.raises(SigningError, match=r"junk\.pub: not a PEM public key"):
        load_public_key(tmp_path / "junk.pub")


def test_write_key_pair_refuses_to_overwrite(keys: KeyPair) -> None:
    before = keys.private.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        write_key_pair(keys.private.with_suffix(""), b"x")
    assert keys.private.read_bytes() == before


def test_cli_keys_generate_writes_a_pair_and_refuses_to_overwrite(tmp_path: Path) -> None:
    env = {"COSIGN_PASSWORD": PASSWORD}
    created = run("keys", "generate", env=env, cwd=tmp_path)
    assert created.code == 0, created.stderr
    assert "cosign.key" in created.stdout and "SHA256:" in created.stdout
    signer = NativeSigner.from_file(tmp_path / "cosign.key", PASSWORD.encode())
    assert signer.public_key == load_public_key(tmp_path / "cosign.pub")
    before = (tmp_path / "cosign.key").read_bytes()

    again = run("keys", "generate", env=env, cwd=tmp_path)
    assert again.code == 2
    assert "cosign.key: already exists" in one_line_error(again)
    assert (tmp_path / "cosign.key").read_bytes() == before

    forced = run("keys", "generate", "--force", env=env, cwd=tmp_path)
    assert forced.code == 0 and (tmp_path / "cosign.key").read_bytes() != before

    prefixed = run("keys", "generate", "--output-key-prefix", "release", env=env, cwd=tmp_path)
    assert prefixed.code == 0 and (tmp_path / "release.key").is_file() and (tmp_path / "release.pub").is_file()


def test_cli_keys_generate_without_password_is_a_usage_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COSIGN_PASSWORD"}
    proc = subprocess.run([sys.executable, "-m", "compliance", "keys", "generate"], cwd=tmp_path, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "COSIGN_PASSWORD is not set" in one_line_error(Result(proc.returncode, proc.stdout, proc.stderr))
    assert not (tmp_path / "cosign.key").exists()
