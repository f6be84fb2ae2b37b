"""``compliance promote --serve``: the gate as a report service, for hosts that upload
their own reports (``compliance agent``) and control planes that call hooks over HTTP.

The application is a small ASGI app served by uvicorn (a maintained production HTTP
server: TLS, keep-alive and header timeouts, a limit on concurrent connections, graceful
shutdown on SIGTERM). The reports folder is its embedded store (:mod:`.report_store`).

- ``GET /wave``: ``{"id", "nonce", "activated_at"}``, what an agent needs to probe for
  this wave.
- ``POST /reports``: the body is one report (a probe report's DSSE envelope, or a
  nixfleet evidence.json with its base64 signature in the ``X-Signature`` header).
  Stored (``201``) only when it verifies with the key of the wave host it names; the same
  bytes again ``200``; a verified report older than the host's stored one ``409``;
  anything that does not verify ``403`` (``400``: not a report), kept in the quarantine
  folder where it decides nothing. The body says how the gate classifies it: ``{"file",
  "sha256", "host", "evidence", "message", "kept", "replaced"}``.
- ``GET /decision`` (JSON), ``/decision.txt``, ``/decision.dsse`` (signed, with --key):
  the decision over the folder at that moment, ``200`` whatever the verdict, which is in
  the body and in the ``X-Compliance-Verdict`` and ``X-Compliance-Exit-Code`` headers.
  Behind client authentication when configured: a bearer token from ``--token-file``,
  and/or a client certificate from ``--client-ca`` (mutual TLS, for every request).
- ``GET /health``: ``200 ok``, unauthenticated, for load balancers and systemd checks.

Every request is logged on standard error, one line each. Bodies are read within a size
limit and a time limit; a slow or oversized upload is answered 413 or 408.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import ipaddress
import signal
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable, Generator, MutableMapping
from dataclasses import dataclass
from typing import Any

import click
import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from compliance.errors import ComplianceError, UsageError
from compliance.promote.collect import MAX_REPORT_BYTES, MAX_SIGNATURE_BYTES
from compliance.promote.render import render_decision_text
from compliance.promote.report_store import ReportStore, quarantine_folder
from compliance.promote.session import PromotionGate
from compliance.promote.signed_decision import sign_decision
from compliance.promote.wave_decision import WaveDecision, decision_json
from compliance.signing.keys import Signer
from compliance.util import clock
from compliance.util.clock import isoformat
from compliance.util.fsutil import read_text

SIGNATURE_HEADER = "x-signature"
MIN_TOKEN_LENGTH = 16

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); port 0 lets the system choose."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--serve {text}: expected HOST:PORT, e.g. 127.0.0.1:8700")
    return host, int(port)


def read_tokens(path: str, option: str) -> tuple[bytes, ...]:
    """A token file: one bearer token a line (blank lines and ``#`` comments ignored), each
    at least :data:`MIN_TOKEN_LENGTH` characters, printable, no blanks."""
    tokens = []
    for number, line in enumerate(read_text(path, what="token file").splitlines(), 1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() or not c.isprintable() for c in token):
            raise UsageError(f"{option} {path}: line {number}: a token is at least {MIN_TOKEN_LENGTH} printable "
                             "characters without blanks")
        tokens.append(token.encode())
    if not tokens:
        raise UsageError(f"{option} {path}: no token in the file")
    return tuple(tokens)


@dataclass(frozen=True)
class ServiceOptions:
    """How the service listens and whom it lets read decisions."""

    address: tuple[str, int]
    tls_cert: str | None = None
    tls_key: str | None = None
    client_ca: str | None = None  # mutual TLS: every client presents a certificate it signed
    read_tokens: tuple[bytes, ...] = ()  # bearer tokens that may read decisions
    agent_tokens: tuple[bytes, ...] = ()  # when set, GET /wave and POST /reports need one too
    quarantine: str | None = None
    quarantine_limit: int = 10_000
    max_report_bytes: int = MAX_REPORT_BYTES
    body_timeout: float = 30.0  # seconds to receive a request's head, and then its body
    keep_alive: int = 15  # seconds an idle connection stays open
    max_connections: int = 1000  # beyond, new requests are answered 503
    graceful_timeout: int = 30  # seconds in-flight requests get on SIGTERM

    def check(self) -> None:
        """Fail closed on what would expose the service: a non-loopback address needs TLS and
        an authentication for reading decisions."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise UsageError("--tls-cert and --tls-key go together")
        if self.client_ca is not None and self.tls_cert is None:
            raise UsageError("--client-ca (mutual TLS) needs --tls-cert and --tls-key")
        host = self.address[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback and (self.tls_cert is None or not (self.read_tokens or self.client_ca)):
            raise UsageError(f"--serve {host}: beyond the loopback interface the service needs TLS (--tls-cert, --tls-key) "
                             "and client authentication for decisions (--token-file or --client-ca)")


def _authorized(scope: Scope, tokens: tuple[bytes, ...]) -> bool:
    if not tokens:
        return True
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = bytes(value).partition(b" ")
            if scheme.lower() == b"bearer":
                presented = token.strip()
                # compare_digest against every token: the time does not say which one matched
                return any([hmac.compare_digest(presented, t) for t in tokens])
    return False


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ReportService:
    """The ASGI application."""

    def __init__(self, store: ReportStore, signer: Signer | None, options: ServiceOptions) -> None:
        self.store, self.signer, self.options = store, signer, options
        self.renderers: dict[str, tuple[str, Callable[[WaveDecision], bytes]]] = {
            "/decision": ("application/json", decision_json),
            "/decision.txt": ("text/plain; charset=utf-8", render_decision_text),
        }
        if signer is not None:
            self.renderers["/decision.dsse"] = ("application/json", lambda d: sign_decision(d, signer))
        wave = store.gate.wave.wave
        self.wave_doc = orjson.dumps({"id": wave.id, "nonce": wave.nonce,
                                      "activated_at": isoformat(wave.activated_at) if wave.activated_at else None},
                                     option=orjson.OPT_SORT_KEYS) + b"\n"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # lifespan is off; websockets are not served
        started = time.monotonic()
        method, path = scope["method"], scope["path"]
        status, headers, body, detail = await self._route(scope, receive, method, path)
        sent = [(b"content-type", headers.pop("content-type", "application/json").encode()),
                (b"content-length", str(len(body)).encode()),
                *((k.encode(), v.encode()) for k, v in headers.items())]
        await send({"type": "http.response.start", "status": status, "headers": sent})
        await send({"type": "http.response.body", "body": body if method != "HEAD" else b""})
        client = scope.get("client") or ("-", 0)
        elapsed = (time.monotonic() - started) * 1000
        sys.stderr.write(f"compliance promote: {client[0]}:{client[1]} {_printable(method)} {_printable(path)} {status} "
                         f"{len(body)}B {elapsed:.1f}ms{_printable(detail, keep_spaces=True)}\n")

    async def _route(self, scope: Scope, receive: Receive, method: str,
                     path: str) -> tuple[int, dict[str, str], bytes, str]:
        if path == "/health" and method in ("GET", "HEAD"):
            return 200, {"content-type": "text/plain"}, b"ok\n", ""
        if path == "/wave" and method in ("GET", "HEAD"):
            if not _authorized(scope, self.options.agent_tokens):
                return self._unauthorized()
            return 200, {}, self.wave_doc, ""
        if path == "/reports" and method == "POST":
            if not _authorized(scope, self.options.agent_tokens):
                return self._unauthorized()
            return await self._upload(scope, receive)
        if path in self.renderers and method in ("GET", "HEAD"):
            if not _authorized(scope, self.options.read_tokens):
                return self._unauthorized()
            return await self._decision(path)
        known = ", ".join(["GET /health", "GET /wave", "POST /reports", *(f"GET {p}" for p in sorted(self.renderers))])
        return *_error(404, f"no such endpoint: {method} {path} ({known})"), ""

    def _unauthorized(self) -> tuple[int, dict[str, str], bytes, str]:
        status, headers, body = _error(401, "a bearer token is required (Authorization: Bearer TOKEN)")
        return status, {**headers, "www-authenticate": 'Bearer realm="compliance"'}, body, ""

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.options.max_report_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise BodyError(413, f"a report is at most {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.options.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise BodyError(400, "the client went away before sending the whole body")
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise BodyError(413, f"a report is at most {limit} bytes")
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise BodyError(408, f"the body did not arrive within {self.options.body_timeout:g} s") from None

    async def _upload(self, scope: Scope, receive: Receive) -> tuple[int, dict[str, str], bytes, str]:
        try:
            body = await self._body(scope, receive)
        except BodyError as exc:
            return *_error(exc.status, str(exc)), ""
        signature = _header(scope, SIGNATURE_HEADER.encode())
        if signature is not None:
            signature = signature.strip()
            if len(signature) > MAX_SIGNATURE_BYTES:
                return *_error(413, f"{SIGNATURE_HEADER}: at most {MAX_SIGNATURE_BYTES} bytes"), ""
        now = clock.now()
        try:
            result = await asyncio.to_thread(self.store.upload, body, signature, now)
        except ComplianceError as exc:
            return *_error(500, str(exc)), ""
        doc = orjson.dumps(result.answer, option=orjson.OPT_SORT_KEYS) + b"\n"
        return result.status, {}, doc, f" host={result.answer['host']} evidence={result.answer['evidence']}"

    async def _decision(self, path: str) -> tuple[int, dict[str, str], bytes, str]:
        content_type, render = self.renderers[path]
        try:
            decision = await asyncio.to_thread(self.store.decide, clock.now())
            body = await asyncio.to_thread(render, decision)
        except ComplianceError as exc:
            return *_error(500, str(exc)), ""
        headers = {"content-type": content_type, "x-compliance-verdict": decision.verdict.value,
                   "x-compliance-exit-code": str(decision.exit_code)}
        return 200, headers, body, f" verdict={decision.verdict.value}"


def _printable(text: str, *, keep_spaces: bool = False, limit: int = 300) -> str:
    """A request's own words (its path; the host name an unverified report claims) as one
    log field: control characters and blanks escaped, so that no request can write a
    line of its own into the log or shift its fields."""
    out = "".join(c if c.isprintable() and (keep_spaces or c != " ") else f"\\x{ord(c):02x}" for c in text[:limit])
    return out + ("…" if len(text) > limit else "")


def _error(status: int, message: str) -> tuple[int, dict[str, str], bytes]:
    return status, {}, orjson.dumps({"error": message}) + b"\n"


def _listen(address: tuple[str, int], backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise UsageError(f"--serve {address[0]}:{address[1]}: cannot listen: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(gate: PromotionGate, options: ServiceOptions, signer: Signer | None) -> int:
    """Serve until SIGTERM or SIGINT (in-flight requests finish, within
    ``graceful_timeout``); exit 0."""
    options.check()
    store = ReportStore.open(gate, quarantine_folder(gate.reports, options.quarantine), options.quarantine_limit,
                             clock.now())
    app = ReportService(store, signer, options)
    # What is loaded now (modules, catalog, wave, keys) lives as long as the service: out
    # of the collector's sight, so that its full collections stay short.
    gc.collect()
    gc.freeze()
    protocol = type("HeadTimeoutProtocol", (_HeadTimeoutProtocol,), {"head_timeout": options.body_timeout})
    config = uvicorn.Config(
        app, http=protocol, loop="asyncio", lifespan="off", interface="asgi3", ws="none",
        log_config=None, log_level="warning", access_log=False, server_header=False, proxy_headers=False,
        timeout_keep_alive=options.keep_alive, limit_concurrency=options.max_connections,
        timeout_graceful_shutdown=options.graceful_timeout,
        ssl_certfile=options.tls_cert, ssl_keyfile=options.tls_key, ssl_ca_certs=options.client_ca,
        ssl_cert_reqs=ssl.CERT_REQUIRED if options.client_ca else ssl.CERT_NONE,
    )
    try:
        config.load()
    except (OSError, ssl.SSLError) as exc:
        files = ", ".join(f for f in (options.tls_cert, options.tls_key, options.client_ca) if f)
        raise UsageError(f"{files}: cannot load the TLS certificate, key or CA: {exc}") from None
    sock = _listen(options.address, config.backlog)
    server = _Server(config)
    host, port = sock.getsockname()[:2]
    scheme = "https" if options.tls_cert else "http"
    click.echo(f"listening on {scheme}://{f'[{host}]' if ':' in host else host}:{port}")
    sys.stdout.flush()
    try:
        asyncio.run(server.serve(sockets=[sock]))
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


class _HeadTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a time limit on a request's head. uvicorn's
    keep-alive timer stops at the first byte of a request, and nothing then limits how long
    the rest of the head may take: a client sending one header line a minute would hold its
    connection (one of ``--max-connections``) for ever. From the first byte of a head to its
    end, ``head_timeout`` seconds at most; then the connection is closed."""

    head_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_done = False

    def data_received(self, data: bytes) -> None:
        if not self._head_done and self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._head_done = True
        self._cancel_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._head_done = False  # what comes next on this connection is another request's head

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._head_done:
            self.transport.close()


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGTERM or SIGINT without re-raising the signal
    afterwards (uvicorn does, to give the default action; the command exits 0)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


__all__ = ["ReportService", "ServiceOptions", "parse_address", "read_tokens", "serve"]
