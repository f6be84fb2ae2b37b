"""SARIF for code scanning: results only for findings (fail, error; waived as suppressed),
rules with ``security-severity`` and the remediation as help, ``partialFingerprints``
stable across runs, and locations in the repository: the Nix file and line defining an
option (positions from ``nix eval``), flake.lock for the inputs, the input file otherwise,
all relative to ``%SRCROOT%``. Valid against the official schema, and the constraints
code-scanning services document checked one by one."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support import nix
from tests.support.cli import ROOT, run

EX = "examples/web"
ENV = {"SOURCE_DATE_EPOCH": "1729814400"}
RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$")
SECURITY_SEVERITY = re.compile(r"^(10(\.0)?|[0-9](\.[0-9])?)$")


def _example_sarif(out: Path, *extra: str, cwd: Path = ROOT, ex: str = EX) -> dict[str, Any]:
    result = run(
        "gate", "--profile", "nis2-important", "--profile", "anssi-intermediary",
        "--closure", f"{ex}/closure.json", "--sbom", f"{ex}/sbom.cdx.json", "--facts", f"{ex}/facts.json",
        "--flake-lock", f"{ex}/flake.lock", "--kernel-config", f"{ex}/kernel.config",
        "--vulns", f"{ex}/grype.json", "--vulns", f"{ex}/vex.openvex.json",
        "--policy", f"{ex}/policy.toml", "--waivers", f"{ex}/waivers.toml", "-q", "-o", f"sarif={out}", *extra,
        env=ENV, cwd=cwd,
    )
    assert result.code in (0, 1), result.stderr
    doc = json.loads(out.read_text())
    assert isinstance(doc, dict)
    return doc


def _code_scanning_constraints(doc: dict[str, Any]) -> None:
    """What GitHub code scanning documents for an upload, checked on ``doc``."""
    [sarif_run] = doc["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)) and all(RULE_ID.match(i) for i in ids)
    for rule in rules:
        severity = rule["properties"]["security-severity"]
        assert isinstance(severity, str) and SECURITY_SEVERITY.match(severity), severity  # a number, as a string
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    assert sarif_run["automationDetails"]["id"].endswith("/")  # a category, the same from run to run
    for result in sarif_run["results"]:
        assert result["kind"] == "fail" and result["level"] in ("error", "warning", "note")
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        fingerprints = result["partialFingerprints"]
        assert fingerprints and all(isinstance(v, str) and v for v in fingerprints.values())
        assert result["locations"], result["ruleId"]
        for location in result["locations"]:
            artifact = location["physicalLocation"]["artifactLocation"]
            assert not artifact["uri"].startswith(("/", "file:")) and artifact["uriBaseId"] == "%SRCROOT%"
            region = location["physicalLocation"].get("region")
            assert region is None or (isinstance(region["startLine"], int) and region["startLine"] >= 1)


def test_the_example_sarif_has_only_findings_each_fingerprinted_and_placed(tmp_path: Path, shared_data: Path) -> None:
    doc = _example_sarif(tmp_path / "gate.sarif")
    schema = json.loads((shared_data / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft7Validator(schema).validate(doc)
    _code_scanning_constraints(doc)
    [sarif_run] = doc["runs"]
    results = {r["ruleId"]: r for r in sarif_run["results"]}
    assert set(results) == {"HK-01", "HK-02", "IA-08", "SC-14"}  # 3 failures and the waived one; no pass, no manual review
    assert sarif_run["properties"]["counts"] == {"fail": 3, "manual": 5, "pass": 25, "waived": 1}
    assert results["IA-08"]["suppressions"][0]["status"] == "accepted" and "W-2026-014" in results["IA-08"]["suppressions"][0]["justification"]
    assert "suppressions" not in results["HK-01"]
    # A configuration option is placed at its line in the facts file when no Nix position is known.
    [where] = results["HK-01"]["locations"]
    assert where["physicalLocation"]["artifactLocation"]["uri"] == f"{EX}/facts.json"
    facts_lines = (ROOT / EX / "facts.json").read_text().splitlines()
    assert facts_lines[where["physicalLocation"]["region"]["startLine"] - 1].strip() == '"sysctl": {'
    rules = {r["id"]: r for r in sarif_run["tool"]["driver"]["rules"]}
    assert rules["HK-01"]["properties"]["security-severity"] == "5.5"
    assert "Remediation:" in rules["HK-01"]["help"]["text"] and "boot.kernel.sysctl" in rules["HK-01"]["help"]["text"]


def test_fingerprints_are_stable_across_runs_and_messages(tmp_path: Path) -> None:
    first = _example_sarif(tmp_path / "a.sarif")
    # Another run, from a copy whose facts differ (another sysctl value): the message of
    # HK-01 changes, the finding and its fingerprint do not.
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / EX, copy / EX)
    facts = json.loads((copy / EX / "facts.json").read_text())
    facts["options"]["boot"]["kernel"]["sysctl"]["kernel.kptr_restrict"] = 0
    (copy / EX / "facts.json").write_text(json.dumps(facts, indent=2))
    second = _example_sarif(tmp_path / "b.sarif", cwd=copy)

    def by_rule(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
        return {r["ruleId"]: (json.dumps(r["partialFingerprints"]), r["message"]["text"]) for r in doc["runs"][0]["results"]}

    a, b = by_rule(first), by_rule(second)
    assert set(a) == set(b)
    assert {k: v[0] for k, v in a.items()} == {k: v[0] for k, v in b.items()}
    assert a["HK-01"][1] != b["HK-01"][1]


def test_input_pinning_is_placed_in_flake_lock(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / EX, copy / EX)
    lock = json.loads((copy / EX / "flake.lock").read_text())
    node = lock["nodes"][lock["nodes"]["root"]["inputs"]["nixpkgs"]]
    del node["locked"]["narHash"]  # an input no longer pinned to content: SC-09 fails
    (copy / EX / "flake.lock").write_text(json.dumps(lock, indent=2))
    doc = _example_sarif(tmp_path / "g.sarif", cwd=copy)
    _code_scanning_constraints(doc)
    [sc09] = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "SC-09"]
    [where] = sc09["locations"]
    assert where["physicalLocation"]["artifactLocation"]["uri"] == f"{EX}/flake.lock"
    line = (copy / EX / "flake.lock").read_text().splitlines()[where["physicalLocation"]["region"]["startLine"] - 1]
    assert line.strip().startswith(f'"{lock["nodes"]["root"]["inputs"]["nixpkgs"]}": {{')


CONFIG = """{
  services.openssh = {
    enable = true;
    settings = {
      PermitRootLogin = "no";
      PasswordAuthentication = true;
      KbdInteractiveAuthentication = false;
    };
    extraConfig = "UsePAM yes\n";
  };
}
"""


@nix.requires_nix
def test_an_option_is_placed_at_the_nix_line_that_defines_it(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "hosts").mkdir(parents=True)
    (repo / "hosts" / "web.nix").write_text(CONFIG)
    env = {"NIX_CONFIG": nix.NIX_CONFIG, **ENV}
    made = run("facts", "--file", "hosts/web.nix", "-o", "facts.json", env=env, cwd=repo)
    assert made.code == 0, made.stderr
    definitions = json.loads((repo / "facts.json").read_text())["origin"]["definitions"]
    assert definitions["services.openssh.settings.PasswordAuthentication"] == [{"file": str(repo / "hosts" / "web.nix"), "line": 6}]
    gate = run("gate", "--profile", "nis2-important", "--facts", "facts.json", "-q", "-o", "sarif=gate.sarif", env=env, cwd=repo)
    assert gate.code == 1, gate.stderr
    doc = json.loads((repo / "gate.sarif").read_text())
    _code_scanning_constraints(doc)
    [ia02] = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "IA-02"]
    first = ia02["locations"][0]
    assert first["physicalLocation"]["artifactLocation"] == {"uri": "hosts/web.nix", "uriBaseId": "%SRCROOT%"}
    assert first["physicalLocation"]["region"] == {"startLine": 6}
    assert first["logicalLocations"] == [{"fullyQualifiedName": "services.openssh.settings.PasswordAuthentication", "kind": "member"}]


@nix.requires_nix
def test_a_flake_option_is_placed_in_the_flake_folder(tmp_path: Path) -> None:
    import subprocess

    repo = tmp_path / "repo"
    flake = repo / "fleet"
    flake.mkdir(parents=True)
    (flake / "flake.nix").write_text("{ outputs = { self }: { nixosConfigurations.web.config = import ./web.nix; }; }\n")
    (flake / "web.nix").write_text(CONFIG)
    subprocess.run(["git", "init", "-q"], cwd=flake, check=True)
    subprocess.run(["git", "add", "."], cwd=flake, check=True)
    env = {"NIX_CONFIG": nix.NIX_CONFIG, **ENV}
    gate = run("gate", "--profile", "nis2-important", "--flake", "path:fleet#web", "-q", "-o", "sarif=gate.sarif", env=env, cwd=repo)
    assert gate.code == 1, gate.stderr
    doc = json.loads((repo / "gate.sarif").read_text())
    [ia02] = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "IA-02"]
    first = ia02["locations"][0]["physicalLocation"]
    assert first["artifactLocation"] == {"uri": "fleet/web.nix", "uriBaseId": "%SRCROOT%"}
    assert first["region"] == {"startLine": 6}


@pytest.mark.parametrize("status", ["pass", "manual", "not_applicable"])
def test_no_result_for_what_is_no_finding(tmp_path: Path, status: str) -> None:
    doc = _example_sarif(tmp_path / "g.sarif")
    assert all(r["properties"]["status"] != status for r in doc["runs"][0]["results"])
