"""Benchmark of the auditor's report: HTML and PDF of synthetic gate reports.

Usage: ``.venv/bin/python -m bench.bench_report [--controls 60 200] [--runs 5]``

Each size is rendered in this process (the packet builder's situation: catalog loaded,
WeasyPrint imported) and in a fresh interpreter (imports, catalog, render), in
alternating rounds. Target, printed with a verdict: the 60-control PDF in at most 1.5 s
(in process), and the same bytes on every run. The reports come from
:mod:`bench.synthetic_reports`: realistic control ids, statuses, observed values and
clauses across NIS2, DORA, ISO/IEC 27001 and ANSSI BP-028, whose full clause lists make
the coverage matrix (about 300 rows).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bench.alternation import Command, Runnable, Verdicts, alternate, load_line
from bench.synthetic_reports import synthetic_report
from compliance.report import render_html, render_pdf

TARGET_60 = 1.5  # seconds, issue 19
ROOT = Path(__file__).resolve().parents[1]
COLD = """
import sys
from bench.synthetic_reports import synthetic_report
from compliance.report import render_pdf
report, context = synthetic_report(int(sys.argv[1]))
render_pdf(report, context)
"""


def page_count(pdf: bytes) -> int:
    """Pages, as poppler's pdfinfo counts them (the page objects are in compressed streams)."""
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    match = re.search(r"^Pages:\s+(\d+)", info, re.M)
    return int(match.group(1)) if match else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controls", type=int, nargs="+", default=[60, 200])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1793491200")
    verdicts = Verdicts()
    print(load_line(args.runs))
    rows: dict[str, Runnable] = {}
    outputs: dict[int, list[bytes]] = {}
    shapes: dict[int, tuple[int, int]] = {}
    for n in args.controls:
        report, context = synthetic_report(n)
        outputs[n] = []
        shapes[n] = (len(report.assessment.frameworks),
                     sum(len(context.catalog.frameworks[f].clauses) for f in report.assessment.frameworks) if context.catalog else 0)

        def pdf(n: int = n, report: object = report, context: object = context) -> Callable[[], None]:
            def render() -> None:
                outputs[n].append(render_pdf(report, context))  # type: ignore[arg-type]
            return render

        rows[f"html {n}"] = lambda report=report, context=context: render_html(report, context)
        rows[f"pdf {n}"] = pdf()
        rows[f"cold {n}"] = Command([sys.executable, "-c", COLD, str(n)], env={"PYTHONPATH": str(ROOT)}, cwd=str(ROOT))
    s = alternate(rows, args.runs)
    print("\n| controls | frameworks (clauses) | pages | HTML | PDF, in process | PDF, CPU | PDF, fresh process | PDF size |")
    print("|---:|---:|---:|---|---|---:|---|---:|")
    for n in args.controls:
        last = outputs[n][-1]
        frameworks, clauses = shapes[n]
        print(f"| {n} | {frameworks} ({clauses}) | {page_count(last)} | {s[f'html {n}'].median:.3f} s | {s[f'pdf {n}'].spread()} "
              f"| {s[f'pdf {n}'].cpu:.3f} s | {s[f'cold {n}'].spread()} | {len(last) / 1024:.0f} KiB |")
    print()
    for n in args.controls:
        if n == 60:
            verdicts.check("PDF, 60 controls, in process", s["pdf 60"].median, TARGET_60, "s",
                           f"{s['pdf 60'].spread()}; CPU {s['pdf 60'].cpu:.3f} s")
        distinct = len(set(outputs[n]))
        verdicts.check(f"PDF, {n} controls: distinct outputs over {len(outputs[n])} renders", distinct, 1, "output(s)")
    return verdicts.summary()


if __name__ == "__main__":
    sys.exit(main())
