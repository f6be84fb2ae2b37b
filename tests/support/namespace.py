"""Inside ``unshare --mount --net``: set up the state a runtime fixture describes, then
evaluate one control on the local host and print its status as JSON.

Run by :func:`tests.support.runtime_fixtures.run_in_namespace` (a control) or
:func:`~tests.support.runtime_fixtures.run_probe_in_namespace` (one probe, given parameters); everything done here
(sysctls of the new network namespace, its firewall, its sockets, mounts of the private
mount namespace) disappears with the process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from compliance.assess import engine
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.checks import registry
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.filesystem import LocalHost
from compliance.models.control import CheckKind


def _listen(spec: str) -> socket.socket:
    proto, _, rest = spec.partition(":")
    address, _, port = rest.rpartition(":")
    address = address.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, int(port)))
    if proto == "tcp":
        sock.listen()
    return sock


def main(path: str) -> int:
    with open(path, encoding="utf-8") as handle:
        request = json.load(handle)
    setup = request["setup"]
    # Load the catalog (and with it every check module) before the mounts below can hide
    # the checkout or make it noexec.
    catalog = load_catalog()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for key, value in (setup.get("sysctl") or {}).items():
        if not key.startswith("net."):
            raise SystemExit(f"{key}: only net.* sysctls belong to a network namespace")
        with open("/proc/sys/" + key.replace(".", "/"), "w", encoding="ascii") as handle:
            handle.write(str(value))
    if setup.get("nftables"):
        subprocess.run(["nft", "-f", "-"], input=setup["nftables"], text=True, check=True)
    for mount in setup.get("mounts") or []:
        if mount.get("bind"):
            subprocess.run(["mount", "--bind", mount["target"], mount["target"]], check=True)
            subprocess.run(["mount", "-o", f"remount,bind,{mount['options']}", mount["target"]], check=True)
        else:
            subprocess.run(["mount", "-t", mount["type"], "-o", mount["options"], mount["type"], mount["target"]], check=True)
    for link, dest in (setup.get("links") or {}).items():
        os.symlink(dest, link)
    for argv in setup.get("commands") or []:
        subprocess.run(argv, check=True)
    sockets = [_listen(s) for s in setup.get("listen") or []]

    host = LocalHost()
    host.expected_closure = request.get("expect_closure")
    if "probe" in request:  # one probe with explicit parameters
        spec = registry.get(CheckKind.RUNTIME, request["probe"])
        assert spec is not None, request["probe"]
        try:
            outcome = spec.func(host, spec.params.model_validate(request.get("params") or {}))
            answer = {"status": outcome.status.value, "message": outcome.message}
        except (CheckError, NotApplicable) as exc:
            answer = {"status": "error" if isinstance(exc, CheckError) else "not_applicable", "message": str(exc)}
    else:
        selected = next(s for s in select(catalog, [], CheckKind.RUNTIME).controls if s.control.id == request["control"])
        result = engine.evaluate_control(selected, CheckKind.RUNTIME, host)
        answer = {"status": result.status.value, "message": result.message,
                  "checks": [c.model_dump(mode="json") for c in result.checks]}
    json.dump(answer, sys.stdout)
    for sock in sockets:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
