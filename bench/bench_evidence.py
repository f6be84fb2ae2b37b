"""Benchmark: signed evidence packets, as whole processes in alternating rounds.

    .venv/bin/python -m bench.bench_evidence [--runs 5] [--build-paths 5000] [--verify-paths 30000]

Targets, printed with a verdict:

* the example release (``examples/web``, the demo's gate): ``--evidence OUT.tar.gz``
  with its PDF report at most 3× the same gate without ``--evidence``;
* at 5,000 paths + 5,000 components, the packet without the PDF adds at most 0.5 s to
  the gate (a ``python -c`` driver doing what the gate does, with and without
  ``build_packet(include_pdf=False)``: the command line always renders the PDF);
* ``compliance evidence verify`` of a packet whose inputs total 50 MB at most 1.0 s,
  as a directory and as a .tar.gz.

A packet is byte-identical across runs (same inputs, key and ``SOURCE_DATE_EPOCH``): the
benchmark checks that the two last packets of the example are the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench.alternation import Command, Verdicts, alternate, load_line, paired_differences
from bench.bench_gate import example_command
from bench.generate import write

PASSWORD = "bench"
EPOCH = "1793491200"
ENV = {"COSIGN_PASSWORD": PASSWORD, "SOURCE_DATE_EPOCH": EPOCH}

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


def make_key(workdir: Path) -> tuple[Path, Path]:
    from compliance.signing.keys import write_key_pair

    private, public, _ = write_key_pair(workdir / "cosign", PASSWORD.encode())
    return private, public


def build_verify_packet(paths: int, workdir: Path, key: Path) -> tuple[Path, Path, float]:
    os.environ.update(ENV)
    from compliance.runs.evidence_run import build_packet
    from compliance.runs.gate_run import GateOptions, run_gate

    files = write(workdir / f"verify-{paths}", paths)
    run = run_gate(GateOptions(closure=str(files["closure"]), sbom=str(files["sbom"]), facts=str(files["facts"]),
                               flake_lock=str(files["flake_lock"])))
    tarball, directory = workdir / "big.tar.gz", workdir / "big"
    for out in (tarball, directory):
        build_packet(run, str(out), key_path=str(key), include_pdf=False)
    return directory, tarball, sum(item.ref.size for item in run.inputs) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build-paths", type=int, default=5000)
    parser.add_argument("--verify-paths", type=int, default=30000, help="closure size whose closure + SBOM total about 50 MB")
    args = parser.parse_args()
    verdicts = Verdicts()
    print(load_line(args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        key, public = make_key(work)
        example = example_command()
        packets = [work / "example-a.tar.gz", work / "example-b.tar.gz"]

        def with_packet(packet: Path) -> Command:
            return Command([*example.argv, "--evidence", str(packet), "--key", str(key)],
                           env={**example.env, "COSIGN_PASSWORD": PASSWORD}, ok=example.ok, cwd=example.cwd)

        files = write(work / f"build-{args.build_paths}", args.build_paths)
        inputs = [str(files[k]) for k in ("closure", "sbom", "facts", "flake_lock")]
        out = str(work / "driver.tar.gz")
        directory, tarball, inputs_mb = build_verify_packet(args.verify_paths, work, key)
        verify = [sys.executable, "-m", "compliance", "evidence", "verify"]
        rows = {
            "example gate": example,
            "example packet": with_packet(packets[0]),
            "driver gate": Command([sys.executable, "-c", DRIVER, "gate", *inputs, str(key), out], env=ENV, ok=(0, 1)),
            "driver packet": Command([sys.executable, "-c", DRIVER, "evidence", *inputs, str(key), out], env=ENV, ok=(0, 1)),
            "verify dir": Command([*verify, str(directory), "--key", str(public)], env=ENV),
            "verify tar": Command([*verify, str(tarball), "--key", str(public)], env=ENV),
        }
        s = alternate(rows, args.runs)
        first = hashlib.sha256(packets[0].read_bytes()).hexdigest()
        alternate({"again": with_packet(packets[1])}, 1, warmup=0)
        same = hashlib.sha256(packets[1].read_bytes()).hexdigest() == first
        labels = {
            "example gate": "example release, `compliance gate` (no packet)",
            "example packet": "example release, `compliance gate --evidence OUT.tar.gz` (PDF included)",
            "driver gate": f"{args.build_paths:,} paths: gate (driver)",
            "driver packet": f"{args.build_paths:,} paths: gate + packet without the PDF (driver)",
            "verify dir": f"`compliance evidence verify`, {inputs_mb:.1f} MB of inputs, directory",
            "verify tar": f"`compliance evidence verify`, {inputs_mb:.1f} MB of inputs, .tar.gz",
        }
        print("\n| whole process | wall, median (min–max) | CPU, median | peak RSS |\n|---|---|---:|---:|")
        for name, series in s.items():
            print(f"| {labels[name]} | {series.spread()} | {series.cpu:.3f} s | {series.peak_mb:.0f} MB |")
        print(f"\nexample packet: {packets[0].stat().st_size / 1024:.0f} KiB; byte-identical across runs: {'yes' if same else 'NO'}\n")
        verdicts.ratio("example: gate with packet and PDF / gate alone", s["example packet"], s["example gate"], 3.0)
        added = paired_differences(s["driver packet"], s["driver gate"])
        verdicts.check(f"time the packet without PDF adds, {args.build_paths:,} paths (paired)", statistics.median(added), 0.5, "s",
                       f"{min(added):.3f}–{max(added):.3f}")
        verdicts.check(f"verify, {inputs_mb:.0f} MB of inputs, directory", s["verify dir"].median, 1.0, "s", s["verify dir"].spread())
        verdicts.check(f"verify, {inputs_mb:.0f} MB of inputs, .tar.gz", s["verify tar"].median, 1.0, "s", s["verify tar"].spread())
        verdicts.check("example packet byte-identical across runs (0 = yes)", 0.0 if same else 1.0, 0.0, "differences")
    return verdicts.summary()


if __name__ == "__main__":
    sys.exit(main())
