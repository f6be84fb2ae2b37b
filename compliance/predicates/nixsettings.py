"""Predicates over the Nix daemon's settings (``nix.settings.*``): where binaries come from
and who may change that."""

from __future__ import annotations

from typing import Annotated, Any

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate
from compliance.errors import CheckError
from compliance.inputs.facts import lookup, lookup_optional
from compliance.models.params import INTERSECTION, TRUE, Params
from compliance.models.subject import ConfigFacts

NIXOS_CACHE = "https://cache.nixos.org"
NIXOS_CACHE_KEY = "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY="


class SubstituterParams(Params):
    allowed_substituters: Annotated[list[str], INTERSECTION] = [NIXOS_CACHE, f"{NIXOS_CACHE}/"]
    trusted_keys: Annotated[list[str], INTERSECTION] = [NIXOS_CACHE_KEY]
    require_sigs: Annotated[bool, TRUE] = True


# nix.conf is written from nix.settings, then nix.extraOptions is appended (a later line
# wins); a list setting X is also extended by "extra-X" (NixOS writes those lines after X).
# Every place a substituter, key or trusted user can come from is read.
SUBSTITUTER_SETTINGS = ("substituters", "trusted-substituters", "trusted-public-keys")
SUBSTITUTER_OPTIONS = [
    *(f"nix.settings.{name}" for name in SUBSTITUTER_SETTINGS),
    *(f"nix.settings.extra-{name}" for name in SUBSTITUTER_SETTINGS),
    "nix.settings.require-sigs",
    "nix.extraOptions",
]
TRUSTED_USERS_OPTIONS = ["nix.settings.trusted-users", "nix.settings.extra-trusted-users", "nix.extraOptions"]


def _strings(value: Any, option: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CheckError(f"{option} is not a list of strings")
    return value


def extra_options(facts: ConfigFacts) -> list[tuple[str, str]]:
    """The ``name = value`` lines of nix.extraOptions, in order. An ``include`` or
    ``!include`` line is an error: the file it names is outside the configuration and may
    set any of these settings (require-sigs = false) after the lines seen here."""
    text = lookup(facts, "nix.extraOptions")
    if text is None:
        return []
    if not isinstance(text, str):
        raise CheckError("nix.extraOptions is not a string")
    lines = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if words and words[0] in ("include", "!include"):
            raise CheckError(f"nix.extraOptions includes a file outside the configuration ({' '.join(words)}): "
                             "the settings it holds cannot be judged")
        name, sep, value = raw.split("#", 1)[0].partition("=")
        if sep and name.strip():
            lines.append((name.strip(), value.strip()))
    return lines


def nix_list_setting(facts: ConfigFacts, name: str, extra: list[tuple[str, str]]) -> list[str]:
    """Every value the list setting ``name`` takes from nix.settings (``name`` and
    ``extra-name``) and from nix.extraOptions, in that order, each once."""
    values = _strings(lookup(facts, f"nix.settings.{name}"), f"nix.settings.{name}")
    values = values + _strings(lookup_optional(facts, f"nix.settings.extra-{name}", []), f"nix.settings.extra-{name}")
    values += [word for key, value in extra if key in (name, f"extra-{name}") for word in value.split()]
    return list(dict.fromkeys(values))


@predicate("substituters_trusted", params=SubstituterParams, reads=SUBSTITUTER_OPTIONS)
def substituters_trusted(subject: Subject, params: SubstituterParams) -> Outcome:
    """Binary caches and their signing keys are on the allowlist, and signatures are required."""
    facts = subject.need_facts()
    extra = extra_options(facts)
    substituters = nix_list_setting(facts, "substituters", extra)
    trusted_subs = nix_list_setting(facts, "trusted-substituters", extra)
    keys = nix_list_setting(facts, "trusted-public-keys", extra)
    require_sigs = lookup(facts, "nix.settings.require-sigs")
    for key, value in extra:
        if key == "require-sigs":
            require_sigs = {"true": True, "false": False}.get(value, value)
    allowed = set(params.allowed_substituters)
    observed = {
        "substituters": substituters,
        "trusted_substituters": trusted_subs,
        "trusted_public_keys": keys,
        "require_sigs": require_sigs,
    }
    problems = []
    if params.require_sigs and require_sigs is not True:
        problems.append("require-sigs is not true (nix.settings, nix.extraOptions): unsigned store paths are accepted")
    if extra_subs := [s for s in substituters + trusted_subs if s not in allowed]:
        problems.append(f"substituters not on the allowlist: {', '.join(extra_subs)}")
    if extra_keys := [k for k in keys if k not in set(params.trusted_keys)]:
        problems.append(f"signing keys not on the allowlist: {', '.join(k.split(':')[0] for k in extra_keys)}")
    if problems:
        return failed("; ".join(problems), **observed)
    return passed("substituters and signing keys are trusted; signatures are required", **observed)


class TrustedUsersParams(Params):
    allowed_trusted_users: Annotated[list[str], INTERSECTION] = ["root"]


@predicate("nix_trusted_users", params=TrustedUsersParams, reads=TRUSTED_USERS_OPTIONS)
def nix_trusted_users(subject: Subject, params: TrustedUsersParams) -> Outcome:
    """Only approved identities are Nix trusted users (who can import unsigned paths: root-equivalent)."""
    facts = subject.need_facts()
    users = nix_list_setting(facts, "trusted-users", extra_options(facts))
    extra = [u for u in users if u not in set(params.allowed_trusted_users)]
    if extra:
        return failed(f"trusted users beyond the allowlist: {', '.join(extra)}", trusted_users=users, unapproved=extra)
    return passed(f"trusted users: {', '.join(users) or 'none'}", trusted_users=users, unapproved=[])
