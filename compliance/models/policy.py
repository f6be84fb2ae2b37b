"""Gate policy and waivers, as users write them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, model_validator

from .common import Severity, Status, Strict


def _as_utc_datetime(value: Any) -> Any:
    """Dates without time mean the end of that day in UTC (a waiver 'expires 2026-12-31'
    is still valid on the 31st); naive datetimes are UTC. No local-time ambiguity."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=UTC)
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _as_utc_start(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


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
    waivers: list[Waiver]
