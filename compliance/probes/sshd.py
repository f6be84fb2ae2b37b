"""The OpenSSH server's effective configuration.

On a live host the server itself is asked (``sshd -T``): it prints every setting after
Include files, drop-ins and defaults are applied, so a drop-in that re-enables
``PermitRootLogin`` is seen, as a reader of the main file would not. On an offline root
nothing is executed; the configuration files are resolved the way sshd reads them (Include
globs in lexical order, the first value of a keyword wins, Match blocks left out of the
global settings) over OpenSSH's compiled-in defaults.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from typing import Annotated

from ..errors import CheckError, NotApplicable
from ..hosts.base import Host
from ..hosts.requests import ReadFile, Request, RunCommand
from ..models.params import FIXED, INTERSECTION, Params
from ..predicates.nixos import OPENSSH_DEFAULTS, SshdParams, compare_sshd
from ..registry import Outcome, probe, verdict
from .plan import plans

DEFAULT_CONFIG = "/etc/ssh/sshd_config"
# OpenSSH 9.x compiled-in algorithm lists: what an offline root gets when it sets none.
OPENSSH_ALGORITHM_DEFAULTS = {
    "ciphers": "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    "macs": "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    "kexalgorithms": "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
    "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
}
# Deprecated spellings sshd -T still prints.
_KEYWORD = re.compile(r"([A-Za-z]+)(?:\s*=\s*|\s+|$)(.*)$")
# Keywords sshd still accepts under an older name (sshd -T prints the new one).
KEYWORD_ALIASES = {
    "challengeresponseauthentication": "kbdinteractiveauthentication",
    "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms",
    "hostbasedacceptedkeytypes": "hostbasedacceptedalgorithms",
}
ALIASES = {("permitrootlogin", "without-password"): "prohibit-password"}


class SshdRuntimeParams(SshdParams):
    sshd_config: Annotated[str, FIXED] = DEFAULT_CONFIG


def _normalise(key: str, value: str) -> str:
    value = value.strip()
    lowered = value.lower()
    return ALIASES.get((key, lowered), lowered if lowered in ("yes", "no") or key == "permitrootlogin" else value)


def _sshd_argv(config: str) -> tuple[str, ...]:
    return ("sshd", "-T", "-f", config)


def _live_settings(host: Host, config: str) -> dict[str, str]:
    result = host.run(*_sshd_argv(config))
    if result is None:
        raise NotApplicable("no OpenSSH server (sshd) is installed")
    if result.exit_code != 0:
        raise CheckError(f"sshd -T -f {config} failed: {result.stderr or 'exit ' + str(result.exit_code)}")
    settings: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key:
            key = key.lower()
            settings[key] = f"{settings[key]},{value}" if key in settings else _normalise(key, value)
    return settings


def _glob(host: Host, pattern: str) -> list[str]:
    folder, name = posixpath.split(pattern)
    if not any(c in name for c in "*?["):
        return [pattern]
    return [f"{folder}/{n}" for n in sorted(host.listdir(folder) or []) if fnmatch.fnmatchcase(n, name)]


def resolve_config_files(host: Host, config: str) -> dict[str, str]:
    """Global settings of sshd_config and its Includes, as sshd would apply them."""
    settings: dict[str, str] = {}

    def load(path: str, depth: int) -> None:
        if depth > 16:
            raise CheckError(f"{path}: Include nesting deeper than 16")
        text = host.read_text(path)
        if text is None:
            if depth == 0:
                raise NotApplicable(f"no {path}: no OpenSSH server configured")
            return
        in_match = False
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            match = _KEYWORD.match(line)
            if match is None:
                continue
            key, rest = match.group(1).lower(), match.group(2).strip()
            key = KEYWORD_ALIASES.get(key, key)
            if key == "match":
                in_match = True
            if in_match:
                continue
            if key == "include":
                for pattern in rest.split():
                    full = pattern if pattern.startswith("/") else f"/etc/ssh/{pattern}"
                    for included in _glob(host, full):
                        load(included, depth + 1)
                continue
            settings.setdefault(key, _normalise(key, rest.strip('"')))

    load(config, 0)
    return settings


def effective_sshd(host: Host, config: str) -> tuple[dict[str, str], str]:
    if host.live:
        return _live_settings(host, config), f"sshd -T -f {config}"
    settings = {**OPENSSH_DEFAULTS, **OPENSSH_ALGORITHM_DEFAULTS, **resolve_config_files(host, config)}
    return settings, f"{config} and its Includes (offline root)"


def _plan(host: Host, params: SshdRuntimeParams | SshdCryptoParams) -> list[Request]:
    if host.live:
        return [RunCommand(_sshd_argv(params.sshd_config))]
    return [ReadFile(params.sshd_config)]


@probe("sshd_effective", params=SshdRuntimeParams)
def sshd_effective(host: Host, params: SshdRuntimeParams) -> Outcome:
    """The SSH server's effective settings (sshd -T: drop-ins and defaults applied) have the required values."""
    settings, source = effective_sshd(host, params.sshd_config)
    return compare_sshd(settings, params, source)


class SshdCryptoParams(Params):
    sshd_config: Annotated[str, FIXED] = DEFAULT_CONFIG
    allowed_ciphers: Annotated[list[str], INTERSECTION] = [
        "chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes256-ctr", "aes192-ctr", "aes128-ctr",
    ]
    allowed_macs: Annotated[list[str], INTERSECTION] = [
        "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com",
    ]
    allowed_kex: Annotated[list[str], INTERSECTION] = [
        "mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
        "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
        "diffie-hellman-group16-sha512", "diffie-hellman-group18-sha512",
    ]


plans("sshd_effective")(_plan)
plans("sshd_crypto")(_plan)


@probe("sshd_crypto", params=SshdCryptoParams)
def sshd_crypto(host: Host, params: SshdCryptoParams) -> Outcome:
    """The SSH server offers only allowed ciphers, MACs and key exchange algorithms."""
    settings, source = effective_sshd(host, params.sshd_config)
    extra: dict[str, list[str]] = {}
    offered: dict[str, list[str]] = {}
    for key, allowed in (("ciphers", params.allowed_ciphers), ("macs", params.allowed_macs), ("kexalgorithms", params.allowed_kex)):
        if key not in settings:
            raise CheckError(f"{source} does not show {key}")
        offered[key] = [a for a in settings[key].split(",") if a]
        bad = [a for a in offered[key] if a not in allowed]
        if bad:
            extra[key] = bad
    return verdict(
        not extra,
        "SSH server offers only allowed algorithms",
        "SSH server offers disallowed algorithms: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in extra.items()),
        offered=offered, disallowed=extra, source=source,
    )
