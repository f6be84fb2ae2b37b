"""The release gate fails closed on inputs that look like a pass but are not one: option
values that throw, values that are not a configuration, licence ids in older spellings,
policy entries that name no control, nix.conf includes, empty SBOMs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.facts_eval import evaluate_facts
from tests.support import nix
from tests.support.cli import one_line_error, run

SC04 = "nixpkgs.config.permittedInsecurePackages"


def _gate_results(facts: Path, *controls: str) -> dict[str, dict[str, object]]:
    result = run("gate", "--facts", str(facts), "--format", "json", env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert result.code in (0, 1), result.stderr
    results = {r["control_id"]: r for r in json.loads(result.stdout)["assessment"]["results"]}
    return {c: results[c] for c in controls}


@nix.requires_nix
@pytest.mark.parametrize(("config", "control", "absent"), [
    # the attribute set an option lives in throws
    ('{ config = { nixpkgs.config = throw "config broken"; }; }', "SC-04", False),
    # one element of the option's value throws
    ('{ config = { nixpkgs.config.permittedInsecurePackages = [ "openssl-1.1.1w" (throw "x") ]; }; }', "SC-04", False),
    # an extra-* setting throws: not the same as not being set
    ('{ nix.settings = { substituters = [ "https://cache.nixos.org" ]; trusted-substituters = [ ]; require-sigs = true;'
     ' trusted-public-keys = [ "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=" ];'
     ' trusted-users = [ "root" ]; extra-trusted-users = throw "x"; extra-substituters = [ (throw "y") ]; };'
     ' nix.extraOptions = ""; }', "SC-06", False),
    # not set at all: the documented default (nothing permitted) applies
    ("{ config = { nixpkgs.config = { }; }; }", "SC-04", True),
])
def test_an_option_that_throws_is_an_error_not_a_default(tmp_path: Path, config: str, control: str, absent: bool) -> None:
    source = tmp_path / "machine.nix"
    source.write_text(config)
    facts = tmp_path / "facts.json"
    made = run("facts", "--file", str(source), "-o", str(facts), env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert made.code == 0, made.stderr
    results = _gate_results(facts, control, "IA-08")
    if absent:
        assert results[control]["status"] == "pass", results[control]
        assert SC04 in json.loads(facts.read_text())["origin"]["absent"]
        return
    assert results[control]["status"] == "error", results[control]
    assert "evaluating it failed" in str(results[control]["message"])
    if control == "SC-06":
        assert results["IA-08"]["status"] == "error" and "extra-trusted-users" in str(results["IA-08"]["message"])


@nix.requires_nix
def test_a_step_into_a_value_that_is_not_an_attribute_set_is_not_absence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIX_CONFIG", nix.NIX_CONFIG)
    source = tmp_path / "machine.nix"
    source.write_text("{ nixpkgs.config = 3; nix.settings = { }; }")
    doc = evaluate_facts([SC04, "nix.settings.extra-substituters"], nix_file=str(source))
    assert doc["origin"]["unavailable"] == [SC04]
    assert doc["origin"]["absent"] == ["nix.settings.extra-substituters"]


@nix.requires_nix
@pytest.mark.parametrize(("value", "kind"), [("42", "an int"), ('"web"', "a string"), ("[ ]", "a list"),
                                             ("{ config, ... }: { }", "a lambda")])
def test_a_value_that_is_not_a_configuration_is_bad_input(tmp_path: Path, value: str, kind: str) -> None:
    source = tmp_path / "num.nix"
    source.write_text(value)
    out = tmp_path / "facts.json"
    result = run("facts", "--file", str(source), "-o", str(out), env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert result.code == 2
    assert one_line_error(result).endswith(f"{source}: the value is {kind}, not a NixOS configuration "
                                           "(an attribute set of options, or one with 'config')")
    assert not out.exists()
