"""Probes of the running NixOS system: is it the approved closure, and are its store
paths intact."""

from __future__ import annotations

import hashlib
from typing import Annotated

from ..errors import CheckError, NotApplicable
from ..hosts.base import Host
from ..hosts.requests import Request, ResolvePath, RunCommand
from ..models.params import HIGHER, NoParams, Params
from ..registry import Outcome, failed, probe, verdict
from .plan import plans
from .sources import SYSTEM_PROFILE

CURRENT_SYSTEM = "/run/current-system"


def _system_link(host: Host) -> str:
    return CURRENT_SYSTEM if host.live else SYSTEM_PROFILE


@plans("running_closure")
def _plan_closure(host: Host, params: NoParams) -> list[Request]:
    return [ResolvePath(_system_link(host))]


@probe("running_closure", params=NoParams)
def running_closure(host: Host, params: NoParams) -> Outcome:
    """The running system (/run/current-system; offline, the system profile) is the approved closure given with --expect-closure."""
    expected = host.expected_closure
    if not expected:
        raise NotApplicable("no expected closure was given (--expect-closure)")
    link = _system_link(host)
    actual = host.resolve(link)
    if actual is None:
        return failed(f"{link} does not exist: the host does not run a NixOS system", expected=expected, actual=None)
    return verdict(actual == expected, f"{link} is the approved closure", f"{link} is {actual}, expected {expected}",
                   expected=expected, actual=actual)


class StoreParams(Params):
    store_sample_size: Annotated[int, HIGHER] = 32


QUERY = ("nix-store", "--query", "--requisites", CURRENT_SYSTEM)


@plans("store_paths_verified")
def _plan_store(host: Host, params: StoreParams) -> list[Request]:
    return [ResolvePath(CURRENT_SYSTEM), RunCommand(QUERY)] if host.live else []


def sample(paths: list[str], size: int, nonce: str) -> list[str]:
    """``size`` paths chosen by a hash keyed on the wave's nonce: the host cannot know in
    advance which paths will be checked, and an auditor can recompute the choice."""
    ranked = sorted(paths, key=lambda p: hashlib.sha256(f"{nonce}\0{p}".encode()).digest())
    return sorted(ranked[:size])


@probe("store_paths_verified", params=StoreParams)
def store_paths_verified(host: Host, params: StoreParams) -> Outcome:
    """A nonce-keyed sample of the running closure's store paths still has the content Nix registered (nix-store --verify-path)."""
    host.require_live("store verification")
    current = host.resolve(CURRENT_SYSTEM)
    if current is None:
        raise NotApplicable(f"{CURRENT_SYSTEM} does not exist: not a NixOS system")
    listed = host.run(*QUERY)
    if listed is None:
        raise CheckError("nix-store is not installed")
    if listed.exit_code != 0:
        raise CheckError(f"nix-store --query --requisites failed: {listed.stderr}")
    paths = [p for p in listed.stdout.split() if p.startswith("/")]
    if not paths:
        raise CheckError(f"nix-store listed no requisites of {current}")
    chosen = sample(paths, params.store_sample_size, host.nonce)
    result = host.run("nix-store", "--verify-path", *chosen)
    if result is None:
        raise CheckError("nix-store is not installed")
    modified = [ln for ln in result.stderr.splitlines() if "was modified" in ln or "path '" in ln]
    return verdict(
        result.exit_code == 0,
        f"{len(chosen)} of {len(paths)} store paths verified",
        f"store paths modified: {'; '.join(modified) or result.stderr or 'exit ' + str(result.exit_code)}",
        closure=current, requisites=len(paths), sampled=chosen,
    )
