"""``promote --serve`` never lets an upload that does not verify touch verified evidence.

The attack: web-2's genuine report fails a high-severity control (the wave rolls back);
one POST of a report that claims to be web-2's, taken far in the future, and does not
verify. It must be refused (4xx), kept apart in the quarantine folder, counted in the
decision's notes, and change nothing: web-2's report stays, the wave still rolls back,
and web-2's next genuine report is kept, before and after a restart. Then the variants:
past-dated, same-time, another host's name, a nixfleet upload without signature, and a
replay of an older genuine report.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compliance.util.canonical import canonical_json
from tests.support.promote import (  # noqa: F401
    ENV,
    NONCE,
    Fleet,
    Spec,
    T,
    fleet,
    isoformat_epoch,
    lab_policy,
    runner_evidence,
    ssh_keygen,
)
from tests.support.service import Service, running, start

FAR_FUTURE = "2099-01-01T00:00:00Z"


def _args(fleet: Fleet, tmp: Path) -> list[str]:  # noqa: F811
    key = ssh_keygen(tmp / "ssh", "web-4")
    wave = fleet.wave(tmp / "wave.json", ("web-1", "web-2", "web-3", "web-4"), activated_at=T - 600,
                      ssh_keys={"web-4": key.public_line})
    (tmp / "policy.json").write_text(json.dumps(lab_policy({"hosts": {"accept_nixfleet": True}})))
    (tmp / "reports").mkdir(exist_ok=True)
    return ["--wave", str(wave), "--reports", str(tmp / "reports"), "--nonce", NONCE, "--policy", str(tmp / "policy.json")]


@pytest.fixture
def service(fleet: Fleet, tmp_path: Path) -> Iterator[Service]:  # noqa: F811
    with running(start(_args(fleet, tmp_path), ENV)) as svc:
        yield svc


def forge(report: Path, *, created: str | None = None, host: str | None = None, signature: str = "keep") -> bytes:
    """A genuine report with its payload changed; ``signature``: keep the genuine one (which
    no longer verifies) or ``zero`` (64 zero bytes: in effect unsigned)."""
    envelope = json.loads(report.read_bytes())
    body = json.loads(base64.b64decode(envelope["payload"]))
    if created is not None:
        body["created"] = created
    if host is not None:
        body["host"]["name"] = host
    envelope["payload"] = base64.b64encode(canonical_json(body)).decode()
    if signature == "zero":
        envelope["signatures"] = [{"keyid": "", "sig": base64.b64encode(bytes(64)).decode()}]
    return canonical_json(envelope) + b"\n"


def created_of(report: Path) -> str:
    return str(json.loads(base64.b64decode(json.loads(report.read_bytes())["payload"]))["created"])


def host_of(decision: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(h for h in decision["hosts"] if h["name"] == name)
    return found


def stored(tmp: Path) -> set[str]:
    return {p.name for p in (tmp / "reports").iterdir() if not p.name.startswith(".")}


def assert_refused(status: int, answer: dict[str, Any], tmp: Path, evidence: str = "invalid") -> None:
    """4xx, classified, kept apart in the quarantine folder, not in the reports folder."""
    assert 400 <= status < 500, answer
    assert answer["evidence"] == evidence and answer["kept"] is False, answer
    assert answer["file"] not in stored(tmp)
    assert (tmp / "reports" / ".quarantine" / answer["file"]).is_file()


def service_tmp(service: Service) -> Path:
    return Path(service.args[service.args.index("--wave") + 1]).parent


def _failing_setup(service: Service, fleet: Fleet) -> tuple[Path, str]:  # noqa: F811
    """web-1, web-3 and web-4 (nixfleet) good, web-2 genuinely failing (a stray setuid program: high): rollback."""
    web1, web2, web3 = fleet.reports(Spec("web-1"), Spec("web-2", at=T - 120, setuid=True), Spec("web-3"))
    for report in (web1, web3):
        assert service.upload(report.read_bytes())[0] == 201
    status, answer = service.upload(web2.read_bytes())
    assert status == 201 and answer["evidence"] == "valid", answer
    key = ssh_keygen(service_tmp(service) / "ssh", "web-4")
    web4 = runner_evidence("web-4", T - 90)
    assert service.upload(json.dumps(web4).encode(), **{"X-Signature": key.sign_jcs(web4)})[0] == 201
    decision = service.decision()
    assert decision["verdict"] == "rollback"
    assert any(r["host"] == "web-2" and r.get("control_id") == "HK-07" for r in decision["reasons"])
    return web2, answer["file"]


def _unchanged(service: Service, web2_file: str, tmp: Path, refused: int = 1) -> None:
    decision = service.decision()
    assert decision["verdict"] == "rollback", decision["reasons"]
    web2 = host_of(decision, "web-2")
    assert web2["evidence"] == "valid" and [r["file"] for r in web2["reports"]] == [web2_file]
    assert web2_file in stored(tmp)
    notes = [n["message"] for n in decision["notes"] if "quarantine" in n["message"]]
    assert len(notes) == 1 and notes[0].startswith(f"{refused} upload"), decision["notes"]


def test_an_unsigned_far_future_report_changes_nothing_even_after_a_restart(
        service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    web2, web2_file = _failing_setup(service, fleet)
    status, answer = service.upload(forge(web2, created=FAR_FUTURE, signature="zero"))
    assert_refused(status, answer, tmp_path)
    assert answer["replaced"] == [] and "signature" in answer["message"]
    _unchanged(service, web2_file, tmp_path)

    # web-2 is fixed and probes again: its genuine newer report is kept, replacing the old one.
    fixed = fleet.report(Spec("web-2", at=T - 30))
    status, answer = service.upload(fixed.read_bytes())
    assert status == 201 and answer["kept"] is True and answer["replaced"] == [web2_file], answer
    assert service.decision()["verdict"] == "promote"

    # After a restart, the forged upload still decides nothing and locks nothing out.
    assert service.stop() == 0
    with running(start(service.args, ENV)) as again:
        decision = again.decision()
        assert decision["verdict"] == "promote", decision["reasons"]
        assert host_of(decision, "web-2")["created"] == created_of(fixed)
        newest = fleet.report(Spec("web-2", at=T - 10, setuid=True))
        status, answer = again.upload(newest.read_bytes())
        assert status == 201 and answer["kept"] is True, answer
        assert again.decision()["verdict"] == "rollback"


@pytest.mark.parametrize("variant", ["far-future-genuine-signature", "past-dated", "same-time"])
def test_forged_reports_of_the_host_are_refused_whatever_their_date(
        service: Service, fleet: Fleet, tmp_path: Path, variant: str) -> None:  # noqa: F811
    web2, web2_file = _failing_setup(service, fleet)
    created = {"far-future-genuine-signature": FAR_FUTURE, "past-dated": isoformat_epoch(T - 500),
               "same-time": created_of(web2)}[variant]
    # A changed payload under the genuine signature (the same time: another body, same date).
    body = json.loads(base64.b64decode(json.loads(web2.read_bytes())["payload"]))
    body["assessment"]["results"] = [r | {"status": "pass"} for r in body["assessment"]["results"]]
    envelope = json.loads(web2.read_bytes())
    body["created"] = created
    envelope["payload"] = base64.b64encode(canonical_json(body)).decode()
    status, answer = service.upload(canonical_json(envelope))
    assert_refused(status, answer, tmp_path)
    assert "signature" in answer["message"] and answer["host"] == "web-2"
    _unchanged(service, web2_file, tmp_path)


def test_a_forged_report_naming_another_host_leaves_that_host_alone(service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    web2, web2_file = _failing_setup(service, fleet)
    web3_before = host_of(service.decision(), "web-3")
    # web-2's report renamed web-3, far in the future; and web-1's genuine key signing for web-2.
    status, answer = service.upload(forge(web2, created=FAR_FUTURE, host="web-3"))
    assert_refused(status, answer, tmp_path)
    assert answer["host"] == "web-3"
    wrong_key = fleet.report(Spec("web-2", key="web-1", at=T - 10))
    status, answer = service.upload(wrong_key.read_bytes())
    assert_refused(status, answer, tmp_path)
    assert "signed with the key of web-1" in answer["message"]
    # A report of a host the wave does not list.
    status, answer = service.upload(forge(web2, created=FAR_FUTURE, host="db-9"))
    assert_refused(status, answer, tmp_path, evidence="unknown_host")
    _unchanged(service, web2_file, tmp_path, refused=3)
    assert host_of(service.decision(), "web-3") == web3_before


def test_an_unsigned_nixfleet_upload_does_not_displace_the_hosts_signed_evidence(
        service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    _, web2_file = _failing_setup(service, fleet)
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    genuine = runner_evidence("web-4", T - 60, {"access-control": "non-compliant"})
    status, answer = service.upload(json.dumps(genuine).encode(), **{"X-Signature": key.sign_jcs(genuine)})
    assert status == 201 and answer["evidence"] == "valid", answer
    before = host_of(service.decision(), "web-4")
    forged = runner_evidence("web-4", 4_070_908_800)  # 2099, all compliant
    for headers in ({}, {"X-Signature": key.sign_jcs(genuine)}):
        status, refused = service.upload(json.dumps(forged).encode(), **headers)
        assert_refused(status, refused, tmp_path)
    after = host_of(service.decision(), "web-4")
    assert after == before and after["created"] == isoformat_epoch(T - 60)
    _unchanged(service, web2_file, tmp_path, refused=2)


def test_a_replayed_older_genuine_report_is_refused_and_changes_nothing(service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    web2, web2_file = _failing_setup(service, fleet)
    older = fleet.report(Spec("web-2", at=T - 300))  # genuine, passing, but older than the failing one
    status, answer = service.upload(older.read_bytes())
    assert status == 409, answer
    assert answer["evidence"] == "valid" and answer["kept"] is False
    assert "newer verified report" in answer["message"] and created_of(web2) in answer["message"]
    assert answer["file"] not in stored(tmp_path)
    decision = service.decision()
    assert decision["verdict"] == "rollback"
    assert [r["file"] for r in host_of(decision, "web-2")["reports"]] == [web2_file]
    # Replaying the report that is already stored is harmless: nothing is added or removed.
    before = stored(tmp_path)
    status, answer = service.upload(web2.read_bytes())
    assert status == 200 and answer["kept"] is True and answer["replaced"] == [], answer
    assert stored(tmp_path) == before



def test_at_start_files_that_do_not_verify_are_moved_to_quarantine(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    """A forged far-future report already in the folder (stored by an earlier version, or
    put there by hand) is moved out at start: the genuine failing report decides."""
    args = _args(fleet, tmp_path)
    web2 = fleet.report(Spec("web-2", at=T - 120, setuid=True))
    reports = tmp_path / "reports"
    (reports / "genuine.dsse.json").write_bytes(web2.read_bytes())
    forged = forge(web2, created=FAR_FUTURE, signature="zero")
    (reports / "sub").mkdir()
    (reports / "sub" / "forged.json").write_bytes(forged)
    with running(start(args, ENV)) as svc:
        decision = svc.decision()
        assert decision["verdict"] == "rollback", decision["reasons"]
        assert [r["file"] for r in host_of(decision, "web-2")["reports"]] == ["genuine.dsse.json"]
        assert not (reports / "sub" / "forged.json").exists()
        moved = reports / ".quarantine" / f"{hashlib.sha256(forged).hexdigest()}.json"
        assert moved.read_bytes() == forged
        note = decision["notes"][-1]["message"]
        assert note.startswith("0 upload(s) refused since the service started") and "1 file(s) in the quarantine" in note


def test_the_quarantine_folder_is_bounded(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    args = [*_args(fleet, tmp_path), "--quarantine-limit", "1"]
    web2 = fleet.report(Spec("web-2", at=T - 120))
    with running(start(args, ENV)) as svc:
        first = svc.upload(forge(web2, created=FAR_FUTURE, signature="zero"))
        second = svc.upload(forge(web2, created=isoformat_epoch(T - 5), signature="zero"))
        assert first[0] == second[0] == 403
        assert first[1]["message"].startswith("refused, quarantined: ")
        assert second[1]["message"].startswith("refused, not kept: the quarantine folder holds its limit of 1 files")
        assert len(list((tmp_path / "reports" / ".quarantine").iterdir())) == 1
        note = svc.decision()["notes"][-1]["message"]
        assert note.startswith("2 upload(s) refused since the service started (not verified with a wave host's key), "
                               "1 of them not kept (the folder was full)"), note
