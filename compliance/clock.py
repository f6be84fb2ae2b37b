"""The one clock of an assessment.

Reproducible builds set ``SOURCE_DATE_EPOCH``; when it is set, it is *the* time of the
assessment (ages, waiver expiry, packet timestamps), so that the same inputs give the same
bytes. Otherwise the wall clock, in UTC, truncated to the second.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from .errors import UsageError


def now() -> datetime:
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is not None and raw.strip() != "":
        try:
            return datetime.fromtimestamp(int(raw.strip()), tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise UsageError(f"SOURCE_DATE_EPOCH: not an integer number of seconds: {raw!r}") from None
    return datetime.now(tz=UTC).replace(microsecond=0)


def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
