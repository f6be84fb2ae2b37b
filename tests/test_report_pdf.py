"""The PDF report as an auditor receives it, read back with poppler (pdftotext, pdfinfo):
text stays text, every page is numbered and names the packet, nothing runs off the page or
over other text, metadata come from this tool and SOURCE_DATE_EPOCH, and the same report
gives the same bytes in another process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.synthetic_reports import synthetic_report
from compliance import __version__
from compliance.catalog.loader import load_catalog
from compliance.models.frameworks import FrameworkId
from compliance.report import render_pdf
from tests.support import pdf as poppler
from tests.support.evidence import FIXED_TIME
from tests.support.report_sample import (
    KEY_FINGERPRINT,
    NAR_SHA256,
    PACKET_ID,
    STORE_PATH,
    sample_context,
    sample_report,
)

MARGIN_LEFT = 14 * 72 / 25.4  # the @page margins of templates/report/report.css, in points
MARGIN_RIGHT = 14 * 72 / 25.4

RENDER = """
import sys
from tests.support.report_sample import sample_context, sample_report
from compliance.report import render_pdf
sys.stdout.buffer.write(render_pdf(sample_report(), sample_context()))
"""


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    with pytest.MonkeyPatch.context() as patch:  # module fixtures run before the per-test clock
        patch.setenv("SOURCE_DATE_EPOCH", str(FIXED_TIME))
        path.write_bytes(render_pdf(sample_report(), sample_context()))
    return path


@pytest.fixture(scope="module")
def large_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    report, context = synthetic_report(200)
    path = tmp_path_factory.mktemp("report") / "report-200.pdf"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", str(FIXED_TIME))
        path.write_bytes(render_pdf(report, context))
    return path, [r.control_id for r in report.assessment.results]


def _layout_problems(pdf: Path) -> list[str]:
    problems = []
    for page in poppler.pages(pdf):
        for word in page.words:
            if word.x_min < MARGIN_LEFT - 0.5 or word.x_max > page.width - MARGIN_RIGHT + 0.5:
                problems.append(f"page {page.number}: {word.text!r} outside the margins ({word.x_min:.1f}-{word.x_max:.1f})")
        for left, right in poppler.overlapping_words(page):
            problems.append(f"page {page.number}: {left.text!r} and {right.text!r} drawn over each other")
    return problems


def test_text_stays_text(sample_pdf: Path) -> None:
    text = poppler.text(sample_pdf)
    for control_id in ("HK-01", "SC-06", "SC-01", "IA-02", "CM-01", "NW-01", "SC-11"):
        assert control_id in text
    for status in ("FAIL", "ERROR", "WAIVED", "MANUAL", "PASS", "NOT APPLICABLE", "UNCOVERED", "FAILED", "PARTIAL"):
        assert status in text
    assert NAR_SHA256 in text and KEY_FINGERPRINT in text and PACKET_ID in text
    assert "Gate decision: FAIL" in text


def test_a_store_path_longer_than_a_line_wraps_and_is_all_there(sample_pdf: Path) -> None:
    text = poppler.text(sample_pdf, 1, 1, raw=True)  # raw: pdftotext would drop a hyphen ending a line
    assert STORE_PATH not in text  # it does not fit on one line ...
    assert STORE_PATH in "".join(text.split())  # ... and no character of it is lost


def test_every_page_has_its_number_and_the_packet_id(sample_pdf: Path) -> None:
    total = poppler.page_count(sample_pdf)
    assert total > 5
    for number in range(1, total + 1):
        page = poppler.text(sample_pdf, number, number)
        assert f"Page {number} of {total}" in page and f"Packet {PACKET_ID}" in page, f"page {number}"


def test_metadata_name_the_tool_and_the_time(sample_pdf: Path) -> None:
    meta = poppler.info(sample_pdf)
    assert meta["Title"] == "Compliance evidence report: nixos-system-payments-24.11"
    assert meta["Producer"] == f"compliance-gate {__version__}"
    assert meta["CreationDate"] == meta["ModDate"] == "2026-11-01T00:00:00Z"  # SOURCE_DATE_EPOCH of the tests


def test_failures_show_what_was_observed_and_what_to_set(sample_pdf: Path) -> None:
    text = poppler.text(sample_pdf)
    assert 'boot.kernel.sysctl."kernel.kptr_restrict" = 2;' in text
    assert "kernel.kptr_restrict: {actual: 0; expected: 2}" in text
    assert "and 88 more (all of them in results.json)" in " ".join(text.split())
    assert "needs vulnerability reports (--vulns)" in text


def test_waivers_and_attestations_name_who_and_until_when(sample_pdf: Path) -> None:
    text = " ".join(poppler.text(sample_pdf).split())
    assert "W-7" in text and "Jane Roe, CISO" in text and "2026-12-31T23:59:59Z" in text
    assert "ATT-1 by Jane Roe, CISO, valid until 2027-01-01T00:00:00Z" in text
    assert "DOES NOT COUNT: expired on 2026-06-30T23:59:59Z" in text


def test_clauses_no_control_covers_are_stated(sample_pdf: Path) -> None:
    text = poppler.text(sample_pdf, raw=True)
    iso = load_catalog().frameworks[FrameworkId.ISO27001]
    organisational = next(c for c in iso.clauses if c.id == "A.5.4")
    assert organisational.machine_checkable is False
    assert f"A.5.4 {organisational.title} No control covers this clause (organisational). UNCOVERED" in text.splitlines()
    lines = text.splitlines()
    assert "A.8.20 Networks security NW-01 PASS" in lines
    # The standing, its reason and the scope of each claim are printed with the clause.
    assert "Why partial: NW-01 (partial): firewall passed" in lines and "PARTIAL" in lines
    assert "partial (firewall): Recorded without a scope (results of an earlier" in lines


def test_nothing_runs_off_the_page_or_over_other_text(sample_pdf: Path) -> None:
    assert _layout_problems(sample_pdf) == []


def test_same_report_same_bytes_in_another_process_and_the_date_follows_source_date_epoch(sample_pdf: Path, tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]

    def render(epoch: str) -> bytes:
        env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
        return subprocess.run([sys.executable, "-c", RENDER], cwd=root, env=env, capture_output=True, check=True).stdout

    assert render(str(FIXED_TIME)) == sample_pdf.read_bytes()
    next_day = tmp_path / "next-day.pdf"
    next_day.write_bytes(render(str(FIXED_TIME + 86400)))
    assert poppler.info(next_day)["CreationDate"] == "2026-11-02T00:00:00Z"


@pytest.mark.slow
def test_a_200_control_report_lists_every_control_and_keeps_its_layout(large_pdf: tuple[Path, list[str]]) -> None:
    path, control_ids = large_pdf
    total = poppler.page_count(path)
    text = poppler.text(path)
    assert len(control_ids) == 200 and all(cid in text for cid in control_ids)
    assert text.count(f"of {total}") == total  # one footer per page
    assert _layout_problems(path) == []
