"""Manual attestations end to end: signed with ``compliance attest sign``, checked by
``compliance attest verify``, recorded by the gate and counted by coverage only when
valid. Each way an attestation can fail to count has its own test."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from compliance.catalog.loader import load_catalog
from compliance.models.attestation import ATTESTATION_PAYLOAD_TYPE, Attestation, AttestationStatus
from compliance.models.results import GateReport
from compliance.runs.attestation_files import sign_attestations, verify_entries
from compliance.signing.dsse import sign_envelope
from compliance.signing.keys import NativeSigner, generate_keypair
from tests.support.cli import one_line_error, run
from tests.support.inputs import gate_args, write_release

PASSWORD = "attest-test"
SIGNING_ENV = {"COSIGN_PASSWORD": PASSWORD}
# The tests' clock is 2026-11-01T00:00:00Z (tests/conftest.py).
ATTESTATION: dict[str, Any] = {
    "id": "ATT-1",
    "attested_by": "Jane Roe, CISO",
    "clauses": {"nis2": ["CIR 8.2"], "iso27001": ["A.6.3"]},
    "statement": "Every member of staff completed the 2026 security training.",
    "evidence": "LMS export 2026-10-01, document DMS-4471",
    "valid_from": "2026-10-01",
    "valid_until": "2027-09-30",
}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two key pairs: the attester's and another one (key generation is slow by design)."""
    tmp_path = tmp_path_factory.mktemp("keys")
    paths: dict[str, Path] = {}
    for name in ("signer", "other"):
        private, public = generate_keypair(PASSWORD.encode())
        paths[f"{name}.key"] = tmp_path / f"{name}.key"
        paths[f"{name}.pub"] = tmp_path / f"{name}.pub"
        paths[f"{name}.key"].write_bytes(private)
        paths[f"{name}.pub"].write_bytes(public)
    return paths


def sign(tmp_path: Path, keys: dict[str, Path], **changes: Any) -> Path:
    """Sign ATTESTATION (with ``changes``) through the real CLI; the signed file's path."""
    source = tmp_path / "attestations.json"
    source.write_text(json.dumps({"attestations": [{**ATTESTATION, **changes}]}))
    signed = tmp_path / "attestations.signed.json"
    result = run("attest", "sign", str(source), "--key", str(keys["signer.key"]), "-o", str(signed), env=SIGNING_ENV)
    assert result.code == 0, result.stderr
    return signed


def _edit_entry(path: Path, edit: Callable[[dict[str, Any]], Any]) -> None:
    doc = json.loads(path.read_text())
    replaced = edit(doc["attestations"][0])
    if replaced is not None:
        doc["attestations"][0] = replaced
    path.write_text(json.dumps(doc))


def _tamper(entry: dict[str, Any]) -> None:
    payload = json.loads(base64.b64decode(entry["payload"]))
    payload["valid_until"] = "2099-12-31T23:59:59Z"
    entry["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()


def _strip_signatures(entry: dict[str, Any]) -> None:
    entry["signatures"] = []


def _bare(entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(entry["payload"]))


def verify(signed: Path, key: Path) -> tuple[int, str]:
    result = run("attest", "verify", str(signed), "--key", str(key))
    assert "Traceback" not in result.stderr
    return result.code, result.stdout


def gate_with(tmp_path: Path, signed: Path, key: Path) -> tuple[GateReport, Path]:
    files = write_release(tmp_path / "release")
    out = tmp_path / "results.json"
    result = run(*gate_args(files), "--attestations", str(signed), "--attestation-key", str(key), "-o", f"json={out}")
    assert result.code in (0, 1), result.stderr
    return GateReport.model_validate_json(out.read_bytes()), out


def gaps_row(results: Path, clause: str = "CIR 8.2") -> dict[str, Any]:
    result = run("frameworks", "gaps", "nis2", "--results", str(results), "--json")
    assert result.code == 0, result.stderr
    return next(row for row in json.loads(result.stdout)["clauses"] if row["clause"] == clause)


def coverage_row(signed: Path, key: Path, clause: str = "CIR 8.2") -> dict[str, Any]:
    result = run("frameworks", "coverage", "nis2", "--attestations", str(signed), "--attestation-key", str(key), "--json")
    assert result.code == 0, result.stderr
    return next(row for row in json.loads(result.stdout)["clauses"] if row["clause"] == clause)


def test_a_valid_attestation_counts(tmp_path: Path, keys: dict[str, Path]) -> None:
    signed = sign(tmp_path, keys)
    code, out = verify(signed, keys["signer.pub"])
    assert code == 0, out
    assert out.startswith("valid ") and "ATT-1" in out and "valid until 2027-09-30T23:59:59Z" in out

    report, results = gate_with(tmp_path, signed, keys["signer.pub"])
    [outcome] = report.assessment.attestations or []
    assert outcome.status is AttestationStatus.VALID and outcome.counts
    assert outcome.attested_by == "Jane Roe, CISO" and outcome.evidence == ATTESTATION["evidence"]
    assert not any("ATT-1" in note for note in report.assessment.notes)
    assert (gaps_row(results)["standing"], gaps_row(results)["attestations"]) == ("attested", ["ATT-1"])

    row = coverage_row(signed, keys["signer.pub"])
    assert (row["coverage"], row["status"], row["attested"], row["attestations"]) == ("attested", "manual", True, ["ATT-1"])


def test_without_attestations_the_clause_is_uncovered() -> None:
    result = run("frameworks", "coverage", "nis2", "--json")
    row = next(r for r in json.loads(result.stdout)["clauses"] if r["clause"] == "CIR 8.2")
    assert (row["coverage"], row["attested"]) == ("uncovered", False)


def _expired(tmp_path: Path, keys: dict[str, Path]) -> tuple[Path, Path]:
    return sign(tmp_path, keys, valid_from="2026-01-01", valid_until="2026-10-31"), keys["signer.pub"]


def _not_yet_valid(tmp_path: Path, keys: dict[str, Path]) -> tuple[Path, Path]:
    return sign(tmp_path, keys, valid_from="2026-11-02", valid_until="2027-11-01"), keys["signer.pub"]


def _tampered(tmp_path: Path, keys: dict[str, Path]) -> tuple[Path, Path]:
    signed = sign(tmp_path, keys, valid_until="2026-10-31")
    _edit_entry(signed, _tamper)
    return signed, keys["signer.pub"]


def _wrong_key(tmp_path: Path, keys: dict[str, Path]) -> tuple[Path, Path]:
    return sign(tmp_path, keys), keys["other.pub"]


def _unsigned(tmp_path: Path, keys: dict[str, Path]) -> tuple[Path, Path]:
    signed = sign(tmp_path, keys)
    _edit_entry(signed, _strip_signatures)
    return signed, keys["signer.pub"]


def _bare_attestation(tmp_path: Path, keys: dict[str, Path]) -> tuple[Path, Path]:
    signed = sign(tmp_path, keys)
    _edit_entry(signed, _bare)
    return signed, keys["signer.pub"]


@pytest.mark.parametrize(("make", "status", "reason"), [
    (_expired, AttestationStatus.EXPIRED, "expired on 2026-10-31T23:59:59Z"),
    (_not_yet_valid, AttestationStatus.NOT_YET_VALID, "not valid before 2026-11-02T00:00:00Z"),
    (_tampered, AttestationStatus.BAD_SIGNATURE, "the signature does not verify with key SHA256:"),
    (_wrong_key, AttestationStatus.BAD_SIGNATURE, "tampered with, or signed with another key"),
    (_unsigned, AttestationStatus.UNSIGNED, "the envelope carries no signature"),
    (_bare_attestation, AttestationStatus.UNSIGNED, "a bare attestation, not a signed envelope"),
], ids=["expired", "not-yet-valid", "tampered", "wrong-key", "unsigned", "bare-unsigned"])
def test_an_attestation_that_does_not_verify_does_not_count(
    tmp_path: Path, keys: dict[str, Path], make: Callable[[Path, dict[str, Path]], tuple[Path, Path]], status: AttestationStatus, reason: str
) -> None:
    signed, key = make(tmp_path, keys)
    code, out = verify(signed, key)
    assert code == 1
    assert out.startswith(status.value) and reason in out

    report, results = gate_with(tmp_path, signed, key)
    [outcome] = report.assessment.attestations or []
    assert outcome.status is status and not outcome.counts and reason in (outcome.reason or "")
    assert any(note.startswith("attestation ATT-1 ") and "does not count" in note and reason in note for note in report.assessment.notes)
    gap = gaps_row(results)
    assert gap["standing"] == "uncovered"  # a refused attestation answers nothing
    assert [a["action"] for a in gap["advice"]] == ["attest"] and reason in gap["advice"][0]["detail"]

    row = coverage_row(signed, key)
    assert (row["coverage"], row["attested"]) == ("uncovered", False)


def test_signing_an_attestation_for_an_unknown_clause_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    source = tmp_path / "att.toml"
    source.write_text(
        '[[attestations]]\nid = "ATT-9"\nattested_by = "Jane Roe"\nclauses = { nis2 = ["CIR 14.1"] }\n'
        'statement = "s"\nevidence = "e"\nvalid_from = 2026-01-01\nvalid_until = 2027-01-01\n'
    )
    result = run("attest", "sign", str(source), "--key", str(keys["signer.key"]), "-o", str(tmp_path / "out.json"), env=SIGNING_ENV)
    assert result.code == 2
    assert one_line_error(result).startswith(f"compliance: {source}: attestation ATT-9: 'CIR 14.1' is not a clause of NIS2")
    assert not (tmp_path / "out.json").exists()


def test_an_attestation_that_ends_before_it_starts_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    source = tmp_path / "att.json"
    source.write_text(json.dumps({"attestations": [{**ATTESTATION, "valid_until": "2026-01-01"}]}))
    result = run("attest", "sign", str(source), "--key", str(keys["signer.key"]), "-o", str(tmp_path / "out.json"), env=SIGNING_ENV)
    assert result.code == 2
    assert "valid_until must be after valid_from" in one_line_error(result)


def test_the_gate_needs_the_key_to_check_attestations(tmp_path: Path, keys: dict[str, Path]) -> None:
    signed = sign(tmp_path, keys)
    files = write_release(tmp_path / "release")
    result = run(*gate_args(files), "--attestations", str(signed))
    assert result.code == 2
    assert "--attestations needs --attestation-key" in one_line_error(result)


def test_an_unreadable_attestation_file_is_an_input_error(tmp_path: Path, keys: dict[str, Path]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"attestations": 3}')
    files = write_release(tmp_path / "release")
    result = run(*gate_args(files), "--attestations", str(broken), "--attestation-key", str(keys["signer.pub"]))
    assert result.code == 2
    assert one_line_error(result).startswith(f"compliance: {broken}: not a signed attestation file")
    code_result = run("attest", "verify", str(broken), "--key", str(keys["signer.pub"]))
    assert code_result.code == 2 and one_line_error(code_result).startswith(f"compliance: {broken}:")


def _signer() -> NativeSigner:
    return NativeSigner(ec.generate_private_key(ec.SECP256R1()))


def test_a_signed_attestation_for_a_clause_the_catalog_lacks_does_not_count() -> None:
    signer = _signer()
    unknown = Attestation.model_validate({**ATTESTATION, "clauses": {"dora": ["RTS 43"]}})
    entries = json.loads(sign_attestations([unknown], signer))["attestations"]
    [outcome] = verify_entries(entries, "att.json", signer.public_key, load_catalog(), datetime(2026, 11, 1, tzinfo=UTC))
    assert outcome.status is AttestationStatus.UNKNOWN_CLAUSE and not outcome.counts
    assert outcome.reason == "'RTS 43' is not a clause of DORA: Regulation (EU) 2022/2554 and Delegated Regulation (EU) 2024/1774"


def test_a_signed_document_that_is_not_an_attestation_does_not_count() -> None:
    signer = _signer()
    other = sign_envelope(signer, ATTESTATION_PAYLOAD_TYPE, b'{"hello": "world"}').to_json()
    foreign = sign_envelope(signer, "application/vnd.in-toto+json", b"{}").to_json()
    outcomes = verify_entries([other, foreign, 42], "att.json", signer.public_key, load_catalog(), datetime(2026, 11, 1, tzinfo=UTC))
    assert [o.status for o in outcomes] == [AttestationStatus.MALFORMED] * 3
    assert [o.source for o in outcomes] == ["att.json#1", "att.json#2", "att.json#3"]
    assert outcomes[0].reason is not None and outcomes[0].reason.startswith("not an attestation: ")
    assert outcomes[1].reason == f"payloadType is 'application/vnd.in-toto+json', expected {ATTESTATION_PAYLOAD_TYPE}"
