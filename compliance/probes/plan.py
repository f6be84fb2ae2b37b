"""What each probe will read, declared ahead of running it.

A planner returns the requests a probe is going to make for its parameters; the runner
asks the host for all of them in one batch before any probe runs, so a whole profile
costs one round trip (plus one for inputs that depend on earlier answers, such as the
configuration files a directory listing names). Planning is only an optimisation: a
request a planner forgot is still collected when the probe makes it, one round trip
later, and a planner never decides a result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..hosts.base import Host
from ..hosts.requests import Request
from ..models.control import CheckKind
from ..selection import Selection

Planner = Callable[[Host, Any], Iterable[Request]]
_PLANS: dict[str, Planner] = {}


def plans(name: str) -> Callable[[Planner], Planner]:
    """Register the planner of probe ``name``."""

    def decorate(func: Planner) -> Planner:
        _PLANS[name] = func
        return func

    return decorate


def planned_requests(selection: Selection, host: Host) -> list[Request]:
    requests: list[Request] = []
    for selected in selection.controls:
        for check in selected.control.checks_of(CheckKind.RUNTIME):
            planner = _PLANS.get(check.function)
            if planner is None:
                continue
            try:
                requests.extend(planner(host, selected.params_for(CheckKind.RUNTIME, check.function)))
            except Exception:
                continue
    return list(dict.fromkeys(requests))
