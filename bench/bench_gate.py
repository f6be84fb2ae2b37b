"""Benchmark: ``compliance gate`` against the floor of reading its inputs.

    .venv/bin/python -m bench.bench_gate [--runs 7] [--large 100000] [--small-runs 3]

Every figure is a whole process (interpreter start-up included, what CI pays), timed in
alternating rounds with its floor in the same run of the benchmark. Targets, printed with
a verdict:

* at 5,000 paths + 5,000 components, every control: at most 3× a bare ``python -c``
  that ``json.load``\\ s the same five input files;
* the example release (``examples/web``, the demo's command line without outputs): at
  most 0.3 s;
* at 100,000 paths: at most 20× the 5,000-path time, and at most 1 GB peak RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench.alternation import Command, Verdicts, alternate, load_line
from bench.generate import write

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "web"
JSON_LOAD = "import json, sys\nfor name in sys.argv[1:]:\n    with open(name, 'rb') as f:\n        json.load(f)\n"
KEYS = ("closure", "sbom", "facts", "flake_lock", "vulns")


def gate_command(files: dict[str, Path]) -> Command:
    return Command([sys.executable, "-m", "compliance", "gate", "--closure", str(files["closure"]), "--sbom", str(files["sbom"]),
                    "--facts", str(files["facts"]), "--flake-lock", str(files["flake_lock"]), "--vulns", str(files["vulns"]),
                    "--format", "json"], ok=(0, 1), cwd=str(ROOT))


def json_command(files: dict[str, Path]) -> Command:
    return Command([sys.executable, "-c", JSON_LOAD, *(str(files[k]) for k in KEYS)])


def example_command() -> Command:
    ex = str(EXAMPLE)
    return Command([sys.executable, "-m", "compliance", "gate", "--profile", "nis2-important", "--profile", "anssi-intermediary",
                    "--closure", f"{ex}/closure.json", "--sbom", f"{ex}/sbom.cdx.json", "--facts", f"{ex}/facts.json",
                    "--flake-lock", f"{ex}/flake.lock", "--kernel-config", f"{ex}/kernel.config",
                    "--vulns", f"{ex}/grype.json", "--vulns", f"{ex}/vex.openvex.json",
                    "--policy", f"{ex}/policy.toml", "--waivers", f"{ex}/waivers.toml", "--format", "json"],
                   env={"SOURCE_DATE_EPOCH": "1729814400"}, ok=(0, 1), cwd=str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--large", type=int, default=100_000, help="paths of the linearity run (0: skip)")
    parser.add_argument("--large-runs", type=int, default=3)
    args = parser.parse_args()
    verdicts = Verdicts()
    print(load_line(args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        small = write(Path(tmp) / "5000", 5000, fresh=True)
        mb = sum(small[k].stat().st_size for k in KEYS) / 1e6
        s = alternate({"gate": gate_command(small), "json.load": json_command(small), "example": example_command(),
                       "start-up": Command([sys.executable, "-m", "compliance", "--version"])}, args.runs)
        print("\n| whole process | wall, median (min–max) | CPU, median | peak RSS |\n|---|---|---:|---:|")
        for key, label in (("gate", f"`compliance gate`, every control, 5,000 paths + 5,000 components ({mb:.1f} MB)"),
                           ("json.load", "`python -c` json.load of the same five files"),
                           ("example", "`compliance gate`, the example release (examples/web, 150 paths)"),
                           ("start-up", "`compliance --version`")):
            print(f"| {label} | {s[key].spread()} | {s[key].cpu:.3f} s | {s[key].peak_mb:.0f} MB |")
        print()
        verdicts.ratio("gate / json.load, 5,000 paths", s["gate"], s["json.load"], 3.0)
        verdicts.check("gate, example release", s["example"].median, 0.3, "s", f"{s['example'].spread()}; CPU {s['example'].cpu:.3f} s")
        if args.large:
            large = write(Path(tmp) / str(args.large), args.large, fresh=True)
            big = alternate({"gate": gate_command(large), "json.load": json_command(large)}, args.large_runs, warmup=0)
            lmb = sum(large[k].stat().st_size for k in KEYS) / 1e6
            print(f"\n| whole process, {args.large:,} paths ({lmb:.0f} MB) | wall, median (min–max) | CPU, median | peak RSS |\n|---|---|---:|---:|")
            print(f"| `compliance gate` | {big['gate'].spread()} | {big['gate'].cpu:.3f} s | {big['gate'].peak_mb:.0f} MB |")
            print(f"| json.load | {big['json.load'].spread()} | {big['json.load'].cpu:.3f} s | {big['json.load'].peak_mb:.0f} MB |\n")
            scale = args.large / 5000
            verdicts.check(f"gate {args.large:,} paths / gate 5,000 paths ({scale:g}× the paths)",
                           big["gate"].median / s["gate"].median, scale, "×",
                           f"CPU {big['gate'].cpu / s['gate'].cpu:.2f}×")
            verdicts.check(f"gate peak RSS at {args.large:,} paths", big["gate"].peak_mb, 1000, "MB")
            print(f"for information: gate / json.load at {args.large:,} paths {big['gate'].median / big['json.load'].median:.2f}×")
    return verdicts.summary()


if __name__ == "__main__":
    sys.exit(main())
