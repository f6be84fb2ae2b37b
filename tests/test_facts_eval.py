"""Facts: exactly the options the controls read, evaluated by the real ``nix eval``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from compliance.errors import OptionPathError
from compliance.inputs.facts import join_option_path, split_option_path
from compliance.inputs.facts_eval import evaluate_facts
from tests.support import nix
from tests.support.cli import one_line_error, run

# A plain Nix expression standing in for a NixOS configuration: the options the controls
# read, one that throws (as an undefined option does), one that holds a function.
CONFIG = """
{
  services.openssh = { enable = true; settings = { PermitRootLogin = "no"; PasswordAuthentication = false; KbdInteractiveAuthentication = false; }; extraConfig = "UsePAM yes\n"; };
  networking.firewall = { enable = true; allowedTCPPorts = [ 22 ]; allowedUDPPorts = [ ]; allowedTCPPortRanges = [ ]; allowedUDPPortRanges = [ ]; interfaces = { }; trustedInterfaces = [ ]; };
  boot.kernel.sysctl = { "kernel.kptr_restrict" = 2; "net.ipv4.ip_forward" = 0; };
  nix.settings = { substituters = [ "https://cache.nixos.org" ]; trusted-substituters = [ ]; require-sigs = true;
                   trusted-public-keys = [ "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=" ]; trusted-users = [ "root" ]; };
  nixpkgs.config = { allowUnfreePredicate = pkg: false; };
  security.lockKernelModules = throw "The option `security.lockKernelModules' is used but not defined.";
  users.mutableUsers = false;
  users.users.alice = { hashedPassword = "$6$salt$hash"; initialPassword = ""; password = null; passwordFile = "/run/secrets/alice"; };
  system.nixos.version = "24.05.20241020.abc1234";
  environment.systemPackages = [ (derivation { name = "hello-2.12"; builder = "/bin/sh"; system = "x86_64-linux"; }) ];
}
"""


def test_option_paths_round_trip() -> None:
    assert split_option_path('boot.kernel.sysctl."net.ipv4.ip_forward"') == ("boot", "kernel", "sysctl", "net.ipv4.ip_forward")
    assert join_option_path(("boot", "kernel", "sysctl", "net.ipv4.ip_forward")) == 'boot.kernel.sysctl."net.ipv4.ip_forward"'
    assert split_option_path("nix.settings.trusted-users") == ("nix", "settings", "trusted-users")
    for bad in ["", "a..b", "a.", 'a."b', "a b"]:
        with pytest.raises(OptionPathError):
            split_option_path(bad)


@nix.requires_nix
def test_evaluates_exactly_the_requested_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIX_CONFIG", nix.NIX_CONFIG)
    config = tmp_path / "config.nix"
    config.write_text(CONFIG)
    doc = evaluate_facts(
        ["services.openssh.settings", 'boot.kernel.sysctl."kernel.kptr_restrict"', "security.lockKernelModules", "users.users",
         "nixpkgs.config.allowUnfreePredicate", "environment.systemPackages", "no.such.option"],
        nix_file=str(config),
    )
    options = doc["options"]
    assert options["services"]["openssh"]["settings"]["PermitRootLogin"] == "no"
    assert options["boot"]["kernel"]["sysctl"] == {"kernel.kptr_restrict": 2}
    assert options["nixpkgs"]["config"]["allowUnfreePredicate"] == "<function>"
    assert options["environment"]["systemPackages"][0].endswith("-hello-2.12")
    assert "networking" not in options  # not requested, not evaluated
    # a hash never leaves the evaluation; whether a password is set still shows
    assert options["users"]["users"]["alice"] == {"hashedPassword": "<redacted>", "initialPassword": "", "password": None, "passwordFile": "/run/secrets/alice"}
    # ... also when the option holding it is read on its own
    alone = evaluate_facts(["users.users.alice.hashedPassword", "users.users.alice.passwordFile"], nix_file=str(config))
    assert alone["options"]["users"]["users"]["alice"] == {"hashedPassword": "<redacted>", "passwordFile": "/run/secrets/alice"}
    assert options["services"]["openssh"]["settings"]["PasswordAuthentication"] is False
    assert doc["origin"]["unavailable"] == ["security.lockKernelModules"]
    assert doc["origin"]["absent"] == ["no.such.option"]


@nix.requires_nix
def test_an_account_lock_is_not_redacted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """"!" locks root's password: no secret, and the facts must show it to tell it from a hash."""
    monkeypatch.setenv("NIX_CONFIG", nix.NIX_CONFIG)
    config = tmp_path / "config.nix"
    config.write_text('{ users.users.root = { hashedPassword = "!"; initialHashedPassword = "!$6$salt$hash"; password = "*"; }; }')
    doc = evaluate_facts(["users.users", "users.users.root.hashedPassword"], nix_file=str(config))
    assert doc["options"]["users"]["users"]["root"] == {"hashedPassword": "!", "initialHashedPassword": "<redacted>", "password": "*"}


@nix.requires_nix
def test_facts_command_then_gate_in_one_step(tmp_path: Path) -> None:
    config = tmp_path / "config.nix"
    config.write_text(CONFIG)
    env = {"NIX_CONFIG": nix.NIX_CONFIG}
    facts = tmp_path / "facts.json"
    listed = run("facts", "--list", env=env)
    assert "services.openssh.settings" in listed.stdout.split() and "boot.kernel.sysctl" in listed.stdout.split()
    made = run("facts", "--file", str(config), "-o", str(facts), env=env)
    assert made.code == 0, made.stderr
    doc = json.loads(facts.read_text())
    assert doc["facts_version"] == 1 and doc["options"]["users"]["mutableUsers"] is False
    # The lock option threw: HK-04 cannot decide and says so; the gate fails closed.
    one_step = run("gate", "--nix-file", str(config), "--format", "json", env=env)
    two_step = run("gate", "--facts", str(facts), "--format", "json", env=env)
    results = {r["control_id"]: r for r in json.loads(one_step.stdout)["assessment"]["results"]}
    assert results["IA-10"]["status"] == "pass" and results["IA-01"]["status"] == "pass"
    assert results["HK-04"]["status"] == "error" and "security.lockKernelModules is not in the facts" in results["HK-04"]["message"]
    assert [r["status"] for r in json.loads(two_step.stdout)["assessment"]["results"]] == [r["status"] for r in results.values()]
    assert one_step.code == two_step.code == 1


@nix.requires_nix
def test_facts_from_a_flake(tmp_path: Path) -> None:
    flake = tmp_path / "fleet"
    flake.mkdir()
    (flake / "flake.nix").write_text("{ outputs = { self }: { nixosConfigurations.web.config = import ./config.nix; }; }\n")
    (flake / "config.nix").write_text(CONFIG)
    subprocess.run(["git", "init", "-q"], cwd=flake, check=True)
    subprocess.run(["git", "add", "."], cwd=flake, check=True)
    result = run("facts", "--flake", f"path:{flake}#web", env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["options"]["services"]["openssh"]["enable"] is True
    missing = run("facts", "--flake", f"path:{flake}#db", env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert missing.code == 2
    assert "evaluating facts from" in one_line_error(missing)


def test_facts_needs_a_source() -> None:
    result = run("facts")
    assert result.code == 2
    assert "give exactly one of --flake REF#HOST or --file F" in one_line_error(result)


def test_quoted_option_path_segments_unescape_as_nix_strings() -> None:
    assert split_option_path('a."café".b') == ("a", "café", "b")
    assert split_option_path('a."x\\"y\\\\z\\n"') == ("a", 'x"y\\z\n')
    assert split_option_path('a."\\x"') == ("a", "x")  # an unknown escape is the character itself, as in Nix


@pytest.mark.parametrize("version", [True, "1", 2, None])
def test_a_facts_document_of_another_version_is_refused(version: object) -> None:
    from compliance.errors import InputError
    from compliance.inputs.facts import parse_facts

    with pytest.raises(InputError, match="is not supported"):
        parse_facts({"facts_version": version, "options": {}}, "facts.json")
