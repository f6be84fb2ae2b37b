"""The policy is visible: text and Markdown say why the verdict is what it is; results.json
(so every packet) records the effective policy with its defaults, where it came from, the
waivers given and what became of each, and the parameters with their sources; the HTML and
PDF reports show it in a "Policy applied" section."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from compliance import formats
from compliance.formats.text import render_text_width
from compliance.models.common import Status
from compliance.report import ReportContext, render_html, render_pdf
from compliance.runs.gate_run import GateOptions, GateRun, run_gate
from compliance.util.canonical import canonical_json
from tests.support import pdf as poppler
from tests.support.cli import ROOT

EX = ROOT / "examples" / "web"
EXPLANATION = ("PASS: 3 failures and 5 manual reviews below the blocking threshold, 1 result waived; "
               "the policy blocks critical and high failures and errors")


def _example(monkeypatch: pytest.MonkeyPatch, **changes: object) -> GateRun:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1729814400")
    opts = GateOptions(
        profiles=["nis2-important", "anssi-intermediary"], closure=str(EX / "closure.json"), sbom=str(EX / "sbom.cdx.json"),
        facts=str(EX / "facts.json"), flake_lock=str(EX / "flake.lock"), kernel_config=str(EX / "kernel.config"),
        vulns=[str(EX / "grype.json"), str(EX / "vex.openvex.json")], policy=str(EX / "policy.toml"), waivers=str(EX / "waivers.toml"),
    )
    for name, value in changes.items():
        setattr(opts, name, value)
    return run_gate(opts)


def test_text_and_markdown_say_why_the_example_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _example(monkeypatch)
    text = render_text_width(run.report, 400).decode()  # wide: one line each, no wrapping
    assert f"Why:    {EXPLANATION}" in text.splitlines()
    assert f"Policy: {EX / 'policy.toml'} ({run.report.decision.policy_digest})" in text.splitlines()
    markdown = formats.render("markdown", run.report).decode()
    assert f"**Why:** {EXPLANATION}  " in markdown.splitlines()


def test_a_failing_verdict_names_how_many_results_block(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _example(monkeypatch, waivers=None)  # without the waiver, IA-08 (high) fails
    assert not run.report.decision.passed
    assert run.report.policy is not None
    assert run.report.policy.explanation == "FAIL: 1 blocking result; the policy blocks critical and high failures and errors"


def test_results_record_the_effective_policy_waivers_and_parameter_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _example(monkeypatch)
    applied = run.report.policy
    assert applied is not None
    assert applied.source == str(EX / "policy.toml")
    settings = applied.settings.model_dump(mode="json")
    assert settings["max_waiver_days"] == 180 and settings["block_severities"] == ["critical", "high"]
    assert settings["min_decided"] == 0.0 and settings["never_block"] == []  # defaults included, not only what the file sets
    # The digest the decision (and the manifest, and the signed statement) carries is that of these settings.
    assert applied.digest == run.report.decision.policy_digest == "sha256:" + hashlib.sha256(canonical_json(settings)).hexdigest()
    assert [(w.id, w.applied, w.outcome) for w in applied.waivers] == [("W-2026-014", True, "waived IA-08 (fail)")]
    sources = {(p.control_id, p.name): p.source for p in applied.parameters}
    assert sources[("BR-01", "require_retention")] == "profile nis2-important"
    assert sources[("BR-01", "min_jobs")] == "catalog default"
    doc = formats.render("json", run.report).decode()
    assert '"explanation": "PASS: 3 failures' in doc and '"settings": {' in doc


def test_without_a_policy_file_the_defaults_are_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _example(monkeypatch, policy=None)
    applied = run.report.policy
    assert applied is not None and applied.source == "defaults (no --policy)"
    assert applied.settings.block_severities and applied.settings.errors_block is True


def test_a_waiver_that_does_not_apply_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.toml"
    waivers.write_text((EX / "waivers.toml").read_text().replace("expires = 2025-03-28", "expires = 2024-10-20"))
    run = _example(monkeypatch, waivers=str(waivers))
    assert run.report.policy is not None
    [use] = run.report.policy.waivers
    assert not use.applied and use.outcome == "waiver W-2026-014 expired on 2024-10-20T23:59:59Z: it does not waive"
    assert {r.control_id: r.status for r in run.report.assessment.results}["IA-08"] is Status.FAIL


def test_the_html_and_pdf_reports_show_the_policy_applied(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    run = _example(monkeypatch)
    context = ReportContext(packet_id="00000000-0000-5000-8000-000000000000", catalog=run.catalog, inputs=[i.ref for i in run.inputs])
    html = render_html(run.report, context).decode()
    section = html[html.index('<section id="policy-applied">'):]
    section = section[: section.index("</section>")]
    assert "<h3>Policy applied</h3>" in section
    assert "Failures that block, by severity</th><td class=\"\">critical, high" in section
    assert "W-2026-014" in section and "waived IA-08 (fail)" in section
    assert "profile nis2-important" in section and "catalog default" in section
    assert EXPLANATION + "." in html
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(run.report, context))
    words = " ".join(poppler.text(pdf).split())
    assert "Policy applied" in words
    assert "Failures that block, by severity critical, high" in words
    assert "the policy blocks critical and high failures and errors" in words
