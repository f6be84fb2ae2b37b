"""The decision signed, for a control plane that keeps it as evidence: a DSSE envelope
(as a probe report is), ``payloadType`` :data:`DECISION_PAYLOAD_TYPE`, whose payload is
the decision's canonical JSON, signed ECDSA P-256 / SHA-256 over the DSSE
pre-authentication encoding, so ``openssl dgst -sha256 -verify`` checks it too."""

from __future__ import annotations

from compliance.errors import VerificationError
from compliance.promote.wave_decision import DECISION_PAYLOAD_TYPE, WaveDecision, decision_json
from compliance.signing.dsse import parse_envelope, sign_envelope, verify_envelope
from compliance.signing.keys import PublicKey, Signer
from compliance.signing.signed_docs import load_document


def sign_decision(decision: WaveDecision, signer: Signer) -> bytes:
    payload = decision_json(decision).rstrip(b"\n")
    return sign_envelope(signer, DECISION_PAYLOAD_TYPE, payload).to_bytes() + b"\n"


def verify_decision(data: bytes, key: PublicKey, source: str) -> WaveDecision:
    """The decision inside a signed envelope, or :class:`VerificationError`. The payload
    must be exactly the decision's canonical JSON: one decision, one byte string."""
    envelope = parse_envelope(data.rstrip(b"\n"), source)
    payload = verify_envelope(envelope, key, payload_type=DECISION_PAYLOAD_TYPE, source=source)
    decision = load_document(WaveDecision, payload, source, "a wave decision")
    if decision_json(decision).rstrip(b"\n") != payload:
        raise VerificationError(f"{source}: the signed payload is not the decision's canonical JSON")
    return decision
