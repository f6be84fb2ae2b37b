"""Benchmark of ``compliance probe``: a full runtime profile locally, over SSH on loopback,
and on an offline Debian 11 root side by side with OpenSCAP's ANSSI profiles.

    .venv/bin/python -m bench.bench_probe [--runs 5] [--root /srv/deb11root] [--no-openscap]

Prints a Markdown table (best and median of --runs, wall clock). The machine may be
shared: the best run is the least disturbed one. Needs root (it reads /etc/shadow and
starts an sshd on 127.0.0.1); the OpenSCAP rows need Debian's openscap-scanner and
ssg-debian, and an offline Debian 11 root made with debootstrap:

    debootstrap --variant=minbase --include=openssh-server,systemd,procps bullseye /srv/deb11root http://deb.debian.org/debian
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compliance.catalog.loader import load_catalog  # noqa: E402
from compliance.catalog.selection import SelectedControl, Selection, select  # noqa: E402
from compliance.evidence.probe_report import sign_report  # noqa: E402
from compliance.hosts.filesystem import LocalHost, OfflineRootHost  # noqa: E402
from compliance.hosts.host_api import Host  # noqa: E402
from compliance.hosts.ssh import SshHost, parse_ssh_url  # noqa: E402
from compliance.models.control import CheckKind  # noqa: E402
from compliance.runs.probe_run import run_probes  # noqa: E402
from compliance.signing.keys import NativeSigner, decrypt_private_key, generate_keypair  # noqa: E402
from tests.support.sshd import start_sshd  # noqa: E402

SSG = "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml"
# Trees of this development image that a NixOS host does not have outside its store:
# language toolchains under /root, Debian's /usr, the benchmark's own Debian 11 root.
NOT_ON_NIXOS = ["/root/.pyenv", "/root/.rustup", "/root/.cargo", "/usr", "/srv", "/work"]
PASSWORD = b"bench"


def full_profile() -> Selection:
    selection = select(load_catalog(), [], CheckKind.RUNTIME)
    return Selection(selection.requested, selection.profiles, selection.frameworks,
                     [s for s in selection.controls if s.control.checks_of(CheckKind.RUNTIME)])


def nixos_scope(selection: Selection) -> Selection:
    """The same profile, its file system walk pruned of what only this image has."""
    controls = []
    for sc in selection.controls:
        params = dict(sc.params)
        if "scan_prune" in params:
            params["scan_prune"] = [*params["scan_prune"], *NOT_ON_NIXOS]
        controls.append(SelectedControl(sc.control, params, sc.sources))
    return Selection(selection.requested, selection.profiles, selection.frameworks, controls)


def timed(runs: int, action: Callable[[], object]) -> tuple[float, float, object]:
    times, last = [], None
    for _ in range(runs):
        start = time.perf_counter()
        last = action()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), last


def probe_once(make_host: Callable[[], Host], selection: Selection, signer: NativeSigner) -> str:
    with make_host() as host:
        report = run_probes(host, selection, catalog_digest="bench", nonce="bench-nonce-0123456", signer_fingerprint=signer.public_key.fingerprint,
                            created=datetime.now(UTC))
    sign_report(report, signer)
    counts = report.assessment.counts().by_status
    results = ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items()))
    return f"{report.round_trips} round trips, {len(report.observations)} raw answers; {results}"


def row(name: str, best: float, median: float, detail: object) -> str:
    return f"| {name} | {best:.2f} s | {median:.2f} s | {detail} |"


def oscap(profile: str, root: str, out: Path) -> tuple[str, str]:
    env = {**os.environ, "OSCAP_PROBE_ROOT": root, "OSCAP_PROBE_OS_NAME": "Linux", "OSCAP_PROBE_ARCHITECTURE": "x86_64",
           "OSCAP_EVALUATION_TARGET": f"chroot://{root}"}
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "oscap", "xccdf", "eval", "--profile", f"xccdf_org.ssgproject.content_profile_{profile}",
                           "--results", str(out), SSG], capture_output=True, text=True, env=env, check=False)
    results = re.findall(r"^Result\s+(\S+)", proc.stdout, re.M)
    summary = ", ".join(f"{results.count(k)} {k}" for k in sorted(set(results)))
    return f"{len(results)} rules: {summary}", f"{int(proc.stderr.strip().splitlines()[-1]) // 1024} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", default="/srv/deb11root", help="offline Debian 11 root (debootstrap)")
    parser.add_argument("--no-openscap", action="store_true")
    args = parser.parse_args()
    key_pem, _pub = generate_keypair(PASSWORD)
    signer = NativeSigner(decrypt_private_key(key_pem, PASSWORD, "bench key"))
    profile = full_profile()
    probes = sum(len(s.control.checks_of(CheckKind.RUNTIME)) for s in profile.controls)
    lines = [f"Full runtime profile: {len(profile.controls)} controls, {probes} runtime checks; best and median of {args.runs} runs.", "",
             "| what | best | median | detail |", "|---|---|---|---|"]
    for name, selection in (("local, default walk of /", profile), ("local, walk scoped like a NixOS host", nixos_scope(profile))):
        best, median, detail = timed(args.runs, lambda sel=selection: probe_once(LocalHost, sel, signer))
        lines.append(row(name, best, median, detail))

    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "host.key"
        key.write_bytes(key_pem)
        env = {**os.environ, "COSIGN_PASSWORD": PASSWORD.decode()}
        cli = [str(ROOT / ".venv/bin/compliance"), "probe", "--key", str(key), "--nonce", "bench-nonce-0123456", "-o", str(Path(tmp) / "r.json")]
        best, median, _ = timed(args.runs, lambda: subprocess.run(cli, env=env, capture_output=True, check=True))
        lines.append(row("local, `compliance probe` end to end (start-up, key, sign, write)", best, median, "default walk"))

        with start_sshd(Path(tmp) / "sshd") as server:
            def ssh_host() -> Host:
                return SshHost(parse_ssh_url(server.url), identity=str(server.identity), known_hosts=str(server.known_hosts))

            for name, selection in (("SSH loopback, default walk of /", profile), ("SSH loopback, walk scoped like a NixOS host", nixos_scope(profile))):
                before = server.accepted_connections()
                best, median, detail = timed(args.runs, lambda sel=selection: probe_once(ssh_host, sel, signer))
                per_run = (server.accepted_connections() - before) / args.runs
                lines.append(row(name, best, median, f"{detail}; {per_run:g} SSH connection per run"))

        if os.path.isdir(args.root):
            best, median, detail = timed(args.runs, lambda: probe_once(lambda: OfflineRootHost(args.root), profile, signer))
            lines.append(row(f"offline Debian 11 root ({args.root})", best, median, detail))
            if not args.no_openscap and shutil.which("oscap") and os.path.exists(SSG):
                for prof in ("anssi_np_nt28_minimal", "anssi_np_nt28_high"):
                    out = Path(tmp) / f"{prof}.xml"
                    best, median, _ = timed(args.runs, lambda p=prof, o=out: oscap(p, args.root, o))
                    counted, memory = oscap(prof, args.root, out)
                    lines.append(row(f"OpenSCAP {prof}, same root", best, median, f"{counted}; peak {memory}"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
