"""Durations as operators write them in a policy: ``"15m"``, ``"1h"``, ``"2d"``, or seconds.

A promotion policy is mostly durations (maximum report age, clock skew, soak time). They
are read from TOML or JSON, where ``"PT15M"`` would be correct and unreadable; a number
of seconds is accepted too. Written back (in the decision, which embeds its policy) a
duration is a whole number of seconds, so the decision's bytes do not depend on how the
policy spelt it.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TEXT = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
# Far beyond any sensible age, skew or soak, and far from the dates a decision adds it to.
MAX_SECONDS = 100 * 366 * 86400


def _bounded(total: int) -> timedelta:
    if total > MAX_SECONDS:
        raise PydanticCustomError("invalid", "a duration of at most 100 years (36600d)")
    return timedelta(seconds=total)


def parse_duration(value: Any) -> Any:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"2d"`` or an integer number of seconds → timedelta.

    Anything else is left for pydantic to reject with its own message.
    """
    if isinstance(value, bool):
        raise PydanticCustomError("invalid", "a duration is a number of seconds or a text like 15m, not true or false")
    if isinstance(value, int):
        if value < 0:
            raise PydanticCustomError("invalid", "a duration cannot be negative")
        return _bounded(value)
    if isinstance(value, str):
        match = _TEXT.match(value)
        if not match:
            raise PydanticCustomError("invalid", "{value} is not a duration: write e.g. 90s, 15m, 1h, 2d or seconds", {"value": repr(value)})
        return _bounded(int(match.group(1)) * _UNITS[match.group(2)])
    return value


def seconds(value: timedelta) -> int:
    return int(value.total_seconds())


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(seconds, return_type=int),
    WithJsonSchema({"type": "integer", "minimum": 0, "description": "seconds"}, mode="serialization"),
    WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\s*\d+\s*[smhd]\s*$"}],
         "description": "seconds, or a number followed by s, m, h or d"},
        mode="validation",
    ),
]


def describe(value: timedelta) -> str:
    """The shortest exact spelling, for messages: ``1h``, ``90s``, ``2d``."""
    total = seconds(value)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total and total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"
