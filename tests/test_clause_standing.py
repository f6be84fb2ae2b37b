"""Clause standing after an assessment: a clause is satisfied only when a full-scope
citation's checks ran and passed under parameters at least as strict as the framework's
own profile, with no supporting control failed, errored, waived or awaiting attestation.

The example release's gate (scripts/demo) is the reference case: every named clause is
asserted with its standing and the reason (which control, which check, why)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compliance.catalog import standing
from compliance.catalog.loader import load_catalog
from compliance.errors import CatalogError
from compliance.models.attestation import AttestationOutcome, AttestationStatus
from compliance.models.common import Severity, Status
from compliance.models.control import CheckKind, Scope
from compliance.models.frameworks import FrameworkId
from compliance.models.results import (
    Assessment,
    CheckResult,
    ClauseResult,
    ClauseStanding,
    ControlResult,
    GateReport,
)
from compliance.runs.gate_run import GateOptions, run_gate
from tests.support.cli import ROOT, one_line_error, run

EXAMPLE = ROOT / "examples" / "web"
CATALOG = load_catalog()
DEMO_EPOCH = "1729814400"  # scripts/demo fixes the clock of the example release


def _gate(*profiles: str) -> GateReport:
    if not EXAMPLE.is_dir():
        pytest.skip("examples/web is not present")
    e = EXAMPLE
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", DEMO_EPOCH)
        return run_gate(
            GateOptions(
                profiles=list(profiles),
                closure=str(e / "closure.json"), sbom=str(e / "sbom.cdx.json"), facts=str(e / "facts.json"),
                flake_lock=str(e / "flake.lock"), kernel_config=str(e / "kernel.config"),
                vulns=[str(e / "grype.json"), str(e / "vex.openvex.json")],
                policy=str(e / "policy.toml"), waivers=str(e / "waivers.toml"),
            )
        ).report


@pytest.fixture(scope="module")
def example() -> GateReport:
    return _gate("nis2-important", "anssi-intermediary")


@pytest.fixture(scope="module")
def high() -> GateReport:
    return _gate("anssi-high")


def _rows(report: GateReport, framework: FrameworkId) -> dict[str, ClauseResult]:
    rows = [r for r in report.assessment.clause_standings or [] if r.framework is framework]
    assert rows, f"no standings recorded for {framework.value}"
    return {r.clause: r for r in rows}


def _citation(row: ClauseResult, control: str, check: str | None = None) -> list[str]:
    return [c.reason for c in row.citations if c.control_id == control and (check is None or check in c.checks)]


def test_sudo_recommendations_need_the_sudoers_probe_in_a_static_gate(example: GateReport) -> None:
    anssi = _rows(example, FrameworkId.ANSSI)
    for rid in ("R39", "R42", "R43"):
        row = anssi[rid]
        assert row.standing is ClauseStanding.NEEDS_RUNTIME, (rid, row.standing, row.reason)
        assert "IA-07 (full): sudoers_hardened: a runtime probe, which this assessment did not run" in row.reason
    # The static check that ran evidences only a part of R39, and says so.
    (static,) = [c for c in anssi["R39"].citations if c.checks == ["nixos_options"]]
    assert static.scope is Scope.PARTIAL and static.evidenced and static.status is Status.PASS
    assert "does not show the sudoers Defaults" in static.evidences


def test_a_waived_failure_is_never_satisfied(example: GateReport) -> None:
    row = _rows(example, FrameworkId.ANSSI)["R59"]
    assert row.standing is ClauseStanding.WAIVED
    (ia08,) = [c for c in row.citations if c.control_id == "IA-08"]
    assert ia08.status is Status.WAIVED and "under waiver W-" in ia08.reason and "trusted users beyond the allowlist" in ia08.reason


def test_clauses_awaiting_an_attestation_are_not_satisfied(example: GateReport) -> None:
    nis2 = _rows(example, FrameworkId.NIS2)
    backup = nis2["CIR 4.2"]
    assert backup.standing is ClauseStanding.PARTIAL
    assert "BR-02 (full): awaits a signed attestation" in backup.reason
    assert _citation(backup, "BR-01", "backup_jobs") and all(r == "backup_jobs passed" for r in _citation(backup, "BR-01"))
    inventory = nis2["CIR 12.4"]
    assert inventory.standing is ClauseStanding.UNCOVERED and inventory.reason == "AM-01 (partial): awaits a signed attestation"
    measures = nis2["Art.21(2)(i)"]
    assert not measures.standing.shown
    assert _citation(measures, "AM-01") == ["awaits a signed attestation"]


def test_kernel_options_under_a_non_anssi_profile_are_laxer_than_anssi_high(example: GateReport) -> None:
    anssi = _rows(example, FrameworkId.ANSSI)
    for rid in ("R18", "R19", "R22"):
        row = anssi[rid]
        assert row.standing is ClauseStanding.PARTIAL, (rid, row.standing, row.reason)
        (reason,) = _citation(row, "SC-12", "kernel_config_options")
        assert "kernel_config_options passed under laxer parameters" in reason
        assert "required lacks CONFIG_STACKPROTECTOR=" in reason and "(anssi-high)" in reason


def test_the_same_kernel_fails_the_kernel_recommendations_under_anssi_high(high: GateReport) -> None:
    anssi = _rows(high, FrameworkId.ANSSI)
    for rid in ("R18", "R19", "R22"):
        row = anssi[rid]
        assert row.standing is ClauseStanding.FAILED, (rid, row.standing, row.reason)
        assert "SC-12" in row.reason and "kernel_config_options fail" in row.reason
    assert anssi["R59"].standing is ClauseStanding.WAIVED
    assert anssi["R39"].standing is ClauseStanding.NEEDS_RUNTIME


def test_accounts_from_mutable_users_alone_are_partial_or_need_the_probe(example: GateReport) -> None:
    anssi = _rows(example, FrameworkId.ANSSI)
    assert anssi["R30"].standing is ClauseStanding.PARTIAL and anssi["R30"].reason == "IA-01 (partial): nixos_options passed"
    assert anssi["R34"].standing is ClauseStanding.NEEDS_RUNTIME
    assert "system_accounts_no_login: a runtime probe" in anssi["R34"].reason


def test_every_satisfied_clause_rests_on_a_full_scope_check_that_ran_and_passed(example: GateReport, high: GateReport) -> None:
    for report in (example, high):
        results = {r.control_id: r for r in report.assessment.results}
        for row in report.assessment.clause_standings or []:
            statuses = {c.status for c in row.citations}
            if row.standing is ClauseStanding.SATISFIED:
                full = [c for c in row.citations if c.scope is Scope.FULL and c.evidenced and c.checks]
                assert full, row
                for cite in full:
                    ran = {c.function: c.status for c in results[cite.control_id].checks}
                    assert all(ran.get(f) is Status.PASS for f in cite.checks), (row.clause, cite)
                assert not statuses & {Status.FAIL, Status.ERROR, Status.WAIVED, Status.MANUAL}, row
    satisfied = {r.clause for r in _rows(example, FrameworkId.ANSSI).values() if r.standing is ClauseStanding.SATISFIED}
    assert satisfied == {"R38"}  # the one ANSSI clause a static check tests in full and the release passes


def test_thin_checks_no_longer_claim_organisational_clauses() -> None:
    dropped = {
        FrameworkId.NIS2: ["CIR 11.1", "CIR 6.8", "CIR 4.1", "CIR 12.4"],
        FrameworkId.DORA: ["RTS 4", "Art.28", "RTS 13(1)(h)"],
        FrameworkId.ISO27001: ["A.8.22"],
        FrameworkId.ANSSI: ["R7", "R63", "R75", "R77"],
    }
    for fw, refs in dropped.items():
        for ref in refs:
            for control in CATALOG.controls.values():
                if not control.checks:
                    continue  # a manual control cites through an attestation
                for cite in control.cites:
                    hit = [r for r in cite.clauses if r == ref or r.startswith((f"{ref}.", f"{ref}("))]
                    assert cite.framework is not fw or not hit, f"{control.id} still claims {fw.value} {hit} from {cite.functions(control)}"


def test_anssi_claims_without_a_check_testing_them_are_partial() -> None:
    for rid in ("R8", "R9", "R30", "R31", "R35"):
        cites = [(c.id, cite) for c in CATALOG.controls.values() for cite in c.cites if cite.framework is FrameworkId.ANSSI and rid in cite.clauses]
        assert cites, rid
        assert all(cite.scope is Scope.PARTIAL for _, cite in cites), (rid, [(cid, cite.scope) for cid, cite in cites])
    (r31,) = [cite for cite in CATALOG.controls["IA-05"].cites if "R31" in cite.clauses]
    assert r31.checks == ["password_hashing"] and "password quality policy of R31 is not checked" in r31.evidences


def _runtime(results: list[ControlResult], attestations: list[AttestationOutcome] | None = None) -> Assessment:
    return Assessment(
        id="test", created=datetime(2026, 1, 1, tzinfo=UTC), tool="t", tool_version="0", mode=CheckKind.RUNTIME,
        subject={"kind": "host", "host": "h"}, profiles=["anssi-intermediary"], frameworks=[FrameworkId.ANSSI],
        catalog_digest=CATALOG.digest, results=results, attestations=attestations,
    )  # type: ignore[arg-type]


def _idle(seconds: int, status: Status = Status.PASS) -> ControlResult:
    control = CATALOG.controls["IA-06"]
    return ControlResult(
        control_id="IA-06", title=control.title, severity=Severity.MEDIUM, status=status, message="m",
        checks=[CheckResult(kind=CheckKind.RUNTIME, function="session_idle_timeout", status=status, message="m")],
        clauses=control.clauses, citations=list(control.cites),
        params={"max_idle_seconds": seconds, "require_readonly": True},
    )


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(600, ClauseStanding.SATISFIED), (300, ClauseStanding.SATISFIED), (900, ClauseStanding.PARTIAL)],
)
def test_parameters_laxer_than_the_frameworks_profile_do_not_satisfy(seconds: int, expected: ClauseStanding) -> None:
    rows = {r.clause: r for r in standing.clause_standings(CATALOG, FrameworkId.ANSSI, _runtime([_idle(seconds)]))}
    row = rows["R32"]  # intermediary: anssi-intermediary asks for 600 s at most
    assert row.standing is expected, row.reason
    if expected is ClauseStanding.PARTIAL:
        assert "max_idle_seconds is 900, wanted 600 (anssi-intermediary)" in row.reason


def test_a_failed_check_fails_the_clause_with_its_message() -> None:
    rows = {r.clause: r for r in standing.clause_standings(CATALOG, FrameworkId.ANSSI, _runtime([_idle(600, Status.FAIL)]))}
    assert rows["R32"].standing is ClauseStanding.FAILED and rows["R32"].reason == "IA-06 (full): session_idle_timeout fail: m"


def test_a_valid_attestation_makes_a_clause_attested_never_satisfied() -> None:
    control = CATALOG.controls["BR-04"]
    manual = ControlResult(
        control_id="BR-04", title=control.title, severity=Severity.MEDIUM, status=Status.MANUAL, message="m",
        clauses=control.clauses, citations=list(control.cites),
    )
    outcome = AttestationOutcome(status=AttestationStatus.VALID, source="a.json#1", id="ATT-7", clauses={FrameworkId.ISO27001: ["A.8.14"]})
    assessment = _runtime([manual], [outcome]).model_copy(update={"frameworks": [FrameworkId.ISO27001]})
    rows = {r.clause: r for r in standing.clause_standings(CATALOG, FrameworkId.ISO27001, assessment)}
    assert rows["A.8.14"].standing is ClauseStanding.ATTESTED and rows["A.8.14"].attestations == ["ATT-7"]
    unattested = {r.clause: r for r in standing.clause_standings(CATALOG, FrameworkId.ISO27001, assessment.model_copy(update={"attestations": None}))}
    assert unattested["A.8.14"].standing is ClauseStanding.UNCOVERED and "awaits a signed attestation" in unattested["A.8.14"].reason


# -- the loader refuses a citation it cannot trust ----------------------------------------

@pytest.fixture
def catalog_copy(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "controls"
    shutil.copytree(CATALOG.root, root)
    yield root


CITE = """[[cites]]
framework = "anssi"
clauses = ["R32"]
checks = ["session_idle_timeout"]
scope = "full"
evidences = "Idle local sessions end after at most the maximum idle time."
"""


@pytest.mark.parametrize(
    ("edit", "field", "problem"),
    [
        (('scope = "full"\n', ""), "cites.0.scope", "Field required"),
        (('evidences = "Idle local sessions end after at most the maximum idle time."\n', ""), "cites.0.evidences", "Field required"),
        (('checks = ["session_idle_timeout"]\n', ""), "cites.0.checks", "Field required"),
        (('checks = ["session_idle_timeout"]', 'checks = ["sudoers_hardened"]'), "cites.0.checks", "IA-06 has no check 'sudoers_hardened'"),
        (('checks = ["session_idle_timeout"]', "checks = []"), "cites.0.checks", "name the checks"),
        (('checks = ["session_idle_timeout"]', 'checks = "attestation"'), "cites.0.checks", "is for a control without checks"),
        (('scope = "full"', 'scope = "most"'), "cites.0.scope", "Input should be 'full' or 'partial'"),
        (("the maximum idle time.", "the maximum idle time"), "cites.0.evidences", "one sentence"),
        (('clauses = ["R32"]', 'clauses = ["R32.1"]'), "cites.0.clauses", "'R32.1' is not a clause"),
    ],
)
def test_a_citation_without_checks_scope_or_sentence_does_not_load(catalog_copy: Path, edit: tuple[str, str], field: str, problem: str) -> None:
    path = catalog_copy / "library" / "ia-06.toml"
    text = path.read_text()
    start = text.index("[[cites]]")
    end = text.index("[[checks]]") if "[params" not in text else min(text.index("[params"), text.index("[[checks]]"))
    path.write_text(text[:start] + CITE.replace(*edit) + "\n" + text[end:])
    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog_copy)
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}") and problem in message, message
    result = run("controls", "list", "--catalog", str(catalog_copy))
    assert result.code == 2 and one_line_error(result).endswith(message)


def test_the_old_clause_table_is_refused_with_a_pointer(catalog_copy: Path) -> None:
    path = catalog_copy / "library" / "ia-06.toml"
    path.write_text(path.read_text().replace("[[cites]]", '[clauses]\nanssi = ["R32"]\n\n[[cites]]', 1))
    with pytest.raises(CatalogError, match=r"ia-06.toml: clauses: replaced by \[\[cites\]\]"):
        load_catalog(catalog_copy)


def test_the_catalog_claims_page_is_current() -> None:
    from compliance.catalog.claims_doc import render_claims

    page = ROOT / "docs" / "catalog-claims.md"
    assert page.read_text(encoding="utf-8") == render_claims(CATALOG), "run: python -m compliance.catalog.claims_doc docs/catalog-claims.md"
    assert "| R39 | Sudo configuration directives (intermediary) | IA-07 | `nixos_options` (static) | partial |" in page.read_text()


def test_every_view_shows_the_recorded_standing(example: GateReport, tmp_path: Path) -> None:
    """gaps, coverage --results, the report's matrix, Markdown and OSCAL say the same."""
    import json
    import re

    from compliance import formats
    from compliance.report.coverage_matrix import coverage_matrix

    recorded = _rows(example, FrameworkId.ANSSI)
    results = tmp_path / "results.json"
    results.write_bytes(formats.render("json", example))
    gaps = run("frameworks", "gaps", "anssi", "--results", str(results), "--json")
    coverage = run("frameworks", "coverage", "anssi", "--results", str(results), "--json")
    assert gaps.code == coverage.code == 0, gaps.stderr + coverage.stderr
    by_gaps = {row["clause"]: (row["standing"], row["reason"]) for row in json.loads(gaps.stdout)["clauses"]}
    by_coverage = {row["clause"]: (row["standing"], row["reason"]) for row in json.loads(coverage.stdout)["clauses"]}
    (matrix,) = [fw for fw in coverage_matrix(example.assessment, CATALOG, []).frameworks if fw.id == "anssi"]
    by_matrix = {row.clause_id: (row.state.value, row.reason) for row in matrix.rows}
    markdown = formats.render("markdown", example).decode()
    oscal = json.loads(formats.render("oscal", example))
    by_oscal = {
        f["target"]["target-id"]: f["target"]["status"]["state"]
        for f in oscal["assessment-results"]["results"][0]["findings"]
        if f["target"]["type"] == "statement-id"
    }
    for rid in ("R38", "R39", "R42", "R43", "R59", "R18", "R30", "R34", "R9"):
        want = (recorded[rid].standing.value, recorded[rid].reason)
        assert by_gaps[rid] == want and by_matrix[rid] == want, rid
        if rid in by_coverage:  # coverage --results lists the levels in scope (R18 is high)
            assert by_coverage[rid] == want, rid
        assert re.search(rf"^\| `{rid}` \| {re.escape(want[0])} \|", markdown, re.MULTILINE), rid
        assert by_oscal[f"anssi_{rid}"] == ("satisfied" if want[0] == "satisfied" else "not-satisfied"), rid
