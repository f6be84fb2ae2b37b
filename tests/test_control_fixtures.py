"""Every control passes its pass fixture and fails its fail fixture, for each kind of
check it has. A control without both fixtures fails this test: a predicate that cannot
fail is a defect. Runtime fixtures make a real host state (an offline root, or this
machine in fresh namespaces): see :mod:`tests.support.runtime_fixtures`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compliance.assess import engine
from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.models.common import Status
from compliance.models.control import CheckKind
from tests.support import nix
from tests.support.fixture_expect import DECIDED, assert_fails_as_expected
from tests.support.fixtures import FIXTURES, build_subject, load_fixture
from tests.support.runtime_fixtures import run_runtime_fixture_checks

CATALOG = load_catalog()
STATIC_CONTROLS = sorted(cid for cid, c in CATALOG.controls.items() if c.checks_of(CheckKind.STATIC))
RUNTIME_CONTROLS = sorted(cid for cid, c in CATALOG.controls.items() if c.checks_of(CheckKind.RUNTIME))


def _run_static(control_id: str, spec: dict, workdir: Path) -> tuple[Status, str, list[dict]]:
    selection = select(CATALOG, [], CheckKind.STATIC)
    selected = next(s for s in selection.controls if s.control.id == control_id)
    result = engine.evaluate_control(selected, CheckKind.STATIC, build_subject(spec, workdir))
    return result.status, result.message, [c.model_dump(mode="json") for c in result.checks]


def _assert_reason(control_id: str, expected: str, kind: str, fixture: dict, checks: list[dict]) -> None:
    label = f"{control_id} {kind} {expected} fixture"
    if expected == "fail":
        assert_fails_as_expected(label, (fixture.get("expect") or {}).get(kind), checks)
    else:
        undecided = [f"{c['function']}: {c['status']}: {c['message']}" for c in checks if c["status"] not in DECIDED]
        assert not undecided, f"{label}: {undecided}"


@pytest.mark.parametrize("control_id", STATIC_CONTROLS)
@pytest.mark.parametrize("expected", ["pass", "fail"])
def test_static_fixture(control_id: str, expected: str, tmp_path: Path) -> None:
    path = FIXTURES / control_id / f"{expected}.json"
    assert path.is_file(), f"{control_id} has no {expected} fixture at {path}"
    fixture = load_fixture(path)
    assert "static" in fixture, f"{path} has no 'static' subject"
    status, message, checks = _run_static(control_id, fixture["static"], tmp_path)
    assert status.value == expected, f"{control_id} {expected} fixture gave {status.value}: {message}"
    _assert_reason(control_id, expected, "static", fixture, checks)


@pytest.mark.parametrize("control_id", RUNTIME_CONTROLS)
@pytest.mark.parametrize("expected", ["pass", "fail"])
def test_runtime_fixture(control_id: str, expected: str, tmp_path: Path) -> None:
    path = FIXTURES / control_id / f"{expected}.json"
    assert path.is_file(), f"{control_id} has no {expected} fixture at {path}"
    fixture = load_fixture(path)
    assert "runtime" in fixture, f"{path} has no 'runtime' section"
    spec = fixture["runtime"]
    if "namespace" in spec and os.geteuid() != 0:
        pytest.skip("namespaces need root")
    if "{{nix:" in json.dumps(spec) and not nix.have_nix():
        pytest.skip("needs Debian's nix-bin, as root")
    selected = next(s for s in select(CATALOG, [], CheckKind.RUNTIME).controls if s.control.id == control_id)
    status, message, checks = run_runtime_fixture_checks(selected, spec, tmp_path)
    assert status.value == expected, f"{control_id} runtime {expected} fixture gave {status.value}: {message}"
    _assert_reason(control_id, expected, "runtime", fixture, checks)


def test_no_fixture_without_a_control() -> None:
    stray = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name not in CATALOG.controls)
    assert not stray, f"fixtures for unknown controls: {stray}"
