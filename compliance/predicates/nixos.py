"""Predicates over NixOS configuration facts (evaluated option values)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from compliance.checks.judges import (
    OPENSSH_DEFAULTS,
    SshdParams,
    SysctlParams,
    compare_sshd,
    judge_sysctl,
    sshd_value,
)
from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate, verdict
from compliance.errors import CheckError, NotApplicable
from compliance.inputs.facts import join_option_path, lookup, split_option_path
from compliance.models.common import Status
from compliance.models.params import BOUNDS, FALSE, FIXED, INTERSECTION, UNION, Bound, Params, merge
from compliance.models.subject import ConfigFacts

# ---------------------------------------------------------------------------- sshd


SSHD_OPTIONS = ["services.openssh.enable", "services.openssh.settings", "services.openssh.extraConfig"]
# Keywords sshd still accepts under an older name.
_SSHD_ALIASES = {"challengeresponseauthentication": "kbdinteractiveauthentication",
                 "pubkeyacceptedkeytypes": "pubkeyacceptedalgorithms"}
_SSHD_LINE = re.compile(r"([A-Za-z]+)(?:\s*=\s*|\s+)(.*)$")


@dataclass(frozen=True)
class DeclaredSshd:
    """The sshd_config NixOS writes: services.openssh.settings, then extraConfig."""

    settings: dict[str, str]  # global keywords, OpenSSH defaults filled in
    matches: list[tuple[str, dict[str, str]]]  # each Match block of extraConfig: its criteria, its keywords


def declared_sshd(facts: ConfigFacts) -> DeclaredSshd:
    """sshd keeps the first value of a keyword: the settings NixOS writes first win over the
    global lines of extraConfig, which win over OpenSSH's defaults. A Match block overrides
    them all for the connections it matches, so it is kept apart."""
    settings = lookup(facts, "services.openssh.settings")
    if not isinstance(settings, dict):
        raise CheckError("services.openssh.settings is not an attribute set")
    extra = lookup(facts, "services.openssh.extraConfig")
    if extra is None:
        extra = ""
    if not isinstance(extra, str):
        raise CheckError("services.openssh.extraConfig is not a string")
    declared = {k.lower(): sshd_value(v) for k, v in settings.items() if v is not None}
    matches: list[tuple[str, dict[str, str]]] = []
    block = declared
    for raw in extra.splitlines():
        line = raw.strip()
        match = _SSHD_LINE.match(line) if line and not line.startswith("#") else None
        if match is None:
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if key == "match":
            block = {}
            matches.append((value, block))
        elif key == "include":
            raise CheckError(f"services.openssh.extraConfig includes {value}: what that file sets cannot be judged from the configuration")
        else:
            block.setdefault(_SSHD_ALIASES.get(key, key), sshd_value(value.strip('"')))
    return DeclaredSshd({**OPENSSH_DEFAULTS, **declared}, matches)


@predicate("sshd_settings", params=SshdParams, reads=SSHD_OPTIONS)
def sshd_settings(subject: Subject, params: SshdParams) -> Outcome:
    """The OpenSSH server the configuration declares has the required settings (unset settings take OpenSSH's defaults), also in every Match block."""
    facts = subject.need_facts()
    if lookup(facts, "services.openssh.enable") is not True:
        raise NotApplicable("services.openssh.enable is false: no SSH server")
    sshd = declared_sshd(facts)
    outcome = compare_sshd(sshd.settings, params, "services.openssh.settings")
    if outcome.status is not Status.PASS:
        return outcome
    for criteria, block in sshd.matches:
        inside = compare_sshd({**sshd.settings, **block}, params, f"services.openssh.extraConfig 'Match {criteria}'")
        if inside.status is not Status.PASS:
            return failed(f"{inside.message} (in 'Match {criteria}' of services.openssh.extraConfig)", **inside.observed)
    return outcome


class SecondFactorParams(Params):
    # "second_method": AuthenticationMethods makes every login use two methods (a key,
    # then a PAM one-time password); "fido_verified": only FIDO (sk-) keys are accepted,
    # with user verification (PIN or biometrics) required on the token.
    allowed_routes: Annotated[list[str], INTERSECTION] = ["second_method", "fido_verified"]


_METHOD_SWITCH = {"publickey": "pubkeyauthentication", "password": "passwordauthentication",
                  "keyboard-interactive": "kbdinteractiveauthentication"}


def second_factor_routes(settings: dict[str, str]) -> tuple[list[str], list[str]]:
    """(routes that hold, why the others do not) for effective sshd settings."""
    routes: list[str] = []
    why: list[str] = []
    methods = settings.get("authenticationmethods", "any")
    if methods == "any":
        why.append("AuthenticationMethods is any: one method is enough")
    else:
        lists = [[m for m in group.split(",") if m] for group in methods.split()]
        single = [",".join(g) for g in lists if len({m.split(":", 1)[0] for m in g}) < 2]
        disabled = sorted({m for g in lists for m in g if settings.get(_METHOD_SWITCH.get(m.split(":", 1)[0], ""), "yes") == "no"})
        if single:
            why.append(f"AuthenticationMethods {' '.join(single)} asks for one kind of method only")
        elif disabled:
            why.append(f"AuthenticationMethods lists disabled methods ({', '.join(disabled)}): sshd refuses to start")
        else:
            routes.append("second_method")
    algorithms = [a for a in settings.get("pubkeyacceptedalgorithms", "").split(",") if a]
    options = settings.get("pubkeyauthoptions", "none").replace(",", " ").split()
    if not algorithms or not all(a.startswith("sk-") for a in algorithms):
        why.append("keys other than FIDO (sk-) keys are accepted")
    elif "verify-required" not in options:
        why.append("FIDO keys are accepted without user verification (PubkeyAuthOptions verify-required)")
    else:
        routes.append("fido_verified")
    return routes, why


@predicate("sshd_second_factor", params=SecondFactorParams, reads=SSHD_OPTIONS)
def sshd_second_factor(subject: Subject, params: SecondFactorParams) -> Outcome:
    """Every SSH login needs a second factor: two methods (a key, then a one-time password through PAM), or a FIDO key that verifies its holder.

    A stolen private key alone must not give remote administrative access (NIS2 Art.
    21(2)(j)). OpenSSH offers two ways to ask for more: AuthenticationMethods with two
    methods per list, or accepting only FIDO keys (sk-ssh-ed25519, sk-ecdsa) with
    PubkeyAuthOptions verify-required, so that the token checks a PIN or a fingerprint.
    A key-then-password setup needs keyboard-interactive enabled, which IA-02 refuses
    unless its profile allows it; the FIDO way needs no password at all.
    """
    facts = subject.need_facts()
    if lookup(facts, "services.openssh.enable") is not True:
        raise NotApplicable("services.openssh.enable is false: no SSH server")
    sshd = declared_sshd(facts)
    effective = sshd.settings
    routes, why = second_factor_routes(effective)
    accepted = [r for r in routes if r in params.allowed_routes]
    observed = {"routes": routes, "allowed_routes": params.allowed_routes,
                "authentication_methods": effective.get("authenticationmethods"),
                "pubkey_accepted_algorithms": effective.get("pubkeyacceptedalgorithms"),
                "pubkey_auth_options": effective.get("pubkeyauthoptions")}
    if not accepted:
        return failed("SSH logins need no second factor: " + "; ".join(why) + (f" (routes found but not allowed: {', '.join(routes)})" if routes else ""), **observed)
    for criteria, block in sshd.matches:
        inside, inside_why = second_factor_routes({**effective, **block})
        if not [r for r in inside if r in params.allowed_routes]:
            return failed(f"SSH logins matching 'Match {criteria}' of services.openssh.extraConfig need no second factor: " + "; ".join(inside_why),
                          **observed, match=criteria)
    return passed(f"SSH logins need a second factor ({', '.join(accepted)})", **observed)


# ---------------------------------------------------------------------------- firewall


class FirewallParams(Params):
    allowed_tcp_ports: Annotated[list[int] | None, INTERSECTION] = None  # None: any port may be open
    allowed_udp_ports: Annotated[list[int] | None, INTERSECTION] = None
    allow_port_ranges: Annotated[bool, FALSE] = True
    # networking.firewall.trustedInterfaces accept every packet (loopback always is):
    # the interfaces that may, after review (a VPN such as wg0).
    allowed_trusted_interfaces: Annotated[list[str], INTERSECTION] = []


FIREWALL_OPTIONS = [
    "networking.firewall.enable",
    "networking.firewall.allowedTCPPorts",
    "networking.firewall.allowedUDPPorts",
    "networking.firewall.allowedTCPPortRanges",
    "networking.firewall.allowedUDPPortRanges",
    "networking.firewall.interfaces",
    "networking.firewall.trustedInterfaces",
]


@predicate("firewall_enabled", params=FirewallParams, reads=FIREWALL_OPTIONS)
def firewall_enabled(subject: Subject, params: FirewallParams) -> Outcome:
    """The NixOS firewall (default-deny inbound) is on, and opens only allowed ports.

    A port range opens every port in it: with an allowlist, each of those ports must be
    on it too (allow_port_ranges only says whether ranges may be used at all). A trusted
    interface bypasses the firewall altogether, so only reviewed ones may be trusted.
    """
    facts = subject.need_facts()
    enabled = lookup(facts, "networking.firewall.enable")
    tcp = _ports(lookup(facts, "networking.firewall.allowedTCPPorts"), "allowedTCPPorts")
    udp = _ports(lookup(facts, "networking.firewall.allowedUDPPorts"), "allowedUDPPorts")
    tcp_ranges = _port_ranges(lookup(facts, "networking.firewall.allowedTCPPortRanges"), "allowedTCPPortRanges")
    udp_ranges = _port_ranges(lookup(facts, "networking.firewall.allowedUDPPortRanges"), "allowedUDPPortRanges")
    interfaces = lookup(facts, "networking.firewall.interfaces") or {}
    if not isinstance(interfaces, dict):
        raise CheckError("networking.firewall.interfaces is not an attribute set")
    for iface in interfaces.values():
        if isinstance(iface, dict):
            tcp |= _ports(iface.get("allowedTCPPorts", []), "interfaces.*.allowedTCPPorts")
            udp |= _ports(iface.get("allowedUDPPorts", []), "interfaces.*.allowedUDPPorts")
            tcp_ranges += _port_ranges(iface.get("allowedTCPPortRanges", []), "interfaces.*.allowedTCPPortRanges")
            udp_ranges += _port_ranges(iface.get("allowedUDPPortRanges", []), "interfaces.*.allowedUDPPortRanges")
    trusted = lookup(facts, "networking.firewall.trustedInterfaces")
    if not isinstance(trusted, list) or not all(isinstance(i, str) for i in trusted):
        raise CheckError("networking.firewall.trustedInterfaces is not a list of interface names")
    ranges = [{"from": a, "to": b} for a, b in tcp_ranges + udp_ranges]
    observed = {"enabled": enabled, "tcp_ports": sorted(tcp), "udp_ports": sorted(udp), "port_ranges": ranges,
                "trusted_interfaces": trusted}
    problems = []
    if enabled is not True:
        problems.append("networking.firewall.enable is not true")
    if bypass := [i for i in trusted if i != "lo" and i not in params.allowed_trusted_interfaces]:
        problems.append(f"trusted interfaces accept all inbound traffic: {', '.join(bypass)}")
    for proto, ports, spans, allowlist in (("TCP", tcp, tcp_ranges, params.allowed_tcp_ports),
                                           ("UDP", udp, udp_ranges, params.allowed_udp_ports)):
        if allowlist is None:
            continue
        allowed = set(allowlist)
        if extra := sorted(ports - allowed):
            problems.append(f"{proto} ports open beyond the allowlist: {extra}")
        if wide := [f"{a}-{b}" for a, b in spans if any(port not in allowed for port in range(a, b + 1))]:
            problems.append(f"{proto} port ranges open ports beyond the allowlist: {', '.join(wide)}")
    if not params.allow_port_ranges and ranges:
        problems.append("port ranges are opened")
    if problems:
        return failed("; ".join(problems), **observed)
    return passed("firewall enabled with default-deny inbound" + (f"; open TCP {sorted(tcp)}" if tcp else ""), **observed)


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ports(value: Any, name: str) -> set[int]:
    if not isinstance(value, list) or not all(_is_port(p) for p in value):
        raise CheckError(f"networking.firewall.{name} is not a list of port numbers")
    return set(value)


def _port_ranges(value: Any, name: str) -> list[tuple[int, int]]:
    """``[{from = 8000; to = 8010;}]`` → [(8000, 8010)]; null is no range."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(r, dict) and _is_port(r.get("from")) and _is_port(r.get("to")) for r in value
    ):
        raise CheckError(f"networking.firewall.{name} is not a list of {{from, to}} port ranges")
    return [(r["from"], r["to"]) for r in value]


# ---------------------------------------------------------------------------- sysctl


@predicate("sysctl_baseline", params=SysctlParams, reads=["boot.kernel.sysctl"])
def sysctl_baseline(subject: Subject, params: SysctlParams) -> Outcome:
    """boot.kernel.sysctl sets every baseline key to an expected value."""
    facts = subject.need_facts()
    sysctl = lookup(facts, "boot.kernel.sysctl")
    if not isinstance(sysctl, dict):
        raise CheckError("boot.kernel.sysctl is not an attribute set")
    values = {k: v for k, v in sysctl.items() if v is not None}
    return judge_sysctl(values, params, "boot.kernel.sysctl", "is not set (the kernel default applies)")


# ---------------------------------------------------------------------------- any option


class OptionsParams(Params):
    # option path → required value (JSON). Lists and attribute sets compare exactly.
    expected: Annotated[dict[str, Any], merge(FIXED)] = {}


def _options_read(params: OptionsParams) -> list[str]:
    return sorted(params.expected)


@predicate("nixos_options", params=OptionsParams, reads=_options_read)
def nixos_options(subject: Subject, params: OptionsParams) -> Outcome:
    """Each listed NixOS option has the required value."""
    facts = subject.need_facts()
    if not params.expected:
        raise CheckError("no option to check (parameter 'expected' is empty)")
    values: dict[str, Any] = {}
    wrong: dict[str, dict[str, Any]] = {}
    for path, want in sorted(params.expected.items()):
        canonical = join_option_path(split_option_path(path))
        value = lookup(facts, path)
        values[canonical] = value
        if not same_value(value, want):
            wrong[canonical] = {"value": value, "expected": want}
    return verdict(
        not wrong,
        "options set as required: " + ", ".join(f"{k} = {_nix(v)}" for k, v in values.items()),
        "; ".join(f"{k} is {_nix(v['value'])}, expected {_nix(v['expected'])}" for k, v in wrong.items()),
        values=values,
        mismatches=wrong,
    )


def same_value(a: Any, b: Any) -> bool:
    """Equality of Nix values as JSON gives them: ``true`` is not ``1``, ``false`` is not
    ``0`` or ``0.0`` (Python's ``==`` says they are), also inside lists and attribute sets."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _nix(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


class AtLeastParams(Params):
    # option path → expectation ("2", ">=1", "<=30"), on integer options
    expected: Annotated[dict[str, str], merge(BOUNDS)] = {}


@predicate("nixos_option_bounds", params=AtLeastParams, reads=lambda p: sorted(p.expected))
def nixos_option_bounds(subject: Subject, params: AtLeastParams) -> Outcome:
    """Each listed integer NixOS option is within its bound (null counts as unset and fails)."""
    facts = subject.need_facts()
    if not params.expected:
        raise CheckError("no option to check (parameter 'expected' is empty)")
    values: dict[str, Any] = {}
    wrong: dict[str, dict[str, Any]] = {}
    for path, expectation in sorted(params.expected.items()):
        value = lookup(facts, path)
        values[path] = value
        ok = isinstance(value, int) and not isinstance(value, bool) and Bound.parse(expectation).accepts(value)
        if not ok:
            wrong[path] = {"value": value, "expected": expectation}
    return verdict(
        not wrong,
        "options within bounds: " + ", ".join(f"{k} = {_nix(v)}" for k, v in values.items()),
        "; ".join(f"{k} is {_nix(v['value'])}, expected {v['expected']}" for k, v in wrong.items()),
        values=values,
        mismatches=wrong,
    )



class IncludesParams(Params):
    # list option path → entries it must contain (others may be there too)
    required_entries: Annotated[dict[str, list[str]], merge(UNION)] = {}


@predicate("nixos_option_includes", params=IncludesParams, reads=lambda p: sorted(p.required_entries))
def nixos_option_includes(subject: Subject, params: IncludesParams) -> Outcome:
    """Each listed list-valued NixOS option contains the required entries.

    nixos_options compares whole values, which a list option rarely matches: a host adds
    its own kernel modules to a blacklist or its own parameters to a command line. Here
    only the required entries must be present; what else the list holds does not matter.
    """
    facts = subject.need_facts()
    if not params.required_entries:
        raise CheckError("no option to check (parameter 'required_entries' is empty)")
    values: dict[str, Any] = {}
    missing: dict[str, list[str]] = {}
    for path, required in sorted(params.required_entries.items()):
        value = lookup(facts, path)
        if not isinstance(value, list):
            raise CheckError(f"option {path} is not a list ({_nix(value)})")
        values[path] = value
        present = {str(v) for v in value}
        if absent := [r for r in required if r not in present]:
            missing[path] = absent
    return verdict(
        not missing,
        "lists hold the required entries: " + ", ".join(sorted(values)),
        "; ".join(f"{k} lacks {', '.join(v)}" for k, v in missing.items()),
        values=values,
        missing=missing,
    )

__all__ = ["OPENSSH_DEFAULTS", "SshdParams", "SysctlParams", "compare_sshd", "judge_sysctl", "sshd_value"]
