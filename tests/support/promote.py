"""A small fleet for the wave-gate tests, whose reports are all real.

Every host is an offline root laid out in a temporary folder (hostname, machine id,
accounts, the system profile pointing at its closure); every key is written by
``compliance keys generate``; every probe report is written by a real ``compliance
probe`` run, at the time the spec says (``SOURCE_DATE_EPOCH``). A report is made the
first time a test asks for it and kept for the session, so each worker probes only what
its tests use.

nixfleet-compliance hosts are imitated as they work: an OpenSSH ed25519 host key made by
``ssh-keygen``, evidence.json written as its collector writes it (indented, not
canonical), signed with the cryptography library over the JCS bytes of the parsed
document, the base64 signature on one line in evidence.json.sig, the public key in
evidence.host.pub.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compliance.util.canonical import canonical_json
from compliance.util.clock import isoformat
from tests.support.cli import ROOT, run
from tests.support.fixtures import fake_store_path

PASSWORD = "wave-gate-tests"
ENV = {"COSIGN_PASSWORD": PASSWORD}
NONCE = "wave-7f3c9a2e5b1d4c60"
T = 1_793_491_200  # the tests' clock (tests/conftest.py): 2026-11-01T00:00:00Z
HOSTS = ("web-1", "web-2", "web-3")
# The controls every probe of these tests runs: a critical one (CM-01, the running
# closure), two high (HK-07 setuid files; IA-01 is medium), one medium (HK-06 modes).
PROFILE = """id = "wave-test"
title = "Wave gate tests"
[select]
controls = ["CM-01", "HK-06", "HK-07", "IA-01"]
"""


def closure(host: str, generation: int = 1) -> str:
    return fake_store_path(f"nixos-system-{host}-{generation}")


def machine_id(host: str) -> str:
    return hashlib.sha256(f"machine:{host}".encode()).hexdigest()[:32]

# The fleet's reports are probes of offline roots (files at rest) with the four-control
# profile above. The default policy accepts neither: a disk image is not the running host,
# and a report must cover every control `compliance probe` runs by default. Tests about
# anything else decide under this policy, which accepts both explicitly.
LAB_POLICY: dict[str, Any] = {
    "hosts": {"accept_offline_root": True}, "canaries": {"accept_offline_root": True}, "required_controls": [],
}


def lab_policy(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """:data:`LAB_POLICY` with ``changes`` (sections merged key by key)."""
    merged: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in LAB_POLICY.items()}
    for key, value in (changes or {}).items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


@dataclass(frozen=True)
class Spec:
    """One probe run: whose root, in which state, signed by whom, for which wave, when."""

    host: str
    key: str | None = None  # whose key signs (default: the host's own)
    nonce: str = NONCE
    at: int = T
    generation: int = 1  # the closure the root runs (the wave expects generation 1)
    setuid: bool = False  # a stray setuid program: HK-07 (high) fails
    shadow_mode: int = 0o640  # 0o644: HK-06 (medium) fails
    shadow: bool = True  # no /etc/shadow: IA-01 cannot decide (error)

    @property
    def label(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass
class Fleet:
    base: Path
    catalog: Path = field(init=False)
    _reports: dict[str, Path] = field(default_factory=dict)
    _keys: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _making: dict[str, threading.Lock] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalog = self.base / "catalog"
        shutil.copytree(ROOT / "controls", self.catalog)
        (self.catalog / "profiles" / "wave-test.toml").write_text(PROFILE)

    def key(self, owner: str) -> tuple[Path, Path]:
        """(private, public) key of ``owner``, written once by ``compliance keys generate``."""
        with self._lock:
            if owner not in self._keys:
                prefix = self.base / "keys" / owner
                prefix.parent.mkdir(exist_ok=True)
                result = run("keys", "generate", "--output-key-prefix", str(prefix), env=ENV)
                assert result.code == 0, result.stderr
                self._keys[owner] = (prefix.with_suffix(".key"), prefix.with_suffix(".pub"))
            return self._keys[owner]

    def public_key(self, owner: str) -> str:
        return self.key(owner)[1].read_text()

    def root(self, spec: Spec, root: Path | None = None) -> Path:
        """The offline root of ``spec``'s host, laid out in ``root`` (default: one folder per spec)."""
        root = root or self.base / "roots" / spec.label
        etc = root / "etc"
        etc.mkdir(parents=True)
        (etc / "hostname").write_text(spec.host + "\n")
        (etc / "machine-id").write_text(machine_id(spec.host) + "\n")
        (etc / "passwd").write_text("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/var/empty:/sbin/nologin\n")
        (etc / "passwd").chmod(0o644)
        if spec.shadow:
            (etc / "shadow").write_text("root:!:19000:0:99999:7:::\nnobody:!:19000::::::\n")
            (etc / "shadow").chmod(spec.shadow_mode)
        system = closure(spec.host, spec.generation)
        (root / system.lstrip("/")).mkdir(parents=True)
        profiles = root / "nix/var/nix/profiles"
        profiles.mkdir(parents=True)
        (profiles / "system").symlink_to(system)
        if spec.setuid:
            tool = root / "usr/local/bin/rootme"
            tool.parent.mkdir(parents=True)
            tool.write_text("#!/bin/sh\n")
            tool.chmod(0o4755)
        return root

    def report(self, spec: Spec) -> Path:
        """The signed report of one probe run (made once per session)."""
        with self._lock:
            making = self._making.setdefault(spec.label, threading.Lock())
        with making:
            return self._reports.get(spec.label) or self._probe(spec)

    def _probe(self, spec: Spec) -> Path:
        private, _ = self.key(spec.key or spec.host)
        out = self.base / "reports" / f"{spec.label}.dsse.json"
        out.parent.mkdir(exist_ok=True)
        root = self.root(spec)
        result = run("probe", "--catalog", str(self.catalog), "--profile", "wave-test", "--root", str(root),
                     "--key", str(private), "--nonce", spec.nonce, "--expect-closure", closure(spec.host),
                     "-o", str(out), env={**ENV, "SOURCE_DATE_EPOCH": str(spec.at)})
        assert result.code == 0, result.stderr
        with self._lock:
            self._reports[spec.label] = out
        return out

    def reports(self, *specs: Spec) -> list[Path]:
        """Several reports, probed two at a time."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(self.report, specs))

    def wave(self, path: Path, hosts: tuple[str, ...] = HOSTS, *, canaries: tuple[str, ...] = ("web-1",),
             activated_at: int | None = None, machine_ids: bool = True, ssh_keys: dict[str, str] | None = None,
             nonce: str = NONCE, **overrides: Any) -> Path:
        """A wave file listing ``hosts`` with their keys and generation-1 closures."""
        entries = []
        for name in hosts:
            entry: dict[str, Any] = {"name": name, "expected_closure": closure(name), "canary": name in canaries}
            if ssh_keys and name in ssh_keys:
                entry["ssh_host_key"] = ssh_keys[name]
            else:
                entry["public_key"] = self.public_key(name)
            if machine_ids and not (ssh_keys and name in ssh_keys):
                entry["machine_id"] = machine_id(name)
            entry.update(overrides.get(name, {}))
            entries.append(entry)
        doc: dict[str, Any] = {"id": "web@3f2a1c0/1", "nonce": nonce, "hosts": entries}
        if activated_at is not None:
            doc["activated_at"] = isoformat_epoch(activated_at)
        path.write_text(json.dumps(doc, indent=2))
        return path


def isoformat_epoch(epoch: int) -> str:
    return isoformat(datetime.fromtimestamp(epoch, tz=UTC))


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return Fleet(tmp_path_factory.mktemp("fleet"))


def place(reports: Path, *files: Path, names: list[str] | None = None) -> Path:
    """Copy report files into the folder ``reports`` (created), under ``names`` if given."""
    reports.mkdir(parents=True, exist_ok=True)
    for index, file in enumerate(files):
        shutil.copyfile(file, reports / (names[index] if names else file.name))
    return reports


def good(host: str) -> Spec:
    return Spec(host)


def variant(spec: Spec, **changes: Any) -> Spec:
    return replace(spec, **changes)


# nixfleet-compliance hosts ----------------------------------------------------------


@dataclass(frozen=True)
class SshKey:
    private: Path
    public_line: str

    def sign_jcs(self, document: Any) -> str:
        """What nixfleet-compliance-sign does: JCS bytes, ed25519, base64 of the 64 bytes."""
        key = serialization.load_ssh_private_key(self.private.read_bytes(), password=None)
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        return base64.b64encode(key.sign(canonical_json(document))).decode()


def ssh_keygen(directory: Path, name: str) -> SshKey:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}_ed25519"
    if not path.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"root@{name}", "-f", str(path)],
                       check=True, capture_output=True)
    return SshKey(path, (directory / f"{name}_ed25519.pub").read_text().strip())


def runner_evidence(host: str, at: int, statuses: dict[str, str] | None = None) -> dict[str, Any]:
    """evidence.json as nixfleet-compliance's probe runner writes it (and nixfleet's agent reads it)."""
    statuses = statuses or {"access-control": "compliant", "audit-logging": "compliant", "encryption-at-rest": "compliant"}
    controls = []
    for control, status in statuses.items():
        checks: dict[str, Any] = {"compliant": status == "compliant", "passwordAuthentication": "no"}
        if status == "error":
            checks = {"error": "probe exited with code 127"}
        controls.append({"control": control, "status": status,
                         "framework_articles": {"nis2": ["21(i)"], "iso27001": ["A.8.2"]}, "checks": checks})
    compliant = sum(1 for s in statuses.values() if s == "compliant")
    return {"host": host, "timestamp": isoformat_epoch(at), "controls": controls,
            "overall": f"{compliant}/{len(statuses)} controls compliant"}


def documented_evidence(host: str, at: int, passed: dict[str, bool] | None = None) -> dict[str, Any]:
    """evidence.json in the v0.2 shape of nixfleet-compliance's docs/evidence-format.md."""
    passed = passed or {"access-control": True, "audit-logging": True}
    return {"schemaVersion": 1, "hostname": host, "collectedAt": isoformat_epoch(at).replace("Z", "+00:00"),
            "controls": [{"controlId": c, "passed": ok, "frameworkArticles": {"nis2": ["21(i)"]},
                          "details": {} if ok else {"observed": "yes"}, "schema": "anssi-bp028/v1"}
                         for c, ok in passed.items()]}


def write_nixfleet(folder: Path, evidence: dict[str, Any], key: SshKey, *, signature: str | None = None) -> Path:
    """The three files a nixfleet-compliance host leaves in /var/lib/nixfleet-compliance."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "evidence.json").write_text(json.dumps(evidence, indent=2) + "\n")
    (folder / "evidence.json.sig").write_text((signature if signature is not None else key.sign_jcs(evidence)) + "\n")
    (folder / "evidence.host.pub").write_text(key.public_line + "\n")
    return folder / "evidence.json"
