"""``compliance frameworks coverage`` and ``compliance frameworks gaps`` through the real
command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.generate import FACTS
from compliance.catalog.clause_coverage import CoverageKind, framework_coverage
from compliance.catalog.loader import load_catalog
from compliance.models.frameworks import FrameworkId
from tests.support.cli import one_line_error, run
from tests.support.inputs import gate_args, with_option, write_release

CATALOG = load_catalog()


def _coverage(*args: str) -> dict[str, Any]:
    result = run("frameworks", "coverage", *args, "--json")
    assert result.code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["clause"]: row for row in doc["clauses"]}


def test_coverage_lists_every_clause_of_the_framework() -> None:
    for fw in FrameworkId:
        doc = _coverage(fw.value)
        assert [row["clause"] for row in doc["clauses"]] == [c.id for c in CATALOG.frameworks[fw].clauses]
        assert sum(doc["counts"].values()) == len(doc["clauses"])


def test_a_clause_a_checked_control_cites_is_automated_and_one_no_control_cites_is_uncovered() -> None:
    rows = _rows(_coverage("nis2"))
    # Patch currency is checked only in part (SC-04, SC-05): partial, never automated.
    assert rows["CIR 6.6"]["coverage"] == "partial" and {"SC-04", "SC-05"} <= set(rows["CIR 6.6"]["controls"])
    assert rows["CIR 6.6"]["full_controls"] == []
    # IA-06's probe tests what CIR 11.6.2(e) asks (idle sessions end): automated.
    assert rows["CIR 11.6"]["coverage"] == "automated" and rows["CIR 11.6"]["full_controls"] == ["IA-06"]
    assert rows["CIR 13.1"] == {**rows["CIR 13.1"], "coverage": "uncovered", "controls": [], "machine_checkable": False}
    iso = _rows(_coverage("iso27001"))
    assert "SC-08" in iso["A.5.32"]["controls"]


def test_coverage_by_profile_counts_only_its_controls_and_levels() -> None:
    rows = _rows(_coverage("anssi", "-p", "anssi-minimal"))
    assert {row["level"] for row in rows.values()} == {"minimal"}
    assert len(rows) == 11
    assert rows["R59"]["coverage"] == "automated"
    intermediary = _rows(_coverage("anssi", "-p", "anssi-intermediary"))
    assert len(intermediary) == 40 and "HK-01" in intermediary["R9"]["controls"]
    # Without a profile every recommendation is listed, R10 covered by HK-04.
    everything = _rows(_coverage("anssi"))
    assert len(everything) == 80 and "HK-04" in everything["R10"]["controls"]


def test_coverage_text_counts_the_three_kinds() -> None:
    result = run("frameworks", "coverage", "iso27001")
    assert result.code == 0
    cover = framework_coverage(CATALOG, "iso27001")
    summary = (
        f"93 clauses of ISO/IEC 27001:2022 Annex A: {cover.count(CoverageKind.AUTOMATED)} automated, "
        f"{cover.count(CoverageKind.PARTIAL)} partial, 0 attested, {cover.count(CoverageKind.UNCOVERED)} uncovered"
    )
    assert summary in result.stdout
    assert any(line.startswith("A.8.17 ") and "automated" in line for line in result.stdout.splitlines())
    assert any(line.startswith("A.8.8 ") and "partial" in line for line in result.stdout.splitlines())


def test_coverage_of_an_unknown_framework_is_a_usage_error() -> None:
    result = run("frameworks", "coverage", "sox")
    assert result.code == 2
    assert one_line_error(result) == "compliance: unknown framework 'sox' (known: nis2, dora, iso27001, anssi)"


def _results(tmp_path: Path, *extra: str, facts: dict[str, Any] | None = None, without: tuple[str, ...] = ()) -> Path:
    files = write_release(tmp_path / "release", facts=facts)
    args = gate_args(files)
    for option in without:
        index = args.index(option)
        del args[index : index + 2]
    out = tmp_path / "results.json"
    result = run(*args, *extra, "-o", f"json={out}")
    assert result.code in (0, 1), result.stderr
    return out


def _gaps(framework: str, results: Path) -> dict[str, dict[str, Any]]:
    result = run("frameworks", "gaps", framework, "--results", str(results), "--json")
    assert result.code == 0, result.stderr
    return {row["clause"]: row for row in json.loads(result.stdout)["clauses"]}


def _advice(row: dict[str, Any], control: str) -> dict[str, Any]:
    return next(a for a in row["advice"] if a.get("control") == control)


def test_gaps_name_the_failed_control_to_fix(tmp_path: Path) -> None:
    facts = with_option(FACTS, ["services", "openssh", "settings", "PasswordAuthentication"], True)
    rows = _gaps("nis2", _results(tmp_path, "-p", "nis2-important", facts=facts))
    assert rows["CIR 11.4"]["standing"] == "failed"
    assert "IA-02 (partial): sshd_settings fail" in rows["CIR 11.4"]["reason"] and "PasswordAuthentication" in rows["CIR 11.4"]["reason"]
    advice = _advice(rows["CIR 11.4"], "IA-02")
    assert advice["action"] == "fix" and advice["status"] == "fail" and "PasswordAuthentication" in advice["detail"]
    # A clause where one control passed and another failed has failed.
    assert rows["Art.21(2)(i)"]["standing"] == "failed"  # IA-01 and IA-10 pass, IA-02 fails
    assert rows["Art.21(2)(i)"]["reason"].startswith("IA-02 (partial): sshd_settings fail")
    _assert_standings_follow_the_results(rows)


def _assert_standings_follow_the_results(rows: dict[str, dict[str, Any]]) -> None:
    """A failed or errored control fails the clause, a waived one waives it; a clause is
    satisfied only from a full-scope citation whose checks passed, with nothing awaiting."""
    for clause, row in rows.items():
        statuses = {c.get("status") for c in row["citations"]}
        full = [c for c in row["citations"] if c["scope"] == "full" and c["evidenced"] and c["checks"]]
        if statuses & {"fail", "error"}:
            expected = {"failed"}
        elif "waived" in statuses:
            expected = {"waived"}
        elif full and "manual" not in statuses:
            expected = {"satisfied"}
        else:
            expected = {"partial", "attested", "needs-runtime-evidence", "uncovered"}
        assert row["standing"] in expected, (clause, row["standing"], row["reason"])


def test_gaps_name_the_controls_to_enable(tmp_path: Path) -> None:
    rows = _gaps("anssi", _results(tmp_path, "-p", "anssi-minimal"))
    advice = _advice(rows["R9"], "HK-01")
    assert advice["action"] == "enable" and "status" not in advice
    assert "not selected by the assessment's profiles (anssi-minimal)" in advice["detail"] and "anssi-intermediary" in advice["detail"]
    _assert_standings_follow_the_results(rows)


def test_gaps_name_the_controls_that_could_not_decide(tmp_path: Path) -> None:
    rows = _gaps("nis2", _results(tmp_path, without=("--facts",)))
    advice = _advice(rows["CIR 11.5"], "IA-01")
    assert (advice["action"], advice["status"]) == ("fix-input", "error")
    assert rows["CIR 11.5"]["standing"] == "failed" and "IA-01 (partial): nixos_options error" in rows["CIR 11.5"]["reason"]


def test_gaps_show_a_waived_failure_with_its_deadline(tmp_path: Path) -> None:
    facts = with_option(FACTS, ["services", "openssh", "settings", "PasswordAuthentication"], True)
    waivers = tmp_path / "waivers.toml"
    waivers.write_text(
        '[[waivers]]\nid = "W-7"\ncontrol = "IA-02"\nreason = "bastion migrates to keys"\n'
        'approver = "ciso@example.org"\nrisk = "medium"\ncreated = 2026-10-01\nexpires = 2026-12-31\n'
    )
    rows = _gaps("iso27001", _results(tmp_path, "--waivers", str(waivers), facts=facts))
    advice = _advice(rows["A.8.21"], "IA-02")
    assert advice["action"] == "waived" and "waiver W-7 until 2026-12-31T23:59:59Z" in advice["detail"]


def test_gaps_for_an_organisational_clause_ask_for_an_attestation(tmp_path: Path) -> None:
    rows = _gaps("nis2", _results(tmp_path))
    row = rows["CIR 10.2"]
    assert (row["standing"], row["reason"]) == ("uncovered", "no control of the catalog cites it")
    assert row["advice"] == [{"action": "attest", "detail": "organisational: attest it ('compliance attest sign')"}]


def test_gaps_text_lists_only_the_gaps_unless_asked(tmp_path: Path) -> None:
    results = _results(tmp_path, "-p", "anssi-high")
    satisfied = next(c for c, row in _gaps("anssi", results).items() if row["standing"] == "satisfied")
    short = run("frameworks", "gaps", "anssi", "--results", str(results))
    full = run("frameworks", "gaps", "anssi", "--results", str(results), "--all")
    assert short.code == full.code == 0
    assert not any(" satisfied " in line for line in short.stdout.splitlines())
    assert any(line.startswith(f"{satisfied} ") and " satisfied " in line for line in full.stdout.splitlines())
    assert "80 clauses of ANSSI" in short.stdout


def test_gaps_of_a_file_that_is_not_a_results_file_is_an_input_error(tmp_path: Path) -> None:
    bogus = tmp_path / "results.json"
    bogus.write_text('{"hello": 1}')
    result = run("frameworks", "gaps", "nis2", "--results", str(bogus))
    assert result.code == 2
    assert one_line_error(result).startswith(f"compliance: {bogus}: not a results file of 'compliance gate -o json=F'")
