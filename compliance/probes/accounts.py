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

from compliance.checks.registry import Outcome, probe, verdict
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, ReadFile, Request
from compliance.models.params import HIGHER, INTERSECTION, LOWER, TRUE, UNION, NoParams, Params
from compliance.probes.planners import plans
from compliance.probes.sources import ini_settings, timespan_seconds

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
    """No account has an empty password field, in /etc/shadow or in /etc/passwd (a login without any password).

    The password is in /etc/passwd unless its field there is ``x``: an empty field there
    (``eve::1001:...``) is an account without a password whatever /etc/shadow says.
    """
    text = host.read_text("/etc/passwd")
    if text is None:
        raise CheckError("/etc/passwd is missing")
    in_passwd = sorted({f[0] for f in (line.split(":") for line in text.splitlines())
                        if len(f) >= 2 and f[0] and not f[0].startswith(("+", "-", "#")) and f[1] == ""})
    in_shadow = sorted(name for name, field in read_shadow(host).items() if field == "")
    empty = sorted({*in_passwd, *in_shadow})
    where = [f"{n} (/etc/passwd)" if n in in_passwd else f"{n} (/etc/shadow)" for n in empty]
    return verdict(not empty, "no account has an empty password", f"accounts with an empty password: {', '.join(where)}",
                   empty=empty, empty_in_passwd=in_passwd, empty_in_shadow=in_shadow)


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


# ---------------------------------------------------------------------------- idle sessions

# Files login shells read at start (NixOS generates /etc/profile, /etc/bashrc and
# /etc/set-environment from environment.* and programs.bash.*).
SHELL_INIT = ("/etc/profile", "/etc/bashrc", "/etc/bash.bashrc", "/etc/set-environment", "/etc/profile.local", "/etc/zshenv")
SHELL_INIT_DIR = "/etc/profile.d"
LOGIND_CONF = "/etc/systemd/logind.conf"
LOGIND_DROPINS = "/etc/systemd/logind.conf.d"
_TMOUT = re.compile(r"^\s*(?:export\s+|readonly\s+|declare\s+-[a-zA-Z]*\s+|typeset\s+-[a-zA-Z]*\s+)*TMOUT=['\"]?(\d+)")
_TMOUT_RO = re.compile(r"^\s*(?:readonly|declare\s+-[a-zA-Z]*r[a-zA-Z]*|typeset\s+-[a-zA-Z]*r[a-zA-Z]*)\b.*\bTMOUT\b")
class IdleParams(Params):
    max_idle_seconds: Annotated[int, LOWER] = 900
    require_readonly: Annotated[bool, TRUE] = True  # TMOUT must be read-only (a user cannot unset it)


def _shell_files(host: Host) -> list[str]:
    extra = [f"{SHELL_INIT_DIR}/{n}" for n in sorted(host.listdir(SHELL_INIT_DIR) or []) if n.endswith(".sh")]
    return [*SHELL_INIT, *extra]


@plans("session_idle_timeout")
def _plan_idle(host: Host, params: IdleParams) -> list[Request]:
    return [*(ReadFile(p) for p in SHELL_INIT), ListDir(SHELL_INIT_DIR), ReadFile(LOGIND_CONF), ListDir(LOGIND_DROPINS)]


@probe("session_idle_timeout", params=IdleParams)
def session_idle_timeout(host: Host, params: IdleParams) -> Outcome:
    """Idle interactive sessions end after at most max_idle_seconds: a read-only shell TMOUT, or logind's StopIdleSessionSec.

    An unattended open session (a console left logged in, an SSH session on a lost laptop)
    is access without authentication (ANSSI BP-028 R32; DORA RTS 13(1)(l)). Shell TMOUT
    ends idle shells, whatever the transport; logind's StopIdleSessionSec (systemd 252 and
    later) ends every idle login session it tracks.
    """
    files = _shell_files(host)
    host.prefetch(ReadFile(p) for p in files)
    tmout: int | None = None
    tmout_file = None
    readonly = False
    for path in files:
        for raw in (host.read_text(path) or "").splitlines():
            for line in raw.split("#", 1)[0].split(";"):
                if match := _TMOUT.match(line):
                    tmout, tmout_file = int(match.group(1)), path
                if _TMOUT_RO.match(line):
                    readonly = True
    logind = ini_settings(host, LOGIND_CONF, LOGIND_DROPINS, "Login").get("StopIdleSessionSec")
    logind_s = timespan_seconds(logind) if logind is not None else None
    observed = {"tmout": tmout, "tmout_file": tmout_file, "tmout_readonly": readonly, "stop_idle_session_sec": logind,
                "max_idle_seconds": params.max_idle_seconds}
    shell_ok = tmout is not None and 0 < tmout <= params.max_idle_seconds and (readonly or not params.require_readonly)
    logind_ok = logind_s is not None and 0 < logind_s <= params.max_idle_seconds
    if shell_ok or logind_ok:
        how = [f"TMOUT={tmout} ({tmout_file})"] if shell_ok else []
        how += [f"StopIdleSessionSec={logind}"] if logind_ok else []
        return verdict(True, "idle sessions end: " + ", ".join(how), "", **observed)
    problems = []
    if tmout is None:
        problems.append("no shell sets TMOUT")
    elif not 0 < tmout <= params.max_idle_seconds:
        problems.append(f"TMOUT={tmout} in {tmout_file}, at most {params.max_idle_seconds} s allowed")
    elif params.require_readonly and not readonly:
        problems.append(f"TMOUT={tmout} in {tmout_file} is not read-only: a user can unset it")
    problems.append("logind does not stop idle sessions" if logind is None else f"logind StopIdleSessionSec={logind} is not within {params.max_idle_seconds} s")
    return verdict(False, "", "; ".join(problems), **observed)


# ---------------------------------------------------------------------------- sudo

SUDOERS = "/etc/sudoers"
# Flags sudo sets unless told otherwise (sudoers(5)): a file need not repeat them.
SUDO_ON_BY_DEFAULT = {"env_reset"}


@dataclass(frozen=True)
class SudoRule:
    principal: str
    tags: tuple[str, ...]
    commands: tuple[str, ...]
    source: str


def _sudoers_lines(host: Host, path: str, depth: int = 0) -> list[tuple[str, str]]:
    """(line, file) of a sudoers file with its @include/@includedir (and #include) resolved, continuations joined."""
    if depth > 8:
        raise CheckError(f"{path}: include nesting deeper than 8")
    text = host.read_text(path)
    if text is None:
        if depth == 0:
            return []
        raise CheckError(f"{path} is included but missing")
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = pending + raw
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        stripped = line.strip()
        words = stripped.split()
        if words and words[0] in ("@includedir", "#includedir") and len(words) > 1:
            names = [n for n in host.listdir(words[1]) or [] if "." not in n and not n.endswith("~")]
            host.prefetch(ReadFile(f"{words[1]}/{n}") for n in names)
            for name in sorted(names):
                out += _sudoers_lines(host, f"{words[1]}/{name}", depth + 1)
            continue
        if words and words[0] in ("@include", "#include") and len(words) > 1:
            out += _sudoers_lines(host, words[1], depth + 1)
            continue
        stripped = stripped.split("#", 1)[0].strip()
        if stripped:
            out.append((stripped, path))
    return out


def parse_sudoers(lines: list[tuple[str, str]]) -> tuple[dict[str, str], list[SudoRule]]:
    """Global Defaults (flag → "on", "off" or a value) and user specifications."""
    defaults: dict[str, str] = {}
    rules: list[SudoRule] = []
    for line, source in lines:
        head = line.split(None, 1)[0]
        if head == "Defaults":
            for option in line[len("Defaults"):].split(","):
                option = option.strip()
                if not option:
                    continue
                if option.startswith("!"):
                    defaults[option[1:].strip()] = "off"
                elif "=" in option:
                    key, _, value = option.partition("=")
                    defaults[key.strip().rstrip("+-")] = value.strip().strip('"')
                else:
                    defaults[option] = "on"
            continue
        if head.startswith("Defaults") or head.endswith("_Alias"):
            continue  # scoped Defaults (Defaults:user) and aliases do not grant anything by themselves
        principal, _, rest = line.partition(" ")
        if "=" not in rest:
            continue
        spec = rest.split("=", 1)[1].strip()
        if spec.startswith("("):
            spec = spec[spec.find(")") + 1:].strip()
        tags: list[str] = []
        while True:
            match = re.match(r"^([A-Z_]+):\s*", spec)
            if not match:
                break
            tags.append(match.group(1))
            spec = spec[match.end():]
        rules.append(SudoRule(principal, tuple(tags), tuple(c.strip() for c in spec.split(",") if c.strip()), source))
    return defaults, rules


class SudoParams(Params):
    # Defaults that must be on ("use_pty") or have a value ("umask=0077")
    required_defaults: Annotated[list[str], UNION] = ["use_pty"]
    # principals (users, %groups) that may run commands without a password
    nopasswd_allowlist: Annotated[list[str], INTERSECTION] = []
    forbid_negation: Annotated[bool, TRUE] = True
    # R43: a command named without arguments may be run with any (ALL and aliases aside)
    require_explicit_arguments: Annotated[bool, TRUE] = False


@plans("sudoers_hardened")
def _plan_sudo(host: Host, params: SudoParams) -> list[Request]:
    return [ReadFile(SUDOERS), ListDir("/etc/sudoers.d")]


@probe("sudoers_hardened", params=SudoParams)
def sudoers_hardened(host: Host, params: SudoParams) -> Outcome:
    """sudo is configured as ANSSI BP-028 asks: required Defaults set, no password-less rule beyond an allowlist, no negated command, commands with explicit arguments when required.

    A password-less rule lets whoever takes over the account act as root without a
    second proof; a rule "ALL, !/bin/sh" is bypassed by any other shell (R42); a command
    named without arguments may be run with any, "" included (R43); use_pty
    keeps a command from injecting into the administrator's terminal, and the other
    Defaults of R39 (env_reset, ignore_dot, umask=0077, requiretty, noexec) limit what a
    command inherits.
    """
    lines = _sudoers_lines(host, SUDOERS)
    if not lines:
        raise NotApplicable(f"no {SUDOERS}: sudo is not configured")
    defaults, rules = parse_sudoers(lines)
    problems: list[str] = []
    missing = []
    for required in params.required_defaults:
        key, _, value = required.partition("=")
        have = defaults.get(key, "on" if key in SUDO_ON_BY_DEFAULT else None)
        if (value and have != value) or (not value and have != "on"):
            missing.append(required)
    if missing:
        problems.append(f"Defaults not set: {', '.join(missing)}")
    if defaults.get("authenticate") == "off":
        problems.append("Defaults !authenticate: no rule asks for a password")
    nopasswd = sorted({r.principal for r in rules if "NOPASSWD" in r.tags and r.principal not in params.nopasswd_allowlist})
    if nopasswd:
        problems.append(f"password-less rules for {', '.join(nopasswd)}")
    negated = sorted({f"{r.principal}: {c}" for r in rules for c in r.commands if c.startswith("!")}) if params.forbid_negation else []
    if negated:
        problems.append(f"negated commands: {'; '.join(negated[:5])}")
    bare = sorted({f"{r.principal}: {c}" for r in rules for c in r.commands if c.startswith("/") and len(c.split()) == 1}) \
        if params.require_explicit_arguments else []
    if bare:
        problems.append(f"commands without explicit arguments: {'; '.join(bare[:5])}")
    return verdict(not problems, f"sudoers hardened ({len(rules)} rules)", "; ".join(problems),
                   defaults=defaults, rules=[f"{r.principal} {','.join(r.tags)} {','.join(r.commands)}" for r in rules],
                   missing_defaults=missing, nopasswd=nopasswd, negated=negated, without_arguments=bare)


# ---------------------------------------------------------------------------- directories

NSSWITCH = "/etc/nsswitch.conf"
SSSD_CONF = "/etc/sssd/sssd.conf"
NSLCD_CONF = "/etc/nslcd.conf"
LDAP_CONFS = ("/etc/ldap.conf", "/etc/openldap/ldap.conf", "/etc/ldap/ldap.conf")


def _keyvalues(text: str, separator: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if separator:
            key, sep, value = line.partition(separator)
            if not sep:
                continue
        else:
            key, _, value = line.partition(" ")
        values[key.strip().lower()] = value.strip()
    return values


def _sssd_domains(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            current = sections.setdefault(name, {}) if name.startswith("domain/") else None
        elif current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip().lower()] = value.strip()
    return sections


@plans("directory_client_secure")
def _plan_directory(host: Host, params: NoParams) -> list[Request]:
    return [ReadFile(p) for p in (NSSWITCH, SSSD_CONF, NSLCD_CONF, *LDAP_CONFS)]


@probe("directory_client_secure", params=NoParams)
def directory_client_secure(host: Host, params: NoParams) -> Outcome:
    """Remote user databases are reached over TLS with the server certificate verified, and NIS is not used.

    Accounts and passwords read from a directory in clear text can be read and forged on
    the network (ANSSI BP-028 R67, R69): LDAP must use ldaps:// or StartTLS and demand a
    valid server certificate (SSSD ldap_tls_reqcert, nslcd tls_reqcert, ldap.conf
    TLS_REQCERT); NIS has no such protection at all. A host with no remote user database
    is not concerned.
    """
    host.prefetch(_plan_directory(host, params))
    problems: list[str] = []
    seen: dict[str, str] = {}
    nss = host.read_text(NSSWITCH) or ""
    for raw in nss.splitlines():
        line = raw.split("#", 1)[0]
        database, _, sources = line.partition(":")
        if {"nis", "nisplus"} & set(sources.split()):
            problems.append(f"{NSSWITCH}: {database.strip()} is read from NIS")
            seen[f"nis {database.strip()}"] = sources.strip()
    sssd = host.read_text(SSSD_CONF)
    if sssd is not None:
        for name, domain in _sssd_domains(sssd).items():
            if "ldap" not in (domain.get("id_provider"), domain.get("auth_provider")):
                continue
            uris = domain.get("ldap_uri", "")
            seen[f"sssd {name}"] = uris or "(discovered)"
            start_tls = domain.get("ldap_id_use_start_tls", "false").lower() in ("true", "yes", "1")
            if not start_tls and any(not u.strip().startswith("ldaps://") for u in uris.split(",") if u.strip()):
                problems.append(f"{SSSD_CONF} [{name}]: {uris} without StartTLS (ldap_id_use_start_tls)")
            if domain.get("ldap_tls_reqcert", "hard").lower() not in ("demand", "hard"):
                problems.append(f"{SSSD_CONF} [{name}]: ldap_tls_reqcert = {domain['ldap_tls_reqcert']} does not verify the server")
    nslcd = host.read_text(NSLCD_CONF)
    if nslcd is not None:
        conf = _keyvalues(nslcd, None)
        seen["nslcd"] = conf.get("uri", "")
        if conf.get("ssl", "off").lower() not in ("on", "start_tls") and not conf.get("uri", "").startswith("ldaps://"):
            problems.append(f"{NSLCD_CONF}: {conf.get('uri', 'ldap')} without TLS (ssl start_tls or ldaps://)")
        if conf.get("tls_reqcert", "demand").lower() not in ("demand", "hard"):
            problems.append(f"{NSLCD_CONF}: tls_reqcert {conf['tls_reqcert']} does not verify the server")
    for path in LDAP_CONFS:
        text = host.read_text(path)
        if text is None:
            continue
        conf = _keyvalues(text, None)
        uri = conf.get("uri", "")
        if not uri and "ssl" not in conf and "tls_reqcert" not in conf and "tls_checkpeer" not in conf:
            continue  # a client-library default file without a server
        seen[path] = uri
        if conf.get("ssl", "off").lower() not in ("on", "start_tls") and uri and not all(u.startswith("ldaps://") for u in uri.split()):
            problems.append(f"{path}: {uri} without TLS (ssl start_tls or ldaps://)")
        reqcert = conf.get("tls_reqcert", "demand").lower()
        if reqcert not in ("demand", "hard") or conf.get("tls_checkpeer", "yes").lower() in ("no", "false", "off"):
            problems.append(f"{path}: the server certificate is not verified (TLS_REQCERT {reqcert})")
    if not seen:
        raise NotApplicable("no remote user database (LDAP through SSSD, nslcd or ldap.conf; NIS) is configured")
    return verdict(not problems, "remote user databases are reached over verified TLS: " + ", ".join(sorted(seen)),
                   "; ".join(problems), directories=seen)
