"""Benchmark: ``compliance gate`` with every control over realistic large inputs.

Targets (2-core machine): at most 1.5 s wall including interpreter start-up and at most
250 MB peak memory for a 5,000-path closure with a 5,000-component SBOM, and time growing
no faster than linearly (1,000 / 5,000 / 20,000 paths).

    .venv/bin/python -m bench.bench_gate [--sizes 1000 5000 20000] [--runs 5]

Each run is the real command line in a fresh process (what CI pays); wall time and the
child's peak RSS (getrusage of the waited child) are reported as the best and the median
of the runs.
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

# Byte-compiled modules as an installed package has them: a first run writes them.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_once(args: list[str]) -> tuple[float, float, int]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"gate exited {code}: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024, code


def bench(size: int, runs: int, workdir: Path) -> dict[str, float]:
    files = write(workdir / str(size), size, fresh=True)
    args = [sys.executable, "-m", "compliance", "gate", "--closure", str(files["closure"]), "--sbom", str(files["sbom"]),
            "--facts", str(files["facts"]), "--flake-lock", str(files["flake_lock"]), "--vulns", str(files["vulns"]),
            "--format", "json"]
    run_once(args)  # warm-up: byte-compile, fill the page cache
    walls, rss = [], []
    for _ in range(runs):
        wall, peak, _ = run_once(args)
        walls.append(wall)
        rss.append(peak)
    return {"paths": size, "best_s": min(walls), "median_s": statistics.median(walls), "peak_mb": max(rss),
            "closure_mb": files["closure"].stat().st_size / 1e6, "sbom_mb": files["sbom"].stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(size, args.runs, Path(tmp)) for size in args.sizes]
    print("| closure paths | SBOM components | inputs (MB) | best wall (s) | median wall (s) | peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['paths']:,} | {r['paths']:,} | {r['closure_mb'] + r['sbom_mb']:.1f} | {r['best_s']:.2f} | {r['median_s']:.2f} | {r['peak_mb']:.0f} |")
    startup = [sys.executable, "-m", "compliance", "--version"]
    base = min(run_once(startup)[0] for _ in range(args.runs))
    print(f"\ninterpreter and CLI start-up (compliance --version): {base:.2f} s")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = (last["best_s"] - base) / max(first["best_s"] - base, 1e-3)
        print(f"work beyond start-up grows {growth:.1f}x for {last['paths'] / first['paths']:.0f}x the paths")


if __name__ == "__main__":
    main()
