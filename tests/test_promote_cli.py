"""``compliance promote`` end to end on real signed probe reports: the three verdicts and
their exit codes, the policy's say (severities, errors, the share of hosts that must
report, stricter canaries), the decision as text, JSON (valid against the published
schema, byte-identical for the same inputs and time) and signed DSSE (verifiable with
openssl), and one-line exit-2 errors for bad inputs."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from compliance.promote.signed_decision import verify_decision
from compliance.signing.dsse import pae
from compliance.signing.keys import load_public_key
from tests.support.cli import ROOT, Result, one_line_error, run
from tests.support.promote import ENV, NONCE, Fleet, Spec, fleet, good, lab_policy, place  # noqa: F401

Reports = dict[str, Spec]


def _promote(fleet: Fleet, tmp_path: Path, specs: Reports, *args: str,  # noqa: F811
             policy: dict[str, Any] | None = None, wave: Path | None = None) -> Result:
    reports = tmp_path / "reports"
    files = fleet.reports(*specs.values())
    place(reports, *files, names=[f"{name}.dsse.json" for name in specs])
    wave = wave or fleet.wave(tmp_path / "wave.json")
    argv = ["promote", "--wave", str(wave), "--reports", str(reports), "--nonce", NONCE, *args]
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy(policy)))
    argv += ["--policy", str(tmp_path / "policy.json")]
    return run(*argv, env=ENV)


def _decision(result: Result) -> dict[str, Any]:
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def _hosts(decision: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in decision["hosts"]}


CLEAN: Reports = {h: good(h) for h in ("web-1", "web-2", "web-3")}


def test_a_clean_wave_promotes_and_names_every_host(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    result = _promote(fleet, tmp_path, CLEAN)
    assert result.code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PROMOTE: wave web@3f2a1c0/1 (exit 0)")
    for host in ("web-1", "web-2", "web-3"):
        assert any(line.split()[:1] == [host] and "valid" in line and "clear" in line for line in result.stdout.splitlines()), host
    assert "Reasons:" not in result.stdout


def test_a_high_failure_rolls_back_naming_host_and_control(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    result = _promote(fleet, tmp_path, {**CLEAN, "web-2": Spec("web-2", setuid=True)}, "--format", "json")
    assert result.code == 1, result.stderr
    decision = _decision(result)
    assert decision["verdict"] == "rollback" and decision["exit_code"] == 1
    reason = decision["reasons"][0]
    assert (reason["action"], reason["host"], reason["control_id"], reason["severity"], reason["status"]) == (
        "rollback", "web-2", "HK-07", "high", "fail")
    assert "/usr/local/bin/rootme" in reason["message"]
    assert _hosts(decision)["web-2"]["outcome"] == "rollback" and _hosts(decision)["web-1"]["outcome"] == "clear"


def test_a_medium_failure_holds_a_host_but_rolls_back_a_canary(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    host = _promote(fleet, tmp_path / "host", {**CLEAN, "web-2": Spec("web-2", shadow_mode=0o644)}, "--format", "json")
    assert host.code == 3, host.stderr
    assert [(r["host"], r["control_id"], r["action"]) for r in _decision(host)["reasons"]] == [("web-2", "HK-06", "hold")]
    canary = _promote(fleet, tmp_path / "canary", {**CLEAN, "web-1": Spec("web-1", shadow_mode=0o644)}, "--format", "json")
    assert canary.code == 1, canary.stderr
    assert [(r["host"], r["control_id"], r["action"]) for r in _decision(canary)["reasons"]] == [("web-1", "HK-06", "rollback")]
    # The policy can make medium failures notes for hosts, never laxer for canaries than for hosts.
    lenient = {"hosts": {"hold_on": []}, "canaries": {"rollback_on": ["critical"], "hold_on": []}}
    noted = _promote(fleet, tmp_path / "noted", {**CLEAN, "web-2": Spec("web-2", shadow_mode=0o644)}, policy=lenient)
    assert noted.code == 0, noted.stdout
    assert "note      web-2  HK-06 medium fail" in noted.stdout
    still = _promote(fleet, tmp_path / "still", {**CLEAN, "web-1": Spec("web-1", setuid=True)}, policy=lenient)
    assert still.code == 1  # hosts roll back on high: so do canaries, whatever their own section says


def test_a_control_the_probe_could_not_decide_holds_unless_the_policy_notes_it(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    specs = {**CLEAN, "web-3": Spec("web-3", shadow=False)}
    held = _promote(fleet, tmp_path / "held", specs, "--format", "json")
    assert held.code == 3
    assert [(r["host"], r["control_id"], r["status"]) for r in _decision(held)["reasons"]] == [("web-3", "IA-01", "error")]
    noted = _promote(fleet, tmp_path / "noted", specs, policy={"hosts": {"errors": "note"}})
    assert noted.code == 0, noted.stdout
    rolled = _promote(fleet, tmp_path / "rolled", specs, policy={"hosts": {"errors": "rollback"}})
    assert rolled.code == 1


def test_missing_evidence_holds_unless_the_share_allows_it_and_never_for_canaries(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    without_web3 = {h: s for h, s in CLEAN.items() if h != "web-3"}
    held = _promote(fleet, tmp_path / "held", without_web3, "--format", "json")
    assert held.code == 3
    decision = _decision(held)
    assert _hosts(decision)["web-3"]["evidence"] == "missing" and _hosts(decision)["web-3"]["outcome"] == "hold"
    assert any(r.get("host") is None and "1 of 2 hosts have valid evidence; the policy needs 2" in r["message"]
               for r in decision["reasons"])
    share = {"hosts": {"min_reported": 0.5}}
    tolerated = _promote(fleet, tmp_path / "tolerated", without_web3, "--format", "json", policy=share)
    assert tolerated.code == 0, tolerated.stdout
    assert _hosts(_decision(tolerated))["web-3"]["outcome"] == "tolerated"
    without_canary = {h: s for h, s in CLEAN.items() if h != "web-1"}
    canary = _promote(fleet, tmp_path / "canary", without_canary, "--format", "json", policy={"hosts": {"min_reported": 0.0}})
    assert canary.code == 3  # the canaries' share stays 100%: the stricter value wins
    assert _hosts(_decision(canary))["web-1"]["outcome"] == "hold"


def test_no_evidence_at_all_never_promotes(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    everyone_optional = {"hosts": {"min_reported": 0.0}, "canaries": {"min_reported": 0.0}}
    result = _promote(fleet, tmp_path, {}, policy=everyone_optional)
    assert result.code == 3
    assert "no host of the wave has valid evidence" in result.stdout


def test_required_controls_must_have_been_checked(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    result = _promote(fleet, tmp_path, CLEAN, "--format", "json", policy={"required_controls": ["CM-01", "LG-01"]})
    assert result.code == 3
    reasons = _decision(result)["reasons"]
    assert {(r["host"], r["control_id"]) for r in reasons} == {("web-1", "LG-01"), ("web-2", "LG-01"), ("web-3", "LG-01")}
    assert all("did not check LG-01" in r["message"] for r in reasons)


def test_the_decision_json_is_deterministic_and_valid_against_the_published_schema(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    specs = {**CLEAN, "web-2": Spec("web-2", setuid=True)}
    first = _promote(fleet, tmp_path / "a", specs, "-o", f"json={tmp_path / 'a.json'}", "-o", f"text={tmp_path / 'a.txt'}")
    second = _promote(fleet, tmp_path / "b", specs, "-o", f"json={tmp_path / 'b.json'}", "--format", "text")
    assert first.code == second.code == 1
    assert first.stdout == ""  # everything went to files
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.txt").read_text() == second.stdout
    schema = json.loads((ROOT / "evidence" / "decision.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    decision = json.loads((tmp_path / "a.json").read_text())
    assert [e.message for e in validator.iter_errors(decision)] == []
    assert not validator.is_valid({**decision, "verdict": "maybe"})
    assert decision["decided_at"] == "2026-11-01T00:00:00Z"
    assert decision["wave_digest"].startswith("sha256:") and decision["policy"]["hosts"]["max_report_age"] == 3600
    assert [r["report_id"] for r in _hosts(decision)["web-2"]["reports"]] == [_hosts(decision)["web-2"]["report_id"]]


def test_the_signed_decision_verifies_with_openssl_and_the_tool(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    result = run("keys", "generate", "--output-key-prefix", str(tmp_path / "cp"), env=ENV)
    assert result.code == 0
    signed, plain = tmp_path / "decision.dsse.json", tmp_path / "decision.json"
    promoted = _promote(fleet, tmp_path, CLEAN, "--key", str(tmp_path / "cp.key"), "-o", f"dsse={signed}", "-o", f"json={plain}")
    assert promoted.code == 0, promoted.stderr
    envelope = json.loads(signed.read_text())
    payload = base64.b64decode(envelope["payload"])
    assert payload + b"\n" == plain.read_bytes()
    (tmp_path / "pae").write_bytes(pae(envelope["payloadType"], payload))
    (tmp_path / "sig").write_bytes(base64.b64decode(envelope["signatures"][0]["sig"]))
    proc = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(tmp_path / "cp.pub"), "-signature", str(tmp_path / "sig"),
                           str(tmp_path / "pae")], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "Verified OK" in proc.stdout, proc.stderr
    decision = verify_decision(signed.read_bytes(), load_public_key(tmp_path / "cp.pub"), "decision")
    assert decision.verdict.value == "promote" and [h.name for h in decision.hosts] == ["web-1", "web-2", "web-3"]
    other = run("keys", "generate", "--output-key-prefix", str(tmp_path / "other"), env=ENV)
    assert other.code == 0
    from compliance.errors import VerificationError

    with pytest.raises(VerificationError, match="does not verify"):
        verify_decision(signed.read_bytes(), load_public_key(tmp_path / "other.pub"), "decision")


def _bad_wave(fleet: Fleet, tmp_path: Path, change: str) -> Path:  # noqa: F811
    path = fleet.wave(tmp_path / "wave.json")
    doc = json.loads(path.read_text())
    if change == "duplicate host":
        doc["hosts"].append(doc["hosts"][0])
    elif change == "shared key":
        doc["hosts"][1]["public_key"] = doc["hosts"][0]["public_key"]
    elif change == "bad key":
        doc["hosts"][2]["public_key"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    elif change == "no key":
        del doc["hosts"][0]["public_key"]
    elif change == "bad closure":
        doc["hosts"][0]["expected_closure"] = "/etc/nixos"
    elif change == "misspelt field":
        doc["hosts"][0]["expected_closures"] = doc["hosts"][0].pop("expected_closure")
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("duplicate host", "wave.json: hosts: host web-1 is listed twice"),
        ("shared key", "wave.json: hosts web-1 and web-2 share the key SHA256:"),
        ("bad key", "wave.json: hosts.2 (web-3): public_key: not a PEM public key"),
        ("no key", "wave.json: hosts.0: a host needs public_key or ssh_host_key"),
        ("bad closure", "wave.json: hosts.0.expected_closure: String should match pattern"),
        ("misspelt field", "wave.json: hosts.0.expected_closures: unknown field (misspelt?)"),
    ],
)
def test_a_bad_wave_file_is_one_line_exit_2(fleet: Fleet, tmp_path: Path, case: str, message: str) -> None:  # noqa: F811
    result = _promote(fleet, tmp_path, CLEAN, wave=_bad_wave(fleet, tmp_path, case))
    assert result.code == 2, result.stdout
    assert message in one_line_error(result)


@pytest.mark.parametrize(
    ("args", "policy", "message"),
    [
        (["--nonce", "another-nonce-0123456"], None, "wave.json: nonce: the wave file's nonce is not the one given with --nonce"),
        ([], {"min_nonce_length": 64}, "wave.json: nonce: 21 characters; the policy needs at least 64"),
        ([], {"hosts": {"max_report_age": "an hour"}}, "policy.json: hosts.max_report_age: 'an hour' is not a duration"),
        ([], {"hosts": {"rollback_on": ["high"], "hold_on": ["high"]}}, "policy.json: hosts: high: both in rollback_on and hold_on"),
        ([], {"min_soak": "10m"}, "wave.json: activated_at: the policy's min_soak of 10m needs to know when the wave was activated"),
        ([], {"wrong_closure": "note"}, "policy.json: wrong_closure: Input should be 'hold' or 'rollback'"),
        ([], {"max_report_age": "1h"}, "policy.json: max_report_age: unknown field (misspelt?)"),
        ([], {"max_clock_skew": "999999999d"}, "policy.json: max_clock_skew: a duration of at most 100 years"),
        ([], {"hosts": {"max_report_age": 10**19}}, "policy.json: hosts.max_report_age: a duration of at most 100 years"),
        (["-o", "dsse={tmp}/d.json"], None, "-o dsse=FILE (a signed decision) needs --key"),
        (["-o", "json={tmp}"], None, ": is a directory, expected a file name"),
        (["--format", "yaml"], None, "--format yaml: unknown format"),
        (["--serve", "localhost"], None, "--serve localhost: expected HOST:PORT"),
    ],
)
def test_bad_arguments_and_policies_are_one_line_exit_2(
    fleet: Fleet, tmp_path: Path, args: list[str], policy: dict[str, Any] | None, message: str,  # noqa: F811
) -> None:
    argv = [a.format(tmp=tmp_path) for a in args]
    if argv[:1] == ["--nonce"]:
        wave = fleet.wave(tmp_path / "wave.json")
        (tmp_path / "reports").mkdir()
        result = run("promote", "--wave", str(wave), "--reports", str(tmp_path / "reports"), *argv, env=ENV)
    else:
        result = _promote(fleet, tmp_path, {}, *argv, policy=policy)
    assert result.code == 2, result.stdout
    assert message in one_line_error(result)


def test_missing_inputs_are_one_line_exit_2(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    wave = fleet.wave(tmp_path / "wave.json")
    absent = run("promote", "--wave", str(tmp_path / "absent.json"), "--reports", str(tmp_path), "--nonce", NONCE)
    assert absent.code == 2 and "absent.json: no such file" in one_line_error(absent)
    no_dir = run("promote", "--wave", str(wave), "--reports", str(tmp_path / "nowhere"), "--nonce", NONCE)
    assert no_dir.code == 2 and "nowhere: no such folder of reports" in one_line_error(no_dir)
    (tmp_path / "garbled.json").write_text("{\"id\": ")
    garbled = run("promote", "--wave", str(tmp_path / "garbled.json"), "--reports", str(tmp_path), "--nonce", NONCE)
    assert garbled.code == 2 and "garbled.json: invalid JSON" in one_line_error(garbled)
    toml = tmp_path / "wave.toml"
    toml.write_text('id = "w"\nnonce = "' + NONCE + '"\nhosts = 3\n')
    typed = run("promote", "--wave", str(toml), "--reports", str(tmp_path), "--nonce", NONCE)
    assert typed.code == 2 and "wave.toml: hosts: Input should be a valid list" in one_line_error(typed)


# ---------------------------------------------------------------------------- the default policy


def test_by_default_a_probe_of_an_offline_root_is_not_evidence_of_the_running_host(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    from compliance.promote.promotion_policy import PromotionPolicy

    assert PromotionPolicy().hosts.accept_offline_root is False
    reports = place(tmp_path / "reports", *fleet.reports(*CLEAN.values()), names=[f"{n}.dsse.json" for n in CLEAN])
    argv = ["promote", "--wave", str(fleet.wave(tmp_path / "wave.json")), "--reports", str(reports), "--nonce", NONCE, "--format", "json"]
    held = run(*argv, env=ENV)
    assert held.code == 3, held.stdout
    decision = _decision(held)
    assert {h["name"]: h["evidence"] for h in decision["hosts"]} == dict.fromkeys(CLEAN, "binds_less")
    assert "a probe of an offline root" in decision["hosts"][0]["reports"][0]["message"]
    # Accepted for hosts only: the canary (web-1) is still held, canary rules being the stricter.
    (tmp_path / "hosts.json").write_text(json.dumps({"hosts": {"accept_offline_root": True}, "required_controls": []}))
    canary = _decision(run(*argv, "--policy", str(tmp_path / "hosts.json"), env=ENV))
    assert canary["verdict"] == "hold" and {h["name"]: h["evidence"] for h in canary["hosts"]}["web-1"] == "binds_less"
    (tmp_path / "both.json").write_text(json.dumps(lab_policy()))
    assert run(*argv, "--policy", str(tmp_path / "both.json"), env=ENV).code == 0


def test_by_default_every_report_must_cover_the_controls_probe_runs_by_default(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    from compliance.catalog.loader import load_catalog
    from compliance.models.control import CheckKind
    from compliance.promote.wave_judge import default_required_controls

    runtime = sorted(c.id for c in load_catalog().controls.values() if c.checks_of(CheckKind.RUNTIME))
    assert list(default_required_controls()) == runtime and len(runtime) > 4
    reports = place(tmp_path / "reports", *fleet.reports(*CLEAN.values()), names=[f"{n}.dsse.json" for n in CLEAN])
    argv = ["promote", "--wave", str(fleet.wave(tmp_path / "wave.json")), "--reports", str(reports), "--nonce", NONCE, "--format", "json"]
    offline_only = {"hosts": {"accept_offline_root": True}, "canaries": {"accept_offline_root": True}}
    (tmp_path / "default.json").write_text(json.dumps(offline_only))
    held = run(*argv, "--policy", str(tmp_path / "default.json"), env=ENV)
    assert held.code == 3
    reasons = _decision(held)["reasons"]
    missing = [c for c in runtime if c not in ("CM-01", "HK-06", "HK-07", "IA-01")]
    assert {r["host"] for r in reasons} == set(CLEAN)
    assert all(f"did not check {len(missing)} of the {len(runtime)} controls 'compliance probe' runs by default" in r["message"]
               and ", ".join(missing) in r["message"] for r in reasons), reasons
    # The policy says otherwise explicitly: the four controls the profile runs.
    (tmp_path / "four.json").write_text(json.dumps({**offline_only, "required_controls": ["CM-01", "HK-06", "HK-07", "IA-01"]}))
    assert run(*argv, "--policy", str(tmp_path / "four.json"), env=ENV).code == 0
