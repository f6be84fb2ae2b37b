"""Predicates about secrets in the configuration: what ends up readable in the Nix store.

Everything a NixOS configuration holds as a value is written to the store, and the store
is readable by every local user (and by anyone the closure is copied to: caches, CI
artefacts, backups). A secret given as a value is therefore disclosed; it must be given
as a file outside the store (``hashedPasswordFile``, ``*File`` options, agenix or
sops-nix paths) instead.
"""

from __future__ import annotations

from typing import Annotated, Any

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, predicate, verdict
from compliance.errors import CheckError
from compliance.inputs.facts import lookup
from compliance.models.params import TRUE, UNION, Params

# users.users.<name> options that put a clear-text password in the store.
PLAINTEXT_USER_OPTIONS = ("password", "initialPassword")
# ... and those that put a password hash there (world-readable, open to offline guessing).
HASH_USER_OPTIONS = ("hashedPassword", "initialHashedPassword")


class SecretsParams(Params):
    forbid_hashes_in_store: Annotated[bool, TRUE] = False
    # further option paths that must be unset (null or empty) because they hold a secret
    # as a value, e.g. a service password that also has a *File variant
    plaintext_options: Annotated[list[str], UNION] = []


def _reads(params: SecretsParams) -> list[str]:
    return ["users.users", *params.plaintext_options]


@predicate("no_secrets_in_store", params=SecretsParams, reads=_reads)
def no_secrets_in_store(subject: Subject, params: SecretsParams) -> Outcome:
    """No account password, and no listed secret option, is given as a value (which the store would disclose).

    users.users.<name>.password and initialPassword put the clear text in the store;
    hashedPassword and initialHashedPassword put a hash there, which any local user can
    read and try to crack offline (forbidden with forbid_hashes_in_store, as ANSSI BP-028
    R68 asks for protected password storage). hashedPasswordFile keeps it out of the store.
    A field that only locks the account ("!", "*") holds no secret.
    """
    facts = subject.need_facts()
    users = lookup(facts, "users.users")
    if not isinstance(users, dict):
        raise CheckError("users.users is not an attribute set")
    forbidden = PLAINTEXT_USER_OPTIONS + (HASH_USER_OPTIONS if params.forbid_hashes_in_store else ())
    found: dict[str, list[str]] = {}
    for name, options in sorted(users.items()):
        if not isinstance(options, dict):
            raise CheckError(f"users.users.{name} is not an attribute set")
        for option in forbidden:
            if option not in options:
                raise CheckError(f"users.users.{name}.{option} is not in the facts ({facts.source}); evaluate users.users with 'compliance facts'")
            if _set(options[option]):
                found.setdefault(f"users.users.{name}", []).append(option)
    for path in params.plaintext_options:
        if _set(lookup(facts, path)):
            found[path] = ["set"]
    return verdict(
        not found,
        f"no secret given as a value among {len(users)} accounts" + (f" and {len(params.plaintext_options)} options" if params.plaintext_options else ""),
        "secrets given as values (readable in the store): " + "; ".join(f"{k}: {', '.join(v)}" if v != ["set"] else k for k, v in found.items()),
        secrets_in_store=found,
        accounts=sorted(users),
        checked_user_options=list(forbidden),
    )


def _set(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {} and not is_lock_marker(value)


def is_lock_marker(value: Any) -> bool:
    """``"!"``, ``"*"``, ``"!!"``: a password field that locks the account holds no password
    and no hash (``root.hashedPassword = "!"`` is how NixOS configurations disable root's
    password); a hash behind a "!" (``"!$6$..."``) is still a hash."""
    return isinstance(value, str) and value != "" and not value.strip("!*")
