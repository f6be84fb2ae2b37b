"""The one clock of an assessment.

Reproducible builds set ``SOURCE_DATE_EPOCH``; when it is set, it is *the* time of the
assessment (ages, waiver expiry, packet timestamps), so that the same inputs give the same
bytes. Otherwise the wall clock, in UTC, truncated to the second.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

from compliance.errors import UsageError

# The latest moment every output can record: a ustar header (evidence packets) holds a time
# in 11 octal digits, up to 2242-03-16. Checked here, once, so that no command gets halfway.
MAX_EPOCH = 8**11 - 1
_DIGITS = re.compile(r"-?[0-9]+")


def now() -> datetime:
    """The assessment time: SOURCE_DATE_EPOCH when set (reproducible outputs), else the current time to the second."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is not None and raw.strip() != "":
        return _from_epoch(raw)
    return datetime.now(tz=UTC).replace(microsecond=0)


def _from_epoch(raw: str) -> datetime:
    """SOURCE_DATE_EPOCH as the reproducible-builds specification has it: a decimal count of
    seconds since 1970-01-01T00:00:00Z, so not negative; and one the outputs can hold."""
    text = raw.strip()
    if not _DIGITS.fullmatch(text):
        raise UsageError(f"SOURCE_DATE_EPOCH: not an integer number of seconds: {raw!r}")
    # Compared as text past twenty digits: int() refuses numbers of thousands of digits.
    seconds = int(text) if len(text) <= 20 else (-1 if text.startswith("-") else MAX_EPOCH + 1)
    if seconds < 0:
        raise UsageError(f"SOURCE_DATE_EPOCH: {text} is before 1970-01-01T00:00:00Z: it must not be negative")
    if seconds > MAX_EPOCH:
        raise UsageError(f"SOURCE_DATE_EPOCH: {text} is out of range: it must be at most {MAX_EPOCH} (2242-03-16)")
    return datetime.fromtimestamp(seconds, tz=UTC)


def isoformat(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
