"""Benchmark: the licence policy (SC-08) over a 5,000-component SBOM, in process.

The gate's wall time (bench/bench_gate.py) is dominated by start-up and parsing; this
isolates the licence check: its first call (which loads the SPDX / ScanCode licence
database) and its best warm call, on the generated SBOM with a spread of SPDX ids,
compound expressions and free-text names.

    .venv/bin/python -m bench.bench_licences [--components 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench.generate import write
from compliance.checks.predicate_subject import Subject
from compliance.inputs.sbom import parse_sbom_document
from compliance.predicates.sbom_checks import LicencePolicyParams, licence_policy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        doc = json.loads(write(Path(tmp), args.components)["sbom"].read_text())
    for n, component in enumerate(doc["components"]):
        if n % 7 == 0:
            component["licenses"] = [{"expression": "MIT OR Apache-2.0"}]
        if n % 11 == 0:
            component["licenses"] = [{"license": {"name": "Apache License 2.0"}}]
    subject = Subject(sbom=parse_sbom_document(doc, "bench.cdx.json"))
    params = LicencePolicyParams()
    start = time.perf_counter()
    outcome = licence_policy(subject, params)
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(args.runs):
        start = time.perf_counter()
        licence_policy(subject, params)
        best = min(best, time.perf_counter() - start)
    print(f"licence_policy on {len(doc['components']):,} components: {outcome.status.value}; "
          f"first call {first * 1000:.0f} ms, best warm call {best * 1000:.1f} ms")


if __name__ == "__main__":
    main()
