"""Manual attestations as the report shows them.

A clause no machine can check (a process, a signed policy, a restore test) is answered by
a person's signed attestation. The assessment records every attestation it was given with
its outcome (:class:`AttestationOutcome`): only a valid one counts, and one that does not
count is still printed, with the reason, so that the reader sees it was refused. The
report never upgrades an attestation: what did not verify stays "does not count".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from compliance.errors import UsageError
from compliance.models.attestation import AttestationOutcome
from compliance.models.frameworks import Framework, FrameworkId
from compliance.util.clock import isoformat
from compliance.util.validation import format_validation_error


@dataclass(frozen=True)
class AttestationView:
    name: str  # its id, or the file it came from when it has none
    attested_by: str | None
    clauses: dict[FrameworkId, list[str]]
    statement: str | None
    evidence: str | None
    valid_from: str | None
    valid_until: str | None
    counts: bool
    status: str
    reason: str | None  # why it does not count

    @property
    def label(self) -> str:
        who = f" by {self.attested_by}" if self.attested_by else ""
        until = f", valid until {self.valid_until}" if self.valid_until else ""
        return f"{self.name}{who}{until}"

    def answers(self, framework: FrameworkId, clause: str, catalog: Framework | None) -> bool:
        """Whether it cites ``clause`` or a point under it."""
        refs = self.clauses.get(framework, [])
        if catalog is None:
            return clause in refs
        return any(catalog.resolve(ref) == clause for ref in refs)


def _outcome(item: Any) -> AttestationOutcome:
    if isinstance(item, AttestationOutcome):
        return item
    if isinstance(item, Mapping):
        try:
            return AttestationOutcome.model_validate(item)
        except ValidationError as exc:
            raise UsageError(f"report context: attestation is not an attestation outcome: {format_validation_error(exc)}") from None
    raise UsageError(f"report context: attestation of type {type(item).__name__} is not an attestation outcome")


def _view(outcome: AttestationOutcome) -> AttestationView:
    return AttestationView(
        name=outcome.id or outcome.source,
        attested_by=outcome.attested_by,
        clauses={fw: list(outcome.clauses[fw]) for fw in FrameworkId if outcome.clauses.get(fw)},
        statement=outcome.statement,
        evidence=outcome.evidence,
        valid_from=isoformat(outcome.valid_from) if outcome.valid_from else None,
        valid_until=isoformat(outcome.valid_until) if outcome.valid_until else None,
        counts=outcome.counts,
        status=outcome.status.value,
        reason=outcome.reason,
    )


def attestation_views(recorded: list[AttestationOutcome] | None, extra: list[Any]) -> list[AttestationView]:
    """The assessment's attestations, then any the caller adds, each once, in a stable order."""
    seen: set[tuple[str, str | None]] = set()
    views: list[AttestationView] = []
    for outcome in [*(recorded or []), *(_outcome(item) for item in extra)]:
        key = (outcome.source, outcome.id)
        if key not in seen:
            seen.add(key)
            views.append(_view(outcome))
    return sorted(views, key=lambda v: (not v.counts, v.name))
