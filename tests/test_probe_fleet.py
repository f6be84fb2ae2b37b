"""``compliance probe --inventory``: several real sshd hosts on loopback (each in its own
UTS and mount namespace: its own host name and /run/current-system) probed in one run,
plus one host nobody answers for; one signed report per reachable host, none for the
other, exit 4; the reports promoted by ``compliance promote``; the same run written as
nixfleet evidence, verified with each host's own SSH host key."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from compliance.evidence.probe_report import verify_report
from compliance.promote.collect import list_reports
from compliance.promote.hostkeys import HostKeys
from compliance.promote.readers.nixfleet import NixfleetReader
from compliance.signing.keys import load_public_key
from tests.support.cli import ROOT, one_line_error, run
from tests.support.fixtures import fake_store_path
from tests.support.sshd import SshServer, can_namespace, start_sshd

pytestmark = pytest.mark.skipif(not can_namespace(), reason="needs sshd, ssh and unshare, as root")

ENV = {"COSIGN_PASSWORD": "fleet-tests", "SOURCE_DATE_EPOCH": "1793491200"}  # module fixtures run outside the per-test clock
NONCE = "wave-5b1d4c607f3c9a2e"
NAMES = ("web-1", "web-2", "web-3")
PROFILE = """id = "fleet-test"
title = "Fleet tests"
[select]
controls = ["CM-01"]
"""
POLICY = {"required_controls": []}


def closure(name: str) -> str:
    return fake_store_path(f"nixos-system-{name}-1")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nobody answers there


@dataclass
class Lab:
    base: Path
    catalog: Path
    servers: dict[str, SshServer]
    keys: dict[str, tuple[Path, Path]]
    dead_port: int

    def entry(self, name: str) -> dict[str, Any]:
        if name == "web-4":
            return {"name": name, "address": "127.0.0.1", "port": self.dead_port, "user": "root",
                    "nixfleet_key": str(self.base / "keys" / "web-4-ssh"), "expected_closure": closure(name)}
        server = self.servers[name]
        return {"name": name, "address": "127.0.0.1", "port": server.port, "user": "root",
                "identity": str(server.identity), "known_hosts": str(server.known_hosts),
                "nixfleet_key": str(server.config.parent / "host_key"), "expected_closure": closure(name)}

    def inventory(self, names: tuple[str, ...]) -> Path:
        path = self.base / f"inventory-{len(names)}.json"
        path.write_text(json.dumps({"defaults": {"key": "keys/{name}.key"}, "hosts": [self.entry(n) for n in names]}))
        return path

    def wave(self, names: tuple[str, ...], *, ssh: bool = False) -> Path:
        hosts = []
        for name in names:
            entry: dict[str, Any] = {"name": name, "expected_closure": closure(name), "canary": name == "web-1"}
            if ssh and name in self.servers:
                entry["ssh_host_key"] = (self.servers[name].config.parent / "host_key.pub").read_text().strip()
            else:
                entry["public_key"] = self.keys[name][1].read_text()
            hosts.append(entry)
        path = self.base / f"wave-{len(names)}-{'ssh' if ssh else 'probe'}.json"
        doc: dict[str, Any] = {"id": "web@3f2a1c0/1", "nonce": NONCE, "hosts": hosts}
        if ssh:  # nixfleet evidence binds only the time: it must post-date the activation
            doc["activated_at"] = "2026-10-31T23:50:00Z"
        path.write_text(json.dumps(doc))
        return path

    def probe(self, inventory: Path, out: Path, *args: str) -> Any:
        return run("probe", "--catalog", str(self.catalog), "--profile", "fleet-test", "--inventory", str(inventory),
                   "--nonce", NONCE, "--output-dir", str(out), *args, env=ENV)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    base = tmp_path_factory.mktemp("fleet")
    catalog = base / "catalog"
    shutil.copytree(ROOT / "controls", catalog)
    (catalog / "profiles" / "fleet-test.toml").write_text(PROFILE)
    (base / "keys").mkdir()
    keys = {}
    for name in (*NAMES, "web-4"):
        result = run("keys", "generate", "--output-key-prefix", str(base / "keys" / name), env=ENV)
        assert result.code == 0, result.stderr
        keys[name] = (base / "keys" / f"{name}.key", base / "keys" / f"{name}.pub")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / "keys" / "web-4-ssh")], check=True)
    (base / "policy.json").write_text(json.dumps(POLICY))
    accept = {"accept_nixfleet": True}
    (base / "nixfleet-policy.json").write_text(json.dumps({**POLICY, "hosts": accept, "canaries": accept}))
    with contextlib.ExitStack() as stack:
        servers = {name: stack.enter_context(start_sshd(base / "hosts" / name, hostname=name, closure=closure(name)))
                   for name in NAMES}
        yield Lab(base, catalog, servers, keys, _closed_port())


@pytest.fixture(scope="module")
def fleet_run(lab: Lab) -> tuple[Any, Path]:
    """One run over the three hosts and the unreachable one, both formats."""
    out = lab.base / "reports"
    before = {name: server.accepted_connections() for name, server in lab.servers.items()}
    result = lab.probe(lab.inventory((*NAMES, "web-4")), out, "--parallel", "3", "--format", "dsse", "--format", "nixfleet")
    lab.connections = {name: server.accepted_connections() - before[name] for name, server in lab.servers.items()}  # type: ignore[attr-defined]
    return result, out


def test_every_reachable_host_is_reported_and_the_unreachable_one_is_named(lab: Lab, fleet_run: tuple[Any, Path]) -> None:
    result, out = fleet_run
    assert result.code == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert "web-4 (ssh://root@127.0.0.1:" in result.stderr and "unreachable: " in result.stderr
    assert "Connection refused" in result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith("web-")}
    assert rows["web-4"][1:3] == ["ssh", "unreachable"]
    for name in NAMES:
        assert rows[name][1:3] == ["ssh", "written"]
    assert "3/4 hosts reported" in result.stdout
    assert sorted(p.name for p in out.glob("*.dsse.json")) == [f"{n}.dsse.json" for n in NAMES]
    assert not (out / "web-4").exists()


def test_each_report_is_signed_by_its_own_key_and_bound_to_its_own_host(lab: Lab, fleet_run: tuple[Any, Path]) -> None:
    _, out = fleet_run
    for name in NAMES:
        report = verify_report((out / f"{name}.dsse.json").read_bytes(), load_public_key(lab.keys[name][1]), name)
        assert report.host.name == name  # the namespace's host name, read over its own sshd
        assert report.host.running_closure == closure(name)
        assert report.closure_matches is True
        assert report.nonce == NONCE
        assert report.host.address == f"ssh://root@127.0.0.1:{lab.servers[name].port}"
        statuses = {r.control_id: r.status.value for r in report.assessment.results}
        assert statuses["CM-01"] == "pass"


def test_one_ssh_connection_per_host(lab: Lab, fleet_run: tuple[Any, Path]) -> None:
    assert lab.connections == dict.fromkeys(NAMES, 1)  # type: ignore[attr-defined]


def test_nixfleet_evidence_verifies_with_each_host_key(lab: Lab, fleet_run: tuple[Any, Path]) -> None:
    _, out = fleet_run
    reader = NixfleetReader()
    for name in NAMES:
        folder = out / name
        assert sorted(p.name for p in folder.iterdir()) == ["evidence.host.pub", "evidence.json", "evidence.json.sig"]
        pub = (lab.servers[name].config.parent / "host_key.pub").read_text()
        assert (folder / "evidence.host.pub").read_text().split()[:2] == pub.split()[:2]
        [candidate] = [f.read() for f in list_reports(out) if f.file == f"{name}/evidence.json"]
        doc = json.loads(candidate.data)
        claim = reader.claim(doc)
        assert claim is not None and claim.host == name
        evidence = reader.verify(candidate, doc, claim, HostKeys.parse(None, pub))
        assert evidence.host == name
        assert {c.control_id: c.status.value for c in evidence.controls}["CM-01"] == "pass"
        # Another host's key does not verify it.
        other = (lab.servers["web-2" if name != "web-2" else "web-1"].config.parent / "host_key.pub").read_text()
        with pytest.raises(Exception, match="does not verify with the host key"):
            reader.verify(candidate, doc, claim, HostKeys.parse(None, other))


def test_promote_holds_on_the_unreachable_host(lab: Lab, fleet_run: tuple[Any, Path]) -> None:
    _, out = fleet_run
    dsse_only = lab.base / "dsse-only"
    dsse_only.mkdir(exist_ok=True)
    for path in out.glob("*.dsse.json"):
        shutil.copy(path, dsse_only / path.name)
    decided = run("promote", "--wave", str(lab.wave((*NAMES, "web-4"))), "--reports", str(dsse_only), "--nonce", NONCE,
                  "--policy", str(lab.base / "policy.json"), "--format", "json", env=ENV)
    assert decided.code == 3, decided.stdout + decided.stderr
    decision = json.loads(decided.stdout)
    assert decision["verdict"] == "hold"
    hosts = {h["name"]: h for h in decision["hosts"]}
    assert hosts["web-4"]["evidence"] == "missing"
    assert {r.get("host") for r in decision["reasons"]} - {None} == {"web-4"}, decision["reasons"]
    assert any(r.get("host") == "web-4" and r.get("evidence") == "missing" for r in decision["reasons"])
    assert all(hosts[n]["evidence"] == "valid" for n in NAMES)

    # The wave of the three reachable hosts promotes on the same reports.
    decided = run("promote", "--wave", str(lab.wave(NAMES)), "--reports", str(dsse_only), "--nonce", NONCE,
                  "--policy", str(lab.base / "policy.json"), "--format", "json", env=ENV)
    assert decided.code == 0, decided.stdout + decided.stderr
    assert json.loads(decided.stdout)["verdict"] == "promote"


def test_promote_reads_the_nixfleet_evidence_of_the_run(lab: Lab, fleet_run: tuple[Any, Path]) -> None:
    _, out = fleet_run
    nixfleet_only = lab.base / "nixfleet-only"
    for name in NAMES:
        shutil.copytree(out / name, nixfleet_only / name, dirs_exist_ok=True)
    decided = run("promote", "--wave", str(lab.wave(NAMES, ssh=True)), "--reports", str(nixfleet_only), "--nonce", NONCE,
                  "--policy", str(lab.base / "nixfleet-policy.json"), "--format", "json", env=ENV)
    assert decided.code == 0, decided.stdout + decided.stderr
    decision = json.loads(decided.stdout)
    hosts = {h["name"]: h for h in decision["hosts"]}
    assert {n: (hosts[n]["evidence"], hosts[n].get("kind"), hosts[n]["controls"]) for n in NAMES} == dict.fromkeys(NAMES, ("valid", "nixfleet-evidence", {"pass": 1}))


def test_a_host_past_its_time_limit_gets_no_report(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = lab.probe(lab.inventory(("web-1",)), out, "--host-timeout", "1", "--profile", "nis2-essential")
    assert result.code == 4, result.stderr
    assert "web-1 (ssh://root@127.0.0.1:" in result.stderr and "timeout: did not finish within 1 s" in result.stderr
    assert not list(out.iterdir())


def test_the_wave_file_is_an_inventory(lab: Lab, tmp_path: Path) -> None:
    """Its hosts are reached at their names, with the wave's nonce: web-1 answers at
    127.0.0.1 through ssh options (as an ssh_config would say it)."""
    server = lab.servers["web-1"]
    wave = lab.wave(("web-1",))
    out = tmp_path / "out"
    options = ["HostName=127.0.0.1", f"Port={server.port}", "User=root", f"HostKeyAlias=[127.0.0.1]:{server.port}"]
    result = run("probe", "--catalog", str(lab.catalog), "--profile", "fleet-test", "--inventory", str(wave),
                 "--output-dir", str(out), "--key", str(lab.base / "keys" / "{name}.key"), "--ssh-identity", str(server.identity),
                 "--ssh-known-hosts", str(server.known_hosts), *[a for o in options for a in ("--ssh-option", o)], env=ENV)
    assert result.code == 0, result.stderr
    report = verify_report((out / "web-1.dsse.json").read_bytes(), load_public_key(lab.keys["web-1"][1]), "web-1")
    assert report.nonce == NONCE and report.host.name == "web-1" and report.closure_matches is True
    # Another nonce than the wave's is refused before anything is probed.
    refused = run("probe", "--inventory", str(wave), "--nonce", "other-nonce", "--output-dir", str(tmp_path / "o2"),
                  "--key", str(lab.keys["web-1"][0]), env=ENV)
    assert refused.code == 2
    assert "not the nonce of the wave file" in one_line_error(refused)
    assert not (tmp_path / "o2").exists()


@pytest.mark.parametrize(("args", "message"), [
    ((), "--inventory needs --output-dir"),
    (("--output-dir", "OUT", "--host", "ssh://h"), "--root, --host, -o"),
    (("--output-dir", "OUT", "--format", "nixfleet"), "no SSH host key for evidence.json"),
])
def test_usage_errors_of_an_inventory_run(lab: Lab, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    inventory = tmp_path / "inv.json"
    inventory.write_text(json.dumps([{"name": "web-1", "key": str(lab.keys["web-1"][0])}]))
    result = run("probe", "--inventory", str(inventory), "--nonce", NONCE,
                 *[str(tmp_path / "out") if a == "OUT" else a for a in args], env=ENV)
    assert result.code == 2
    assert message in one_line_error(result)
    assert not (tmp_path / "out").exists()
