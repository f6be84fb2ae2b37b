"""Probes of the network exposure: listening sockets and the host firewall."""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any

from compliance.checks.registry import Outcome, failed, passed, probe, verdict
from compliance.errors import CheckError
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, ReadFile, Request, RunCommand
from compliance.models.params import FALSE, INTERSECTION, MERGE_FIXED, TRUE, Params
from compliance.probes.planners import plans
from compliance.probes.sources import ini_settings

# ---------------------------------------------------------------------------- listeners

SOCKET_TABLES = {"tcp": "/proc/net/tcp", "tcp6": "/proc/net/tcp6", "udp": "/proc/net/udp", "udp6": "/proc/net/udp6"}
TCP_LISTEN = "0A"


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    # The kernel prints each 32-bit word in host (little-endian) order.
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(swapped))


def parse_socket_table(text: str, proto: str) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of listening TCP sockets or bound UDP sockets."""
    found: set[tuple[str, str, int]] = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 4:
            continue
        local, remote, state = fields[1], fields[2], fields[3]
        addr, _, port = local.partition(":")
        if proto == "tcp" and state != TCP_LISTEN:
            continue
        if proto == "udp" and int(remote.partition(":")[2], 16) != 0:
            continue  # a connected UDP socket is a client
        found.add((proto, _address(addr), int(port, 16)))
    return found


def _loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _allowed(proto: str, address: str, port: int, allowlist: list[str]) -> bool:
    """Entries: ``tcp:22`` (any address) or ``tcp:192.0.2.1:22`` / ``udp:[::]:546``."""
    for entry in allowlist:
        kind, _, rest = entry.partition(":")
        if kind != proto:
            continue
        host, sep, port_text = rest.rpartition(":")
        if port_text not in ("*", str(port)):
            continue
        if not sep or host.strip("[]") == address:
            return True
    return False


class ListenerParams(Params):
    allowed_listeners: Annotated[list[str], INTERSECTION] = ["tcp:22"]
    ignore_loopback: Annotated[bool, FALSE] = True


def _plan_sockets(host: Host, params: object) -> list[Request]:
    return [ReadFile(p) for p in SOCKET_TABLES.values()] if host.live else []


plans("listening_sockets")(_plan_sockets)


def host_sockets(host: Host) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every listening TCP and bound UDP socket of a live host."""
    host.require_live("listening sockets")
    sockets: set[tuple[str, str, int]] = set()
    for table, path in SOCKET_TABLES.items():
        text = host.read_text(path)
        if text is None:
            if table in ("tcp", "udp"):
                raise CheckError(f"{path} is missing")
            continue  # no IPv6 on this kernel
        sockets |= parse_socket_table(text, table.rstrip("6"))
    return sockets


@probe("listening_sockets", params=ListenerParams)
def listening_sockets(host: Host, params: ListenerParams) -> Outcome:
    """Every listening TCP socket and bound UDP socket is on the allowlist (loopback ones aside, unless told otherwise)."""
    sockets = host_sockets(host)
    exposed = sorted(s for s in sockets if not (params.ignore_loopback and _loopback(s[1])))
    rendered = [f"{p}:{'[' + a + ']' if ':' in a else a}:{port}" for p, a, port in exposed]
    extra = [r for r, (p, a, port) in zip(rendered, exposed, strict=True) if not _allowed(p, a, port, params.allowed_listeners)]
    return verdict(not extra, f"{len(rendered)} listeners, all allowed", f"listeners not allowed: {', '.join(extra)}",
                   listeners=rendered, not_allowed=extra)


# ---------------------------------------------------------------------------- firewall

TERMINAL = ("accept", "drop", "reject")
DENY = ("drop", "reject")
NON_MATCHING = ("counter", "log", "comment")


class FirewallRuntimeParams(Params):
    require_ipv6: Annotated[bool, TRUE] = True


NFT = ("nft", "-j", "list", "ruleset")
IPTABLES = ("iptables-save",)
IP6TABLES = ("ip6tables-save",)


@plans("firewall_default_deny")
def _plan_firewall(host: Host, params: FirewallRuntimeParams) -> list[Request]:
    return [RunCommand(NFT), RunCommand(IPTABLES), RunCommand(IP6TABLES)] if host.live else []


def _nft_end(chains: dict[str, list[list[dict[str, Any]]]], name: str, depth: int = 0) -> str:
    """What a packet no earlier rule matched meets at the end of an nft chain: a terminal
    verdict of an unconditional rule (following unconditional jumps), else ``fallthrough``."""
    if depth > 32:
        return "fallthrough"
    for exprs in chains.get(name, []):
        if any(next(iter(e)) not in (*NON_MATCHING, *TERMINAL, "jump", "goto", "return") for e in exprs):
            continue  # a conditional rule
        for expr in exprs:
            key = next(iter(expr))
            if key in TERMINAL:
                return key
            if key == "return":
                return "fallthrough"
            if key in ("jump", "goto"):
                end = _nft_end(chains, expr[key]["target"], depth + 1)
                if end != "fallthrough" or key == "goto":
                    return end
    return "fallthrough"


def nft_input_defaults(doc: Any) -> dict[str, list[str]]:
    """family (ip, ip6) → how each input base chain ends (``drop``, ``accept``...)."""
    items = doc.get("nftables", []) if isinstance(doc, dict) else []
    chains: dict[tuple[str, str], dict[str, list[list[dict[str, Any]]]]] = {}
    bases: list[tuple[str, str, str, str]] = []
    for item in items:
        if "chain" in item:
            c = item["chain"]
            chains.setdefault((c["family"], c["table"]), {}).setdefault(c["name"], [])
            if c.get("hook") == "input" and c.get("type", "filter") == "filter":
                bases.append((c["family"], c["table"], c["name"], c.get("policy", "accept")))
        elif "rule" in item:
            r = item["rule"]
            chains.setdefault((r["family"], r["table"]), {}).setdefault(r["chain"], []).append(r.get("expr", []))
    result: dict[str, list[str]] = {"ip": [], "ip6": []}
    for family, table, name, policy in bases:
        end = _nft_end(chains[(family, table)], name)
        outcome = policy if end == "fallthrough" else end
        for fam in ("ip", "ip6") if family == "inet" else (family,):
            if fam in result:
                result[fam].append(outcome)
    return result


def iptables_input_defaults(text: str) -> list[str]:
    """How the INPUT chain of iptables-save's filter table ends."""
    policies: dict[str, str] = {}
    rules: dict[str, list[list[str]]] = {}
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
        elif table == "filter" and line.startswith(":"):
            name, policy = line[1:].split()[:2]
            policies[name] = policy.lower()
            rules.setdefault(name, [])
        elif table == "filter" and line.startswith("-A "):
            words = line.split()
            rules.setdefault(words[1], []).append(words[2:])
    if "INPUT" not in policies:
        return []

    def end(chain: str, depth: int = 0) -> str:
        for words in rules.get(chain, []):
            conditional = [w for w in words if w.startswith("-") and w not in ("-j", "-g", "-m", "--comment")]
            if conditional or ("-j" not in words and "-g" not in words):
                continue
            flag = "-j" if "-j" in words else "-g"
            target = words[words.index(flag) + 1]
            if target.lower() in TERMINAL:
                return target.lower()
            if target == "RETURN":
                return "fallthrough"
            if target in rules and depth < 32:
                inner = end(target, depth + 1)
                if inner != "fallthrough" or flag == "-g":
                    return inner
        return "fallthrough"

    last = end("INPUT")
    return [policies["INPUT"] if last == "fallthrough" else last]


@probe("firewall_default_deny", params=FirewallRuntimeParams)
def firewall_default_deny(host: Host, params: FirewallRuntimeParams) -> Outcome:
    """A firewall ruleset is loaded and inbound traffic no rule accepts is dropped (nftables or iptables), for IPv4 and IPv6."""
    host.require_live("the loaded firewall ruleset")
    ends: dict[str, list[str]] = {"ip": [], "ip6": []}
    sources = []
    nft = host.run(*NFT)
    if nft is not None:
        if nft.exit_code != 0:
            raise CheckError(f"nft -j list ruleset failed: {nft.stderr or 'exit ' + str(nft.exit_code)}")
        try:
            doc = json.loads(nft.stdout) if nft.stdout.strip() else {}
        except ValueError:
            raise CheckError("nft -j list ruleset printed invalid JSON") from None
        for fam, outcomes in nft_input_defaults(doc).items():
            ends[fam] += outcomes
        sources.append("nft")
    for fam, argv in (("ip", IPTABLES), ("ip6", IP6TABLES)):
        result = host.run(*argv)
        if result is not None and result.exit_code == 0:
            ends[fam] += iptables_input_defaults(result.stdout)
            sources.append(argv[0])
    if not sources:
        return failed("no firewall tool (nft, iptables-save) is installed: no ruleset can be loaded", sources=sources)
    families = ["ip", "ip6"] if params.require_ipv6 else ["ip"]
    open_families = [f for f in families if not any(o in DENY for o in ends[f])]
    names = {"ip": "IPv4", "ip6": "IPv6"}
    if open_families:
        detail = "; ".join(f"{names[f]}: " + (", ".join(ends[f]) + " at the end of input" if ends[f] else "no input chain") for f in open_families)
        return failed(f"inbound traffic is not denied by default ({detail})", input_chains=ends, sources=sources)
    return passed("inbound traffic is denied by default (" + ", ".join(names[f] for f in families) + ")", input_chains=ends, sources=sources)


# ---------------------------------------------------------------------------- clear text

# Services whose protocol carries credentials or data in clear text, by port.
DEFAULT_CLEARTEXT_PORTS = {
    "tcp:21": "FTP", "tcp:23": "telnet", "udp:69": "TFTP", "tcp:79": "finger", "tcp:512": "rexec", "tcp:513": "rlogin",
    "tcp:514": "rsh", "udp:514": "syslog over UDP", "tcp:111": "portmapper (NIS, NFSv3)", "udp:111": "portmapper (NIS, NFSv3)",
}


class CleartextParams(Params):
    denied_ports: Annotated[dict[str, str], MERGE_FIXED] = DEFAULT_CLEARTEXT_PORTS  # "tcp:23" → what it is
    ignore_loopback: Annotated[bool, FALSE] = True


plans("cleartext_listeners")(_plan_sockets)


@probe("cleartext_listeners", params=CleartextParams)
def cleartext_listeners(host: Host, params: CleartextParams) -> Outcome:
    """No socket listens on the port of a clear-text legacy protocol (telnet, FTP, TFTP, r-services, portmapper, syslog over UDP).

    These protocols send passwords and data unencrypted and unauthenticated; whatever
    the firewall does today, a listener is one rule away from exposure (CIR 6.7.2(f),(i);
    ANSSI BP-028 R62 and the OpenSSH note's advice to drop telnet and the r-services).
    """
    sockets = host_sockets(host)
    found = sorted(s for s in sockets if not (params.ignore_loopback and _loopback(s[1])) and f"{s[0]}:{s[2]}" in params.denied_ports)
    rendered = [f"{p}:{'[' + a + ']' if ':' in a else a}:{port} ({params.denied_ports[f'{p}:{port}']})" for p, a, port in found]
    return verdict(not found, f"no clear-text legacy protocol listens ({len(sockets)} sockets)",
                   f"clear-text legacy protocols listen: {', '.join(rendered)}", cleartext=rendered, sockets=len(sockets))


# ---------------------------------------------------------------------------- DNS

RESOLVED_CONF = "/etc/systemd/resolved.conf"
RESOLVED_DROPINS = "/etc/systemd/resolved.conf.d"
UNBOUND_CONFS = ("/etc/unbound/unbound.conf",)
RESOLV_CONF = "/etc/resolv.conf"
RESOLVED_STUBS = ("127.0.0.53", "127.0.0.54")


class ResolverParams(Params):
    require_dns_over_tls: Annotated[bool, TRUE] = False


@plans("resolver_dnssec")
def _plan_resolver(host: Host, params: ResolverParams) -> list[Request]:
    return [ReadFile(RESOLV_CONF), ReadFile(RESOLVED_CONF), ListDir(RESOLVED_DROPINS), *(ReadFile(p) for p in UNBOUND_CONFS)]


def _nameservers(text: str) -> list[str]:
    return [words[1] for words in (ln.split() for ln in text.splitlines()) if len(words) >= 2 and words[0] == "nameserver"]


@probe("resolver_dnssec", params=ResolverParams)
def resolver_dnssec(host: Host, params: ResolverParams) -> Outcome:
    """The host resolves names through a local resolver that validates DNSSEC (systemd-resolved with DNSSEC=yes, or unbound with a trust anchor), over TLS when required.

    Without validation, a forged DNS answer sends the host to an attacker's server, and
    with it whatever the host sends there (CIR 6.7.2(l): DNS security best practices).
    resolved's allow-downgrade is not validation: an attacker in the path can strip the
    signatures. The probe judges the resolver /etc/resolv.conf points at.
    """
    resolv = host.read_text(RESOLV_CONF)
    if resolv is None:
        raise CheckError(f"{RESOLV_CONF} is missing: cannot tell which resolver the host uses")
    servers = _nameservers(resolv)
    observed: dict[str, object] = {"nameservers": servers}
    if servers and all(s in RESOLVED_STUBS for s in servers):
        settings = ini_settings(host, RESOLVED_CONF, RESOLVED_DROPINS, "Resolve")
        dnssec = settings.get("DNSSEC", "no").lower()
        dot = settings.get("DNSOverTLS", "no").lower()
        observed.update(resolver="systemd-resolved", dnssec=dnssec, dns_over_tls=dot)
        problems = [] if dnssec in ("yes", "true", "1") else [f"systemd-resolved DNSSEC={dnssec}: answers are not validated"]
        if params.require_dns_over_tls and dot not in ("yes", "true", "1"):
            problems.append(f"systemd-resolved DNSOverTLS={dot}: queries leave the host in clear text")
        return verdict(not problems, f"systemd-resolved validates DNSSEC (DNSOverTLS={dot})", "; ".join(problems), **observed)
    if servers and all(ipaddress.ip_address(s).is_loopback for s in servers if _ip(s)):
        for path in UNBOUND_CONFS:
            text = host.read_text(path)
            if text is None:
                continue
            lines = [ln.split("#", 1)[0].strip() for ln in text.splitlines()]
            anchored = any(ln.startswith(("auto-trust-anchor-file:", "trust-anchor-file:", "trust-anchor:")) for ln in lines)
            modules = next((ln.split(":", 1)[1].strip().strip('"') for ln in lines if ln.startswith("module-config:")), "validator iterator")
            tls = any(ln.replace(" ", "") in ("forward-tls-upstream:yes",) for ln in lines)
            observed.update(resolver="unbound", config=path, trust_anchor=anchored, modules=modules, dns_over_tls=tls)
            problems = [] if anchored and "validator" in modules.split() else [f"unbound ({path}) does not validate DNSSEC (no trust anchor or no validator module)"]
            if params.require_dns_over_tls and not tls:
                problems.append(f"unbound ({path}) does not forward over TLS (forward-tls-upstream)")
            return verdict(not problems, "unbound validates DNSSEC", "; ".join(problems), **observed)
    return failed(f"{RESOLV_CONF} sends queries to {', '.join(servers) or 'no server'}, not to a local validating resolver", **observed)


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
