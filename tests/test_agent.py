"""``compliance agent`` end to end on loopback: a real ``promote --serve`` over TLS with
bearer tokens, agents probing offline roots (files laid out as the host's) with the keys
the wave lists; the decision follows what they upload. A report signed with a key the
wave does not give the host is refused and changes nothing; an unreachable service is
retried a bounded number of times, then the agent exits 2."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import ROOT
from tests.support.promote import (  # noqa: F401
    ENV,
    NONCE,
    Fleet,
    Spec,
    T,
    fleet,
    lab_policy,
)
from tests.support.service import WAIT, Service, Tls, make_tls, running, start

READ_TOKEN = "read-token-0123456789abcdef"
AGENT_TOKEN = "agent-token-0123456789abcdef"


@dataclass
class Setup:
    service: Service
    tls: Tls
    tmp: Path
    fleet: Fleet

    def agent(self, host: str, *, at: int, key_owner: str | None = None, server: str | None = None,
              extra: tuple[str, ...] = (), ca: bool = True, **spec: bool) -> subprocess.CompletedProcess[str]:
        """Lay out ``host``'s root as ``spec`` says and run ``compliance agent --once`` on it."""
        root = self.tmp / "roots" / f"{host}-{at}-{key_owner}-{sorted(spec.items())}"
        if not root.exists():
            self.fleet.root(Spec(host, **spec), root)  # type: ignore[arg-type]
        command = [sys.executable, "-m", "compliance", "agent", "--server", server or self.service.url,
                   "--key", str(self.fleet.key(key_owner or host)[0]), "--profile", "wave-test",
                   "--catalog", str(self.fleet.catalog), "--root", str(root), "--once",
                   "--token-file", str(self.tmp / "agent.token"), "--backoff", "0.05", "--attempts", "3", *extra]
        if ca:
            command += ["--ca-file", str(self.tls.ca)]
        return subprocess.run(command, capture_output=True, text=True, timeout=WAIT, cwd=ROOT,
                              env={**os.environ, **ENV, "SOURCE_DATE_EPOCH": str(at)})


@pytest.fixture
def setup(fleet: Fleet, tmp_path: Path) -> Iterator[Setup]:  # noqa: F811
    tls = make_tls(tmp_path / "tls")
    wave = fleet.wave(tmp_path / "wave.json", ("web-1", "web-2"), activated_at=T - 600)
    (tmp_path / "policy.json").write_text(json.dumps(lab_policy()))
    (tmp_path / "read.tokens").write_text(READ_TOKEN + "\n")
    (tmp_path / "agent.token").write_text(AGENT_TOKEN + "\n")
    (tmp_path / "reports").mkdir()
    args = ["--wave", str(wave), "--reports", str(tmp_path / "reports"), "--nonce", NONCE,
            "--policy", str(tmp_path / "policy.json"), "--tls-cert", str(tls.cert), "--tls-key", str(tls.key),
            "--token-file", str(tmp_path / "read.tokens"), "--agent-token-file", str(tmp_path / "agent.token")]
    with running(start(args, ENV, context=tls.client_context(), token=READ_TOKEN)) as service:
        yield Setup(service, tls, tmp_path, fleet)


def evidence(decision: dict[str, object]) -> dict[str, str]:
    return {h["name"]: h["evidence"] for h in decision["hosts"]}  # type: ignore[attr-defined, index]


def test_agents_fetch_the_nonce_probe_upload_and_the_decision_follows(setup: Setup) -> None:
    assert setup.service.decision()["verdict"] == "hold"
    web1 = setup.agent("web-1", at=T - 120)
    assert web1.returncode == 0, web1.stderr
    assert re.fullmatch(r"wave web@3f2a1c0/1: report [0-9a-f]{64}\.json of host web-1 accepted \(201\): valid: "
                        r"verified and bound\n", web1.stdout), web1.stdout
    # web-2 has a stray setuid program (HK-07, high): the wave rolls back.
    web2 = setup.agent("web-2", at=T - 110, setuid=True)
    assert web2.returncode == 0 and "of host web-2 accepted (201): valid" in web2.stdout, web2.stderr
    decision = setup.service.decision()
    assert decision["verdict"] == "rollback" and evidence(decision) == {"web-1": "valid", "web-2": "valid"}
    assert [(r["host"], r["control_id"]) for r in decision["reasons"]] == [("web-2", "HK-07")]
    for host in ("web-1", "web-2"):
        report = next(h for h in decision["hosts"] if h["name"] == host)
        assert report["kind"] == "probe-report" and report["created"] is not None
    # Fixed, web-2's agent runs again: its newer report replaces the failing one; promote.
    fixed = setup.agent("web-2", at=T - 60)
    assert fixed.returncode == 0, fixed.stderr
    assert setup.service.decision()["verdict"] == "promote"
    reports = sorted(p.name for p in (setup.tmp / "reports").iterdir() if not p.name.startswith("."))
    assert len(reports) == 2

    # A report of web-2 signed with a key the wave does not give web-2: refused, nothing changes.
    intruder = setup.agent("web-2", at=T - 30, key_owner="intruder", setuid=True)
    assert intruder.returncode == 2, intruder.stdout
    assert intruder.stderr.startswith("compliance: POST /reports: refused, 403: refused, quarantined: ")
    assert len(intruder.stderr.strip().splitlines()) == 1  # not retried: the answer would be the same
    # Another host's genuine key signing web-2's report: refused, and said whose key it is.
    web1_key = setup.agent("web-2", at=T - 20, key_owner="web-1", setuid=True)
    assert web1_key.returncode == 2 and "signed with the key of web-1" in web1_key.stderr
    # An unsigned upload straight to the service: refused.
    forged = json.loads((setup.tmp / "reports" / reports[0]).read_bytes())
    forged["signatures"] = [{"keyid": "", "sig": ""}]
    status, _, body = setup.service.request("POST", "/reports", json.dumps(forged).encode(), token=AGENT_TOKEN)
    assert status == 403 and json.loads(body)["evidence"] == "invalid", body
    decision = setup.service.decision()
    assert decision["verdict"] == "promote" and evidence(decision) == {"web-1": "valid", "web-2": "valid"}
    assert sorted(p.name for p in (setup.tmp / "reports").iterdir() if not p.name.startswith(".")) == reports
    assert decision["notes"][-1]["message"].startswith("3 upload(s) refused")


def test_the_agent_fails_closed_on_tls_tokens_and_an_absent_service(setup: Setup) -> None:
    # No CA given: the test CA is not the system's, the server's certificate does not verify.
    untrusted = setup.agent("web-1", at=T - 60, ca=False)
    assert untrusted.returncode == 2 and "the server's certificate does not verify" in untrusted.stderr
    # A wrong token: 401, not retried.
    (setup.tmp / "wrong.token").write_text("wrong-token-0123456789abcdef\n")
    wrong = setup.agent("web-1", at=T - 60, extra=("--token-file", str(setup.tmp / "wrong.token")))
    assert wrong.returncode == 2 and "GET /wave: refused, 401" in wrong.stderr, wrong.stderr
    # Nothing listens: three attempts with backoff, then exit 2.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    absent = setup.agent("web-1", at=T - 60, server=f"https://127.0.0.1:{port}")
    assert absent.returncode == 2
    lines = absent.stderr.strip().splitlines()
    assert [re.sub(r"next in [0-9.]+ s", "next in N s", line.split("; ")[-1]) for line in lines[:2]] == [
        "attempt 1 of 3, next in N s", "attempt 2 of 3, next in N s"], lines
    assert lines[-1].startswith("compliance: GET /wave: ") and lines[-1].endswith("(after 3 attempts)"), lines
    assert setup.service.decision()["summary"]["valid"] == 0


def test_bad_agent_options_are_one_line_and_exit_2(setup: Setup) -> None:
    cases = [
        (("--server", "http://192.0.2.1:8700"), "plain http only to the loopback interface"),
        (("--server", "ftp://127.0.0.1"), "expected https://HOST[:PORT]"),
        (("--client-cert", "c.pem"), "--client-cert and --client-key go together"),
        (("--token-file", "absent.token"), "absent.token: no such token file"),
    ]
    for extra, message in cases:
        done = setup.agent("web-1", at=T - 60, extra=extra)
        assert done.returncode == 2 and message in done.stderr, (extra, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1


def test_the_agent_loop_runs_cycles_until_sigterm(setup: Setup) -> None:
    root = setup.tmp / "loop-root"
    setup.fleet.root(Spec("web-1"), root)
    command = [sys.executable, "-m", "compliance", "agent", "--server", setup.service.url, "--key",
               str(setup.fleet.key("web-1")[0]), "--profile", "wave-test", "--catalog", str(setup.fleet.catalog),
               "--root", str(root), "--token-file", str(setup.tmp / "agent.token"), "--ca-file", str(setup.tls.ca),
               "--interval", "1"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, **ENV, "SOURCE_DATE_EPOCH": str(T - 60)})
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # one cycle done (bounded by the agent's own time limits)
        second = proc.stdout.readline()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=WAIT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "accepted (201): valid" in first, first
    assert "accepted (200): valid" in second and "already stored" in second, second  # same time, same bytes
