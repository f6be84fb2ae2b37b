"""Probes of accounts and authentication: uid 0, empty and weak password hashes, system
accounts that can log in, and login lock-out in PAM.

Password hashes are read to be judged and never leave the host's answer: results name
accounts and hashing schemes only, and the report carries the digest of /etc/shadow, not
its content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from ..errors import CheckError
from ..hosts.base import Host
from ..hosts.requests import ReadFile, Request
from ..models.params import HIGHER, INTERSECTION, LOWER, UNION, NoParams, Params
from ..registry import Outcome, probe, verdict
from .plan import plans

NOLOGIN_SHELLS = ("nologin", "false", "sync", "shutdown", "halt")
OVERFLOW_UID = 65534  # nobody: a system account with a uid above the range


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    shell: str


def read_passwd(host: Host) -> list[Account]:
    text = host.read_text("/etc/passwd")
    if text is None:
        raise CheckError("/etc/passwd is missing")
    accounts = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 7 or line.startswith(("+", "-", "#")):
            continue
        try:
            accounts.append(Account(fields[0], int(fields[2]), fields[6]))
        except ValueError:
            raise CheckError(f"/etc/passwd: bad uid for {fields[0]!r}") from None
    return accounts


def read_shadow(host: Host) -> dict[str, str]:
    """account → password field (hash, or a lock marker)."""
    text = host.read_text("/etc/shadow")
    if text is None:
        raise CheckError("/etc/shadow is missing")
    return {f[0]: f[1] for f in (line.split(":") for line in text.splitlines()) if len(f) >= 2 and f[0]}


def locked(field: str) -> bool:
    return field.startswith(("!", "*"))


def scheme(field: str) -> str:
    """``$y$``, ``$6$``... or ``des`` for a legacy crypt hash."""
    match = re.match(r"^\$[^$]+\$", field)
    return match.group(0) if match else "des"


@plans("uid0_unique")
def _plan_passwd(host: Host, params: object) -> list[Request]:
    return [ReadFile("/etc/passwd")]


@probe("uid0_unique", params=NoParams)
def uid0_unique(host: Host, params: NoParams) -> Outcome:
    """root is the only account with uid 0."""
    extra = sorted(a.name for a in read_passwd(host) if a.uid == 0 and a.name != "root")
    return verdict(not extra, "root is the only uid 0 account", f"other uid 0 accounts: {', '.join(extra)}", uid0=["root", *extra])


def _plan_shadow(host: Host, params: object) -> list[Request]:
    return [ReadFile("/etc/passwd"), ReadFile("/etc/shadow")]


for _name in ("no_empty_passwords", "password_hashing", "system_accounts_no_login"):
    plans(_name)(_plan_shadow)


@probe("no_empty_passwords", params=NoParams)
def no_empty_passwords(host: Host, params: NoParams) -> Outcome:
    """No account has an empty password field (a login without any password)."""
    empty = sorted(name for name, field in read_shadow(host).items() if field == "")
    return verdict(not empty, "no account has an empty password", f"accounts with an empty password: {', '.join(empty)}", empty=empty)


class HashParams(Params):
    allowed_hash_prefixes: Annotated[list[str], INTERSECTION] = ["$y$", "$6$"]


@probe("password_hashing", params=HashParams)
def password_hashing(host: Host, params: HashParams) -> Outcome:
    """Every usable password hash uses an allowed scheme (yescrypt, SHA-512 crypt)."""
    schemes = {name: scheme(field) for name, field in read_shadow(host).items() if field and not locked(field)}
    weak = sorted(n for n, s in schemes.items() if s not in params.allowed_hash_prefixes)
    return verdict(
        not weak,
        f"{len(schemes)} password hashes, all {' or '.join(params.allowed_hash_prefixes)}",
        "weak password hashes: " + ", ".join(f"{n} ({schemes[n]})" for n in weak),
        schemes=schemes, weak=weak,
    )


class SystemAccountParams(Params):
    max_system_uid: Annotated[int, HIGHER] = 999
    login_allowlist: Annotated[list[str], INTERSECTION] = ["root"]


@probe("system_accounts_no_login", params=SystemAccountParams)
def system_accounts_no_login(host: Host, params: SystemAccountParams) -> Outcome:
    """System accounts (uid below 1000 and nobody, except the allowlist) have no usable password and no login shell."""
    shadow = read_shadow(host)
    problems = []
    for account in read_passwd(host):
        system = account.uid <= params.max_system_uid or account.uid == OVERFLOW_UID
        if not system or account.name in params.login_allowlist:
            continue
        field = shadow.get(account.name, "*")
        shell_ok = account.shell.rsplit("/", 1)[-1] in NOLOGIN_SHELLS
        if not locked(field) or not shell_ok:
            why = [w for w, bad in (("a usable password", not locked(field)), (f"shell {account.shell}", not shell_ok)) if bad]
            problems.append(f"{account.name} ({' and '.join(why)})")
    return verdict(not problems, "system accounts cannot log in", "system accounts that can log in: " + ", ".join(problems), accounts=problems)


# ---------------------------------------------------------------------------- PAM lock-out

FAILLOCK_CONF = "/etc/security/faillock.conf"
FAILLOCK_DEFAULT_DENY = 3


class LockoutParams(Params):
    pam_services: Annotated[list[str], UNION] = ["login", "sshd"]
    max_deny: Annotated[int, LOWER] = 5


def _pam_auth_modules(host: Host, service: str, depth: int = 0) -> list[list[str]]:
    """The auth lines (module and arguments) of a PAM service, includes resolved."""
    if depth > 10:
        raise CheckError(f"/etc/pam.d/{service}: include nesting deeper than 10")
    text = host.read_text(f"/etc/pam.d/{service}")
    if text is None:
        if depth == 0:
            raise CheckError(f"/etc/pam.d/{service} is missing")
        return []
    lines: list[list[str]] = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "@include" and len(words) > 1:
            lines += _pam_auth_modules(host, words[1], depth + 1)
            continue
        kind = words[0].lstrip("-")
        if kind != "auth" or len(words) < 3:
            continue
        control, rest = words[1], words[2:]
        if control.startswith("["):  # [success=1 default=ignore] may hold blanks
            while rest and not control.endswith("]"):
                control += " " + rest.pop(0)
        if control in ("include", "substack") and rest:
            lines += _pam_auth_modules(host, rest[0], depth + 1)
        elif rest:
            lines.append(rest)
    return lines


@plans("login_lockout")
def _plan_lockout(host: Host, params: LockoutParams) -> list[Request]:
    common = ("common-auth", "system-auth", "password-auth", "system-login")
    return [ReadFile(FAILLOCK_CONF), *(ReadFile(f"/etc/pam.d/{s}") for s in (*params.pam_services, *common))]


@probe("login_lockout", params=LockoutParams)
def login_lockout(host: Host, params: LockoutParams) -> Outcome:
    """Each login service locks an account after a bounded number of failures (pam_faillock or pam_tally2 in its auth stack)."""
    conf_deny = FAILLOCK_DEFAULT_DENY
    for raw in (host.read_text(FAILLOCK_CONF) or "").splitlines():
        key, _, value = raw.split("#", 1)[0].partition("=")
        if key.strip() == "deny" and value.strip().isdigit():
            conf_deny = int(value.strip())
    observed: dict[str, int | None] = {}
    problems = []
    for service in params.pam_services:
        deny: int | None = None
        for module, *args in _pam_auth_modules(host, service):
            name = module.rsplit("/", 1)[-1]
            if name not in ("pam_faillock.so", "pam_tally2.so"):
                continue
            values = [int(a.split("=", 1)[1]) for a in args if a.startswith("deny=") and a.split("=", 1)[1].isdigit()]
            found = values[-1] if values else (conf_deny if name == "pam_faillock.so" else None)
            if found is not None:
                deny = found if deny is None else min(deny, found)
        observed[service] = deny
        if deny is None or deny == 0:
            problems.append(f"{service}: no lock-out after failed logins")
        elif deny > params.max_deny:
            problems.append(f"{service}: locks after {deny} failures, at most {params.max_deny} allowed")
    return verdict(not problems, "login services lock accounts after repeated failures", "; ".join(problems), deny=observed)
