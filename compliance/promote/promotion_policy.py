"""The promotion policy: how much evidence a wave needs, and which findings roll it back
or only hold it.

Defaults fail closed: every host must have reported, within the hour, on every control
``compliance probe`` runs by default; critical and high failures roll back, medium ones
hold, errors hold; a host running another closure rolls back; evidence that does not
verify or bind holds, and so does a probe of an offline root (files at rest, not the
running host). Canaries are judged by rules that can
only be stricter than the other hosts' (the stricter value of each field wins), and
nixfleet-compliance's evidence, which binds neither a nonce nor a closure, is refused
unless the policy accepts it, and then under its own, shorter age limit.
"""

from __future__ import annotations

import math
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from compliance.inputs.documents import load_document, validate
from compliance.models.common import Severity, Strict
from compliance.models.probe import MIN_NONCE_LENGTH
from compliance.promote.durations import Duration


class Action(StrEnum):
    """What a finding does to the wave: ``note`` is reported and blocks nothing."""

    NOTE = "note"
    HOLD = "hold"
    ROLLBACK = "rollback"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {Action.NOTE: 0, Action.HOLD: 1, Action.ROLLBACK: 2}
# A finding that must block: the spelling a policy file uses (``Action(value)`` in code).
Blocking = Literal["hold", "rollback"]


class HostRules(Strict):
    """How one host's evidence is judged."""

    max_report_age: Duration = Field(default=timedelta(hours=1), description="a report older than this is stale")
    min_reported: float = Field(default=1.0, ge=0.0, le=1.0, description="share of these hosts that must have valid, bound evidence")
    rollback_on: list[Severity] = Field(default=[Severity.CRITICAL, Severity.HIGH], description="failed controls of these severities roll back")
    hold_on: list[Severity] = Field(default=[Severity.MEDIUM], description="failed controls of these severities hold")
    errors: Action = Field(default=Action.HOLD, description="a control the probe could not decide (error, manual)")
    accept_nixfleet: bool = Field(default=False, description="count nixfleet-compliance evidence.json, which binds less")
    accept_offline_root: bool = Field(
        default=False, description="count probe reports of an offline root (--root: files at rest, not the running host)")

    @model_validator(mode="after")
    def _severities_disjoint(self) -> HostRules:
        both = sorted(set(self.rollback_on) & set(self.hold_on), key=lambda s: s.rank)
        if both:
            raise PydanticCustomError("invalid", f"{', '.join(s.value for s in both)}: both in rollback_on and hold_on")
        return self

    def stricter(self, other: HostRules) -> HostRules:
        """Field by field, the stricter of the two."""
        rollback = set(self.rollback_on) | set(other.rollback_on)
        hold = (set(self.hold_on) | set(other.hold_on)) - rollback
        return HostRules(
            max_report_age=min(self.max_report_age, other.max_report_age),
            min_reported=max(self.min_reported, other.min_reported),
            rollback_on=sorted(rollback, key=lambda s: -s.rank),
            hold_on=sorted(hold, key=lambda s: -s.rank),
            errors=max(self.errors, other.errors, key=lambda a: a.rank),
            accept_nixfleet=self.accept_nixfleet and other.accept_nixfleet,
            accept_offline_root=self.accept_offline_root and other.accept_offline_root,
        )

    def needed(self, hosts: int) -> int:
        """How many of ``hosts`` must have valid evidence."""
        return min(hosts, math.ceil(round(self.min_reported * hosts, 9)))


class CanaryRules(HostRules):
    """The canaries' rules. Their own defaults are stricter: a medium failure rolls back
    and a low one holds. Merged with ``hosts``, the stricter value wins."""

    rollback_on: list[Severity] = Field(default=[Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM])
    hold_on: list[Severity] = Field(default=[Severity.LOW])


class NixfleetRules(Strict):
    """What nixfleet-compliance evidence must satisfy on top, when a host's rules accept it.

    Its evidence.json is signed by the host's SSH key over JCS, but names only the host
    and the time: no nonce (it could be replayed within its age), no closure, machine or
    boot id. The wave must say when it was activated, so that the evidence can at least
    be shown to post-date the release.
    """

    max_report_age: Duration = Field(default=timedelta(minutes=15), description="shorter than for probe reports: time is all it binds")
    max_share: float = Field(default=1.0, ge=0.0, le=1.0, description="share of the wave's hosts that may rest on nixfleet evidence")
    required_controls: list[str] = Field(default=[], description="nixfleet control ids every evidence.json must report")
    non_compliant: Blocking = Field(default="rollback", description="a control with status non-compliant (passed false)")
    errors: Action = Field(default=Action.HOLD, description="a control whose probe failed (status error)")


class PromotionPolicy(Strict):
    hosts: HostRules = HostRules()
    canaries: CanaryRules = CanaryRules()
    nixfleet: NixfleetRules = NixfleetRules()
    max_clock_skew: Duration = Field(default=timedelta(minutes=5), description="how far in the future a report may be dated")
    min_soak: Duration = Field(default=timedelta(0), description="reports count only when taken this long after activated_at")
    min_nonce_length: int = Field(default=MIN_NONCE_LENGTH, ge=MIN_NONCE_LENGTH, description="shorter nonces are refused as guessable")
    wrong_closure: Blocking = Field(default="rollback", description="a host that runs another closure than the expected one")
    invalid_evidence: Blocking = Field(
        default="hold",
        description="evidence that does not verify, names another host, nonce or machine, is dated in the future, or is duplicated",
    )
    unattributed_reports: Action = Field(default=Action.HOLD, description="a file of the reports folder no wave host can be held to")
    required_controls: list[str] | None = Field(
        default=None,
        description="controls every probe report must have checked and found applicable; unset: every control "
                    "'compliance probe' runs by default must be in every report (not applicable counts as checked)",
    )
    rollback_controls: list[str] = Field(default=[], description="controls whose failure rolls back whatever their severity")
    ignore_controls: list[str] = Field(default=[], description="controls reported as notes only")

    @model_validator(mode="after")
    def _controls_consistent(self) -> PromotionPolicy:
        both = sorted(set(self.rollback_controls) & set(self.ignore_controls))
        if both:
            raise PydanticCustomError("invalid", f"{', '.join(both)}: both in rollback_controls and ignore_controls")
        return self

    @cached_property
    def canary_rules(self) -> HostRules:
        """The canaries' effective rules: ``canaries`` merged into ``hosts``, stricter wins."""
        return self.hosts.stricter(self.canaries)

    def rules_for(self, canary: bool) -> HostRules:
        return self.canary_rules if canary else self.hosts


def read_promotion_policy(path: str | Path, data: bytes | None = None) -> PromotionPolicy:
    """The policy file (TOML or JSON), or :class:`InputError` naming the file and field."""
    return validate(PromotionPolicy, load_document(path, data), path)
