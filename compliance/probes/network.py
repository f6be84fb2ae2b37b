"""Probes of the network exposure: listening sockets and the host firewall."""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any

from ..errors import CheckError
from ..hosts.base import Host
from ..hosts.requests import ReadFile, Request, RunCommand
from ..models.params import FALSE, INTERSECTION, TRUE, Params
from ..registry import Outcome, failed, passed, probe, verdict
from .plan import plans

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


@plans("listening_sockets")
def _plan_listeners(host: Host, params: ListenerParams) -> list[Request]:
    return [ReadFile(p) for p in SOCKET_TABLES.values()] if host.live else []


@probe("listening_sockets", params=ListenerParams)
def listening_sockets(host: Host, params: ListenerParams) -> Outcome:
    """Every listening TCP socket and bound UDP socket is on the allowlist (loopback ones aside, unless told otherwise)."""
    host.require_live("listening sockets")
    sockets: set[tuple[str, str, int]] = set()
    for table, path in SOCKET_TABLES.items():
        text = host.read_text(path)
        if text is None:
            if table in ("tcp", "udp"):
                raise CheckError(f"{path} is missing")
            continue  # no IPv6 on this kernel
        sockets |= parse_socket_table(text, table.rstrip("6"))
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
