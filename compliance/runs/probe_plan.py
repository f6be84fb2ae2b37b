"""What each probe will read, declared ahead of running it.

A planner returns the requests a probe is going to make for its parameters; the runner
asks the host for all of them in one batch before any probe runs. Inputs that depend on
earlier answers (the files a directory listing names, the includes of a PAM stack) are
planned from what is already collected (:meth:`Host.peek`): the runner plans again after
each batch until nothing new comes up, so a whole profile costs as many round trips as its
longest chain of dependent inputs (two or three), not one per file. Planning is only an
optimisation: a request a planner forgot is still collected when the probe makes it, one
round trip later, and a planner never decides a result.
"""

from __future__ import annotations

from compliance.catalog.selection import Selection
from compliance.checks import registry
from compliance.hosts.host_api import Host
from compliance.hosts.requests import Request
from compliance.models.control import CheckKind
from compliance.probes.planners import planner_of


def planned_requests(selection: Selection, host: Host) -> list[Request]:
    """Every request the selected probes' planners declare for this host."""
    requests: list[Request] = []
    for selected in selection.controls:
        for check in selected.control.checks_of(CheckKind.RUNTIME):
            planner = planner_of(check.function)
            if planner is None:
                continue
            try:
                requests.extend(planner(host, selected.params_for(CheckKind.RUNTIME, check.function)))
            except Exception:
                continue
    return list(dict.fromkeys(requests))


MAX_PHASES = 4


def dry_run_requests(selection: Selection, host: Host) -> list[Request]:
    """What the probes would still ask, given what is collected: each runs against a
    planning view that answers from the cache and notes the rest."""
    view = host.planning_view()
    for selected in selection.controls:
        for check in selected.control.checks_of(CheckKind.RUNTIME):
            spec = registry.get(CheckKind.RUNTIME, check.function)
            if spec is None:
                continue
            try:
                spec.func(view, selected.params_for(CheckKind.RUNTIME, check.function))
            except Exception:
                continue
    return list(dict.fromkeys(view.wanted))


def prefetch_planned(selection: Selection, host: Host, extra: list[Request]) -> None:
    """Collect what the probes will read, phase by phase, until nothing new is wanted:
    the declared plans and ``extra`` first, then what dry runs show depends on them."""
    wanted = [*extra, *planned_requests(selection, host)]
    for _ in range(MAX_PHASES):
        wanted = [r for r in dict.fromkeys(wanted) if host.peek(r) is None]
        if not wanted:
            return
        host.prefetch(wanted)
        wanted = dry_run_requests(selection, host)
