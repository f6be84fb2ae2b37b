"""``compliance promote --serve`` as a real process on 127.0.0.1, for the service's tests.

The service is started with the command line a user would type, its address read from
the line it prints once it listens; requests go over real HTTP (or HTTPS with a
certificate made by ``openssl`` on the fly, see :func:`make_tls`). Every wait is bounded
(a guard against a hang, not a timing assertion).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT

WAIT = 60  # seconds: a guard against a hang


@dataclass
class Service:
    proc: subprocess.Popen[str]
    url: str
    args: list[str]
    context: ssl.SSLContext | None = None
    token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, *, token: str | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of one request; ``token`` (default: the service's read
        token, if any) is sent as a bearer token."""
        sent = dict(headers or {})
        bearer = token if token is not None else self.token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=WAIT, context=self.context) as response:
                return response.status, {k.title(): v for k, v in response.headers.items()}, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.title(): v for k, v in exc.headers.items()}, exc.read()

    def upload(self, body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
        status, _, data = self.request("POST", "/reports", body, headers)
        answer = json.loads(data)
        assert isinstance(answer, dict), data
        return status, answer

    def decision(self) -> dict[str, Any]:
        status, headers, body = self.request("GET", "/decision")
        assert status == 200, body
        doc = json.loads(body)
        assert headers["X-Compliance-Verdict"] == doc["verdict"]
        assert isinstance(doc, dict)
        return doc

    def stop(self) -> int:
        """SIGTERM, then the exit code (and the process is gone)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def log(self) -> str:
        """Standard error, once the service has stopped."""
        assert self.proc.poll() is not None and self.proc.stderr is not None
        return self.proc.stderr.read()


def start(args: Sequence[str], env: dict[str, str], *, python: Sequence[str] = ("-m", "compliance"),
          context: ssl.SSLContext | None = None, token: str | None = None) -> Service:
    """Start ``compliance promote --serve 127.0.0.1:0 ARGS`` and wait for its address."""
    command = [sys.executable, *python, "promote", "--serve", "127.0.0.1:0", *args]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env}, cwd=ROOT)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], WAIT)
    line = proc.stdout.readline() if ready else ""
    if not line.startswith(("listening on http://127.0.0.1:", "listening on https://127.0.0.1:")):
        proc.kill()
        proc.wait()
        pytest.fail(f"the service did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return Service(proc, line.split()[-1], list(args), context, token)


@contextlib.contextmanager
def running(service: Service) -> Iterator[Service]:
    try:
        yield service
    finally:
        if service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait()


@dataclass(frozen=True)
class Tls:
    """A test CA, a server certificate for 127.0.0.1 it signed, and a client certificate."""

    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path

    def client_context(self, *, client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        if client_cert:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=WAIT)


def make_tls(directory: Path) -> Tls:
    """A CA and two certificates it signs, made by ``openssl`` (P-256 keys)."""
    directory.mkdir(parents=True, exist_ok=True)
    d = directory
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-subj", "/CN=compliance test CA", "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
                 "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"))
        _openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"), "-CAkey", str(d / "ca.key"),
                 "-CAcreateserial", "-days", "2", "-extfile", str(d / f"{name}.ext"), "-out", str(d / f"{name}.pem"))
    return Tls(d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key")
