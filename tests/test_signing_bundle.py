"""Sigstore bundles v0.3 and DSSE envelopes, checked by verifiers nobody here wrote:
openssl on the raw signatures and PAE bytes, sigstore-js (@sigstore/verify) on the
bundles, and the DSSE specification's own test vector."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from compliance.errors import VerificationError
from compliance.signing.bundle import (
    MEDIA_TYPE,
    dsse_bundle,
    message_bundle,
    parse_bundle,
    verify_dsse_bundle,
    verify_message_bundle,
)
from compliance.signing.detached import decode_signature, encode_signature
from compliance.signing.dsse import (
    IN_TOTO_PAYLOAD_TYPE,
    Envelope,
    pae,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from compliance.signing.keys import NativeSigner
from tests.support.evidence import KeyPair, flip, make_key_pair

JS_DIR = Path(__file__).resolve().parent / "js"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("other"))


def sigstore_js(bundle: Path, public_key: Path, artifact: Path | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (JS_DIR / "node_modules" / "@sigstore" / "verify").is_dir():
        pytest.skip("sigstore-js is not installed in tests/js (scripts/install runs npm ci there)")
    args = ["node", str(JS_DIR / "verify-bundle.js"), str(bundle), str(public_key), *([str(artifact)] if artifact else [])]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_dsse_specification_vector() -> None:
    """secure-systems-lab/dsse protocol.md: PAE bytes and the deterministic P-256 signature."""
    assert pae("http://example.com/HelloWorld", b"hello world") == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    d = 97358161215184420915383655311931858321456579547487070936769975997791359926199
    signer = NativeSigner(ec.derive_private_key(d, ec.SECP256R1()))
    envelope = sign_envelope(signer, "http://example.com/HelloWorld", b"hello world")
    r, s = decode_dss_signature(envelope.signatures[0])
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert base64.b64encode(raw).decode() == "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
    assert envelope.to_json()["payload"] == "aGVsbG8gd29ybGQ="


def test_message_bundle_has_the_cosign_shape(keys: KeyPair) -> None:
    signer = keys.signer()
    blob = b"manifest bytes"
    bundle = json.loads(message_bundle(blob, signer.sign(blob), signer.public_key).to_json())
    spki = signer.public_key.spki_der
    assert bundle == {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": base64.b64encode(hashlib.sha256(spki).digest()).decode()}, "tlogEntries": []},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": base64.b64encode(hashlib.sha256(blob).digest()).decode()},
            "signature": bundle["messageSignature"]["signature"],
        },
    }
    assert "certificate" not in json.dumps(bundle)  # never a key in a certificate field (GHSA-fx35-mq7g-6g98)


def test_message_bundle_round_trip_and_refusals(keys: KeyPair, other_keys: KeyPair) -> None:
    signer = keys.signer()
    blob = b"manifest bytes"
    data = message_bundle(blob, signer.sign(blob), signer.public_key).to_json()
    bundle = parse_bundle(data, "b.json")
    verify_message_bundle(bundle, blob, signer.public_key, "b.json")
    with pytest.raises(VerificationError, match="messageDigest is not the SHA-256"):
        verify_message_bundle(bundle, blob + b"!", signer.public_key, "b.json")
    with pytest.raises(VerificationError, match="signed with another key"):
        verify_message_bundle(bundle, blob, other_keys.signer().public_key, "b.json")
    with pytest.raises(VerificationError, match="canonical form"):
        parse_bundle(json.dumps(json.loads(data), indent=1).encode(), "b.json")
    with pytest.raises(VerificationError, match="not a Sigstore bundle"):
        parse_bundle(data.replace(b"v0.3", b"v0.2"), "b.json")


def test_detached_signature_is_strict_base64(keys: KeyPair) -> None:
    signature = keys.signer().sign(b"x")
    encoded = encode_signature(signature)
    assert decode_signature(encoded, "s.sig") == signature
    with pytest.raises(VerificationError, match="not valid base64"):
        decode_signature(encoded + b"\n", "s.sig")
    # The same bytes spelt another way (non-zero padding bits) are refused, so that no
    # change to the file goes unnoticed.
    data = bytes(range(71))  # 71 bytes: the last base64 group has two unused bits
    canonical = base64.b64encode(data)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    index = len(canonical) - 2
    respelt = canonical[:index] + bytes([alphabet[alphabet.index(canonical[index]) | 1]]) + canonical[index + 1 :]
    assert respelt != canonical and base64.b64decode(respelt) == data
    assert decode_signature(canonical, "s.sig") == data
    with pytest.raises(VerificationError, match="canonical"):
        decode_signature(respelt, "s.sig")


def test_dsse_envelope_round_trip(keys: KeyPair, other_keys: KeyPair) -> None:
    signer = keys.signer()
    envelope = sign_envelope(signer, IN_TOTO_PAYLOAD_TYPE, b'{"_type":"https://in-toto.io/Statement/v1"}')
    data = envelope.to_bytes()
    assert json.loads(data)["signatures"] == [{"keyid": "", "sig": base64.b64encode(envelope.signatures[0]).decode()}]
    parsed = parse_envelope(data, "e.json")
    assert parsed == envelope
    assert verify_envelope(parsed, signer.public_key, payload_type=IN_TOTO_PAYLOAD_TYPE) == envelope.payload
    with pytest.raises(VerificationError, match="does not verify"):
        verify_envelope(parsed, other_keys.signer().public_key)
    tampered = Envelope(envelope.payload_type, envelope.payload + b" ", envelope.signatures)
    with pytest.raises(VerificationError, match="does not verify"):
        verify_envelope(tampered, signer.public_key)
    with pytest.raises(VerificationError, match="payloadType"):
        verify_envelope(parsed, signer.public_key, payload_type="application/json")


def test_openssl_verifies_detached_and_dsse_signatures(keys: KeyPair, tmp_path: Path) -> None:
    signer = keys.signer()
    blob = b'{"packet":"manifest"}'
    (tmp_path / "manifest.json").write_bytes(blob)
    (tmp_path / "manifest.json.sig").write_bytes(encode_signature(signer.sign(blob)))
    subprocess.run(["base64", "-d", "-i", str(tmp_path / "manifest.json.sig")], stdout=(tmp_path / "sig.der").open("wb"), check=True)
    ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(keys.public), "-signature", str(tmp_path / "sig.der"), str(tmp_path / "manifest.json")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout

    envelope = sign_envelope(signer, IN_TOTO_PAYLOAD_TYPE, b'{"subject":[]}')
    (tmp_path / "pae.bin").write_bytes(pae(envelope.payload_type, envelope.payload))
    (tmp_path / "dsse.der").write_bytes(envelope.signatures[0])
    ok = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(keys.public), "-signature", str(tmp_path / "dsse.der"), str(tmp_path / "pae.bin")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "Verified OK" in ok.stdout
    (tmp_path / "pae.bin").write_bytes(pae(envelope.payload_type, envelope.payload + b" "))
    bad = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(keys.public), "-signature", str(tmp_path / "dsse.der"), str(tmp_path / "pae.bin")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1


def test_sigstore_js_accepts_both_bundles_and_rejects_tampering(keys: KeyPair, other_keys: KeyPair, tmp_path: Path) -> None:
    signer = keys.signer()
    blob = b'{"packet":"manifest"}\n'
    (tmp_path / "blob").write_bytes(blob)
    (tmp_path / "blob.sigstore.json").write_bytes(message_bundle(blob, signer.sign(blob), signer.public_key).to_json())
    envelope = sign_envelope(signer, IN_TOTO_PAYLOAD_TYPE, b'{"_type":"https://in-toto.io/Statement/v1","subject":[]}')
    (tmp_path / "att.sigstore.json").write_bytes(dsse_bundle(envelope, signer.public_key).to_json())

    assert sigstore_js(tmp_path / "blob.sigstore.json", keys.public, tmp_path / "blob").stdout.strip() == "Verified OK"
    assert sigstore_js(tmp_path / "att.sigstore.json", keys.public).stdout.strip() == "Verified OK"
    verify_dsse_bundle(parse_bundle((tmp_path / "att.sigstore.json").read_bytes(), "att"), signer.public_key, "att", payload_type=IN_TOTO_PAYLOAD_TYPE)

    (tmp_path / "tampered").write_bytes(flip(blob, 3))
    rejected = sigstore_js(tmp_path / "blob.sigstore.json", keys.public, tmp_path / "tampered")
    assert rejected.returncode == 1 and "SIGNATURE_ERROR" in rejected.stdout
    assert sigstore_js(tmp_path / "blob.sigstore.json", other_keys.public, tmp_path / "blob").returncode == 1
    doc = json.loads((tmp_path / "att.sigstore.json").read_bytes())
    doc["dsseEnvelope"]["payload"] = base64.b64encode(b'{"_type":"https://in-toto.io/Statement/v1","subject":[{}]}').decode()
    (tmp_path / "att-tampered.sigstore.json").write_text(json.dumps(doc))
    rejected = sigstore_js(tmp_path / "att-tampered.sigstore.json", keys.public)
    assert rejected.returncode == 1 and "SIGNATURE_ERROR" in rejected.stdout
    assert sigstore_js(tmp_path / "att.sigstore.json", other_keys.public).returncode == 1
