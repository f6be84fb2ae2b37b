"""Typed parameters of predicates and probes, and how profiles merge them.

Every predicate and probe declares its parameters as a :class:`Params` model. Each field
says, with a :class:`Strictness` marker in its ``Annotated`` metadata, which of two values
is the stricter one, so that when several profiles set the same parameter the strictest
wins, and the report can say which profile set each value.

    class AgeParams(Params):
        max_age_days: Annotated[int, LOWER] = 30      # a lower limit is stricter
        denylist: Annotated[list[str], UNION] = []    # more entries is stricter
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Base of every parameter model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


@dataclass(frozen=True)
class Strictness:
    """Which of two values of a parameter is stricter.

    kinds: ``lower`` / ``higher`` (numbers), ``true`` / ``false`` (booleans: that value is
    stricter), ``union`` (lists: more entries), ``intersection`` (allowlists: fewer entries),
    ``merge`` (maps: union of keys, values compared with ``inner``), ``ranked`` (a choice
    among ``order``, strictest first, such as ``"fail"`` before ``"warn"``), ``bounds`` (numeric
    expectations such as ``">=2"``, see :class:`Bound`), ``fixed`` (profiles may not
    disagree: an identity such as an option path).
    """

    kind: str
    inner: Strictness | None = None
    order: tuple[str, ...] = ()  # ``ranked``: the values, strictest first

    def stricter(self, current: Any, candidate: Any) -> Any:
        """The stricter of ``current`` and ``candidate`` (``current`` wins ties).

        ``None`` means "not constrained" for every kind but ``fixed``: any value is stricter.
        """
        kind = self.kind
        if kind != "fixed":
            if current is None:
                return candidate
            if candidate is None:
                return current
        if kind == "lower":
            return candidate if candidate < current else current
        if kind == "higher":
            return candidate if candidate > current else current
        if kind == "true":
            return bool(current) or bool(candidate)
        if kind == "false":
            return bool(current) and bool(candidate)
        if kind == "union":
            merged = list(current)
            merged.extend(item for item in candidate if item not in merged)
            return merged
        if kind == "intersection":
            return [item for item in current if item in candidate]
        if kind == "ranked":
            return candidate if self.order.index(candidate) < self.order.index(current) else current
        if kind == "merge":
            inner = self.inner or FIXED
            out = dict(current)
            for key, value in candidate.items():
                out[key] = inner.stricter(out[key], value) if key in out else value
            return out
        if kind == "bounds":
            try:
                a, b = Bound.parse(str(current)), Bound.parse(str(candidate))
            except ValueError:
                if " ".join(str(current).split()) != " ".join(str(candidate).split()):
                    raise ValueError(f"profiles disagree: {current!r} vs {candidate!r}") from None
                return current
            return a.tighten(b).text
        if kind == "fixed":
            if current != candidate:
                raise ValueError(f"profiles disagree on a fixed value: {current!r} vs {candidate!r}")
            return current
        raise ValueError(f"unknown strictness {kind!r}")


@dataclass(frozen=True)
class Bound:
    """An expectation on a number: ``"2"`` (exactly), ``">=1"`` (at least), ``"<=0"`` (at
    most). Sysctl baselines use them; two bounds on one key tighten into the stricter."""

    op: str
    value: int

    @staticmethod
    def parse(text: str) -> Bound:
        text = text.strip()
        for op in (">=", "<="):
            if text.startswith(op):
                return Bound(op, int(text[2:].strip()))
        return Bound("==", int(text.lstrip("=").strip()))

    @property
    def text(self) -> str:
        return str(self.value) if self.op == "==" else f"{self.op}{self.value}"

    def accepts(self, observed: int) -> bool:
        if self.op == ">=":
            return observed >= self.value
        if self.op == "<=":
            return observed <= self.value
        return observed == self.value

    def tighten(self, other: Bound) -> Bound:
        if self.op == other.op == ">=":
            return self if self.value >= other.value else other
        if self.op == other.op == "<=":
            return self if self.value <= other.value else other
        if self.op == "==" and other.accepts(self.value):
            return self
        if other.op == "==" and self.accepts(other.value):
            return other
        if "==" not in (self.op, other.op):
            low, high = (self, other) if self.op == ">=" else (other, self)
            if low.value == high.value:
                return Bound("==", low.value)
            if low.value < high.value:
                raise ValueError(f"expectations {self.text!r} and {other.text!r} together allow a range, which one expectation cannot say")
        raise ValueError(f"expectations {self.text!r} and {other.text!r} cannot both hold")


LOWER = Strictness("lower")
HIGHER = Strictness("higher")
TRUE = Strictness("true")
FALSE = Strictness("false")
UNION = Strictness("union")
INTERSECTION = Strictness("intersection")
FIXED = Strictness("fixed")
BOUNDS = Strictness("bounds")
FAIL_FIRST = Strictness("ranked", order=("fail", "warn"))


def merge(inner: Strictness) -> Strictness:
    """A strictness that merges mappings key by key, each value by ``inner``."""
    return Strictness("merge", inner)


MERGE_FIXED = merge(FIXED)


def strictness_of(model: type[Params], field: str) -> Strictness:
    """The marker of ``field``; a field without one is a programming error caught at import."""
    for item in model.model_fields[field].metadata:
        if isinstance(item, Strictness):
            return item
    raise TypeError(f"{model.__name__}.{field} has no Strictness marker")


def own_values(model: type[Params], values: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``values`` that are fields of ``model`` (a control's parameters are
    shared out among its checks, each taking its own)."""
    return {k: v for k, v in values.items() if k in model.model_fields}


class NoParams(Params):
    """For checks without parameters."""
