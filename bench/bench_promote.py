"""Benchmark of ``compliance promote``: a wave of 1,000 hosts, every report verified and
decided.

    .venv/bin/python -m bench.bench_promote [--hosts 1000] [--runs 5]

The reports are made once, up front: one real probe of this machine with the full
runtime profile (its file system walk scoped like a NixOS host), then, for each host, the
same report under the host's name, machine id, closure and the wave's nonce, signed with
the host's own ECDSA P-256 key. So every report has the size and shape of a real one
(21 controls, about a hundred raw observations) and every signature is distinct. The
wave mixes what a real one holds: canaries, hosts with failures, a few stale, missing,
forged and replayed reports.

Timed, best and median of --runs: the gate in-process (read the folder, verify every
report with its host's key, bind, decide; over the cores this process may use, and in
one process), the same for 1,000 nixfleet evidence.json files (ed25519 over JCS), and
``compliance promote`` end to end as a control plane runs it (interpreter start-up and
imports, wave file with 1,000 keys, decision written as JSON). The machine may be
shared: the best run is the least disturbed one.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_probe import NOT_ON_NIXOS, full_profile, timed  # noqa: E402
from compliance.catalog.loader import load_catalog  # noqa: E402
from compliance.catalog.selection import SelectedControl, Selection  # noqa: E402
from compliance.evidence.probe_report import sign_report  # noqa: E402
from compliance.hosts.filesystem import LocalHost  # noqa: E402
from compliance.models.common import Status  # noqa: E402
from compliance.models.probe import ProbeReport  # noqa: E402
from compliance.promote.session import PromotionGate  # noqa: E402
from compliance.runs.probe_run import run_probes  # noqa: E402
from compliance.signing.keys import NativeSigner  # noqa: E402
from compliance.util.canonical import canonical_json  # noqa: E402
from tests.support.fixtures import fake_store_path  # noqa: E402

NONCE = "bench-wave-5f1c0e9a7d3b2468"
NOW = datetime(2026, 11, 1, tzinfo=UTC)


# The walk also skips the scratch space of this shared machine, whose contents change from
# run to run (other jobs' temporary files): the reports keep the same size between runs.
SCRATCH = ["/tmp", "/var/tmp", "/dev/shm", "/run/user"]


def scoped(selection: Selection) -> Selection:
    controls = []
    for sc in selection.controls:
        params = dict(sc.params)
        if "scan_prune" in params:
            params["scan_prune"] = [*params["scan_prune"], *NOT_ON_NIXOS, *SCRATCH]
        controls.append(SelectedControl(sc.control, params, sc.sources))
    return Selection(selection.requested, selection.profiles, selection.frameworks, controls)


def template_report() -> ProbeReport:
    """One real probe of this machine, full runtime profile."""
    catalog = load_catalog()
    signer = NativeSigner(ec.generate_private_key(ec.SECP256R1()))
    with LocalHost() as host:
        return run_probes(host, scoped(full_profile()), catalog_digest=catalog.digest, nonce=NONCE,
                          signer_fingerprint=signer.public_key.fingerprint, created=NOW, expected_closure=None, timeout=30)


def healthy(report: ProbeReport) -> ProbeReport:
    """The same report as if the host were hardened: every decided control passes (same
    checks, observed values and size; only the statuses change)."""
    results = [r.model_copy(update={"status": Status.PASS}) if r.status in (Status.FAIL, Status.ERROR) else r
               for r in report.assessment.results]
    return report.model_copy(update={"assessment": report.assessment.model_copy(update={"results": results})})


def write_probe_wave(folder: Path, hosts: int, template: ProbeReport, label: str) -> tuple[Path, dict[str, int]]:
    """The reports folder and wave file of ``hosts`` hosts; returns the wave file and the planted anomalies."""
    reports = folder / label
    reports.mkdir()
    entries, planted = [], {"missing": 0, "stale": 0, "forged": 0, "replayed": 0}
    for index in range(hosts):
        name = f"host-{index:04d}"
        key = ec.generate_private_key(ec.SECP256R1())
        signer = NativeSigner(key)
        closure = fake_store_path(f"nixos-system-{name}")
        machine = f"{index:032x}"
        entries.append({"name": name, "expected_closure": closure, "machine_id": machine, "canary": index < 10,
                        "public_key": signer.public_key.pem.decode()})
        if index % 250 == 1:
            planted["missing"] += 1
            continue
        created, nonce = NOW - timedelta(minutes=5), NONCE
        if index % 250 == 2:
            created, planted["stale"] = NOW - timedelta(hours=3), planted["stale"] + 1
        if index % 250 == 3:
            nonce, planted["replayed"] = "bench-wave-previous-00000000", planted["replayed"] + 1
        if index % 250 == 4:
            signer, planted["forged"] = NativeSigner(ec.generate_private_key(ec.SECP256R1())), planted["forged"] + 1
        host = template.host.model_copy(update={"name": name, "machine_id": machine, "running_closure": closure})
        report = template.model_copy(update={
            "report_id": f"{index:08x}-0000-5000-8000-000000000000", "created": created, "nonce": nonce, "host": host,
            "expected_closure": closure, "closure_matches": True, "signer": signer.public_key.fingerprint,
        })
        (reports / f"{name}.dsse.json").write_bytes(sign_report(report, signer))
    wave = folder / f"{label}-wave.json"
    wave.write_text(json.dumps({"id": f"bench@0000000/{label}", "nonce": NONCE, "hosts": entries}))
    return wave, planted


def write_nixfleet_wave(folder: Path, hosts: int) -> Path:
    """``hosts`` nixfleet-compliance hosts: evidence.json (17 controls), .sig, ed25519 keys."""
    reports = folder / "nixfleet"
    entries = []
    controls = ["supply-chain", "asset-inventory", "encryption-at-rest", "access-control", "baseline-hardening",
                "audit-logging", "backup-retention", "encryption-in-transit", "incident-response", "disaster-recovery",
                "vulnerability-mgmt", "authentication", "network-segmentation", "change-management", "key-management",
                "secure-boot", "agent-egress-exemption"]
    for index in range(hosts):
        name = f"fleet-{index:04d}"
        key = ed25519.Ed25519PrivateKey.generate()
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        entries.append({"name": name, "expected_closure": fake_store_path(f"nixos-system-{name}"), "ssh_host_key": public})
        evidence = {"host": name, "timestamp": "2026-10-31T23:55:00Z", "overall": f"{len(controls)}/{len(controls)} controls compliant",
                    "controls": [{"control": c, "status": "compliant", "framework_articles": {"nis2": ["21(i)"], "iso27001": ["A.8.2"]},
                                  "checks": {"compliant": True, "detail": f"{c} ok on {name}"}} for c in controls]}
        (reports / name).mkdir(parents=True)
        (reports / name / "evidence.json").write_text(json.dumps(evidence, indent=2))
        (reports / name / "evidence.json.sig").write_text(base64.b64encode(key.sign(canonical_json(evidence))).decode() + "\n")
    wave = folder / "nixfleet-wave.json"
    wave.write_text(json.dumps({"id": "bench@0000000/nixfleet", "nonce": NONCE, "activated_at": "2026-10-31T23:00:00Z",
                                "hosts": entries}))
    (folder / "nixfleet-policy.json").write_text(json.dumps({"hosts": {"accept_nixfleet": True}}))
    return wave


def row(name: str, best: float, median: float, detail: str) -> str:
    return f"| {name} | {best:.2f} s | {median:.2f} s | {detail} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-promote-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        probed = template_report()
        as_probed = write_probe_wave(folder, args.hosts, probed, "as-probed")
        hardened = write_probe_wave(folder, args.hosts, healthy(probed), "healthy")
        nixfleet_wave = write_nixfleet_wave(folder, args.hosts)
        sizes = [p.stat().st_size for p in (folder / "as-probed").iterdir()]
        print(f"made and signed 2 x {len(sizes)} probe reports (mean {sum(sizes) / len(sizes) / 1024:.0f} KiB) and "
              f"{args.hosts} nixfleet evidence files in {time.perf_counter() - start:.1f} s; planted in each wave: "
              f"{as_probed[1]}", file=sys.stderr)

        def decide(wave: Path, reports: str, policy: Path | None = None, processes: int | None = None) -> Callable[[], str]:
            def action() -> str:
                decision = PromotionGate.load(wave, folder / reports, NONCE, policy).decide(NOW, processes)
                s = decision.summary
                others = ", ".join(f"{n} {k.value}" for k, n in s.by_evidence.items() if k.value != "valid")
                return f"{s.valid} valid{', ' + others if others else ''}; {decision.verdict.value}, {len(decision.reasons)} reasons"
            return action

        def command(wave: Path, reports: str) -> Callable[[], str]:
            def action() -> str:
                env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
                out = folder / "decision.json"
                proc = subprocess.run([sys.executable, "-m", "compliance", "promote", "--wave", str(wave), "--reports",
                                       str(folder / reports), "--nonce", NONCE, "-o", f"json={out}"],
                                      env=env, capture_output=True, check=False)
                assert proc.returncode in (0, 1, 3), proc.stderr
                return f"exit {proc.returncode}, decision {out.stat().st_size // 1024} KiB"
            return action

        blocking = sum(1 for r in probed.assessment.results if r.status in (Status.FAIL, Status.ERROR))
        rows = [
            ("healthy wave, in-process (read, verify, bind, decide)", decide(hardened[0], "healthy")),
            ("healthy wave, in-process, one process", decide(hardened[0], "healthy", processes=1)),
            ("healthy wave, `compliance promote` end to end", command(hardened[0], "healthy")),
            (f"as probed ({blocking} of {len(probed.assessment.results)} controls fail or err on each host), in-process",
             decide(as_probed[0], "as-probed")),
            ("as probed, `compliance promote` end to end", command(as_probed[0], "as-probed")),
            ("nixfleet evidence.json, in-process", decide(nixfleet_wave, "nixfleet", folder / "nixfleet-policy.json")),
        ]
        print(f"| what ({args.hosts} hosts) | best | median | detail |\n|---|---|---|---|")
        for name, action in rows:
            best, median, detail = timed(args.runs, action)
            print(row(name, best, median, str(detail)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
