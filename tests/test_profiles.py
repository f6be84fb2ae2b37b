"""Profiles under controls/profiles: they load, ANSSI levels inherit, and several profiles
merge with the strictest parameter winning and its source recorded."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest

from compliance.catalog.loader import default_catalog_dir, load_catalog
from compliance.catalog.selection import anssi_levels_cited, select
from compliance.errors import CatalogError
from compliance.models.frameworks import AnssiLevel, FrameworkId
from compliance.models.params import strictness_of
from compliance.models.results import GateReport
from tests.support.cli import run
from tests.support.inputs import gate_args, write_release

CATALOG = load_catalog()
ANSSI_PROFILES = ["anssi-minimal", "anssi-intermediary", "anssi-enhanced", "anssi-high"]
LEVEL_ORDER = list(AnssiLevel)


def _selected(*profiles: str) -> set[str]:
    return {s.control.id for s in select(CATALOG, list(profiles)).controls}


def _param(profiles: list[str], control: str, name: str) -> tuple[object, str]:
    selected = next(s for s in select(CATALOG, profiles).controls if s.control.id == control)
    return selected.params[name], selected.sources[name]


def test_every_profile_of_the_product_loads() -> None:
    assert set(CATALOG.profiles) == {
        "nis2-essential", "nis2-important", "dora", "dora-critical", "iso27001", *ANSSI_PROFILES,
        "sbom-release",
    }
    for pid in CATALOG.profiles:
        assert _selected(pid), f"{pid} selects no control"


@pytest.mark.parametrize(("profile", "framework"), [
    ("nis2-important", FrameworkId.NIS2), ("nis2-essential", FrameworkId.NIS2), ("dora", FrameworkId.DORA),
    ("dora-critical", FrameworkId.DORA), ("iso27001", FrameworkId.ISO27001),
])
def test_a_framework_profile_selects_exactly_the_controls_citing_it(profile: str, framework: FrameworkId) -> None:
    assert _selected(profile) == {cid for cid, c in CATALOG.controls.items() if framework in c.clauses}
    assert select(CATALOG, [profile]).frameworks == [framework]


def test_anssi_levels_extend_the_level_below() -> None:
    for lower, upper in itertools.pairwise(ANSSI_PROFILES):
        assert CATALOG.profiles[upper].extends == [lower]
        assert select(CATALOG, [upper]).profiles[:-1] == select(CATALOG, [lower]).profiles
        assert _selected(lower) <= _selected(upper)


@pytest.mark.parametrize("profile", ANSSI_PROFILES)
def test_an_anssi_profile_selects_the_controls_citing_a_recommendation_up_to_its_level(profile: str) -> None:
    level = LEVEL_ORDER[ANSSI_PROFILES.index(profile)]
    in_scope = set(LEVEL_ORDER[: LEVEL_ORDER.index(level) + 1])
    expected = {cid for cid, c in CATALOG.controls.items() if anssi_levels_cited(CATALOG, c) & in_scope}
    assert _selected(profile) == expected


def test_anssi_levels_add_the_controls_of_their_recommendations() -> None:
    # HK-04 cites R10 (enhanced), SC-12 cites R15.. (high), HK-01 cites R9 (intermediary).
    assert "HK-01" not in _selected("anssi-minimal") and "HK-01" in _selected("anssi-intermediary")
    assert "HK-04" not in _selected("anssi-intermediary") and "HK-04" in _selected("anssi-enhanced")
    assert "SC-12" not in _selected("anssi-enhanced") and "SC-12" in _selected("anssi-high")


def test_anssi_parameters_are_inherited_by_higher_levels() -> None:
    expected, source = _param(["anssi-high"], "HK-01", "expected")
    assert isinstance(expected, dict) and expected["kernel.perf_event_max_sample_rate"] == "<=1"
    assert source == "anssi-intermediary"
    required, source = _param(["anssi-high"], "SC-12", "required")
    assert isinstance(required, dict) and "CONFIG_MODULE_SIG" in required and source == "anssi-high"


# One kernel option of each BP-028 build-option recommendation (R15-R27), from the guide.
ANSSI_KERNEL_OPTIONS = {
    "R15": "CONFIG_STRICT_KERNEL_RWX", "R16": "CONFIG_DEBUG_CREDENTIALS", "R17": "CONFIG_SLAB_FREELIST_RANDOM",
    "R18": "CONFIG_MODULE_SIG", "R19": "CONFIG_PANIC_ON_OOPS", "R20": "CONFIG_SECCOMP_FILTER",
    "R21": "CONFIG_GCC_PLUGIN_STACKLEAK", "R22": "CONFIG_SYN_COOKIES", "R23": "CONFIG_KEXEC",
    "R25": "CONFIG_PAGE_TABLE_ISOLATION", "R27": "CONFIG_ARM64_SW_TTBR0_PAN",
}


@pytest.mark.parametrize(("recommendation", "option"), sorted(ANSSI_KERNEL_OPTIONS.items()))
def test_sc12_cites_exactly_the_build_option_recommendations_anssi_high_checks(recommendation: str, option: str) -> None:
    required, _ = _param(["anssi-high"], "SC-12", "required")
    forbidden, _ = _param(["anssi-high"], "SC-12", "forbidden")
    assert isinstance(required, dict) and isinstance(forbidden, list)
    checked = option in required or option in forbidden
    assert (recommendation in CATALOG.controls["SC-12"].clauses[FrameworkId.ANSSI]) is checked


def test_essential_and_critical_tighten_patch_currency() -> None:
    assert _param(["nis2-important"], "SC-05", "max_age_days") == (30, "nis2-important")
    assert _param(["nis2-essential"], "SC-05", "max_age_days") == (14, "nis2-essential")
    assert _param(["dora"], "SC-05", "max_age_days") == (30, "dora")
    assert _param(["dora-critical"], "SC-05", "max_age_days") == (14, "dora-critical")


@pytest.mark.parametrize("order", [["iso27001", "dora-critical"], ["dora-critical", "iso27001"]])
def test_the_strictest_value_wins_whatever_the_order(order: list[str]) -> None:
    assert _param(order, "SC-05", "max_age_days") == (14, "dora-critical")


def test_an_equal_value_stays_credited_to_the_first_profile() -> None:
    assert _param(["nis2-important", "iso27001"], "SC-05", "max_age_days") == (30, "nis2-important")


@pytest.mark.parametrize("order", [["nis2-important", "dora"], ["dora", "nis2-important"]])
def test_a_laxer_profile_does_not_loosen_another_that_keeps_the_default(order: list[str]) -> None:
    # dora allows a week-old scan; nis2-important keeps the catalog's 24 hours.
    assert _param(["nis2-important"], "SC-13", "max_scan_age_hours") == (24.0, "default")
    assert _param(["dora"], "SC-13", "max_scan_age_hours") == (168.0, "dora")
    assert _param(order, "SC-13", "max_scan_age_hours") == (24.0, "default (nis2-important)")


@pytest.mark.parametrize(("first", "second"), list(itertools.permutations(sorted(CATALOG.profiles), 2)))
def test_adding_a_profile_never_loosens_a_parameter(first: str, second: str) -> None:
    alone = {s.control.id: s.params for s in select(CATALOG, [first]).controls}
    for both in select(CATALOG, [first, second]).controls:
        if both.control.id not in alone:
            continue
        for name, value in both.params.items():
            model = CATALOG.param_model(both.control, name)
            assert model is not None
            assert strictness_of(model, name).stricter(value, alone[both.control.id][name]) == value, (both.control.id, name)


def _catalog_with(tmp_path: Path, profiles: dict[str, str], *, drop: tuple[str, ...] = ()) -> Path:
    root = tmp_path / "controls"
    shutil.copytree(default_catalog_dir(), root)
    for name in drop:
        (root / name).unlink()
    for pid, text in profiles.items():
        (root / "profiles" / f"{pid}.toml").write_text(text)
    return root


def test_a_union_merge_of_two_profiles_is_credited_to_both(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, {
        "team-a": 'id = "team-a"\ntitle = "A"\n[select]\ncontrols = ["SC-11"]\n[params.SC-11]\ndenylist = ["telnet*"]\n',
        "team-b": 'id = "team-b"\ntitle = "B"\n[select]\ncontrols = ["SC-11"]\n[params.SC-11]\ndenylist = ["gdb"]\n',
    })
    selected = select(load_catalog(root), ["team-a", "team-b"]).controls
    assert [(s.params["denylist"], s.sources["denylist"]) for s in selected] == [(["telnet*", "gdb"], "team-a+team-b")]


def test_a_profile_sets_parameters_only_of_the_controls_it_selects(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, {
        "team-a": 'id = "team-a"\ntitle = "A"\n[select]\ncontrols = ["SC-13"]\n',
        "team-b": 'id = "team-b"\ntitle = "B"\n[select]\ncontrols = ["SC-11"]\n[params.SC-13]\nmax_scan_age_hours = 1.0\n',
    })
    selected = {s.control.id: s for s in select(load_catalog(root), ["team-a", "team-b"]).controls}
    assert (selected["SC-13"].params["max_scan_age_hours"], selected["SC-13"].sources["max_scan_age_hours"]) == (24.0, "default")


def test_an_unknown_anssi_level_is_a_load_error_naming_the_profile(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, {"odd": 'id = "odd"\ntitle = "Odd"\n[select]\nanssi_levels = ["maximal"]\n'})
    with pytest.raises(CatalogError, match=r"profiles/odd\.toml: select\.anssi_levels\.0: Input should be"):
        load_catalog(root)


def test_selecting_by_anssi_level_needs_the_anssi_clause_list(tmp_path: Path) -> None:
    root = _catalog_with(tmp_path, {}, drop=("frameworks/anssi.toml",))
    with pytest.raises(CatalogError, match=r"profiles/anssi-\w+\.toml: select\.anssi_levels: the catalog has no ANSSI clause list"):
        load_catalog(root)


def test_the_gate_report_says_which_profile_set_each_value(tmp_path: Path) -> None:
    files = write_release(tmp_path / "release")
    out = tmp_path / "results.json"
    result = run(*gate_args(files), "-p", "iso27001", "-p", "dora-critical", "-o", f"json={out}")
    assert result.code in (0, 1), result.stderr
    report = GateReport.model_validate_json(out.read_bytes())
    assert report.assessment.profiles == ["iso27001", "dora", "dora-critical"]
    sc05 = next(r for r in report.assessment.results if r.control_id == "SC-05")
    assert sc05.params["max_age_days"] == 14
    assert sc05.param_sources == {"max_age_days": "dora-critical", "input_name": "default"}
    raw = json.loads(out.read_text())
    assert any(r["param_sources"].get("max_age_days") == "dora-critical" for r in raw["assessment"]["results"])


def test_the_sbom_release_profile_selects_exactly_what_an_sbom_and_scans_decide() -> None:
    """A release that is not a closure (the tool's own wheel) is judged by these alone: each
    needs only the SBOM or the vulnerability reports, never a closure, facts or a host."""
    selection = select(CATALOG, ["sbom-release"])
    assert sorted(s.control.id for s in selection.controls) == ["SC-02", "SC-03", "SC-08", "SC-13"]

