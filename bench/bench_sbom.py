"""Benchmark: an SBOM written from a large closure, in every format.

Target (2-core machine): the SBOM of a 5,000-path closure in at most 1 s. The point of
comparison is cyclonedx-python-lib, whose serialiser is quadratic in the number of
components (a linear search of the dependencies per component); ``--libraries`` times it
on the same BOM.

    .venv/bin/python -m bench.bench_sbom [--sizes 1000 5000 20000] [--runs 7] [--libraries]

Closures come from bench/generate.py (Nix 2.8 path-info JSON). For each size and format:
reading the closure in-process (the CLI's input step), the writer alone in-process (plan +
serialisation), reading the SBOM back through the project's readers, and the whole
``compliance sbom --closure closure.json -o F`` in a fresh process (interpreter start-up,
reading the closure and writing the file included). Best and median of the runs. Every
5,000-path output is checked against the schemas before any figure is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.generate import generate_closure
from compliance.inputs.closure import read_closure
from compliance.inputs.sbom import parse_sbom
from compliance.sbomgen.sbom_files import FORMATS, write_sbom

SHARED_SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "data"


def best_and_median(func: Callable[[], object], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def cli_run(args: list[str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"compliance sbom failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def check_valid(outputs: dict[str, bytes]) -> str:
    """The outputs are valid (or the benchmark stops): what was checked, for the report."""
    from tests.support import sbom_schemas as schemas

    checked = ["CycloneDX 1.6 (schema shipped with cyclonedx-python-lib)"]
    problems = schemas.errors(schemas.bundled_cyclonedx_1_6(), json.loads(outputs["cyclonedx"]))
    if SHARED_SCHEMAS.is_dir():
        problems += schemas.errors(schemas.official_cyclonedx_1_6(SHARED_SCHEMAS), json.loads(outputs["cyclonedx"]))
        problems += schemas.errors(schemas.official_spdx_2_3(SHARED_SCHEMAS), json.loads(outputs["spdx"]))
        checked = ["CycloneDX 1.6 (official and bundled schemas)", "SPDX 2.3 JSON (official schema)"]
    if problems:
        raise SystemExit(f"invalid SBOM: {problems[:3]}")
    return ", ".join(checked)


def library_serialiser(cyclonedx_json: bytes) -> float:
    """cyclonedx-python-lib writing the same BOM (deserialised first, not timed)."""
    import warnings

    from cyclonedx.model.bom import Bom
    from cyclonedx.output.json import JsonV1Dot6

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bom = Bom.from_json(json.loads(cyclonedx_json))  # type: ignore[attr-defined]
    start = time.perf_counter()
    JsonV1Dot6(bom).output_as_string()
    return time.perf_counter() - start


def bench(size: int, runs: int, workdir: Path, libraries: bool) -> list[dict[str, Any]]:
    closure_file = workdir / f"closure-{size}.json"
    closure_file.write_text(json.dumps(generate_closure(size)["entries"]))
    closure, _ = read_closure(str(closure_file))
    closure_read, _ = best_and_median(lambda: read_closure(str(closure_file)), max(3, runs // 2))
    outputs = {fmt: write_sbom(closure, fmt) for fmt in FORMATS}
    validity = check_valid(outputs) if size == 5000 else ""
    rows = []
    for fmt in FORMATS:
        best, median = best_and_median(lambda fmt=fmt: write_sbom(closure, fmt), runs)  # type: ignore[misc]
        read_best, _ = best_and_median(lambda fmt=fmt: parse_sbom(outputs[fmt], fmt), max(3, runs // 2))  # type: ignore[misc]
        out = workdir / f"sbom-{size}.{fmt}"
        cli = [sys.executable, "-m", "compliance", "sbom", "--closure", str(closure_file), "--format", fmt, "-o", str(out)]
        walls, peaks = zip(*(cli_run(cli) for _ in range(runs)), strict=True)
        rows.append({
            "paths": size, "format": fmt, "mb": len(outputs[fmt]) / 1e6, "closure_read": closure_read, "write_best": best, "write_median": median,
            "read_back": read_best, "cli_best": min(walls), "cli_median": statistics.median(walls), "peak_mb": max(peaks),
            "valid": validity,
        })
    if libraries and size <= 5000:
        rows.append({"paths": size, "format": "cyclonedx-python-lib", "serialise": library_serialiser(outputs["cyclonedx"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--libraries", action="store_true", help="Also time cyclonedx-python-lib's serialiser (slow).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for size in args.sizes for row in bench(size, args.runs, Path(tmp), args.libraries)]
    print("| closure paths | format | SBOM (MB) | closure read (s) | writer best (s) | writer median (s) | read back (s) | CLI best wall (s) | CLI median wall (s) | CLI peak RSS (MB) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "serialise" in r:
            continue
        print(f"| {r['paths']:,} | {r['format']} | {r['mb']:.1f} | {r['closure_read']:.3f} | {r['write_best']:.3f} | {r['write_median']:.3f} | {r['read_back']:.3f} "
              f"| {r['cli_best']:.2f} | {r['cli_median']:.2f} | {r['peak_mb']:.0f} |")
    startup = [sys.executable, "-m", "compliance", "--version"]
    print(f"\ninterpreter and CLI start-up (compliance --version): {min(cli_run(startup)[0] for _ in range(args.runs)):.2f} s")
    for r in rows:
        if r.get("valid"):
            print(f"valid at {r['paths']:,} paths: {r['valid']}")
            break
    for r in rows:
        if "serialise" in r:
            print(f"cyclonedx-python-lib JsonV1Dot6.output_as_string, {r['paths']:,} components: {r['serialise']:.2f} s")


if __name__ == "__main__":
    main()
