"""Properties of the canonical forms the verifier insists on: every document the tool
writes reads back to the same value and the same bytes, and no other spelling of the
same value is accepted."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import VerificationError
from compliance.signing.bundle import message_bundle, parse_bundle, verify_message_bundle
from compliance.signing.detached import decode_signature, encode_signature
from compliance.signing.dsse import Envelope, pae, parse_envelope
from compliance.signing.keys import NativeSigner

SIGNER = NativeSigner(ec.derive_private_key(0x1F2E3D4C5B6A79881F2E3D4C5B6A79881F2E3D4C5B6A7988, ec.SECP256R1()))


@given(st.binary(max_size=200))
def test_base64_round_trips_and_rejects_other_spellings(data: bytes) -> None:
    encoded = encode_signature(data)
    assert decode_signature(encoded, "s") == data
    for variant in (encoded + b"\n", b" " + encoded, encoded.rstrip(b"=")):
        if variant != encoded:
            with pytest.raises(VerificationError):
                decode_signature(variant, "s")


@given(st.text(min_size=1, max_size=40), st.binary(max_size=300), st.lists(st.binary(min_size=1, max_size=80), min_size=1, max_size=3))
def test_envelope_bytes_round_trip(payload_type: str, payload: bytes, signatures: list[bytes]) -> None:
    envelope = Envelope(payload_type, payload, tuple(signatures))
    data = envelope.to_bytes()
    assert parse_envelope(data, "e") == envelope
    respaced = json.dumps(json.loads(data), indent=1).encode()
    with pytest.raises(VerificationError):
        parse_envelope(respaced, "e")


@given(st.text(max_size=40), st.binary(max_size=300))
def test_pae_is_unambiguous(payload_type: str, payload: bytes) -> None:
    encoded = pae(payload_type, payload)
    head, type_len, rest = encoded.split(b" ", 2)
    assert head == b"DSSEv1"
    type_bytes = rest[: int(type_len)]
    body_len, body = rest[int(type_len) + 1 :].split(b" ", 1)
    assert (type_bytes.decode(), body) == (payload_type, payload) and int(body_len) == len(payload)


@settings(max_examples=30)
@given(st.binary(max_size=500))
def test_message_bundles_round_trip_and_verify(message: bytes) -> None:
    data = message_bundle(message, SIGNER.sign(message), SIGNER.public_key).to_json()
    bundle = parse_bundle(data, "b")
    assert bundle.to_json() == data
    verify_message_bundle(bundle, message, SIGNER.public_key, "b")
    digest = json.loads(data)["messageSignature"]["messageDigest"]["digest"]
    assert base64.b64decode(digest) == hashlib.sha256(message).digest()
