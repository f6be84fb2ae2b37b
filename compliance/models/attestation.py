"""Manual attestations: a person's signed statement that a clause no machine can check is
met, and what the tool concluded about each attestation it was given.

An attestation names who makes it, the framework clauses it answers, the statement, where
the evidence is kept, and the period it is valid for. It counts only when its signature
verifies with the key the gate is told to trust, every clause it names exists, and the
assessment time falls inside its validity period; otherwise the outcome records why not.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from compliance.models.common import Record
from compliance.models.frameworks import FrameworkId
from compliance.models.policy import UtcEnd, UtcStart

ATTESTATION_SCHEMA = "https://compliance-gate.dev/schemas/attestation/v1"
ATTESTATION_PAYLOAD_TYPE = "application/vnd.compliance-gate.attestation.v1+json"


class Attestation(Record):
    """What the attester signs. Dates without a time: ``valid_from`` starts at the
    beginning of that day and ``valid_until`` ends at its end, in UTC."""

    schema_: str = Field(default=ATTESTATION_SCHEMA, alias="$schema")
    id: str = Field(min_length=1, pattern=r"^\S+$")
    attested_by: str = Field(min_length=1)  # a named person and role: "Jane Roe, CISO"
    clauses: dict[FrameworkId, list[str]] = Field(min_length=1)
    statement: str = Field(min_length=1)
    evidence: str = Field(min_length=1)  # where the evidence is: document id, URL, archive path
    evidence_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    valid_from: UtcStart
    valid_until: UtcEnd

    @field_validator("clauses")
    @classmethod
    def _each_framework_names_a_clause(cls, value: dict[FrameworkId, list[str]]) -> dict[FrameworkId, list[str]]:
        for framework, refs in value.items():
            if not refs or any(not ref.strip() for ref in refs):
                raise ValueError(f"{framework.value}: name at least one clause, none empty")
        return value

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Attestation:
        if self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class AttestationFile(Record):
    """The unsigned document an attester writes (TOML or JSON) for ``attest sign``."""

    attestations: list[Attestation] = Field(min_length=1)


class AttestationStatus(StrEnum):
    """Why an attestation counts, or why it does not (unsigned, bad signature, unknown clause, not yet or no longer valid)."""
    VALID = "valid"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"  # tampered with, or signed with another key
    MALFORMED = "malformed"  # signed, but not an attestation this tool can read
    UNKNOWN_CLAUSE = "unknown_clause"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"


class AttestationOutcome(Record):
    """One attestation as the assessment records it. Fields read from an attestation that
    did not verify are shown to identify it, never trusted: only ``valid`` counts."""

    status: AttestationStatus
    reason: str | None = None  # why it does not count
    source: str  # the file it came from, and its position there: "att.json#2"
    id: str | None = None
    attested_by: str | None = None
    clauses: dict[FrameworkId, list[str]] = {}
    statement: str | None = None
    evidence: str | None = None
    evidence_sha256: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    key_fingerprint: str | None = None  # the key its signature verified with
    payload_sha256: str | None = None

    @property
    def counts(self) -> bool:
        return self.status is AttestationStatus.VALID
