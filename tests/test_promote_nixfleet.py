"""nixfleet-compliance's evidence.json at the wave gate: both shapes (the collector's and
the documented v0.2 one), signed as its hosts sign them (JCS bytes, ed25519 host key from
ssh-keygen, base64 in evidence.json.sig), verified with the key the wave file pins; and
the policy's say over evidence that binds only a host name and a time."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compliance.promote.promotion_policy import PromotionPolicy
from compliance.promote.session import PromotionGate
from compliance.promote.wave_decision import WaveDecision
from compliance.util.canonical import canonical_json
from tests.support.cli import one_line_error, run
from tests.support.promote import (  # noqa: F401
    ENV,
    NONCE,
    Fleet,
    SshKey,
    T,
    documented_evidence,
    fleet,
    good,
    isoformat_epoch,
    lab_policy,
    place,
    runner_evidence,
    ssh_keygen,
    write_nixfleet,
)

ACTIVATED = T - 600


def _decide(fleet: Fleet, tmp_path: Path, evidence: dict[str, dict[str, Any]], policy: dict[str, Any] | None = None,  # noqa: F811
            *, canaries: tuple[str, ...] = ("web-1",), activated_at: int | None = ACTIVATED,
            keys: dict[str, SshKey] | None = None, sign_with: dict[str, SshKey] | None = None) -> WaveDecision:
    """A wave of web-1 (probe report) and the nixfleet hosts of ``evidence`` (host → evidence.json)."""
    keys = keys or {name: ssh_keygen(tmp_path.parent / "ssh", name) for name in evidence}
    reports = place(tmp_path / "reports", fleet.report(good("web-1")), names=["web-1.dsse.json"])
    for name, doc in evidence.items():
        write_nixfleet(reports / name, doc, (sign_with or keys)[name])
    wave = fleet.wave(tmp_path / "wave.json", ("web-1", *evidence), canaries=canaries, activated_at=activated_at,
                      ssh_keys={n: k.public_line for n, k in keys.items()})
    policy_path = tmp_path / "policy.json"
    policy_path.write_text(json.dumps(lab_policy(policy)))
    return PromotionGate.load(wave, reports, NONCE, policy_path).decide(_now())


def _now() -> Any:
    from compliance.util import clock

    return clock.now()


def _host(decision: WaveDecision, name: str) -> Any:
    return next(h for h in decision.hosts if h.name == name)


ACCEPT = {"hosts": {"accept_nixfleet": True}}


def test_nixfleet_evidence_is_verified_but_refused_by_default_because_it_binds_less(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    decision = _decide(fleet, tmp_path, {"web-4": runner_evidence("web-4", T - 60)})
    web4 = _host(decision, "web-4")
    assert decision.verdict.value == "hold"
    assert web4.evidence.value == "binds_less" and web4.reports[0].signer and web4.reports[0].signer.startswith("SHA256:")
    assert "binds only host and time" in web4.reports[0].message and "does not accept it" in web4.reports[0].message


@pytest.mark.parametrize("shape", [runner_evidence, documented_evidence])
def test_accepted_nixfleet_evidence_promotes_and_the_decision_says_what_it_binds(fleet: Fleet, tmp_path: Path, shape: Any) -> None:  # noqa: F811
    decision = _decide(fleet, tmp_path, {"web-4": shape("web-4", T - 60)}, ACCEPT)
    web4 = _host(decision, "web-4")
    assert decision.verdict.value == "promote", decision.reasons
    assert (web4.evidence.value, web4.kind.value, [b.value for b in web4.binds]) == ("valid", "nixfleet-evidence", ["host", "time"])
    assert web4.running_closure is None and web4.controls
    assert any("no nonce, closure, machine or boot id" in f.message for f in web4.findings)
    assert decision.summary.nixfleet == 1
    assert _host(decision, "web-1").binds[-1].value == "time" and len(_host(decision, "web-1").binds) == 5


def test_failures_in_nixfleet_evidence_roll_back_and_errors_hold(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    failing = runner_evidence("web-4", T - 60, {"access-control": "non-compliant", "audit-logging": "compliant"})
    rolled = _decide(fleet, tmp_path / "fail", {"web-4": failing}, ACCEPT)
    assert rolled.verdict.value == "rollback"
    assert [(r.host, r.control_id, r.status.value if r.status else None) for r in rolled.reasons] == [("web-4", "access-control", "fail")]
    erring = runner_evidence("web-4", T - 60, {"access-control": "compliant", "backup-retention": "error"})
    held = _decide(fleet, tmp_path / "error", {"web-4": erring}, ACCEPT)
    assert held.verdict.value == "hold" and "probe exited with code 127" in held.reasons[0].message
    documented = documented_evidence("web-4", T - 60, {"access-control": True, "secure-boot": False})
    documented["controls"][1]["details"] = {"error": "bootctl not found"}
    assert _decide(fleet, tmp_path / "v2", {"web-4": documented}, ACCEPT).reasons[0].status.value == "error"  # type: ignore[union-attr]
    softer = {**ACCEPT, "nixfleet": {"non_compliant": "hold"}}
    assert _decide(fleet, tmp_path / "softer", {"web-4": failing}, softer).verdict.value == "hold"


def test_nixfleet_evidence_needs_activation_time_a_shorter_age_and_is_refused_for_canaries(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    fresh = {"web-4": runner_evidence("web-4", T - 60)}
    no_activation = _decide(fleet, tmp_path / "a", fresh, ACCEPT, activated_at=None)
    assert _host(no_activation, "web-4").evidence.value == "binds_less"
    assert "no activated_at" in _host(no_activation, "web-4").reports[0].message
    twenty_minutes = {"web-4": runner_evidence("web-4", T - 1200)}
    stale = _decide(fleet, tmp_path / "b", twenty_minutes, ACCEPT, activated_at=T - 3000)
    assert _host(stale, "web-4").evidence.value == "stale" and "accepts 15m" in _host(stale, "web-4").reports[0].message
    longer = {**ACCEPT, "nixfleet": {"max_report_age": "30m"}}
    assert _decide(fleet, tmp_path / "c", twenty_minutes, longer, activated_at=T - 3000).verdict.value == "promote"
    before = _decide(fleet, tmp_path / "d", {"web-4": runner_evidence("web-4", ACTIVATED - 30)}, ACCEPT)
    assert _host(before, "web-4").evidence.value == "not_yet_fresh"
    canary = _decide(fleet, tmp_path / "e", fresh, ACCEPT, canaries=("web-1", "web-4"))
    assert _host(canary, "web-4").evidence.value == "binds_less" and canary.verdict.value == "hold"
    both = {"hosts": {"accept_nixfleet": True}, "canaries": {"accept_nixfleet": True}}
    assert _decide(fleet, tmp_path / "f", fresh, both, canaries=("web-1", "web-4")).verdict.value == "promote"


def test_the_share_of_hosts_on_nixfleet_evidence_and_its_required_controls(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    two = {"web-4": runner_evidence("web-4", T - 60), "web-5": documented_evidence("web-5", T - 60)}
    capped = _decide(fleet, tmp_path / "a", two, {**ACCEPT, "nixfleet": {"max_share": 0.5}})
    assert capped.verdict.value == "hold"
    assert any("2 of 3 hosts rest on nixfleet evidence" in r.message and "allows 1" in r.message for r in capped.reasons)
    required = _decide(fleet, tmp_path / "b", two, {**ACCEPT, "nixfleet": {"required_controls": ["encryption-at-rest"]}})
    assert [(r.host, r.control_id) for r in required.reasons] == [("web-5", "encryption-at-rest")]


def _tampered(tmp_path: Path, fleet: Fleet, change: str) -> Any:  # noqa: F811
    keys = {"web-4": ssh_keygen(tmp_path.parent / "ssh", "web-4")}
    doc = runner_evidence("web-4", T - 60)
    decision_dir = tmp_path / change.replace(" ", "-")
    reports = decision_dir / "reports"
    evidence = write_nixfleet(reports / "web-4", doc, keys["web-4"])
    sig = evidence.with_name("evidence.json.sig")
    if change == "a status changed after signing":
        evidence.write_text(evidence.read_text().replace('"compliant"', '"non-compliant"', 1))
    elif change == "re-indented and keys reordered":  # same JSON value: the JCS bytes, and so the signature, hold
        evidence.write_text(json.dumps(dict(reversed(list(doc.items()))), indent=4, sort_keys=False))
    elif change == "signed by another host key":
        sig.write_text(ssh_keygen(tmp_path.parent / "ssh", "mallory").sign_jcs(doc) + "\n")
    elif change == "the attacker's key shipped next to it":
        mallory = ssh_keygen(tmp_path.parent / "ssh", "mallory")
        sig.write_text(mallory.sign_jcs(doc) + "\n")
        evidence.with_name("evidence.host.pub").write_text(mallory.public_line + "\n")
    elif change == "unsigned":
        sig.unlink()
    elif change == "signature not base64":
        sig.write_text("not base64!\n")
    elif change == "signature too short":
        sig.write_text("AAAA\n")
    elif change == "another schema version":
        doc = {**documented_evidence("web-4", T - 60), "schemaVersion": 2}
        evidence.write_text(json.dumps(doc))
        sig.write_text(keys["web-4"].sign_jcs(doc) + "\n")
    elif change == "naive timestamp":
        doc = {**doc, "timestamp": isoformat_epoch(T - 60).rstrip("Z")}
        evidence.write_text(json.dumps(doc))
        sig.write_text(keys["web-4"].sign_jcs(doc) + "\n")
    elif change == "a control reported twice":
        doc = {**doc, "controls": doc["controls"] + doc["controls"][:1]}
        evidence.write_text(json.dumps(doc))
        sig.write_text(keys["web-4"].sign_jcs(doc) + "\n")
    wave = fleet.wave(decision_dir / "wave.json", ("web-4",), canaries=(), activated_at=ACTIVATED,
                      ssh_keys={"web-4": keys["web-4"].public_line})
    (decision_dir / "policy.json").write_text(json.dumps(lab_policy(ACCEPT)))
    return _host(PromotionGate.load(wave, reports, NONCE, decision_dir / "policy.json").decide(_now()), "web-4")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("a status changed after signing", "does not verify with the host key SHA256:"),
        ("signed by another host key", "does not verify"),
        ("the attacker's key shipped next to it", "does not verify"),
        ("unsigned", "no signature (web-4/evidence.json.sig): unsigned nixfleet evidence is refused"),
        ("signature not base64", "the signature is not valid base64"),
        ("signature too short", "an ed25519 signature is 64 bytes, this one 3"),
        ("another schema version", "signed, but not nixfleet evidence: schemaVersion"),
        ("naive timestamp", "signed, but not nixfleet evidence: timestamp"),
        ("a control reported twice", "control access-control is reported twice"),
    ],
)
def test_tampered_forged_or_malformed_nixfleet_evidence_is_invalid(fleet: Fleet, tmp_path: Path, change: str, message: str) -> None:  # noqa: F811
    web4 = _tampered(tmp_path, fleet, change)
    assert web4.evidence.value == "invalid" and web4.outcome.value == "hold"
    assert message in web4.reports[0].message, web4.reports[0].message


def test_the_signature_covers_the_json_value_not_its_spelling(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    web4 = _tampered(tmp_path, fleet, "re-indented and keys reordered")
    assert web4.evidence.value == "valid"


def test_the_signed_bytes_are_rfc_8785(tmp_path: Path) -> None:
    """The bytes a nixfleet host signs (serde_jcs): written out by hand for one evidence.json."""
    doc = {"timestamp": "2026-11-01T00:00:00Z", "host": "web-4", "overall": "1/1 controls compliant",
           "controls": [{"status": "compliant", "control": "access-control", "checks": {"ratio": 0.5, "n": 10, "é": "ü\n"},
                         "framework_articles": {"nis2": ["21(i)"]}}]}
    assert canonical_json(doc) == (
        '{"controls":[{"checks":{"n":10,"ratio":0.5,"é":"ü\\n"},"control":"access-control",'
        '"framework_articles":{"nis2":["21(i)"]},"status":"compliant"}],"host":"web-4",'
        '"overall":"1/1 controls compliant","timestamp":"2026-11-01T00:00:00Z"}'
    ).encode()
    key = ssh_keygen(tmp_path, "golden")
    # ssh-keygen's own view of the key agrees with the one the gate computes.
    from compliance.promote.hostkeys import parse_ssh_host_key

    listed = subprocess.run(["ssh-keygen", "-lf", str(key.private) + ".pub"], capture_output=True, text=True, check=True)
    assert listed.stdout.split()[1] == parse_ssh_host_key(key.public_line).fingerprint


def test_a_wave_host_without_the_right_key_kind_cannot_be_vouched_for(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    key = ssh_keygen(tmp_path / "ssh", "web-2")
    reports = tmp_path / "reports"
    write_nixfleet(reports / "web-2", runner_evidence("web-2", T - 60), key)
    wave = fleet.wave(tmp_path / "wave.json", ("web-2",), canaries=(), activated_at=ACTIVATED)  # a PEM key only
    decision = PromotionGate.load(wave, reports, NONCE, None).decide(_now())
    assert "gives this host no ssh_host_key" in decision.hosts[0].reports[0].message


def test_only_ed25519_host_keys_are_accepted_in_a_wave_file(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", str(tmp_path / "ecdsa")], check=True)
    wave = fleet.wave(tmp_path / "wave.json", ("web-2",), canaries=(),
                      ssh_keys={"web-2": (tmp_path / "ecdsa.pub").read_text()})
    (tmp_path / "reports").mkdir()
    result = run("promote", "--wave", str(wave), "--reports", str(tmp_path / "reports"), "--nonce", NONCE, env=ENV)
    assert result.code == 2
    assert "wave.json: hosts.0 (web-2): ssh_host_key: expected an OpenSSH 'ssh-ed25519 AAAA…' public key line" in one_line_error(result)


def test_promote_exit_codes_with_nixfleet_hosts(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    reports = place(tmp_path / "reports", fleet.report(good("web-1")), names=["web-1.dsse.json"])
    write_nixfleet(reports / "web-4", runner_evidence("web-4", T - 60), key)
    wave = fleet.wave(tmp_path / "wave.json", ("web-1", "web-4"), activated_at=ACTIVATED, ssh_keys={"web-4": key.public_line})
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy({"hosts": {"accept_nixfleet": True}, "nixfleet": {"max_report_age": "10m"}})))
    base = ["promote", "--wave", str(wave), "--reports", str(reports), "--nonce", NONCE]
    assert run(*base, env=ENV).code == 3
    accepted = run(*base, "--policy", str(tmp_path / "policy.json"), env=ENV)
    assert accepted.code == 0, accepted.stdout
    assert "1 on nixfleet evidence" in accepted.stdout
    assert PromotionPolicy().hosts.accept_nixfleet is False  # the default refuses it


def test_nixfleet_errors_are_judged_by_the_stricter_of_the_host_rules_and_nixfleets(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    erring = {"web-4": runner_evidence("web-4", T - 60, {"access-control": "compliant", "backup-retention": "error"})}
    assert _decide(fleet, tmp_path / "a", erring, ACCEPT).verdict.value == "hold"
    hosts = _decide(fleet, tmp_path / "b", erring, {"hosts": {"accept_nixfleet": True, "errors": "rollback"}})
    assert hosts.verdict.value == "rollback" and hosts.reasons[0].control_id == "backup-retention"
    both = {"hosts": {"accept_nixfleet": True}, "canaries": {"accept_nixfleet": True, "errors": "rollback"}}
    assert _decide(fleet, tmp_path / "c", erring, both).verdict.value == "hold"  # web-4 is no canary here
    assert _decide(fleet, tmp_path / "d", erring, both, canaries=("web-1", "web-4")).verdict.value == "rollback"
    # nixfleet's own setting still applies where it is the stricter
    assert _decide(fleet, tmp_path / "e", erring, {**ACCEPT, "nixfleet": {"errors": "rollback"}}).verdict.value == "rollback"


def test_evidence_signed_with_another_wave_hosts_key_says_whose(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    keys = {name: ssh_keygen(tmp_path / "ssh", name) for name in ("web-4", "web-5")}
    evidence = {"web-4": runner_evidence("web-4", T - 60), "web-5": runner_evidence("web-5", T - 60)}
    decision = _decide(fleet, tmp_path / "d", evidence, ACCEPT, keys=keys, sign_with={"web-4": keys["web-5"], "web-5": keys["web-5"]})
    web4 = _host(decision, "web-4")
    assert web4.evidence.value == "invalid" and "(it is signed with the key of web-5)" in web4.reports[0].message, web4.reports[0].message
    assert _host(decision, "web-5").evidence.value == "valid"


@pytest.mark.parametrize("field", ["timestamp", "collectedAt"])
def test_a_time_in_seconds_since_the_epoch_is_invalid_like_a_naive_one(fleet: Fleet, tmp_path: Path, field: str) -> None:  # noqa: F811
    doc = runner_evidence("web-4", T - 60) if field == "timestamp" else documented_evidence("web-4", T - 60)
    doc[field] = T - 60
    web4 = _host(_decide(fleet, tmp_path, {"web-4": doc}, ACCEPT), "web-4")
    assert web4.evidence.value == "invalid" and "RFC 3339" in web4.reports[0].message, web4.reports[0].message
