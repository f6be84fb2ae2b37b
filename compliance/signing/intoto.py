"""in-toto Statement v1 (in-toto/attestation spec/v1/statement.md).

A statement binds a predicate to subjects by digest. Read with the spec's parsing rule:
unrecognised fields are ignored (the statement is authenticated by its DSSE envelope, so
ignoring a field cannot hide a change to the signed bytes).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from compliance.signing.signed_docs import load_document
from compliance.util.canonical import canonical_json

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


class ResourceDescriptor(BaseModel):
    """An in-toto subject: a name and its digests (the release's store path and NAR hash)."""
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str
    digest: dict[str, str] = Field(min_length=1)

    @field_validator("digest")
    @classmethod
    def _lower_hex(cls, value: dict[str, str]) -> dict[str, str]:
        for algorithm, digest in value.items():
            if algorithm == "sha256" and (len(digest) != 64 or digest.strip("0123456789abcdef")):
                raise ValueError("sha256 must be 64 lower-case hex digits")
        return value


class Statement(BaseModel):
    """An in-toto Statement v1: the subjects it is about and a typed predicate."""
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    type: Literal["https://in-toto.io/Statement/v1"] = Field(default="https://in-toto.io/Statement/v1", alias="_type")
    subject: list[ResourceDescriptor] = Field(min_length=1)
    predicate_type: str = Field(alias="predicateType", min_length=1)
    predicate: dict[str, Any]

    def to_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", by_alias=True))


def parse_statement(payload: bytes, source: str) -> Statement:
    """An in-toto Statement v1 from a DSSE payload; anything else is invalid evidence naming ``source``."""
    return load_document(Statement, payload, source, "an in-toto Statement v1")
