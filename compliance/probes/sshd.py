"""The OpenSSH server's effective configuration.

On a live host the server itself is asked (``sshd -T``): it prints every setting after
Include files, drop-ins and defaults are applied, so a drop-in that re-enables
``PermitRootLogin`` is seen, as a reader of the main file would not. On an offline root
nothing is executed; the configuration files are resolved the way sshd reads them (Include
globs in lexical order, the first value of a keyword wins, Match blocks left out of the
global settings) over OpenSSH's compiled-in defaults.

``sshd -T`` prints the global settings only: a ``Match`` block applies per connection. So,
live or offline, every Match block of the files sshd reads (:mod:`compliance.checks.sshd_config`)
is judged too, as the global settings overridden by the block, whatever its criteria: a
block that can turn on what the control forbids (``Match all``, ``Match User alice`` with
``PermitRootLogin yes``) fails the control and is named.
"""

from __future__ import annotations

from typing import Annotated

from compliance.checks.judges import OPENSSH_DEFAULTS, SshdParams, compare_sshd
from compliance.checks.registry import Outcome, failed, passed, probe, verdict
from compliance.checks.sshd_config import (
    MatchBlock,
    SshdConfig,
    block_settings,
    normalise,
    parse_sshd_config,
)
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ReadFile, Request, RunCommand
from compliance.models.common import Status
from compliance.models.params import FIXED, INTERSECTION, Params
from compliance.probes.planners import plans

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
class SshdRuntimeParams(SshdParams):
    sshd_config: Annotated[str, FIXED] = DEFAULT_CONFIG


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
            settings[key] = f"{settings[key]},{value}" if key in settings else normalise(key, value)
    return settings


def read_config_files(host: Host, config: str) -> SshdConfig | None:
    """sshd_config and its Includes, as sshd reads them: global settings and Match blocks."""
    return parse_sshd_config(config, host.read_text, host.listdir)


def resolve_config_files(host: Host, config: str) -> dict[str, str]:
    """Global settings of sshd_config and its Includes, as sshd would apply them."""
    parsed = read_config_files(host, config)
    if parsed is None:
        raise NotApplicable(f"no {config}: no OpenSSH server configured")
    return parsed.settings


def effective_sshd(host: Host, config: str) -> tuple[dict[str, str], str]:
    if host.live:
        return _live_settings(host, config), f"sshd -T -f {config}"
    settings = {**OPENSSH_DEFAULTS, **OPENSSH_ALGORITHM_DEFAULTS, **resolve_config_files(host, config)}
    return settings, f"{config} and its Includes (offline root)"


def match_blocks(host: Host, config: str) -> list[MatchBlock]:
    """Every Match block of the files sshd reads. ``sshd -T`` prints the global settings
    only (Match blocks apply per connection), so a live host has its files read too."""
    parsed = read_config_files(host, config)
    if parsed is None:
        if host.live:
            raise CheckError(f"{config} could not be read, though sshd -T read it")
        raise NotApplicable(f"no {config}: no OpenSSH server configured")
    return parsed.matches


def _plan(host: Host, params: SshdRuntimeParams | SshdCryptoParams) -> list[Request]:
    if host.live:
        return [RunCommand(_sshd_argv(params.sshd_config)), ReadFile(params.sshd_config)]
    return [ReadFile(params.sshd_config)]


@probe("sshd_effective", params=SshdRuntimeParams)
def sshd_effective(host: Host, params: SshdRuntimeParams) -> Outcome:
    """The SSH server's effective settings (sshd -T: drop-ins and defaults applied) have the required values, also in every Match block of its configuration files."""
    settings, source = effective_sshd(host, params.sshd_config)
    outcome = compare_sshd(settings, params, source)
    if outcome.status is not Status.PASS:
        return outcome
    blocks = match_blocks(host, params.sshd_config)
    for block in blocks:
        inside = compare_sshd(block_settings(settings, block), params, block.name)
        if inside.status is not Status.PASS:
            return failed(f"{inside.message} (in {block.name}; a Match block is judged whatever its criteria)",
                          **{**inside.observed, "match": block.criteria, "match_file": block.file, "match_line": block.line})
    return passed(f"{outcome.message} and in {len(blocks)} Match block(s)" if blocks else outcome.message,
                  **{**outcome.observed, "match_blocks": [b.name for b in blocks]})


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
