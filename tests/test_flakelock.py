"""flake.lock: follows are resolved from the root, and a malformed lock is one input error."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.errors import InputError
from compliance.inputs.flakelock import parse_flake_lock


def _lock(root_inputs: Any, **extra_nodes: Any) -> dict[str, Any]:
    nixpkgs = {"locked": {"type": "github", "owner": "NixOS", "repo": "nixpkgs", "rev": "a" * 40, "narHash": "sha256-x", "lastModified": 1},
               "original": {"type": "github", "owner": "NixOS", "repo": "nixpkgs"}}
    return {"version": 7, "root": "root", "nodes": {"root": {"inputs": root_inputs}, "nixpkgs": nixpkgs, **extra_nodes}}


def test_follows_are_resolved_from_the_root() -> None:
    tool = {"inputs": {"nixpkgs": ["nixpkgs"]}, "locked": {"type": "github", "lastModified": 2}, "original": {"type": "github"}}
    lock = parse_flake_lock(_lock({"nixpkgs": "nixpkgs", "tool": "tool", "pkgs": ["tool", "nixpkgs"]}, tool=tool), "flake.lock")
    assert lock.root_inputs == {"nixpkgs": "nixpkgs", "tool": "tool", "pkgs": "nixpkgs"}


def test_a_cycle_of_follows_leads_nowhere() -> None:
    a = {"inputs": {"x": ["b", "x"]}, "locked": {"type": "github"}, "original": {"type": "github"}}
    b = {"inputs": {"x": ["a", "x"]}, "locked": {"type": "github"}, "original": {"type": "github"}}
    lock = parse_flake_lock(_lock({"a": "a", "b": "b", "x": ["a", "x"]}, a=a, b=b), "flake.lock")
    assert lock.root_inputs["x"] == "?"


@pytest.mark.parametrize(("doc", "problem"), [
    ({**_lock({}), "root": ["root"]}, "'root' must be the name of a node"),
    (_lock(["nixpkgs"]), "node 'root': 'inputs' must be an object"),
    (_lock({}, tool={"inputs": "nixpkgs", "locked": {}, "original": {}}), "node 'tool': 'inputs' must be an object"),
    (_lock({}, old={"locked": {"type": "github", "lastModified": 10**20}, "original": {}}), "node 'old': 'lastModified' 100000000000000000000 is not a time"),
    (_lock({}, old={"locked": {"type": "github", "lastModified": "yesterday"}, "original": {}}), "node 'old': 'lastModified' must be an integer"),
    ({"version": 7, "nodes": {"nixpkgs": {}}}, "root node 'root' is missing"),
])
def test_a_malformed_lock_is_an_input_error(doc: dict[str, Any], problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_flake_lock(doc, "flake.lock")
    assert str(caught.value) == f"flake.lock: {problem}"


def test_an_input_node_without_a_lock_is_not_taken_for_the_root() -> None:
    from compliance.assess import engine
    from compliance.catalog.selection import SelectedControl
    from compliance.checks.predicate_subject import Subject
    from compliance.models.common import Severity, Status
    from compliance.models.control import Check, CheckKind, Control

    lock = parse_flake_lock(_lock({"nixpkgs": "nixpkgs", "secrets": "secrets"}, secrets={"inputs": {}}), "flake.lock")
    control = Control(id="TT-01", title="t", severity=Severity.HIGH, rationale="r", checks=[Check(kind=CheckKind.STATIC, function="flake_inputs_locked")])
    result = engine.evaluate_control(SelectedControl(control, {}, {}), CheckKind.STATIC, Subject(flake_lock=lock))
    assert result.status is Status.FAIL and "secrets: not locked" in result.message, result.message
