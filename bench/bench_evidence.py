"""Benchmark: signed evidence packets.

Targets (2-core machine):

* verifying a packet whose inputs total 50 MB (``compliance evidence verify``, a fresh
  process, start-up included) in at most 1.0 s wall, as a directory and as a .tar.gz;
* building the packet without the PDF adds at most 0.5 s to the gate on the foundation
  input (a 5,000-path closure with a 5,000-component SBOM).

    .venv/bin/python -m bench.bench_evidence [--build-paths 5000] [--verify-paths 30000] [--runs 5]

The build overhead compares two fresh processes that do what ``compliance gate`` does,
one without and one with the packet (``--evidence OUT.tar.gz``: key opened in the
background, results, HTML report, exports, inputs, manifest, signatures, statement,
tarball), the PDF left out. The full command line with the PDF is timed too, for
information. Best and median of the runs are reported: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import write

PASSWORD = "bench"
EPOCH = "1793491200"

DRIVER = """
import sys
from compliance import formats
from compliance.runs.gate_run import GateOptions, run_gate
mode, closure, sbom, facts, lock, key, out = sys.argv[1:]
opening = None
if mode == "evidence":
    from compliance.runs.evidence_run import SignerOpening, build_packet
    opening = SignerOpening("native", key)
run = run_gate(GateOptions(closure=closure, sbom=sbom, facts=facts, flake_lock=lock))
formats.render("json", run.report)
if opening is not None:
    build_packet(run, out, key_path=key, signing=opening.result(), include_pdf=False)
"""


def env() -> dict[str, str]:
    return {**os.environ, "COSIGN_PASSWORD": PASSWORD, "SOURCE_DATE_EPOCH": EPOCH}


def timed(args: list[str], ok: tuple[int, ...] = (0, 1)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(), check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(args[:4])}... exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return wall


def best_and_median(walls: list[float]) -> tuple[float, float]:
    return min(walls), statistics.median(walls)


def make_key(workdir: Path) -> tuple[Path, Path]:
    from compliance.signing.keys import write_key_pair

    private, public, _ = write_key_pair(workdir / "cosign", PASSWORD.encode())
    return private, public


def bench_build(paths: int, runs: int, workdir: Path, key: Path) -> dict[str, float]:
    files = write(workdir / f"build-{paths}", paths)
    inputs = [str(files[k]) for k in ("closure", "sbom", "facts", "flake_lock")]
    out = workdir / "packet.tar.gz"
    gate, evidence, full = [], [], []
    for _ in range(runs):  # interleaved, so that load on the machine hits both alike
        gate.append(timed([sys.executable, "-c", DRIVER, "gate", *inputs, str(key), str(out)]))
        out.unlink(missing_ok=True)
        evidence.append(timed([sys.executable, "-c", DRIVER, "evidence", *inputs, str(key), str(out)]))
        out.unlink(missing_ok=True)
    cli = [sys.executable, "-m", "compliance", "gate", "--closure", inputs[0], "--sbom", inputs[1], "--facts", inputs[2],
           "--flake-lock", inputs[3], "--format", "json", "--evidence", str(out), "--key", str(key)]
    for _ in range(min(runs, 2)):
        full.append(timed(cli))
        out.unlink(missing_ok=True)
    g, e = best_and_median(gate), best_and_median(evidence)
    return {"paths": paths, "gate_best": g[0], "gate_median": g[1], "evidence_best": e[0], "evidence_median": e[1],
            "overhead_best": e[0] - g[0], "overhead_median": e[1] - g[1], "full_cli_best": min(full),
            "inputs_mb": sum(files[k].stat().st_size for k in ("closure", "sbom", "facts", "flake_lock")) / 1e6}


def bench_verify(paths: int, runs: int, workdir: Path, key: Path, public: Path) -> dict[str, float]:
    os.environ.update(env())
    from compliance.runs.evidence_run import build_packet
    from compliance.runs.gate_run import GateOptions, run_gate

    files = write(workdir / f"verify-{paths}", paths)
    run = run_gate(GateOptions(closure=str(files["closure"]), sbom=str(files["sbom"]), facts=str(files["facts"]), flake_lock=str(files["flake_lock"])))
    tarball, directory = workdir / "big.tar.gz", workdir / "big"
    for out in (tarball, directory):
        build_packet(run, str(out), key_path=str(key), include_pdf=False)
    row: dict[str, float] = {
        "paths": paths,
        "inputs_mb": sum(item.ref.size for item in run.inputs) / 1e6,
        "packet_mb": sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 1e6,
        "tarball_mb": tarball.stat().st_size / 1e6,
    }
    for name, packet in (("dir", directory), ("tar", tarball)):
        walls = [timed([sys.executable, "-m", "compliance", "evidence", "verify", str(packet), "--key", str(public)], ok=(0,)) for _ in range(runs)]
        row[f"{name}_best"], row[f"{name}_median"] = best_and_median(walls)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-paths", type=int, default=5000)
    parser.add_argument("--verify-paths", type=int, default=30000, help="closure size whose closure + SBOM total about 50 MB")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        key, public = make_key(workdir)
        verify = bench_verify(args.verify_paths, args.runs, workdir, key, public)
        build = bench_build(args.build_paths, args.runs, workdir, key)
    print(f"verify: packet of a {verify['paths']:,}-path release, inputs {verify['inputs_mb']:.1f} MB, "
          f"packet {verify['packet_mb']:.1f} MB ({verify['tarball_mb']:.1f} MB as .tar.gz), no PDF")
    print("| packet | best wall (s) | median wall (s) |")
    print("|---|---:|---:|")
    print(f"| directory | {verify['dir_best']:.2f} | {verify['dir_median']:.2f} |")
    print(f"| .tar.gz | {verify['tar_best']:.2f} | {verify['tar_median']:.2f} |")
    print(f"\nbuild: {build['paths']:,} paths / {build['paths']:,} components, inputs {build['inputs_mb']:.1f} MB")
    print("| run | best wall (s) | median wall (s) |")
    print("|---|---:|---:|")
    print(f"| gate | {build['gate_best']:.2f} | {build['gate_median']:.2f} |")
    print(f"| gate + packet (no PDF) | {build['evidence_best']:.2f} | {build['evidence_median']:.2f} |")
    print(f"| added by the packet | {build['overhead_best']:.2f} | {build['overhead_median']:.2f} |")
    print(f"\nfull command line with the PDF (compliance gate --evidence OUT.tar.gz): best {build['full_cli_best']:.2f} s")


if __name__ == "__main__":
    main()
