"""Shared building blocks of the models: strict base classes and the two enumerations
every layer speaks (severity of a control, status of a result)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Immutable, and an unknown field is an error: a misspelt key is never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Record(BaseModel):
    """A written document: immutable, unknown fields rejected on read-back."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    def to_jsonable(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Severity(StrEnum):
    """A control's severity; the policy names the severities that block."""
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Status(StrEnum):
    """Outcome of a check or a control.

    ``error`` means the tool could not decide (missing input, exception, timeout): it is
    never a pass. ``waived`` is a fail or error covered by a valid waiver. ``manual``
    needs a human attestation.
    """

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"
    WAIVED = "waived"
    MANUAL = "manual"


# How statuses of several checks combine into one control status: the first that occurs wins.
STATUS_PRECEDENCE = (Status.FAIL, Status.ERROR, Status.MANUAL, Status.PASS, Status.NOT_APPLICABLE)


def combine(statuses: list[Status]) -> Status:
    """A control's status from its checks' statuses: the most decisive wins (error before fail before pass); no check at all is an error."""
    if not statuses:
        return Status.ERROR
    for status in STATUS_PRECEDENCE:
        if status in statuses:
            return status
    return Status.ERROR
