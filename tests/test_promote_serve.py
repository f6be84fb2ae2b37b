"""``compliance promote --serve`` over real HTTP on 127.0.0.1: reports POSTed by hosts are
stored and classified on arrival, GET /decision answers the same decision as the command
over the same folder, signed on request; the service stops cleanly on SIGTERM."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
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
    lab_policy,
    runner_evidence,
    ssh_keygen,
)


class Service:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc, self.url = proc, url

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def post(self, body: bytes, **headers: str) -> dict[str, Any]:
        status, _, data = self.request("POST", "/reports", body, headers)
        assert status == 201, data
        answer = json.loads(data)
        assert isinstance(answer, dict)
        return answer


def _start(fleet: Fleet, tmp_path: Path, python: list[str]) -> Service:  # noqa: F811
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    wave = fleet.wave(tmp_path / "wave.json", ("web-1", "web-2", "web-4"), activated_at=T - 600,
                      ssh_keys={"web-4": key.public_line})
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy({"hosts": {"accept_nixfleet": True}})))
    assert run("keys", "generate", "--output-key-prefix", str(tmp_path / "cp"), env=ENV).code == 0
    (tmp_path / "reports").mkdir()
    proc = subprocess.Popen(
        [sys.executable, *python, "promote", "--serve", "127.0.0.1:0", "--wave", str(wave),
         "--reports", str(tmp_path / "reports"), "--nonce", NONCE, "--policy", str(tmp_path / "policy.json"),
         "--key", str(tmp_path / "cp.key")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV}, cwd=ROOT,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)  # a guard against a hang, not a timing assertion
    line = proc.stdout.readline() if ready else ""
    if not line.startswith("listening on http://127.0.0.1:"):
        proc.kill()
        pytest.fail(f"the service did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return Service(proc, line.split()[-1])


@contextlib.contextmanager
def _running(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        if service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait()


@pytest.fixture
def service(fleet: Fleet, tmp_path: Path) -> Iterator[Service]:  # noqa: F811
    with _running(_start(fleet, tmp_path, ["-m", "compliance"])) as running:
        yield running


def test_reports_posted_over_http_are_classified_and_decided(service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    status, headers, body = service.request("GET", "/decision")
    assert status == 200 and headers["X-Compliance-Verdict"] == "hold" and headers["X-Compliance-Exit-Code"] == "3"
    assert json.loads(body)["summary"]["valid"] == 0

    web1, web2 = fleet.reports(good("web-1"), good("web-2"))
    answer = service.post(web1.read_bytes())
    assert (answer["host"], answer["evidence"], answer["message"]) == ("web-1", "valid", "verified and bound")
    assert (tmp_path / "reports" / answer["file"]).read_bytes() == web1.read_bytes()
    replay = service.post(fleet.report(Spec("web-2", nonce="wave-0000previous0000")).read_bytes())
    assert replay["evidence"] == "wrong_nonce"
    assert service.post(web2.read_bytes())["evidence"] == "valid"
    evidence = runner_evidence("web-4", T - 60)
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    unsigned = service.post(json.dumps(evidence).encode())
    assert unsigned["evidence"] == "invalid" and "unsigned" in unsigned["message"]
    (tmp_path / "reports" / unsigned["file"]).unlink()  # the host sends it again, signed
    signed = service.post(json.dumps(evidence).encode(), **{"X-Signature": key.sign_jcs(evidence)})
    assert (signed["host"], signed["evidence"]) == ("web-4", "valid")

    status, headers, body = service.request("GET", "/decision")
    assert status == 200 and headers["X-Compliance-Verdict"] == "promote", body
    decision = json.loads(body)
    assert {h["name"]: h["evidence"] for h in decision["hosts"]} == {"web-1": "valid", "web-2": "valid", "web-4": "valid"}
    # The same decision as the command over the same folder at the same time.
    command = run("promote", "--wave", str(tmp_path / "wave.json"), "--reports", str(tmp_path / "reports"), "--nonce", NONCE,
                  "--policy", str(tmp_path / "policy.json"), "--format", "json", env=ENV)
    assert command.code == 0 and command.stdout.encode() == body
    status, _, text = service.request("GET", "/decision.txt")
    assert status == 200 and text.startswith(b"PROMOTE: wave web@3f2a1c0/1")
    status, _, signed_decision = service.request("GET", "/decision.dsse")
    assert status == 200
    assert verify_decision(signed_decision, load_public_key(tmp_path / "cp.pub"), "http").verdict.value == "promote"

    garbage = service.post(b"\x00\x01 not a report")
    assert garbage["evidence"] == "unreadable" and garbage["host"] is None
    status, headers, body = service.request("GET", "/decision")
    assert headers["X-Compliance-Verdict"] == "hold"
    assert [r["file"] for r in json.loads(body)["unattributed"]] == [garbage["file"]]


def test_unknown_endpoints_and_shutdown(service: Service) -> None:
    assert service.request("GET", "/reports")[0] == 404
    assert service.request("POST", "/decision", b"{}")[0] == 404
    service.proc.send_signal(signal.SIGTERM)
    assert service.proc.wait(timeout=60) == 0


# The service, with SIGTERM arriving exactly while the main thread hands a connection over
# to the thread that will answer it (a window that is otherwise a matter of scheduling).
SIGTERM_WHILE_DISPATCHING = """
import os, signal, socketserver, sys
from compliance.cli import main
dispatch = socketserver.ThreadingMixIn.process_request
def process_request(self, request, client_address):
    os.kill(os.getpid(), signal.SIGTERM)
    dispatch(self, request, client_address)
socketserver.ThreadingMixIn.process_request = process_request
sys.exit(main(sys.argv[1:]))
"""


def test_sigterm_stops_the_service_whatever_the_main_thread_is_doing(fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    with _running(_start(fleet, tmp_path, ["-c", SIGTERM_WHILE_DISPATCHING])) as service:
        host, port = service.url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=60) as client:
            client.sendall(b"GET /decision HTTP/1.0\r\n\r\n")
            with contextlib.suppress(OSError):
                client.recv(65536)
        assert service.proc.wait(timeout=60) == 0


def test_a_newer_report_of_a_host_replaces_its_older_one(service: Service, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    """Held, the host probes again and posts the new report: the newer signed time wins,
    the older report is removed, and the loop reaches promote (not 'duplicated')."""
    web1 = fleet.report(good("web-1"))
    older, newer = fleet.reports(Spec("web-2", at=T - 300), Spec("web-2", at=T - 60))
    assert service.post(web1.read_bytes())["evidence"] == "valid"
    first = service.post(older.read_bytes())
    assert first["evidence"] == "valid" and first["kept"] is True
    second = service.post(newer.read_bytes())
    assert (second["evidence"], second["kept"], second["replaced"]) == ("valid", True, [first["file"]])
    assert not (tmp_path / "reports" / first["file"]).exists()
    late = service.post(older.read_bytes())  # an older report arriving late does not displace the newer
    assert late["kept"] is False and "not kept: the host has a newer report" in late["message"]
    key = ssh_keygen(tmp_path / "ssh", "web-4")
    for at in (T - 300, T - 30):
        evidence = runner_evidence("web-4", at)
        service.post(json.dumps(evidence).encode(), **{"X-Signature": key.sign_jcs(evidence)})
    assert len(list((tmp_path / "reports").glob("*.sig"))) == 1
    _, headers, body = service.request("GET", "/decision")
    decision = json.loads(body)
    assert headers["X-Compliance-Verdict"] == "promote", decision["reasons"]
    assert {h["name"]: h["evidence"] for h in decision["hosts"]} == {"web-1": "valid", "web-2": "valid", "web-4": "valid"}
    assert next(h for h in decision["hosts"] if h["name"] == "web-2")["report_id"] == json.loads(
        base64.b64decode(json.loads(newer.read_bytes())["payload"]))["report_id"]
