"""Gate policy and waivers, as users write them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, model_validator

from compliance.models.common import Severity, Status, Strict

# A date, or a date and a time (the offset is optional): what TOML and RFC 3339 write.
_DATE_OR_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?")


def _instant(value: Any, *, end_of_day: bool) -> datetime:
    """Only a date or a date-time is a moment. Left to pydantic's lax parsing, a number
    (``expires = 5``, or ``"5"``) would be seconds since 1970, silently an instant long
    past or, for ``created``, one that makes any duration look short. Dates without time
    mean the start or the end of that day in UTC (a waiver 'expires 2026-12-31' is still
    valid on the 31st); naive times are UTC. No local-time ambiguity."""
    if isinstance(value, str) and _DATE_OR_DATE_TIME.fullmatch(value.strip()):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a valid date or date-time: {value!r}") from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        if end_of_day:
            return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=UTC)
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValueError(f"expected a date (2026-12-31) or a date-time (2026-12-31T12:00:00Z), not {value!r}")


def _as_utc_datetime(value: Any) -> datetime:
    return _instant(value, end_of_day=True)


def _as_utc_start(value: Any) -> datetime:
    return _instant(value, end_of_day=False)


# The validators give pydantic an aware datetime, never anything for it to reinterpret.
UtcEnd = Annotated[datetime, BeforeValidator(_as_utc_datetime)]
UtcStart = Annotated[datetime, BeforeValidator(_as_utc_start)]


class Policy(Strict):
    """Which results block the gate.

    Defaults fail closed: errors block whatever the control's severity, and so do
    failures of high and critical controls.
    """

    block_severities: list[Severity] = [Severity.CRITICAL, Severity.HIGH]
    errors_block: bool = True
    manual_blocks: bool = False
    # Share of selected controls (0..1) that must have reached a decision (pass/fail/
    # waived/not applicable) rather than error or manual.
    min_decided: float = Field(default=0.0, ge=0.0, le=1.0)
    require_waiver_approver: bool = True
    max_waiver_days: int | None = Field(default=None, ge=1)
    block_controls: list[str] = []  # always blocking, whatever their severity
    never_block: list[str] = []  # reported only

    # The fields that name controls: a misspelt id would silently do nothing (a control the
    # policy means to block would not), so the gate checks each against the catalog.
    CONTROL_ID_FIELDS: ClassVar[tuple[str, ...]] = ("block_controls", "never_block")

    def control_ids(self) -> list[tuple[str, str]]:
        """Every (field, control id) the policy names."""
        return [(name, control) for name in self.CONTROL_ID_FIELDS for control in getattr(self, name)]


class WaiverScope(Strict):
    """Where a waiver applies; an empty list means everywhere. Shell-style globs."""

    subjects: list[str] = []  # top-level store path or its name, e.g. "*-nixos-system-web-*"
    hosts: list[str] = []


class Waiver(Strict):
    """A time-boxed, approved acceptance of one control's failure, limited to a scope."""
    id: str = Field(min_length=1)
    control: str = Field(min_length=1)
    scope: WaiverScope = WaiverScope()
    reason: str = Field(min_length=1)
    approver: str = ""
    risk: str = Field(min_length=1)  # "low" | "medium" | "high" | free text of the org's scale
    created: UtcStart
    expires: UtcEnd
    # A waiver covers failures; covering errors (the tool could not decide) must be explicit.
    covers: list[Status] = [Status.FAIL]

    @model_validator(mode="after")
    def _expiry_after_creation(self) -> Waiver:
        if self.expires <= self.created:
            raise ValueError("expires must be after created")
        return self


class WaiverFile(Strict):
    """A waiver file: the list of waivers it grants."""
    waivers: list[Waiver]
