"""The one small interface both report readers implement, and what they are given.

A reader answers two questions, in this order, and is never asked the second before the
first: *whose is this document, by its own (unverified) word?* (so that the gate knows
which host's key to verify it with), and *does it verify with that host's key, and what
does it say?*
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from compliance.errors import VerificationError
from compliance.promote.host_evidence import ControlOutcome, Evidence, ReportKind
from compliance.promote.hostkeys import HostKeys


@dataclass(frozen=True)
class Candidate:
    """One file of the reports folder, as read."""

    file: str  # path relative to the reports folder, with '/'
    data: bytes
    sha256: str
    signature: bytes | None = None  # the companion '<file>.sig' (nixfleet's evidence.json.sig)
    problem: str | None = None  # why it could not be read at all

    def read(self) -> Candidate:
        return self


class ReportSource(Protocol):
    """A report to check: already in memory (:class:`Candidate`), or a file read only
    when it is checked (:class:`~compliance.promote.collect.ReportFile`)."""

    @property
    def file(self) -> str: ...

    def read(self) -> Candidate: ...


@dataclass(frozen=True)
class Claim:
    """What a document says about itself before anything is verified."""

    host: str
    signer: str | None = None  # the key fingerprint it names, if its kind names one
    parsed: Any = None  # what the reader decoded to find out, for its own verify (not trusted)
    created: datetime | None = None  # the time it says it was taken (not trusted)


def claimed_time(value: Any) -> datetime | None:
    """An RFC 3339 time with an offset, as a document claims it; ``None`` otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


class ReportReader(Protocol):
    kind: ReportKind

    def claim(self, doc: Any) -> Claim | None:
        """The host the parsed JSON document says it comes from; ``None``: not this kind."""
        ...

    def verify(self, candidate: Candidate, doc: Any, claim: Claim, keys: HostKeys) -> Evidence:
        """The verified content, or :class:`~compliance.errors.VerificationError`."""
        ...


def each_control_once(controls: Iterable[ControlOutcome]) -> tuple[ControlOutcome, ...]:
    """``controls``, or :class:`VerificationError` when one is reported twice (which of
    two answers would count?)."""
    listed = tuple(controls)
    seen: set[str] = set()
    for outcome in listed:
        if outcome.control_id in seen:
            raise VerificationError(f"control {outcome.control_id} is reported twice")
        seen.add(outcome.control_id)
    return listed
