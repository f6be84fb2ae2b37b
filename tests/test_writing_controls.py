"""docs/writing-controls.md's walk-through, executed: the catalog entry and the two fixtures
it shows are written into a copy of the catalog and judged as the page says."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from compliance.assess import engine
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.models.common import Status
from compliance.models.control import CheckKind
from tests.support.fixtures import build_subject

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "writing-controls.md"
BLOCK = re.compile(r"^```(?:toml|json) file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks() -> dict[str, str]:
    return {name: body for name, body in BLOCK.findall(PAGE.read_text(encoding="utf-8"))}


def test_the_walk_through_is_three_files() -> None:
    blocks = _blocks()
    assert sorted(blocks) == [
        "controls/library/hk-90.toml",
        "tests/fixtures/controls/HK-90/fail.json",
        "tests/fixtures/controls/HK-90/pass.json",
    ]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    copy = tmp_path_factory.mktemp("catalog") / "controls"
    shutil.copytree(ROOT / "controls", copy)
    (copy / "library" / "hk-90.toml").write_text(_blocks()["controls/library/hk-90.toml"], encoding="utf-8")
    return load_catalog(copy)


@pytest.mark.parametrize("expected", ["pass", "fail"])
def test_the_new_control_judges_its_fixtures_as_the_page_says(catalog, expected: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fixture = json.loads(_blocks()[f"tests/fixtures/controls/HK-90/{expected}.json"])
    selected = next(s for s in select(catalog, [], CheckKind.STATIC).controls if s.control.id == "HK-90")
    result = engine.evaluate_control(selected, CheckKind.STATIC, build_subject(fixture["static"], tmp_path))
    assert result.status is Status(expected), result.message
    if expected == "fail":
        quoted = re.search(r"reports, for the failing subject:\n`([^`]+)`", PAGE.read_text(encoding="utf-8"))
        assert quoted is not None
        assert result.message == quoted.group(1)
        [check] = result.checks
        assert check.function == "sysctl_baseline"
        assert check.observed["mismatches"] == {"kernel.kptr_restrict": {"value": 0, "expected": ">=1"}}
