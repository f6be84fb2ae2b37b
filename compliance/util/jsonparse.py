"""The one JSON parser every reader goes through: orjson, plus what orjson does not refuse.

orjson keeps the last of two values given for the same key in one object, silently; JSON
(RFC 8259) leaves duplicate names to the implementation. A policy with a second, laxer
``block_severities`` would then decide the gate. Every reader of this tool therefore
refuses a duplicate key.

Finding one must not cost a second parse. A colon outside strings separates a key from its
value, and orjson never escapes a colon when it writes, so in the document orjson writes
back (``dumps(loads(data))``) every colon is either a key's or a string's own. The strings
written back are those read, minus the ones a duplicate dropped, so when the source spells
no colon as ``\\u003a``, ``count(':')`` of the source exceeds that of the written-back
document exactly when a key was dropped. Two C-speed counts and a dump: about a fifth of
orjson's parse time (docs/performance.md). Only then, or when an escaped colon is present,
the standard library parses again to find and name the key.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from compliance.errors import MalformedJSON

# orjson refuses deeper documents itself ("recursion limit reached"); the standard
# library's scanner, used only to name a duplicate, must then get as deep.
MAX_DEPTH = 1024


def loads_json(data: bytes | str) -> Any:
    """Parse ``data``; :class:`MalformedJSON` for invalid JSON, too deep a nesting or a key
    given twice in one object."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(f"{exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(value, dict | list):
        return value
    raw = data.encode("utf-8") if isinstance(data, str) else data
    escaped_colon = b"\\u003a" in raw or b"\\u003A" in raw
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # orjson writes 255 levels, reads 1024: count the slow way
        written = None
    if escaped_colon or written is None or raw.count(b":") != written.count(b":"):
        _name_duplicate(raw)
    return value


def _refuse_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedJSON(f"duplicate key {json.dumps(key)}")
            seen.add(key)
    return obj


def _name_duplicate(raw: bytes) -> None:
    """Raise for the first duplicate key of ``raw`` (already parsed by orjson), if any."""
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH))
    try:
        json.loads(raw, object_pairs_hook=_refuse_pairs)
    except RecursionError:
        raise MalformedJSON("nested too deeply") from None
    finally:
        sys.setrecursionlimit(limit)
