"""``compliance promote --serve`` over real HTTP on 127.0.0.1: reports POSTed by hosts are
stored and classified on arrival, GET /decision answers the same decision as the command
over the same folder, signed on request; the service stops cleanly on SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compliance.promote.signed_decision import verify_decision
from compliance.signing.keys import load_public_key
from tests.support.cli import ROOT, run
from tests.support.promote import (  # noqa: F401
    ENV,
    NONCE,
    Fleet,
    Spec,
    T,
    fleet,
    good,
    isoformat_epoch,
    lab_policy,
    runner_evidence,
    ssh_keygen,
)
from tests.support.service import Service, make_tls, running, start

ENV_PATH = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)}


def _start(fleet: Fleet, tmp_path: Path, extra: tuple[str, ...] = (), **kwargs: Any) -> Service:  # noqa: F811
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    wave = fleet.wave(tmp_path / "wave.json", ("web-1", "web-2", "web-4"), activated_at=T - 600,
                      ssh_keys={"web-4": key.public_line})
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy({"hosts": {"accept_nixfleet": True}})))
    assert run("keys", "generate", "--output-key-prefix", str(tmp_path / "cp"), env=ENV).code == 0
    (tmp_path / "reports").mkdir()
    return start(["--wave", str(wave), "--reports", str(tmp_path / "reports"), "--nonce", NONCE,
                  "--policy", str(tmp_path / "policy.json"), "--key", str(tmp_path / "cp.key"), *extra], ENV, **kwargs)


@pytest.fixture
def service(fleet: Fleet, tmp_path: Path) -> Iterator[Service]:  # noqa: F811
    with running(_start(fleet, tmp_path)) as svc:
        yield svc


def _post(service: Service, body: bytes, expected: int = 201, **headers: str) -> dict[str, Any]:
    status, answer = service.upload(body, **headers)
    assert status == expected, answer
    return answer


def test_reports_posted_over_http_are_classified_and_decided(service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    status, headers, body = service.request("GET", "/decision")
    assert status == 200 and headers["X-Compliance-Verdict"] == "hold" and headers["X-Compliance-Exit-Code"] == "3"
    assert json.loads(body)["summary"]["valid"] == 0

    web1, web2 = fleet.reports(good("web-1"), good("web-2"))
    answer = _post(service, web1.read_bytes())
    assert (answer["host"], answer["evidence"], answer["message"]) == ("web-1", "valid", "verified and bound")
    assert (tmp_path / "reports" / answer["file"]).read_bytes() == web1.read_bytes()
    replay = _post(service, fleet.report(Spec("web-2", nonce="wave-0000previous0000")).read_bytes())
    assert replay["evidence"] == "wrong_nonce"  # verified: stored, and set aside by the decision
    assert _post(service, web2.read_bytes())["evidence"] == "valid"
    evidence = runner_evidence("web-4", T - 60)
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    unsigned = _post(service, json.dumps(evidence).encode(), 403)
    assert unsigned["evidence"] == "invalid" and "unsigned" in unsigned["message"]
    assert unsigned["message"].startswith("refused, quarantined: ")
    assert not (tmp_path / "reports" / unsigned["file"]).exists()
    assert (tmp_path / "reports" / ".quarantine" / unsigned["file"]).read_bytes() == json.dumps(evidence).encode()
    signed = _post(service, json.dumps(evidence).encode(), **{"X-Signature": key.sign_jcs(evidence)})
    assert (signed["host"], signed["evidence"]) == ("web-4", "valid")
    assert (tmp_path / "reports" / f"{signed['file']}.sig").read_text() == key.sign_jcs(evidence) + "\n"

    status, headers, body = service.request("GET", "/decision")
    assert status == 200 and headers["X-Compliance-Verdict"] == "promote", body
    decision = json.loads(body)
    assert {h["name"]: h["evidence"] for h in decision["hosts"]} == {"web-1": "valid", "web-2": "valid", "web-4": "valid"}
    quarantine_note = decision["notes"][-1]
    assert quarantine_note["action"] == "note" and quarantine_note["message"].startswith("1 upload(s) refused")
    # The same decision as the command over the same folder at the same time (less the note).
    command = run("promote", "--wave", str(tmp_path / "wave.json"), "--reports", str(tmp_path / "reports"), "--nonce", NONCE,
                  "--policy", str(tmp_path / "policy.json"), "--format", "json", env=ENV)
    assert command.code == 0
    from_command = json.loads(command.stdout)
    assert from_command == {**decision, "notes": decision["notes"][:-1]}
    status, _, text = service.request("GET", "/decision.txt")
    assert status == 200 and text.startswith(b"PROMOTE: wave web@3f2a1c0/1")
    status, _, signed_decision = service.request("GET", "/decision.dsse")
    assert status == 200
    assert verify_decision(signed_decision, load_public_key(tmp_path / "cp.pub"), "http").verdict.value == "promote"

    garbage = _post(service, b"\x00\x01 not a report", 400)
    assert garbage["evidence"] == "unreadable" and garbage["host"] is None
    assert service.decision()["verdict"] == "promote"  # refused: it decides nothing

    status, _, body = service.request("GET", "/wave")
    assert status == 200 and json.loads(body) == {"id": "web@3f2a1c0/1", "nonce": NONCE,
                                                  "activated_at": isoformat_epoch(T - 600)}
    assert service.stop() == 0
    log = service.log().splitlines()
    assert any(" POST /reports 201 " in line and "host=web-1 evidence=valid" in line for line in log), log
    assert any(" POST /reports 403 " in line and "host=web-4 evidence=invalid" in line for line in log), log
    assert sum(" GET /decision" in line for line in log) == 5, log
    assert all(line.startswith("compliance promote: 127.0.0.1:") for line in log), log


def test_unknown_endpoints_limits_and_shutdown(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    with running(_start(fleet, tmp_path, ("--max-report-bytes", "2048", "--body-timeout", "1"))) as service:
        assert service.request("GET", "/reports")[0] == 404
        assert service.request("POST", "/decision", b"{}")[0] == 404
        assert service.request("GET", "/health")[:3:2] == (200, b"ok\n")
        # A path that would write a line of its own into the log.
        assert service.request("GET", "/x%0Acompliance%20promote:%20forged")[0] == 404
        status, answer = service.upload(b"{" + b" " * 4096 + b"}")
        assert status == 413 and answer == {"error": "a report is at most 2048 bytes"}
        host, port = service.url.removeprefix("http://").rsplit(":", 1)
        # A body that never arrives in full: 408 once the body timeout is over.
        with socket.create_connection((host, int(port)), timeout=60) as slow:
            slow.sendall(b"POST /reports HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            answer_bytes = slow.recv(65536)
        assert answer_bytes.startswith(b"HTTP/1.1 408 "), answer_bytes
        # A head that never ends: the connection is closed once the same time is over.
        with socket.create_connection((host, int(port)), timeout=60) as stalled:
            stalled.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            assert stalled.recv(65536) == b""
        # An idle connection is held open while the service stops: it still exits 0.
        idle = socket.create_connection((host, int(port)), timeout=60)
        try:
            assert service.stop() == 0
        finally:
            idle.close()
        log = service.log().splitlines()
        assert all(line.startswith("compliance promote: 127.0.0.1:") for line in log), log
        assert any(" GET /x\\x0acompliance\\x20promote:\\x20forged 404 " in line for line in log), log


def test_sigterm_during_a_request_lets_it_finish(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    with running(_start(fleet, tmp_path)) as service:
        host, port = service.url.removeprefix("http://").rsplit(":", 1)
        web1 = fleet.report(good("web-1")).read_bytes()
        with socket.create_connection((host, int(port)), timeout=60) as client:
            client.sendall(b"POST /reports HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(web1) + web1[:100])
            time.sleep(0.5)  # the request is in flight when the signal comes (not a timing assertion)
            service.proc.send_signal(signal.SIGTERM)
            client.sendall(web1[100:])
            answer = client.recv(65536)
        assert answer.startswith(b"HTTP/1.1 201 "), answer
        assert service.proc.wait(timeout=60) == 0
        assert len([p for p in (tmp_path / "reports").iterdir() if p.is_file()]) == 1


def test_tls_and_tokens_guard_the_decision(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    tls = make_tls(tmp_path / "tls")
    (tmp_path / "read.tokens").write_text("# control plane\nread-token-0123456789abcdef\n")
    (tmp_path / "agent.tokens").write_text("agent-token-0123456789abcdef\n")
    args = ("--tls-cert", str(tls.cert), "--tls-key", str(tls.key), "--token-file", str(tmp_path / "read.tokens"),
            "--agent-token-file", str(tmp_path / "agent.tokens"))
    with running(_start(fleet, tmp_path, args, context=tls.client_context())) as service:
        assert service.url.startswith("https://127.0.0.1:")
        status, headers, body = service.request("GET", "/decision")
        assert status == 401 and headers["Www-Authenticate"].startswith("Bearer"), body
        assert service.request("GET", "/decision", token="agent-token-0123456789abcdef")[0] == 401
        assert service.request("GET", "/decision.txt", token="read-token-0123456789abcdef")[0] == 200
        assert service.request("GET", "/wave", token="read-token-0123456789abcdef")[0] == 401
        status, _, body = service.request("GET", "/wave", token="agent-token-0123456789abcdef")
        assert status == 200 and json.loads(body)["nonce"] == NONCE
        web1 = fleet.report(good("web-1")).read_bytes()
        assert service.request("POST", "/reports", web1, token="wrong-token-0123456789abcdef")[0] == 401
        status, _, body = service.request("POST", "/reports", web1, token="agent-token-0123456789abcdef")
        assert status == 201, body
        # Plain HTTP to the TLS port, or a client that does not trust the CA: no answer.
        plain = Service(service.proc, service.url.replace("https://", "http://"), [], None)
        with pytest.raises(OSError):
            plain.request("GET", "/health")
        untrusting = Service(service.proc, service.url, [], ssl.create_default_context())
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            untrusting.request("GET", "/health")
        assert service.stop() == 0


def test_mutual_tls_refuses_a_client_without_certificate(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    tls = make_tls(tmp_path / "tls")
    args = ("--tls-cert", str(tls.cert), "--tls-key", str(tls.key), "--client-ca", str(tls.ca))
    with running(_start(fleet, tmp_path, args, context=tls.client_context(client_cert=True))) as service:
        assert service.request("GET", "/decision")[0] == 200
        anonymous = Service(service.proc, service.url, [], tls.client_context())
        with pytest.raises(OSError):
            anonymous.request("GET", "/decision")
        assert service.stop() == 0


@pytest.mark.parametrize(("extra", "message"), [
    (("--tls-cert", "c.pem"), "--tls-cert and --tls-key go together"),
    (("--token-file", "empty.tokens"), "no token in the file"),
    (("--token-file", "short.tokens"), "line 1: a token is at least 16 printable characters"),
    (("--token-file", "absent.tokens"), "absent.tokens: no such token file"),
    (("--quarantine", "reports/q"), "inside the reports folder it must be a hidden folder"),
    (("--tls-cert", "bad.pem", "--tls-key", "bad.pem"), "cannot load the TLS certificate, key or CA"),
])
def test_bad_service_options_are_one_line_and_exit_2(fleet: Fleet, tmp_path: Path, extra: tuple[str, ...], message: str) -> None:  # noqa: F811
    wave = fleet.wave(tmp_path / "wave.json", ("web-1",))
    (tmp_path / "reports").mkdir()
    (tmp_path / "empty.tokens").write_text("# none yet\n")
    (tmp_path / "short.tokens").write_text("short\n")
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    command = [sys.executable, "-m", "compliance", "promote", "--serve", "127.0.0.1:0", "--wave", str(wave),
               "--reports", str(tmp_path / "reports"), "--nonce", NONCE, *extra]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**ENV_PATH, **ENV})
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_beyond_loopback_the_service_needs_tls_and_authentication(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    wave = fleet.wave(tmp_path / "wave.json", ("web-1",))
    (tmp_path / "reports").mkdir()
    result = run("promote", "--serve", "0.0.0.0:0", "--wave", str(wave), "--reports", str(tmp_path / "reports"),
                 "--nonce", NONCE, env=ENV)
    assert result.code == 2 and "beyond the loopback interface the service needs TLS" in result.stderr
    result = run("promote", "--wave", str(wave), "--reports", str(tmp_path / "reports"), "--nonce", NONCE,
                 "--token-file", "t", env=ENV)
    assert result.code == 2 and "need --serve" in result.stderr


def test_a_newer_report_of_a_host_replaces_its_older_one(service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    """Held, the host probes again and posts the new report: the newer signed time wins,
    the older report is removed, and the loop reaches promote (not 'duplicated')."""
    web1 = fleet.report(good("web-1"))
    older, newer = fleet.reports(Spec("web-2", at=T - 300), Spec("web-2", at=T - 60))
    assert _post(service, web1.read_bytes())["evidence"] == "valid"
    first = _post(service, older.read_bytes())
    assert first["evidence"] == "valid" and first["kept"] is True
    second = _post(service, newer.read_bytes())
    assert (second["evidence"], second["kept"], second["replaced"]) == ("valid", True, [first["file"]])
    assert not (tmp_path / "reports" / first["file"]).exists()
    late = _post(service, older.read_bytes(), 409)  # an older report arriving late does not displace the newer
    assert late["kept"] is False and "refused: the host has a newer verified report" in late["message"]
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    for at in (T - 300, T - 30):
        evidence = runner_evidence("web-4", at)
        _post(service, json.dumps(evidence).encode(), **{"X-Signature": key.sign_jcs(evidence)})
    assert len(list((tmp_path / "reports").glob("*.sig"))) == 1
    _, headers, body = service.request("GET", "/decision")
    decision = json.loads(body)
    assert headers["X-Compliance-Verdict"] == "promote", decision["reasons"]
    assert {h["name"]: h["evidence"] for h in decision["hosts"]} == {"web-1": "valid", "web-2": "valid", "web-4": "valid"}
    assert next(h for h in decision["hosts"] if h["name"] == "web-2")["report_id"] == json.loads(
        base64.b64decode(json.loads(newer.read_bytes())["payload"]))["report_id"]
