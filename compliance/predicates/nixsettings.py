"""Predicates over the Nix daemon's settings (``nix.settings.*``): where binaries come from
and who may change that."""

from __future__ import annotations

from typing import Annotated, Any

from ..errors import CheckError
from ..inputs.facts import lookup
from ..models.params import INTERSECTION, TRUE, Params
from ..registry import Outcome, failed, passed, predicate
from ..subject import Subject

NIXOS_CACHE = "https://cache.nixos.org"
NIXOS_CACHE_KEY = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="


class SubstituterParams(Params):
    allowed_substituters: Annotated[list[str], INTERSECTION] = [NIXOS_CACHE, f"{NIXOS_CACHE}/"]
    trusted_keys: Annotated[list[str], INTERSECTION] = [NIXOS_CACHE_KEY]
    require_sigs: Annotated[bool, TRUE] = True


SUBSTITUTER_OPTIONS = [
    "nix.settings.substituters",
    "nix.settings.trusted-substituters",
    "nix.settings.trusted-public-keys",
    "nix.settings.require-sigs",
]


def _strings(value: Any, option: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CheckError(f"{option} is not a list of strings")
    return value


@predicate("substituters_trusted", params=SubstituterParams, reads=SUBSTITUTER_OPTIONS)
def substituters_trusted(subject: Subject, params: SubstituterParams) -> Outcome:
    """Binary caches and their signing keys are on the allowlist, and signatures are required."""
    facts = subject.need_facts()
    substituters = _strings(lookup(facts, "nix.settings.substituters"), "nix.settings.substituters")
    trusted_subs = _strings(lookup(facts, "nix.settings.trusted-substituters"), "nix.settings.trusted-substituters")
    keys = _strings(lookup(facts, "nix.settings.trusted-public-keys"), "nix.settings.trusted-public-keys")
    require_sigs = lookup(facts, "nix.settings.require-sigs")
    allowed = set(params.allowed_substituters)
    observed = {
        "substituters": substituters,
        "trusted_substituters": trusted_subs,
        "trusted_public_keys": keys,
        "require_sigs": require_sigs,
    }
    problems = []
    if params.require_sigs and require_sigs is not True:
        problems.append("nix.settings.require-sigs is not true: unsigned store paths are accepted")
    if extra := [s for s in substituters + trusted_subs if s not in allowed]:
        problems.append(f"substituters not on the allowlist: {', '.join(extra)}")
    if extra_keys := [k for k in keys if k not in set(params.trusted_keys)]:
        problems.append(f"signing keys not on the allowlist: {', '.join(k.split(':')[0] for k in extra_keys)}")
    if problems:
        return failed("; ".join(problems), **observed)
    return passed("substituters and signing keys are trusted; signatures are required", **observed)


class TrustedUsersParams(Params):
    allowed_trusted_users: Annotated[list[str], INTERSECTION] = ["root"]


@predicate("nix_trusted_users", params=TrustedUsersParams, reads=["nix.settings.trusted-users"])
def nix_trusted_users(subject: Subject, params: TrustedUsersParams) -> Outcome:
    """Only approved identities are Nix trusted users (who can import unsigned paths: root-equivalent)."""
    facts = subject.need_facts()
    users = _strings(lookup(facts, "nix.settings.trusted-users"), "nix.settings.trusted-users")
    extra = [u for u in users if u not in set(params.allowed_trusted_users)]
    if extra:
        return failed(f"trusted users beyond the allowlist: {', '.join(extra)}", trusted_users=users, unapproved=extra)
    return passed(f"trusted users: {', '.join(users) or 'none'}", trusted_users=users, unapproved=[])



