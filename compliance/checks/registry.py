"""The registry of check functions: static predicates and runtime probes.

A check function is registered with its name (what a control's ``function`` field says),
its typed parameter model, and, for predicates over configuration facts, the NixOS option
paths it reads (so ``compliance facts`` evaluates exactly those). Controls are data; this
is the only code a new control may need.

Registration is explicit: a check module registers its functions when it is imported, and
the packages ``compliance.predicates`` and ``compliance.probes`` import every one of their
modules by name; the catalog loader imports those two packages. Nothing scans for modules.

    @predicate("firewall_enabled", params=NoParams, reads=lambda p: ["networking.firewall.enable"])
    def firewall_enabled(subject: Subject, params: NoParams) -> Outcome: ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from compliance.checks.predicate_subject import Subject
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.models.params import NoParams, Params, strictness_of

P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: a decided status, why, and the observed values."""

    status: Status
    message: str
    observed: dict[str, Any] = field(default_factory=dict)


def passed(message: str, **observed: Any) -> Outcome:
    """A pass with the observed values that justify it."""
    return Outcome(Status.PASS, message, observed)


def failed(message: str, **observed: Any) -> Outcome:
    """A fail with the observed values that decided it."""
    return Outcome(Status.FAIL, message, observed)


def not_applicable(message: str, **observed: Any) -> Outcome:
    """Not applicable here (a check that cannot apply is never a pass)."""
    return Outcome(Status.NOT_APPLICABLE, message, observed)


def verdict(ok: bool, ok_message: str, fail_message: str, **observed: Any) -> Outcome:
    """Pass or fail on ``ok``, with the message that fits and the same observed values."""
    return passed(ok_message, **observed) if ok else failed(fail_message, **observed)


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: its kind, name, function, parameter model, the options it reads and the subject parts it needs."""
    kind: CheckKind
    name: str
    func: Callable[[Any, Any], Outcome]
    params: type[Params]
    reads: Callable[[Any], Sequence[str]]
    summary: str
    needs: frozenset[str] = frozenset()  # subject parts: "closure", "sbom", "facts", "vulnerabilities", "flake_lock"

    def facts_read(self, params: Params) -> list[str]:
        return list(self.reads(params))


# The parts of the subject a predicate may say it needs: the input fields of Subject.
SUBJECT_PARTS = frozenset(
    f.name for f in dataclasses.fields(Subject) if f.name not in ("inputs", "notes", "commit")
)

_REGISTRY: dict[CheckKind, dict[str, CheckSpec]] = {CheckKind.STATIC: {}, CheckKind.RUNTIME: {}}

def _register(kind: CheckKind, name: str, params: type[Params], reads: Any, func: Any, needs: Sequence[str] = ()) -> None:
    if name in _REGISTRY[kind]:
        raise TypeError(f"{kind.value} check {name!r} registered twice")
    unknown = sorted(set(needs) - SUBJECT_PARTS)
    if unknown:
        # a misspelt part ("sbomm") would otherwise never trigger the SBOM generation it asks for
        raise TypeError(f"{kind.value} check {name!r} needs unknown subject parts {unknown}: one of {sorted(SUBJECT_PARTS)}")
    for field_name in params.model_fields:
        strictness_of(params, field_name)  # raises TypeError when a marker is missing
    if reads is None:
        reads_fn: Callable[[Any], Sequence[str]] = lambda _p: ()  # noqa: E731
    elif callable(reads):
        reads_fn = reads
    else:
        fixed = tuple(reads)
        reads_fn = lambda _p: fixed  # noqa: E731
    doc = (func.__doc__ or "").strip().splitlines()
    _REGISTRY[kind][name] = CheckSpec(kind, name, func, params, reads_fn, doc[0] if doc else name, frozenset(needs))


def predicate(
    name: str,
    *,
    params: type[Params] = NoParams,
    reads: Sequence[str] | Callable[[Any], Sequence[str]] | None = None,
    needs: Sequence[str] = (),
) -> Callable[[Callable[[Any, Any], Outcome]], Callable[[Any, Any], Outcome]]:
    """Register a static predicate ``func(subject, params) -> Outcome``.

    ``reads``: the NixOS option paths it reads (a list, or a function of the parameters);
    ``needs``: the subject parts it cannot work without (an SBOM is generated from the
    closure when a selected predicate needs one and none is given).
    """

    def decorate(func: Callable[[Any, Any], Outcome]) -> Callable[[Any, Any], Outcome]:
        _register(CheckKind.STATIC, name, params, reads, func, needs)
        return func

    return decorate


def probe(
    name: str, *, params: type[Params] = NoParams
) -> Callable[[Callable[[Any, Any], Outcome]], Callable[[Any, Any], Outcome]]:
    """Register a runtime probe ``func(host, params) -> Outcome``."""

    def decorate(func: Callable[[Any, Any], Outcome]) -> Callable[[Any, Any], Outcome]:
        _register(CheckKind.RUNTIME, name, params, None, func)
        return func

    return decorate


def get(kind: CheckKind, name: str) -> CheckSpec | None:
    """The check registered as ``name``; None when no imported module registered it."""
    return _REGISTRY[kind].get(name)


def all_specs(kind: CheckKind) -> dict[str, CheckSpec]:
    """Every registered check of ``kind``, by name."""
    return dict(_REGISTRY[kind])
