"""Planners: what each probe will read, declared beside the probe.

A probe module registers a planner with ``@plans("probe_name")``; the probe run
(:mod:`compliance.runs.probe_plan`) asks the host for every planned request in one batch
before any probe runs. A planner is only an optimisation and never decides a result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from compliance.hosts.host_api import Host
from compliance.hosts.requests import Request

Planner = Callable[[Host, Any], Iterable[Request]]
_PLANS: dict[str, Planner] = {}


def plans(name: str) -> Callable[[Planner], Planner]:
    """Register the planner of probe ``name``."""

    def decorate(func: Planner) -> Planner:
        _PLANS[name] = func
        return func

    return decorate


def planner_of(name: str) -> Planner | None:
    """The planner registered for probe ``name``, if any."""
    return _PLANS.get(name)
