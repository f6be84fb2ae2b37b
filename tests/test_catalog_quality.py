"""The catalog as a whole: large enough, every control justified and actionable, each
framework well supported, every profile useful, per-level parameters that merge to the
strictest, and coverage figures that agree with the catalog and with the documentation.

(That every cited clause exists is tests/test_framework_catalogs.py; that each control
passes its pass fixture and fails its fail fixture is tests/test_control_fixtures.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from compliance.catalog.clause_coverage import CoverageKind, framework_coverage
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.inputs.facts import split_option_path
from compliance.models.control import CheckKind, Scope
from compliance.models.frameworks import FrameworkId
from tests.support.cli import run
from tests.support.fixtures import FIXTURES, load_fixture

CATALOG = load_catalog()
CONTROLS = CATALOG.controls
AUTOMATED = sorted(cid for cid, c in CONTROLS.items() if c.checks)
MANUAL = sorted(cid for cid, c in CONTROLS.items() if not c.checks)
DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "frameworks-and-attestations.md"


def test_the_catalog_has_at_least_55_controls_most_of_them_checked_by_machine() -> None:
    assert len(CONTROLS) >= 55, len(CONTROLS)
    assert len(AUTOMATED) >= 55, len(AUTOMATED)
    assert len(MANUAL) <= len(CONTROLS) // 10, MANUAL


@pytest.mark.parametrize("control_id", sorted(CONTROLS))
def test_every_control_cites_a_clause_and_says_how_to_fix_it(control_id: str) -> None:
    control = CONTROLS[control_id]
    assert any(control.clauses.values()), f"{control_id} cites no clause"
    remediation = control.remediation
    assert remediation is not None and (remediation.nixos or remediation.text), f"{control_id} has no remediation"
    for option, value in remediation.nixos.items():
        assert split_option_path(option), option
        assert value is not None and value != "", f"{control_id}: {option} has no value to set"


@pytest.mark.parametrize("control_id", MANUAL)
def test_a_control_without_a_check_is_answered_by_an_attestation(control_id: str) -> None:
    """A manual control says so: no fixture pretends to test it, its remediation asks for
    an attestation, and the coverage view lists it against its clauses."""
    control = CONTROLS[control_id]
    assert not (FIXTURES / control_id).exists()
    assert control.remediation is not None and "attest" in (control.remediation.text or "")
    for framework, refs in control.clauses.items():
        rows = {row.clause.id: row for row in framework_coverage(CATALOG, framework.value).clauses}
        for ref in refs:
            resolved = CATALOG.frameworks[framework].resolve(ref)
            assert resolved is not None and control_id in rows[resolved].manual_controls, (framework, ref)


def test_every_checked_control_has_a_pass_and_a_fail_fixture_for_each_kind_of_check() -> None:
    """tests/test_control_fixtures.py runs them; here: none is missing, none is stray."""
    missing = []
    for cid in AUTOMATED:
        kinds = {check.kind.value for check in CONTROLS[cid].checks}
        for expected in ("pass", "fail"):
            path = FIXTURES / cid / f"{expected}.json"
            if not path.is_file():
                missing.append(f"{cid}/{expected}.json")
                continue
            absent = kinds - set(load_fixture(path))
            if absent:
                missing.append(f"{cid}/{expected}.json lacks {sorted(absent)}")
    assert not missing, missing
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(AUTOMATED)


def test_a_fail_fixture_differs_from_its_pass_fixture_in_every_section() -> None:
    """A fail fixture that repeats the pass fixture would pass; each section must change."""
    same = []
    for cid in AUTOMATED:
        passing, failing = load_fixture(FIXTURES / cid / "pass.json"), load_fixture(FIXTURES / cid / "fail.json")
        same += [f"{cid} {kind.value}" for kind in {c.kind for c in CONTROLS[cid].checks} if passing[kind.value] == failing[kind.value]]
    assert not same, same


@pytest.mark.parametrize(("framework", "least"), [
    (FrameworkId.NIS2, 45), (FrameworkId.DORA, 45), (FrameworkId.ISO27001, 45), (FrameworkId.ANSSI, 35),
])
def test_each_framework_is_cited_by_many_controls(framework: FrameworkId, least: int) -> None:
    citing = [cid for cid, c in CONTROLS.items() if c.clauses.get(framework)]
    checked = [cid for cid in citing if CONTROLS[cid].checks]
    assert len(citing) >= least and len(checked) >= least - 5, (len(citing), len(checked))


@pytest.mark.parametrize("family", ["SC", "HK", "IA", "NW", "CR", "LG", "MW", "BR", "CM", "AM"])
def test_every_family_of_the_catalog_is_present(family: str) -> None:
    assert any(cid.startswith(f"{family}-") for cid in CONTROLS), family


@pytest.mark.parametrize("profile", sorted(CATALOG.profiles))
def test_every_profile_selects_checked_controls_of_its_frameworks(profile: str) -> None:
    selection = select(CATALOG, [profile])
    checked = [s.control for s in selection.controls if s.control.checks]
    by_framework = CATALOG.profiles[profile].select.controls == []  # not a purpose profile naming its controls
    assert len(checked) >= (20 if by_framework else 1), (profile, len(checked))
    for framework in selection.frameworks:
        assert any(framework in c.clauses for c in checked), (profile, framework)
    for kind in CheckKind if by_framework else []:  # a purpose profile may be static only
        assert any(c.checks_of(kind) for c in checked), (profile, kind)


def test_anssi_levels_each_add_controls() -> None:
    sizes = [len(select(CATALOG, [p]).controls) for p in ("anssi-minimal", "anssi-intermediary", "anssi-enhanced", "anssi-high")]
    assert sizes == sorted(set(sizes)), sizes


def _param(profiles: list[str], control: str, name: str) -> tuple[object, str]:
    selected = next(s for s in select(CATALOG, profiles).controls if s.control.id == control)
    return selected.params[name], selected.sources[name]


@pytest.mark.parametrize(("profiles", "control", "name", "value", "source"), [
    # idle sessions: 15 minutes by default, 10 for essential entities, critical functions and ANSSI
    ([], "IA-06", "max_idle_seconds", 900, "default"),
    (["nis2-important"], "IA-06", "max_idle_seconds", 900, "nis2-important"),
    (["nis2-essential"], "IA-06", "max_idle_seconds", 600, "nis2-essential"),
    (["iso27001", "dora-critical"], "IA-06", "max_idle_seconds", 600, "dora-critical"),
    (["dora-critical", "nis2-essential", "anssi-intermediary"], "IA-06", "max_idle_seconds", 600, "dora-critical"),
    # local log retention: the longest any active profile asks for
    (["iso27001"], "LG-02", "min_retention_days", 90, "iso27001"),
    (["nis2-essential", "iso27001"], "LG-02", "min_retention_days", 180, "nis2-essential"),
    (["nis2-essential", "dora-critical"], "LG-02", "min_retention_days", 365, "dora-critical"),
    # vulnerability scans: at most a week old for DORA, of the same day for critical functions
    (["dora"], "SC-13", "max_scan_age_hours", 168.0, "dora"),
    (["dora-critical"], "SC-13", "max_scan_age_hours", 24.0, "dora-critical"),
    (["nis2-essential"], "SC-13", "max_scan_age_hours", 24.0, "default"),
    # redundant log forwarding
    (["nis2-important"], "LG-03", "min_forwarders", 1, "default"),
    (["nis2-essential"], "LG-03", "min_forwarders", 2, "nis2-essential"),
    # ANSSI levels: password hashes out of the store from the minimal level, the sudo
    # Defaults of R39 from the intermediary level, confined services at the enhanced level
    (["anssi-minimal"], "SC-10", "forbid_hashes_in_store", True, "anssi-minimal"),
    (["nis2-important"], "SC-10", "forbid_hashes_in_store", False, "default"),
    (["anssi-high"], "IA-07", "require_explicit_arguments", True, "anssi-intermediary"),
    (["nis2-important"], "IA-07", "required_defaults", ["use_pty"], "default"),
    (["nis2-important"], "BR-01", "require_retention", True, "nis2-important"),
])
def test_per_level_parameters_merge_to_the_strictest_and_name_their_profile(
    profiles: list[str], control: str, name: str, value: object, source: str
) -> None:
    assert _param(profiles, control, name) == (value, source)


def test_anssi_intermediary_asks_for_the_sudo_defaults_of_r39_and_enhanced_confines_services() -> None:
    defaults, source = _param(["anssi-enhanced", "nis2-important"], "IA-07", "required_defaults")
    assert source == "anssi-intermediary"
    assert isinstance(defaults, list) and {"use_pty", "env_reset", "ignore_dot", "umask=0077", "requiretty", "noexec"} <= set(defaults)
    baseline, source = _param(["anssi-intermediary"], "HK-09", "required_settings")
    assert baseline == {"NoNewPrivileges": ["yes"]} and source == "default"
    confined, source = _param(["anssi-high"], "HK-09", "required_settings")
    assert isinstance(confined, dict) and {"ProtectSystem", "ProtectHome", "PrivateTmp", "NoNewPrivileges"} <= set(confined)
    assert source == "anssi-enhanced"


def _expected_coverage(framework: FrameworkId) -> dict[str, str]:
    """Each clause's coverage worked out from the controls alone (no attestation given)."""
    fw = CATALOG.frameworks[framework]
    checked = [(c, cite) for c in CONTROLS.values() if c.checks for cite in c.cites if cite.framework is framework]
    full = {fw.resolve(ref) for _, cite in checked if cite.scope is Scope.FULL for ref in cite.clauses}
    partial = {fw.resolve(ref) for _, cite in checked for ref in cite.clauses}
    return {clause.id: "automated" if clause.id in full else "partial" if clause.id in partial else "uncovered" for clause in fw.clauses}


@pytest.mark.parametrize("framework", list(FrameworkId))
def test_coverage_printed_by_the_cli_matches_the_catalog(framework: FrameworkId) -> None:
    expected = _expected_coverage(framework)
    result = run("frameworks", "coverage", framework.value, "--json")
    assert result.code == 0, result.stderr
    shown = {row["clause"]: row["coverage"] for row in json.loads(result.stdout)["clauses"]}
    assert shown == expected
    automated = sum(1 for kind in expected.values() if kind == "automated")
    partial = sum(1 for kind in expected.values() if kind == "partial")
    uncovered = len(expected) - automated - partial
    text = run("frameworks", "coverage", framework.value)
    assert text.code == 0
    title = CATALOG.frameworks[framework].title
    summary = f"{len(expected)} clauses of {title}: {automated} automated, {partial} partial, 0 attested, {uncovered} uncovered"
    assert summary in text.stdout
    cover = framework_coverage(CATALOG, framework.value)
    counts = (cover.count(CoverageKind.AUTOMATED), cover.count(CoverageKind.PARTIAL), cover.count(CoverageKind.UNCOVERED))
    assert counts == (automated, partial, uncovered)


@pytest.mark.parametrize("framework", list(FrameworkId))
def test_the_documented_coverage_figures_are_the_catalogs(framework: FrameworkId) -> None:
    """docs/frameworks-and-attestations.md states the figures; they must not go stale."""
    rows = re.findall(r"^\| `(\w+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|", DOC.read_text(), re.MULTILINE)
    table = {fw: tuple(int(n) for n in numbers) for fw, *numbers in rows}
    expected = _expected_coverage(framework)
    automated = sum(1 for kind in expected.values() if kind == "automated")
    partial = sum(1 for kind in expected.values() if kind == "partial")
    citing = sum(1 for c in CONTROLS.values() if c.clauses.get(framework))
    assert table.get(framework.value) == (len(expected), automated, partial, len(expected) - automated - partial, citing)


def test_every_family_of_the_catalog_is_documented() -> None:
    """docs/writing-controls.md names each family once; a new control in a family needs no edit."""
    text = (DOCS / "writing-controls.md").read_text()
    rows = set(re.findall(r"^\| ([A-Z]{2}) [a-z][^|]*\| [^|]+\|$", text, re.MULTILINE))
    families = {cid.split("-")[0] for cid in CONTROLS}
    assert rows == families


def test_every_runtime_check_is_documented_with_its_control() -> None:
    text = (DOCS / "runtime-probes.md").read_text()
    rows = {(cid, check.function) for cid in CONTROLS for check in CONTROLS[cid].checks_of(CheckKind.RUNTIME)}
    missing = [f"{cid} {probe}" for cid, probe in sorted(rows)
               if not re.search(rf"^\| [^|]*{re.escape(cid)}[^|]* \| [^|]*`{re.escape(probe)}`", text, re.MULTILINE)]
    assert not missing, missing
