"""``compliance promote --serve``: the gate as a small HTTP service, for control planes
that call hooks over HTTP rather than run commands.

- ``POST /reports``: the body is one report (a probe report's DSSE envelope, or a
  nixfleet evidence.json with its base64 signature in the ``X-Signature`` header). It is
  stored in the reports folder under its SHA-256, whatever it holds (a bad report is a
  host's invalid evidence, which the decision must name), and the answer says how the
  gate classifies it: ``201 {"file", "sha256", "host", "evidence", "message", "kept",
  "replaced"}``. A host keeps one report: of two reports attributed to the same host, the
  one taken later (its signed time, or the time it claims when it does not verify) wins
  and the other is removed, so a host that is held and probes again is judged on its new
  report, not found *duplicated*. Two reports of one host that give the same time, or
  one that gives none, are both kept (and judged as the gate judges them).
- ``GET /decision`` (JSON), ``/decision.txt``, ``/decision.dsse`` (signed, with --key):
  the decision over the folder at that moment, ``200`` whatever the verdict, which is in
  the body and in the ``X-Compliance-Verdict`` and ``X-Compliance-Exit-Code`` headers.

Writes and decisions take turns (one lock), so a decision never sees half a report. The
service has no authentication of its own: bind it to the loopback interface, or put it
behind the control plane's.
"""

from __future__ import annotations

import hashlib
import signal
import socket
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

import click
import orjson

from compliance.errors import ComplianceError, UsageError
from compliance.promote.collect import (
    MAX_REPORT_BYTES,
    SIGNATURE_SUFFIX,
    candidate_from_bytes,
    list_reports,
)
from compliance.promote.render import render_decision_text
from compliance.promote.report_verify import CheckedReport, Expectations, check_report
from compliance.promote.session import PromotionGate
from compliance.promote.signed_decision import sign_decision
from compliance.promote.wave_decision import WaveDecision, decision_json
from compliance.signing.keys import Signer
from compliance.util import clock
from compliance.util.fsutil import atomic_write

SIGNATURE_HEADER = "X-Signature"


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); port 0 lets the system choose."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--serve {text}: expected HOST:PORT, e.g. 127.0.0.1:8700")
    return host, int(port)


class LatestPerHost:
    """The stored reports attributed to each host, with the time each was taken, so that
    a newer report replaces an older one. Built from the folder at start."""

    def __init__(self, gate: PromotionGate) -> None:
        self.gate = gate
        self.by_host: dict[str, dict[str, datetime | None]] = {}
        now = clock.now()
        for source in list_reports(gate.reports):
            self.record(check_report(source.read(), Expectations(gate.wave, gate.policy, now)))

    def record(self, checked: CheckedReport) -> None:
        if checked.host is not None:
            self.by_host.setdefault(checked.host, {})[checked.file] = checked.taken_at

    def _remove(self, host: str, file: str) -> None:
        for path in (self.gate.reports / file, self.gate.reports / f"{file}{SIGNATURE_SUFFIX}"):
            path.unlink(missing_ok=True)
        self.by_host[host].pop(file, None)

    def keep_newest(self, checked: CheckedReport) -> tuple[bool, list[str]]:
        """Record ``checked`` (stored already); remove whichever of its host's reports is
        older. (whether ``checked`` is kept, the files it replaced)"""
        taken, host = checked.taken_at, checked.host
        if host is None or taken is None:
            self.record(checked)
            return True, []
        stored = self.by_host.setdefault(host, {})
        if any(t is not None and t > taken for f, t in stored.items() if f != checked.file):
            if checked.file not in stored:
                self._remove(host, checked.file)
            return False, []
        older = sorted(f for f, t in stored.items() if f != checked.file and t is not None and t < taken)
        for file in older:
            self._remove(host, file)
        stored[checked.file] = taken
        return True, older


def _handler(gate: PromotionGate, signer: Signer | None, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    latest = LatestPerHost(gate)

    class Handler(BaseHTTPRequestHandler):
        server_version = "compliance-promote"
        sys_version = ""

        def _send(self, code: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, doc: Any) -> None:
            self._send(code, orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n", "application/json")

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"compliance promote: {self.address_string()} {format % args}\n")

        def do_POST(self) -> None:
            if self.path != "/reports":
                return self._json(404, {"error": f"no such endpoint: POST {self.path} (POST /reports)"})
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                return self._json(411, {"error": "Content-Length is required"})
            if int(length) > MAX_REPORT_BYTES:
                return self._json(413, {"error": f"a report is at most {MAX_REPORT_BYTES} bytes"})
            body = self.rfile.read(int(length))
            signature = self.headers.get(SIGNATURE_HEADER)
            sha256 = hashlib.sha256(body).hexdigest()
            name = f"{sha256}.json"
            try:
                with lock:
                    if signature is not None:
                        atomic_write(gate.reports / f"{name}.sig", signature.strip().encode() + b"\n")
                    atomic_write(gate.reports / name, body)
                    sig = signature.strip().encode() if signature is not None else None
                    checked = check_report(candidate_from_bytes(name, body, sig),
                                           Expectations(gate.wave, gate.policy, clock.now()))
                    kept, replaced = latest.keep_newest(checked)
            except ComplianceError as exc:
                return self._json(500, {"error": str(exc)})
            message = checked.message if kept else f"{checked.message}; not kept: the host has a newer report"
            self._json(201, {"file": name, "sha256": sha256, "host": checked.host or checked.claimed_host,
                             "evidence": checked.status.value, "message": message, "kept": kept, "replaced": replaced})

        def do_GET(self) -> None:
            renderers: dict[str, tuple[str, Callable[[WaveDecision], bytes]]] = {
                "/decision": ("application/json", decision_json),
                "/decision.txt": ("text/plain; charset=utf-8", render_decision_text),
            }
            if signer is not None:
                renderers["/decision.dsse"] = ("application/json", lambda d: sign_decision(d, signer))
            if self.path not in renderers:
                known = ", ".join(sorted(renderers))
                return self._json(404, {"error": f"no such endpoint: GET {self.path} ({known})"})
            content_type, render = renderers[self.path]
            try:
                with lock:
                    decision: WaveDecision = gate.decide(clock.now(), processes=1)  # threads: no fork
            except ComplianceError as exc:
                return self._json(500, {"error": str(exc)})
            self._send(200, render(decision), content_type,
                       {"X-Compliance-Verdict": decision.verdict.value, "X-Compliance-Exit-Code": str(decision.exit_code)})

    return Handler


def serve(gate: PromotionGate, address: tuple[str, int], signer: Signer | None) -> int:
    """Serve until SIGTERM or SIGINT; exit 0."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET

    class Server(ThreadingHTTPServer):
        address_family = family
        daemon_threads = True
        block_on_close = False  # a client that never sends its whole request does not keep the service up

    try:
        server = Server(address, _handler(gate, signer, threading.Lock()))
    except OSError as exc:
        raise UsageError(f"--serve {address[0]}:{address[1]}: cannot listen: {exc.strerror or exc}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        # Not an exception: raised while the main thread hands a request to its thread,
        # socketserver would catch it as that request's error and serve on.
        threading.Thread(target=server.shutdown, name="stop", daemon=True).start()

    previous = signal.signal(signal.SIGTERM, stop)
    host, port = str(server.server_address[0]), server.server_address[1]
    click.echo(f"listening on http://{f'[{host}]' if ':' in host else host}:{port}")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0
