"""Benchmark of a fleet: ``probe --inventory`` over N real sshd hosts on loopback, and
``promote`` over a wave of 10,000 reports.

    .venv/bin/python -m bench.bench_fleet [--hosts 50] [--parallel 8] [--runs 3] [--wave 10000]

Probing: N sshd instances on 127.0.0.1, each on its own port and in its own UTS and
mount namespaces (its own host name and /run/current-system, as the fleet tests start
them), probed with the full runtime profile scoped like a NixOS host (the file system
walks skip what only this development image has) by the library behind
``probe --inventory`` (:func:`compliance.runs.fleet_probe.probe_fleet`): one SSH
connection per host, a signed report each. Timed: one host alone, then all N with
``--parallel``; the target is N hosts in at most 8 times the one-host run (for 50 hosts).
Every host runs on this same machine, so the hosts' side of each probe (the remote
shell, its file system walk) competes for the same cores as the prober: the figure is a
bound, not what a fleet of real machines costs.

Promoting: a wave of ``--wave`` hosts, each report the probe of this machine with a small
agent profile (the controls of ``--wave-profile``) under the host's name, machine id,
closure and key, as :mod:`bench.bench_promote` makes them; timed in-process (read,
verify, bind, decide) and as ``compliance promote`` end to end. Target: 10,000 within 2 s.

Needs root (sshd, namespaces). Prints Markdown; best and median of --runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_probe import NOT_ON_NIXOS, timed  # noqa: E402
from bench.bench_promote import NONCE, NOW, SCRATCH, healthy, write_probe_wave  # noqa: E402
from compliance.catalog.loader import load_catalog  # noqa: E402
from compliance.catalog.selection import SelectedControl, Selection, select  # noqa: E402
from compliance.hosts.filesystem import LocalHost  # noqa: E402
from compliance.inputs.host_inventory import InventoryHost  # noqa: E402
from compliance.models.control import CheckKind  # noqa: E402
from compliance.promote.session import PromotionGate  # noqa: E402
from compliance.runs.fleet_probe import FleetDefaults, plan_jobs, probe_fleet  # noqa: E402
from compliance.runs.probe_run import run_probes  # noqa: E402
from compliance.signing.keys import write_key_pair  # noqa: E402
from tests.support.fixtures import fake_store_path  # noqa: E402
from tests.support.sshd import SshServer, start_sshd  # noqa: E402

TARGET_RATIO = 8.0
PASSWORD = "bench-fleet"
WAVE_PROFILE = ["CM-01", "HK-01", "IA-10"]


def scoped(selection: Selection, only: list[str] | None = None) -> Selection:
    controls = []
    for sc in selection.controls:
        if not sc.control.checks_of(CheckKind.RUNTIME) or (only is not None and sc.control.id not in only):
            continue
        params = dict(sc.params)
        if "scan_prune" in params:
            params["scan_prune"] = [*params["scan_prune"], *NOT_ON_NIXOS, *SCRATCH]
        controls.append(SelectedControl(sc.control, params, sc.sources))
    return Selection(selection.requested, selection.profiles, selection.frameworks, controls)


def closure(name: str) -> str:
    return fake_store_path(f"nixos-system-{name}")


def fleet_rows(args: argparse.Namespace, folder: Path) -> list[str]:
    os.environ["COSIGN_PASSWORD"] = PASSWORD
    key, _pub, _ = write_key_pair(folder / "fleet", PASSWORD.encode())
    catalog = load_catalog()
    selection = scoped(select(catalog, [], CheckKind.RUNTIME), args.controls.split(",") if args.controls else None)
    rows = [f"<!-- {len(selection.controls)} controls -->"]
    with contextlib.ExitStack() as stack:
        servers: list[tuple[str, SshServer]] = []
        for index in range(args.hosts):
            name = f"host-{index:03d}"
            servers.append((name, stack.enter_context(start_sshd(folder / "hosts" / name, hostname=name, closure=closure(name)))))
        hosts = [InventoryHost(name=name, address="127.0.0.1", port=s.port, user="root", identity=str(s.identity),
                               known_hosts=str(s.known_hosts), expected_closure=closure(name)) for name, s in servers]
        jobs = plan_jobs(hosts, FleetDefaults(key=str(key)), ["dsse"], "bench")

        def run(count: int, parallel: int) -> Callable[[], str]:
            def action() -> str:
                runs = probe_fleet(jobs[:count], selection, catalog_digest=catalog.digest, nonce=NONCE, created=datetime.now(UTC),
                                   output_dir=folder / f"out-{count}", parallel=parallel, timeout=60, host_timeout=900)
                failed = [r for r in runs if not r.ok]
                assert not failed, failed[0].error
                trips = sorted({r.round_trips for r in runs})
                return f"{len(runs)} reports, {'/'.join(map(str, trips))} round trips each"
            return action

        one_best, one_median, one_detail = timed(args.runs, run(1, 1))
        rows.append(f"| 1 host | 1 | {one_best:.2f} s | {one_median:.2f} s | {one_detail} |")
        all_best, all_median, all_detail = timed(args.runs, run(args.hosts, args.parallel))
        ratio = all_best / one_best
        verdict = ("met" if ratio <= TARGET_RATIO else "missed") if args.hosts >= 50 else f"the target is for 50 hosts, this run has {args.hosts}"
        rows.append(f"| {args.hosts} hosts | {args.parallel} | {all_best:.2f} s | {all_median:.2f} s | {all_detail}; "
                    f"{ratio:.1f}x the one-host run (target: at most {TARGET_RATIO:g}x for 50 hosts: {verdict}) |")
    return rows


def wave_rows(args: argparse.Namespace, folder: Path) -> list[str]:
    catalog = load_catalog()
    selection = scoped(select(catalog, [], CheckKind.RUNTIME), WAVE_PROFILE)
    with LocalHost() as host:
        template = run_probes(host, selection, catalog_digest=catalog.digest, nonce=NONCE, signer_fingerprint="",
                              created=NOW, expected_closure=None, timeout=30)
    wave, planted = write_probe_wave(folder, args.wave, healthy(template), "wave")
    sizes = [p.stat().st_size for p in (folder / "wave").iterdir()]
    print(f"made and signed {len(sizes)} reports of {len(template.assessment.results)} controls "
          f"(mean {sum(sizes) / len(sizes) / 1024:.1f} KiB); planted: {planted}", file=sys.stderr)

    def in_process() -> str:
        decision = PromotionGate.load(wave, folder / "wave", NONCE, None).decide(NOW)
        return f"{decision.summary.valid} valid; {decision.verdict.value}"

    def command() -> str:
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp()))}
        proc = subprocess.run([sys.executable, "-m", "compliance", "promote", "--wave", str(wave), "--reports",
                               str(folder / "wave"), "--nonce", NONCE, "-o", f"json={folder / 'decision.json'}"],
                              env=env, capture_output=True, check=False)
        assert proc.returncode in (0, 1, 3), proc.stderr
        return f"exit {proc.returncode}"

    rows = []
    for label, action in (("in-process (read, verify, bind, decide)", in_process), ("`compliance promote` end to end", command)):
        best, median, detail = timed(args.runs, action)
        rows.append(f"| {args.wave} reports, {label} | {best:.2f} s | {median:.2f} s | {detail}; target at most 2 s: "
                    f"{'met' if best <= 2.0 else 'missed'} |")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=50, help="sshd hosts on loopback (start with 10 on a small machine)")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wave", type=int, default=10_000, help="reports of the promote wave (0: skip)")
    parser.add_argument("--no-probe", action="store_true", help="only the promote wave")
    parser.add_argument("--controls", default="", help="comma-separated control ids to probe (default: the full runtime profile)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        folder = Path(tmp)
        if not args.no_probe:
            print("| probed | parallel | best | median | detail |\n|---|---|---|---|---|")
            for line in fleet_rows(args, folder):
                print(line)
            print()
        if args.wave:
            print("| promote | best | median | detail |\n|---|---|---|---|")
            for line in wave_rows(args, folder):
                print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
