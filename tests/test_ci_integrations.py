"""The integrations users copy, tested here as far as they run: the GitHub Action's shell
steps executed as the runner would (bash -eo pipefail, the GitHub files in tmp_path)
against the example release, the GitLab CI template's script likewise, the pre-commit
hooks' commands on good and bad files, and the clear error when WeasyPrint's system
libraries are missing."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.cli import ROOT, one_line_error, run

EX = "examples/web"
EXAMPLE_INPUTS = {
    "profile": "nis2-important, anssi-intermediary",
    "closure": f"{EX}/closure.json",
    "sbom": f"{EX}/sbom.cdx.json",
    "facts": f"{EX}/facts.json",
    "flake-lock": f"{EX}/flake.lock",
    "kernel-config": f"{EX}/kernel.config",
    "vulns": f"{EX}/grype.json {EX}/vex.openvex.json",
    "policy": f"{EX}/policy.toml",
    "waivers": f"{EX}/waivers.toml",
}
_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _shim(folder: Path) -> Path:
    """A ``compliance`` on PATH that runs this tree's package (what the install step installs)."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "compliance"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m compliance "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return folder


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COMPLIANCE_"))}
    env.update({"PATH": f"{_shim(tmp_path / 'bin')}:{env.get('PATH', '')}", "SOURCE_DATE_EPOCH": "1729814400", **extra})
    return env


class Action:
    """action.yml's shell steps, run one after the other as a GitHub runner would."""

    def __init__(self, tmp_path: Path, inputs: dict[str, str]) -> None:
        self.doc = _load(ROOT / "action.yml")
        defaults = {name: str(spec.get("default", "")) for name, spec in self.doc["inputs"].items()}
        self.inputs = {**defaults, **inputs}
        self.outputs: dict[str, dict[str, str]] = {}
        self.files = {"GITHUB_OUTPUT": tmp_path / "github_output", "GITHUB_STEP_SUMMARY": tmp_path / "step_summary.md"}
        for f in self.files.values():
            f.write_text("")
        self.tmp_path = tmp_path

    def expand(self, text: str) -> str:
        def value(match: re.Match[str]) -> str:
            expr = match.group(1)
            if expr.startswith("inputs."):
                return self.inputs[expr[len("inputs."):]]
            if expr == "github.action_path":
                return str(ROOT)
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if step:
                return self.outputs.get(step.group(1), {}).get(step.group(2), "")
            raise AssertionError(f"expression the test does not know: {expr}")

        return _EXPRESSION.sub(value, text)

    def run_step(self, step: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        assert step["shell"] == "bash"
        env = _env(self.tmp_path, **{k: str(v) for k, v in self.files.items()})
        env.update({k: self.expand(str(v)) for k, v in step.get("env", {}).items()})
        self.files["GITHUB_OUTPUT"].write_text("")
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", self.expand(step["run"])],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        if "id" in step:
            pairs = [line.split("=", 1) for line in self.files["GITHUB_OUTPUT"].read_text().splitlines() if "=" in line]
            self.outputs[step["id"]] = dict(pairs)
        return proc


def test_the_action_and_template_parse_and_say_what_they_need() -> None:
    action = _load(ROOT / "action.yml")
    assert action["runs"]["using"] == "composite"
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    assert all("shell" in s for s in action["runs"]["steps"] if "run" in s)  # composite steps must name their shell
    for name, spec in action["inputs"].items():
        assert "description" in spec, name
    gitlab = _load(ROOT / "ci" / "gitlab" / "compliance-gate.gitlab-ci.yml")
    job = gitlab[".compliance-gate"]
    assert job["artifacts"]["reports"]["junit"] == "$COMPLIANCE_OUT/gate.xml" and job["artifacts"]["when"] == "always"
    hooks = {h["id"]: h for h in _load(ROOT / ".pre-commit-hooks.yaml")}
    assert hooks["compliance-policy-check"]["entry"] == "compliance policy check"
    assert hooks["compliance-controls-validate"]["entry"] == "compliance controls validate"
    assert all(h["language"] == "python" for h in hooks.values())


def test_the_action_runs_against_the_example_release(tmp_path: Path) -> None:
    action = Action(tmp_path, {**EXAMPLE_INPUTS, "output-dir": str(tmp_path / "out")})
    steps = action.doc["runs"]["steps"]
    ran = []
    for step in steps:
        if "run" not in step or step.get("id") == "install":  # the install step is pip: the shim stands for it
            continue
        proc = action.run_step(step)
        ran.append(step.get("name"))
        assert proc.returncode == 0, (step.get("name"), proc.stdout, proc.stderr)
        if step.get("id") == "gate":
            assert proc.stderr.startswith("compliance gate: PASS")  # the verdict is in the log
    assert ran == ["Release gate", "Job summary", "Verdict"]
    assert action.outputs["gate"] == {"exit-code": "0", "verdict": "pass", "sarif": f"{tmp_path}/out/gate.sarif", "junit": f"{tmp_path}/out/gate.xml"}
    summary = action.files["GITHUB_STEP_SUMMARY"].read_text()
    assert summary.startswith("## Compliance gate: PASS") and "below the blocking threshold" in summary
    # What the `uses:` steps would upload exists.
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert Path(action.expand(upload["with"]["sarif_file"])).is_file()
    assert (tmp_path / "out" / "gate.xml").is_file() and (tmp_path / "out" / "results.json").is_file()


def test_the_action_fails_the_job_when_the_gate_fails(tmp_path: Path) -> None:
    inputs = {**EXAMPLE_INPUTS, "waivers": "", "output-dir": str(tmp_path / "out")}  # IA-08 unwaived: FAIL
    action = Action(tmp_path, inputs)
    by_id = {s.get("name"): s for s in action.doc["runs"]["steps"]}
    gate = action.run_step(by_id["Release gate"])
    assert gate.returncode == 0 and action.outputs["gate"]["exit-code"] == "1" and action.outputs["gate"]["verdict"] == "fail"
    assert "IA-08 (high fail)" in gate.stderr
    assert action.run_step(by_id["Job summary"]).returncode == 0
    assert action.files["GITHUB_STEP_SUMMARY"].read_text().startswith("## Compliance gate: FAIL")
    assert action.run_step(by_id["Verdict"]).returncode == 1


def test_the_gitlab_template_runs_against_the_example_release(tmp_path: Path) -> None:
    job = _load(ROOT / "ci" / "gitlab" / "compliance-gate.gitlab-ci.yml")[".compliance-gate"]
    variables = {k: str(v) for k, v in job["variables"].items()}
    variables.update({f"COMPLIANCE_{k.upper().replace('-', '_')}": v for k, v in EXAMPLE_INPUTS.items()})
    variables["COMPLIANCE_OUT"] = str(tmp_path / "out")
    env = _env(tmp_path, **variables)
    for line in job["script"]:  # GitLab runs each entry in one shell, stopping at the first failure
        proc = subprocess.run(["sh", "-e", "-c", line], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        assert "compliance gate: PASS" in proc.stderr
    junit = Path(job["artifacts"]["reports"]["junit"].replace("$COMPLIANCE_OUT", variables["COMPLIANCE_OUT"]))
    assert junit.is_file() and 'failures="0"' in junit.read_text()
    failing = {**env, "COMPLIANCE_WAIVERS": "", "COMPLIANCE_OUT": str(tmp_path / "out2")}
    proc = subprocess.run(["sh", "-e", "-c", job["script"][0]], cwd=ROOT, env=failing, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 1 and (tmp_path / "out2" / "gate.xml").is_file()
    assert 'failures="1"' in (tmp_path / "out2" / "gate.xml").read_text()


def test_the_pre_commit_hooks_accept_good_files_and_refuse_bad_ones(tmp_path: Path) -> None:
    good = run("policy", "check", f"{EX}/policy.toml", f"{EX}/waivers.toml", cwd=ROOT)
    assert good.code == 0, good.stderr
    assert good.stdout.splitlines() == [f"{EX}/policy.toml: policy blocking critical, high: valid", f"{EX}/waivers.toml: 1 waiver(s): valid"]
    (tmp_path / "policy.toml").write_text('block_controls = ["SC-99"]\n')
    unknown = run("policy", "check", str(tmp_path / "policy.toml"))
    assert unknown.code == 2 and one_line_error(unknown) == f"compliance: {tmp_path / 'policy.toml'}: block_controls names unknown control 'SC-99'"
    (tmp_path / "waivers.toml").write_text((ROOT / EX / "waivers.toml").read_text().replace('control = "IA-08"', 'control = "IA-99"'))
    waiver = run("policy", "check", str(tmp_path / "waivers.toml"))
    assert waiver.code == 2 and "waiver W-2026-014 names unknown control 'IA-99'" in one_line_error(waiver)
    (tmp_path / "typo.toml").write_text("block_severity = ['high']\n")
    typo = run("policy", "check", str(tmp_path / "typo.toml"))
    assert typo.code == 2 and "block_severity" in one_line_error(typo)
    catalog = run("controls", "validate")
    assert catalog.code == 0 and catalog.stdout.strip().endswith("profiles: valid")


def test_a_broken_catalog_is_refused_by_the_hook(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "controls", tmp_path / "controls")
    victim = next(p for p in sorted((tmp_path / "controls").rglob("*.toml")) if "library" in p.parts)
    victim.write_text(victim.read_text().replace("severity", "severty", 1))
    result = run("controls", "validate", "--catalog", str(tmp_path / "controls"))
    assert result.code == 2 and victim.name in one_line_error(result)


def test_missing_pdf_libraries_are_named_in_one_line(tmp_path: Path) -> None:
    """WeasyPrint loads Pango with ctypes at import; without it: one line naming what to install, exit 2."""
    fake = tmp_path / "fake" / "weasyprint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise OSError(\"cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared object file\")\n")
    keys = run("keys", "generate", "--output-key-prefix", str(tmp_path / "k"), env={"COSIGN_PASSWORD": "p"})
    assert keys.code == 0, keys.stderr
    packet = tmp_path / "packet.tar.gz"
    result = run("gate", "--facts", f"{EX}/facts.json", "--evidence", str(packet), "--key", str(tmp_path / "k.key"),
                 cwd=ROOT, env={"COSIGN_PASSWORD": "p", "PYTHONPATH": f"{tmp_path / 'fake'}:{ROOT}"})
    assert result.code == 2
    line = one_line_error(result)
    assert line.startswith("compliance: PDF rendering needs the system libraries Pango, HarfBuzz and fonts")
    assert "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b" in line
    assert not packet.exists()  # nothing half-written


@pytest.mark.parametrize("doc", ["docs/ci-release-gate.md"])
def test_the_ci_page_has_the_install_step(doc: str) -> None:
    text = (ROOT / doc).read_text()
    assert "pip install compliance-gate" in text and "libpango-1.0-0" in text and "uses: compliance-gate/compliance-gate@" in text
