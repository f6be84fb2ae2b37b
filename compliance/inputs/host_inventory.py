"""The hosts ``compliance probe --inventory`` probes in one run.

Three shapes are read, whichever the operator already has:

* this tool's inventory (TOML, or JSON: an object with ``hosts``, or a bare list of them),
  with optional ``defaults`` every host inherits::

      [defaults]
      user = "root"
      identity = "~/.ssh/fleet"
      known_hosts = "known_hosts"
      key = "keys/{name}.key"          # {name} is the host's name

      [[hosts]]
      name = "web-1"
      address = "10.0.0.11"
      port = 22
      expected_closure = "/nix/store/…-nixos-system-web-1"

* the wave file of ``compliance promote`` (``id``, ``nonce``, ``hosts`` with ``name`` and
  ``expected_closure``): each host is reached at its name, and the wave's nonce is the
  run's;
* an Ansible YAML inventory (``all: {hosts, vars, children}``), with ``ansible_host``,
  ``ansible_port``, ``ansible_user``, ``ansible_ssh_private_key_file`` and, for this
  tool, ``compliance_expected_closure``, ``compliance_key`` and
  ``compliance_nixfleet_key``; group variables are inherited, a host's own win.

Relative file names are relative to the inventory's folder. Every problem is an
:class:`InputError` naming the file and the host.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.inputs.documents import load_document
from compliance.util.fsutil import read_bytes

HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$")
ADDRESS_RE = re.compile(r"^[A-Za-z0-9._:-]+$")
USER_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
STORE_PATH_RE = re.compile(r"^/nix/store/[0-9abcdfghijklmnpqrsvwxyz]{32}-[A-Za-z0-9+._?=-]+$")
MAX_HOSTS = 10_000

# Native field → type. Paths are resolved against the inventory's folder.
_STRINGS = ("name", "address", "user", "expected_closure")
_PATHS = ("identity", "known_hosts", "key", "nixfleet_key")
_FIELDS = {*_STRINGS, *_PATHS, "port", "ssh_options"}
_ANSIBLE = {
    "ansible_host": "address", "ansible_port": "port", "ansible_user": "user",
    "ansible_ssh_private_key_file": "identity", "compliance_expected_closure": "expected_closure",
    "compliance_key": "key", "compliance_nixfleet_key": "nixfleet_key", "compliance_known_hosts": "known_hosts",
}


@dataclass(frozen=True)
class InventoryHost:
    """One host to probe over SSH, and what its report is signed with and held to."""

    name: str
    address: str
    port: int | None = None
    user: str | None = None
    identity: str | None = None
    known_hosts: str | None = None
    key: str | None = None  # the signing key of its probe report
    nixfleet_key: str | None = None  # its OpenSSH ed25519 host key, for evidence.json
    expected_closure: str | None = None
    ssh_options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inventory:
    source: str
    kind: str  # "inventory" | "wave" | "ansible"
    hosts: list[InventoryHost]
    nonce: str | None = None  # the wave's, when the inventory is a wave file
    document: Any = field(default=None, repr=False)


def _is_yaml(path: str) -> bool:
    return path.endswith((".yml", ".yaml"))


def load_inventory(path: str | Path) -> Inventory:
    """The hosts of ``path``, or :class:`InputError` naming the file and the problem."""
    source = str(path)
    data = read_bytes(path, what="inventory")
    if _is_yaml(source):
        return Inventory(source, "ansible", _check_all(source, list(_ansible_hosts(source, _load_yaml(source, data)))))
    doc = load_document(source, data)
    base = Path(source).parent
    if isinstance(doc, dict) and "nonce" in doc and "id" in doc:
        hosts_doc = doc.get("hosts")
        if not isinstance(hosts_doc, list):
            raise InputError(source, "hosts: expected a list of the wave's hosts")
        hosts = [_native(source, base, i, _wave_entry(source, i, entry), {}) for i, entry in enumerate(hosts_doc)]
        nonce = doc["nonce"]
        if not isinstance(nonce, str):
            raise InputError(source, "nonce: expected text")
        return Inventory(source, "wave", _check_all(source, hosts), nonce=nonce, document=doc)
    if isinstance(doc, list):
        doc = {"hosts": doc}
    if not isinstance(doc, dict):
        raise InputError(source, f"expected an object with hosts, or a list of hosts, got {type(doc).__name__}")
    unknown = sorted(set(doc) - {"hosts", "defaults"})
    if unknown:
        raise InputError(source, f"unknown key {unknown[0]!r} (expected hosts and defaults)")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InputError(source, "defaults: expected a table of host fields")
    bad = sorted(set(defaults) - (_FIELDS - {"name", "address", "expected_closure"}))
    if bad:
        raise InputError(source, f"defaults: unknown or per-host field {bad[0]!r}")
    entries = doc.get("hosts")
    if not isinstance(entries, list) or not entries:
        raise InputError(source, "hosts: expected a non-empty list of hosts")
    return Inventory(source, "inventory", _check_all(source, [_native(source, base, i, e, defaults) for i, e in enumerate(entries)]))


def _wave_entry(source: str, index: int, entry: Any) -> dict[str, Any]:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise InputError(source, f"hosts.{index}: expected a host with a name")
    return {"name": entry["name"], "address": entry["name"], "expected_closure": entry.get("expected_closure")}


def _where(index: int, entry: Mapping[str, Any]) -> str:
    name = entry.get("name")
    return f"hosts.{index} ({name})" if isinstance(name, str) else f"hosts.{index}"


def _native(source: str, base: Path, index: int, entry: Any, defaults: Mapping[str, Any]) -> InventoryHost:
    if not isinstance(entry, dict):
        raise InputError(source, f"hosts.{index}: expected a table of host fields, got {type(entry).__name__}")
    where = _where(index, entry)
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise InputError(source, f"{where}: unknown field {unknown[0]!r}")
    merged = {**defaults, **entry}
    values: dict[str, Any] = {}
    for name in (*_STRINGS, *_PATHS):
        value = merged.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise InputError(source, f"{where}: {name}: expected non-empty text")
        if name in _PATHS:
            value = value.replace("{name}", str(merged.get("name", "")))
            value = str(base / os.path.expanduser(value))
        values[name] = value
    if "name" not in values:
        raise InputError(source, f"{where}: name is missing")
    values.setdefault("address", values["name"])
    port = merged.get("port")
    if port is not None:
        if isinstance(port, str) and port.isdigit():
            port = int(port)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise InputError(source, f"{where}: port: expected a number from 1 to 65535, got {port!r}")
    options = merged.get("ssh_options", ())
    if not isinstance(options, list | tuple) or not all(isinstance(o, str) and o and "\n" not in o for o in options):
        raise InputError(source, f"{where}: ssh_options: expected a list of 'Option=value' texts")
    host = InventoryHost(port=port, ssh_options=tuple(options), **values)
    _check_host(source, where, host)
    return host


def _check_host(source: str, where: str, host: InventoryHost) -> None:
    if not HOST_NAME_RE.match(host.name):
        raise InputError(source, f"{where}: name {host.name!r}: letters, digits, '.', '_' and '-' only")
    if not ADDRESS_RE.match(host.address) or host.address.startswith("-"):
        raise InputError(source, f"{where}: address {host.address!r} is not a host name or IP address")
    if host.user is not None and not USER_RE.match(host.user):
        raise InputError(source, f"{where}: user {host.user!r} is not a user name")
    if host.expected_closure is not None and not STORE_PATH_RE.match(host.expected_closure):
        raise InputError(source, f"{where}: expected_closure {host.expected_closure!r} is not a system closure's store path")


def _check_all(source: str, hosts: list[InventoryHost]) -> list[InventoryHost]:
    if not hosts:
        raise InputError(source, "no host to probe")
    if len(hosts) > MAX_HOSTS:
        raise InputError(source, f"{len(hosts)} hosts; at most {MAX_HOSTS} in one run")
    seen: set[str] = set()
    for host in hosts:
        if host.name in seen:
            raise InputError(source, f"host {host.name} is listed twice: its reports would overwrite each other")
        seen.add(host.name)
    return hosts


def _load_yaml(source: str, data: bytes) -> Any:
    import yaml

    try:
        return yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(source, "not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(source, f"invalid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None


def _ansible_hosts(source: str, doc: Any) -> Iterator[InventoryHost]:
    """Every host of every group, with the variables of its groups (outer first) under its own."""
    if not isinstance(doc, dict) or not doc:
        raise InputError(source, "expected an Ansible inventory: groups (e.g. all:) with hosts, vars and children")
    base = Path(source).parent
    found: dict[str, dict[str, Any]] = {}
    order: list[str] = []

    def walk(group: str, body: Any, inherited: dict[str, Any], depth: int) -> None:
        if depth > 32:
            raise InputError(source, f"group {group}: children nested too deep (a cycle?)")
        if body is None:
            return
        if not isinstance(body, dict):
            raise InputError(source, f"group {group}: expected hosts, vars and children, got {type(body).__name__}")
        unknown = sorted(set(body) - {"hosts", "vars", "children"})
        if unknown:
            raise InputError(source, f"group {group}: unknown key {unknown[0]!r}")
        group_vars = body.get("vars") or {}
        if not isinstance(group_vars, dict):
            raise InputError(source, f"group {group}: vars: expected a mapping")
        scope = {**inherited, **group_vars}
        hosts = body.get("hosts") or {}
        if not isinstance(hosts, dict):
            raise InputError(source, f"group {group}: hosts: expected a mapping of host names to their variables")
        for name, host_vars in hosts.items():
            if host_vars is not None and not isinstance(host_vars, dict):
                raise InputError(source, f"host {name}: expected a mapping of variables")
            if str(name) not in found:
                order.append(str(name))
                found[str(name)] = {}
            # A host in several groups: the variables seen first stay, its own always win.
            found[str(name)] = {**scope, **found[str(name)], **(host_vars or {})}
        children = body.get("children") or {}
        if not isinstance(children, dict):
            raise InputError(source, f"group {group}: children: expected a mapping of groups")
        for child, child_body in children.items():
            walk(str(child), child_body, scope, depth + 1)

    for group, body in doc.items():
        walk(str(group), body, {}, 0)
    for index, name in enumerate(order):
        entry: dict[str, Any] = {"name": name}
        for var, value in found[name].items():
            if var in _ANSIBLE and value is not None:
                entry[_ANSIBLE[var]] = value if _ANSIBLE[var] != "port" else (int(value) if str(value).isdigit() else value)
        yield _native(source, base, index, entry, {})
