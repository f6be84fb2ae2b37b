"""nixfleet-native output: a probe report written as nixfleet-compliance's evidence.json
(JCS bytes, ed25519 by the host's OpenSSH key made by ssh-keygen, base64 in .sig) is read
back by this project's nixfleet reader and verified with the host key, its bytes are
those of the reference RFC 8785 encoder, its signature verifies with an independent
ed25519 implementation (PyNaCl); and a wave decision becomes the compliance-failure and
runtime-gate-error events nixfleet's reconciler blocks on, in its wire shape."""

from __future__ import annotations

import base64
import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.signing
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.errors import VerificationError
from compliance.evidence.nixfleet_evidence import evidence_document, sign_evidence
from compliance.evidence.probe_report import verify_report
from compliance.models.common import Status
from compliance.models.probe import ProbeReport
from compliance.promote.collect import candidate_from_bytes
from compliance.promote.hostkeys import HostKeys
from compliance.promote.readers.nixfleet import NixfleetReader
from compliance.signing.keys import load_public_key
from compliance.signing.ssh_host_signer import SshHostSigner
from tests.support.cli import one_line_error, run
from tests.support.promote import ENV, NONCE, Fleet, Spec, T, closure, fleet, lab_policy  # noqa: F401
from tests.test_promote_canonical import reference

READER = NixfleetReader()


@pytest.fixture(scope="module")
def host_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ssh") / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    return path


def _pub(key: Path) -> str:
    return key.with_name(key.name + ".pub").read_text().strip()


def _probe_nixfleet(fleet: Fleet, host_key: Path, out: Path, spec: Spec) -> Any:  # noqa: F811
    spec = replace(spec, at=spec.at - 1)  # a root of its own, apart from the fleet's reports
    root = fleet.base / "roots" / spec.label
    if not root.exists():
        root = fleet.root(spec)
    out.mkdir(parents=True, exist_ok=True)
    return run("probe", "--catalog", str(fleet.catalog), "--profile", "wave-test", "--root", str(root),
               "--key", str(fleet.key(spec.host)[0]), "--nonce", spec.nonce, "--expect-closure", closure(spec.host),
               "-o", str(out / "report.dsse.json"), "--nixfleet-dir", str(out), "--nixfleet-key", str(host_key),
               env={**ENV, "SOURCE_DATE_EPOCH": str(spec.at)})


def _read_back(folder: Path, pub: str) -> Any:
    data = (folder / "evidence.json").read_bytes()
    candidate = candidate_from_bytes("evidence.json", data, (folder / "evidence.json.sig").read_bytes())
    doc = json.loads(data)
    claim = READER.claim(doc)
    assert claim is not None
    return READER.verify(candidate, doc, claim, HostKeys.parse(None, pub))


def test_evidence_written_by_probe_reads_back_and_verifies_with_the_host_key(fleet: Fleet, host_key: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    result = _probe_nixfleet(fleet, host_key, out, Spec("web-2", setuid=True))
    assert result.code == 0, result.stderr
    report = verify_report((out / "report.dsse.json").read_bytes(), load_public_key(fleet.key("web-2")[1]), "r")
    evidence = _read_back(out, _pub(host_key))
    assert evidence.host == "web-2"
    assert evidence.created == report.created
    statuses = {r.control_id: r.status for r in report.assessment.results}
    assert statuses["HK-07"] is Status.FAIL  # the stray setuid program
    assert {c.control_id: c.status for c in evidence.controls} == {
        cid: s for cid, s in statuses.items() if s is not Status.NOT_APPLICABLE}
    doc = json.loads((out / "evidence.json").read_bytes())
    hk07 = next(c for c in doc["controls"] if c["control"] == "HK-07")
    assert hk07["status"] == "non-compliant" and hk07["checks"]["compliant"] is False
    assert "rootme" in hk07["checks"]["message"]
    assert hk07["framework_articles"] and set(hk07["framework_articles"]) <= {"nis2", "dora", "iso27001", "anssi-bp028"}
    assert doc["compliance_gate"]["nonce"] == NONCE
    assert doc["compliance_gate"]["running_closure"] == closure("web-2")
    assert (out / "evidence.host.pub").read_text().split()[:2] == _pub(host_key).split()[:2]


def test_the_bytes_are_the_reference_encoders_and_an_independent_verifier_accepts_them(fleet: Fleet, host_key: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    assert _probe_nixfleet(fleet, host_key, out, Spec("web-1")).code == 0
    data = (out / "evidence.json").read_bytes()
    assert data.endswith(b"\n")
    message = data[:-1]
    assert message == reference(json.loads(data))  # JCS, as the RFC 8785 reference encoder writes it
    signature = base64.b64decode((out / "evidence.json.sig").read_text().strip(), validate=True)
    assert len(signature) == 64
    raw = HostKeys.parse(None, _pub(host_key)).ssh_key
    assert raw is not None
    nacl.signing.VerifyKey(raw.raw).verify(message, signature)  # PyNaCl, not the cryptography library
    with pytest.raises(nacl.exceptions.BadSignatureError):
        nacl.signing.VerifyKey(raw.raw).verify(message.replace(b"compliant", b"Compliant", 1), signature)


def test_a_tampered_evidence_or_another_key_is_refused(fleet: Fleet, host_key: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "out"
    assert _probe_nixfleet(fleet, host_key, out, Spec("web-1")).code == 0
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(other)], check=True)
    with pytest.raises(VerificationError, match="does not verify with the host key"):
        _read_back(out, _pub(other))
    doc = json.loads((out / "evidence.json").read_bytes())
    doc["controls"][0]["status"] = "compliant" if doc["controls"][0]["status"] != "compliant" else "error"
    (out / "evidence.json").write_text(json.dumps(doc, indent=2))
    with pytest.raises(VerificationError, match="does not verify with the host key"):
        _read_back(out, _pub(host_key))


def test_nixfleet_key_errors_are_one_line(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    rsa = tmp_path / "rsa_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(rsa)], check=True)
    encrypted = tmp_path / "enc_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(encrypted)], check=True)
    (tmp_path / "out").mkdir()
    for key, message in ((rsa, "only ed25519 host keys"), (encrypted, "the key is encrypted"),
                         (fleet.key("web-1")[0], "not an OpenSSH private key")):
        result = run("probe", "--root", str(tmp_path), "--key", str(fleet.key("web-1")[0]), "--nonce", NONCE,
                     "--nixfleet-dir", str(tmp_path / "out"), "--nixfleet-key", str(key), env=ENV)
        assert result.code == 2
        assert message in one_line_error(result)
        assert not list((tmp_path / "out").iterdir())


@pytest.fixture(scope="module")
def base_report(fleet: Fleet) -> ProbeReport:  # noqa: F811
    path = fleet.report(Spec("web-3"))
    return verify_report(path.read_bytes(), load_public_key(fleet.key("web-3")[1]), "r")


EXPECTED = {Status.PASS: Status.PASS, Status.FAIL: Status.FAIL, Status.ERROR: Status.ERROR,
            Status.MANUAL: Status.ERROR, Status.WAIVED: Status.ERROR}


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.lists(st.sampled_from(list(Status)), min_size=1, max_size=4))
def test_every_status_reads_back_as_it_was_meant_never_better(base_report: ProbeReport, host_key: Path, statuses: list[Status]) -> None:
    """pass and fail keep their meaning, not_applicable is left out, anything else is an error."""
    results = [base_report.assessment.results[i % len(base_report.assessment.results)].model_copy(
        update={"status": s, "control_id": f"X-{i:02d}"}) for i, s in enumerate(statuses)]
    report = base_report.model_copy(update={"assessment": base_report.assessment.model_copy(update={"results": results})})
    files = sign_evidence(report, SshHostSigner.from_file(host_key))
    candidate = candidate_from_bytes("evidence.json", files.evidence, files.signature)
    doc = json.loads(files.evidence)
    claim = READER.claim(doc)
    assert claim is not None
    evidence = READER.verify(candidate, doc, claim, HostKeys.parse(None, _pub(host_key)))
    assert {c.control_id: c.status for c in evidence.controls} == {
        f"X-{i:02d}": EXPECTED[s] for i, s in enumerate(statuses) if s is not Status.NOT_APPLICABLE}
    assert doc["overall"] == f"{sum(1 for s in statuses if s is Status.PASS)}/{len(doc['controls'])} controls compliant"
    assert evidence_document(report) == doc


def _promote_events(fleet: Fleet, tmp_path: Path, specs: list[Spec], *, hosts: tuple[str, ...]) -> tuple[int, list[dict[str, Any]]]:  # noqa: F811
    reports = tmp_path / "reports"
    reports.mkdir()
    for spec, path in zip(specs, fleet.reports(*specs), strict=True):
        (reports / f"{spec.host}.dsse.json").write_bytes(path.read_bytes())
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy()))
    events = tmp_path / "events.jsonl"
    result = run("promote", "--wave", str(fleet.wave(tmp_path / "wave.json", hosts)), "--reports", str(reports),
                 "--nonce", NONCE, "--policy", str(tmp_path / "policy.json"), "-o", f"nixfleet-events={events}", env=ENV)
    return result.code, [json.loads(line) for line in events.read_text().splitlines()]


def test_a_rollback_becomes_compliance_failures_and_a_missing_report_a_runtime_gate_error(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    code, events = _promote_events(fleet, tmp_path, [Spec("web-1"), Spec("web-2", setuid=True)], hosts=("web-1", "web-2", "web-3"))
    assert code == 1
    by_host = {(e["hostname"], e["event"]): e for e in events}
    failure = by_host[("web-2", "compliance-failure")]
    assert set(failure) == {"hostname", "agentVersion", "occurredAt", "rollout", "event", "details"}
    assert failure["rollout"] == "web@3f2a1c0/1"
    assert failure["occurredAt"] == "2026-11-01T00:00:00Z"
    details = failure["details"]
    assert details["control_id"] == "HK-07" and details["status"] == "non-compliant"
    assert details["framework_articles"] == [] and details["evidence_collected_at"] == "2026-11-01T00:00:00Z"
    assert "rootme" in details["evidence_snippet"]["message"] and "signature" not in details
    gate_error = by_host[("web-3", "runtime-gate-error")]["details"]
    assert gate_error["reason"] == "missing: no report"
    assert gate_error["activation_completed_at"] == "2026-11-01T00:00:00Z"  # no activated_at: the decision's time
    assert "evidence_collected_at" not in gate_error
    assert not any(e["hostname"] == "web-1" for e in events)  # nothing outstanding on a clean host
    assert [e["hostname"] for e in events].count("web-2") == 1


def test_a_promote_decision_has_no_event(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    code, events = _promote_events(fleet, tmp_path, [Spec("web-1"), Spec("web-2")], hosts=("web-1", "web-2"))
    assert code == 0
    assert events == []
