"""One cycle of ``compliance agent``: fetch the current wave from the report service, probe
this host, sign the report with the host's key, upload it; with bounded retries.

The service is ``compliance promote --serve``: ``GET /wave`` gives the wave id and the
nonce every report must sign, ``POST /reports`` takes the signed report and answers how
the gate classifies it. The client is the standard library's (``urllib``, ``ssl``), which
verifies the server's certificate against the system's CAs or the ``--ca-file`` given,
and presents a client certificate for mutual TLS when one is given.

What is retried: a connection that fails or times out, and answers that say *later*
(408, 429, 5xx). What is not: an answer that says *no* (any other 4xx, e.g. a report
that does not verify with the key the wave gives this host): retrying would give the
same answer. Waits grow from ``backoff`` (doubling, with jitter, at most ``max_backoff``)
and the attempts are bounded, so a cycle always ends.
"""

from __future__ import annotations

import ipaddress
import random
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson

from compliance.catalog.selection import Selection
from compliance.errors import ServiceRefused as Refused
from compliance.errors import ServiceUnavailable as Unavailable
from compliance.errors import UsageError
from compliance.evidence.probe_report import sign_report
from compliance.runs import probe_command
from compliance.runs.host_open import open_host
from compliance.runs.probe_run import run_probes
from compliance.signing.keys import Signer
from compliance.util import clock
from compliance.util.fsutil import read_text

MAX_ANSWER_BYTES = 1 << 20
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
T = TypeVar("T")


@dataclass(frozen=True)
class Retry:
    attempts: int = 5
    backoff: float = 2.0
    max_backoff: float = 60.0

    def delays(self) -> list[float]:
        """The waits between attempts: ``backoff`` doubling, each with jitter (half to all of
        it, so that a fleet started together does not retry together), capped."""
        return [min(self.max_backoff, self.backoff * 2**i) * random.uniform(0.5, 1.0) for i in range(self.attempts - 1)]

    def run(self, what: str, action: Callable[[], T], log: Callable[[str], None]) -> T:
        """``action`` until it succeeds, is refused, or the attempts are spent."""
        delays = self.delays()
        for attempt in range(self.attempts):
            try:
                return action()
            except Unavailable as exc:
                if attempt == len(delays):
                    raise Unavailable(f"{what}: {exc} (after {self.attempts} attempts)") from None
                log(f"{what}: {exc}; attempt {attempt + 1} of {self.attempts}, next in {delays[attempt]:.1f} s")
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")  # pragma: no cover


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServiceClient:
    """The report service at ``url``, reached with the agent's TLS settings and token."""

    url: str
    context: ssl.SSLContext | None
    token: str | None
    timeout: float

    @classmethod
    def create(cls, url: str, *, ca_file: str | None = None, client_cert: str | None = None,
               client_key: str | None = None, token_file: str | None = None, timeout: float = 30.0) -> ServiceClient:
        """Checked before anything is probed: an https URL (plain http only to the loopback
        interface), readable CA, client certificate and token files."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--server {url}: expected https://HOST[:PORT]")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise UsageError(f"--server {url}: plain http only to the loopback interface; use https")
        if (client_cert is None) != (client_key is None):
            raise UsageError("--client-cert and --client-key go together")
        context = None
        if parts.scheme == "https":
            try:
                context = ssl.create_default_context(cafile=ca_file)
                if client_cert is not None:
                    context.load_cert_chain(client_cert, client_key)
            except (OSError, ssl.SSLError) as exc:
                files = ", ".join(f for f in (ca_file, client_cert, client_key) if f)
                raise UsageError(f"{files}: cannot load the CA or client certificate: {exc}") from None
        elif ca_file or client_cert:
            raise UsageError(f"--server {url}: --ca-file and --client-cert need an https URL")
        token = None
        if token_file is not None:
            lines = [line.strip() for line in read_text(token_file, what="token file").splitlines()]
            tokens = [line for line in lines if line and not line.startswith("#")]
            if len(tokens) != 1:
                raise UsageError(f"--token-file {token_file}: expected one token, found {len(tokens)}")
            token = tokens[0]
        return cls(url.rstrip("/"), context, token, timeout)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
        """(status, parsed JSON answer) of a 2xx; :class:`Refused` or :class:`Unavailable` otherwise."""
        headers = {"Accept": "application/json", "User-Agent": "compliance-agent"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as response:
                return response.status, _parse(response.read(MAX_ANSWER_BYTES + 1), f"{method} {path}")
        except urllib.error.HTTPError as exc:
            answer = exc.read(MAX_ANSWER_BYTES + 1)
            reason = _reason(answer) or exc.reason
            if exc.code in RETRY_STATUSES:
                raise Unavailable(f"{method} {path}: {exc.code} {reason}") from None
            raise Refused(f"{method} {path}: refused, {exc.code}: {reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if isinstance(cause, ssl.SSLCertVerificationError):
                raise Refused(f"{self.url}: the server's certificate does not verify: {cause.verify_message}") from None
            if isinstance(cause, ssl.SSLError):  # e.g. the server requires a client certificate
                raise Refused(f"{self.url}: TLS handshake refused: {cause.reason or cause}") from None
            raise Unavailable(f"{self.url}: {getattr(cause, 'strerror', None) or cause}") from None


def _parse(data: bytes, what: str) -> Any:
    if len(data) > MAX_ANSWER_BYTES:
        raise Unavailable(f"{what}: the answer is larger than {MAX_ANSWER_BYTES} bytes")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise Unavailable(f"{what}: the answer is not JSON") from None


def _reason(answer: bytes) -> str | None:
    try:
        doc = orjson.loads(answer)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, dict):
        text = doc.get("message") or doc.get("error")
        return str(text) if text is not None else None
    return None


@dataclass(frozen=True)
class CurrentWave:
    id: str
    nonce: str


def fetch_wave(client: ServiceClient) -> CurrentWave:
    _, doc = client.request("GET", "/wave")
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not isinstance(doc.get("nonce"), str):
        raise Refused(f"{client.url}/wave: not a wave (expected id and nonce)")
    try:
        nonce = probe_command.check_nonce(doc["nonce"])
    except UsageError as exc:
        raise Refused(f"{client.url}/wave: {str(exc).removeprefix('--')}") from None
    return CurrentWave(doc["id"], nonce)


def runtime_selection(catalog: Path | None, profiles: list[str]) -> tuple[Selection, str]:
    """The selected controls that have a runtime check, and the catalog's digest (as
    ``compliance probe`` selects them)."""
    return probe_command.runtime_selection(
        probe_command.ProbeOptions(key="", nonce="", output="", profiles=profiles, catalog=catalog))


@dataclass(frozen=True)
class Probe:
    """What the agent probes, and with what key."""

    selection: Selection
    catalog_digest: str
    signer: Signer
    root: str | None = None  # an offline root instead of this machine
    timeout: float = 30.0

    def signed_report(self, nonce: str) -> bytes:
        created = clock.now()
        with open_host(root=self.root) as host:
            report = run_probes(host, self.selection, catalog_digest=self.catalog_digest, nonce=nonce,
                                signer_fingerprint=self.signer.public_key.fingerprint, created=created,
                                timeout=self.timeout)
        return sign_report(report, self.signer)


@dataclass(frozen=True)
class Delivered:
    wave: str
    status: int
    answer: dict[str, Any]


def run_cycle(client: ServiceClient, probe: Probe, retry: Retry, log: Callable[[str], None]) -> Delivered:
    """Fetch the wave, probe, sign, upload. Raises :class:`Refused` or :class:`Unavailable`
    (or the probe's own errors) when the cycle fails."""
    wave = retry.run("GET /wave", lambda: fetch_wave(client), log)
    body = probe.signed_report(wave.nonce)
    status, answer = retry.run("POST /reports", lambda: client.request("POST", "/reports", body), log)
    if not isinstance(answer, dict):
        raise Refused(f"{client.url}/reports: the answer is not an object")
    return Delivered(wave.id, status, answer)
