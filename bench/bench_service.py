"""Benchmark of the report service (``compliance promote --serve``) under bounded load on
loopback: verified uploads per second against the 500/s target.

    .venv/bin/python -m bench.bench_service [--hosts 200] [--rounds 5] [--reads 2000]
        [--idle 200] [--concurrency 16] [--report full|small] [--tls]

The service is the real command in its own process (uvicorn, one worker), logging every
request to a file. The reports are made up front: one real probe of this machine (the
full runtime profile, about 130 kB signed, as an agent of a NixOS host sends; or
``small``, four controls), then for each host and round the same report under the host's
name, closure and the wave's nonce, a second later each round, signed with the host's
own ECDSA P-256 key. So every upload is a distinct report that verifies, and from the
second round on each one replaces its host's previous report (write, then remove).

While the load runs, ``--idle`` connections are opened and left idle (TCP, and the TLS
handshake with ``--tls``): they must neither stop the service from answering nor be
answered wrongly. The load is ``--concurrency`` keep-alive connections, each sending its
next request as soon as the previous one is answered (a closed loop: the figure is what
the service sustains, not what a client offers). Timed: the uploads (all must be 201),
then ``--reads`` GET /wave. Printed: uploads per second against 500, as a ratio with a
verdict, latency percentiles, reads per second, idle connections still open, and the
decision's count of hosts with verified evidence (must be every host).

The machine may be shared: the load average is printed next to the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_promote import NONCE, NOW, healthy, scoped, template_report  # noqa: E402
from compliance.catalog.loader import load_catalog  # noqa: E402
from compliance.catalog.selection import Selection, select  # noqa: E402
from compliance.evidence.probe_report import sign_report  # noqa: E402
from compliance.hosts.filesystem import LocalHost  # noqa: E402
from compliance.models.control import CheckKind  # noqa: E402
from compliance.models.probe import ProbeReport  # noqa: E402
from compliance.runs.probe_run import run_probes  # noqa: E402
from compliance.signing.keys import NativeSigner  # noqa: E402
from tests.support.fixtures import fake_store_path  # noqa: E402

TARGET = 500.0  # verified uploads per second (issue 17)
SMALL = ["CM-01", "HK-06", "HK-07", "IA-01"]


def small_report() -> ProbeReport:
    catalog = load_catalog()
    selection = select(catalog, [], CheckKind.RUNTIME)
    chosen = Selection(selection.requested, selection.profiles, selection.frameworks,
                       [sc for sc in selection.controls if sc.control.id in SMALL])
    signer = NativeSigner(ec.generate_private_key(ec.SECP256R1()))
    with LocalHost() as host:
        return run_probes(host, scoped(chosen), catalog_digest=catalog.digest, nonce=NONCE,
                          signer_fingerprint=signer.public_key.fingerprint, created=NOW, timeout=30)


def make_wave(folder: Path, hosts: int, rounds: int, template: ProbeReport) -> tuple[Path, list[bytes]]:
    """The wave file, and the uploads in the order they are sent (round by round)."""
    entries, signers, closures = [], [], []
    for index in range(hosts):
        signer = NativeSigner(ec.generate_private_key(ec.SECP256R1()))
        name, closure = f"host-{index:04d}", fake_store_path(f"nixos-system-host-{index:04d}")
        entries.append({"name": name, "expected_closure": closure, "machine_id": f"{index:032x}",
                        "public_key": signer.public_key.pem.decode()})
        signers.append(signer)
        closures.append(closure)
    uploads = []
    for round_ in range(rounds):
        created = NOW - timedelta(seconds=rounds - round_)
        for index, signer in enumerate(signers):
            host = template.host.model_copy(update={"name": entries[index]["name"], "machine_id": f"{index:032x}",
                                                    "running_closure": closures[index]})
            report = template.model_copy(update={
                "report_id": f"{index:08x}-{round_:04x}-5000-8000-000000000000", "created": created, "host": host,
                "expected_closure": closures[index], "closure_matches": True, "signer": signer.public_key.fingerprint})
            uploads.append(sign_report(report, signer))
    wave = folder / "wave.json"
    wave.write_text(json.dumps({"id": "bench@0000000/service", "nonce": NONCE, "activated_at": "2026-10-31T00:00:00Z",
                                "hosts": entries}))
    return wave, uploads


def make_tls(folder: Path) -> tuple[Path, Path]:
    """A self-signed P-256 certificate for 127.0.0.1 (openssl)."""
    cert, key = folder / "tls.pem", folder / "tls.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class Client:
    """One keep-alive HTTP/1.1 connection, the least a client can do per request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
        if body:
            head += "Content-Type: application/json\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        return int(status_line.split()[1]), answer


async def closed_loop(port: int, context: ssl.SSLContext | None, requests: list[tuple[str, str, bytes]],
                      concurrency: int) -> tuple[float, list[float], dict[int, int], list[bytes]]:
    clients = [Client(*await asyncio.open_connection("127.0.0.1", port, ssl=context)) for _ in range(concurrency)]
    queue = iter(enumerate(requests))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    odd: list[bytes] = []

    async def worker(client: Client) -> None:
        for _, (method, path, body) in queue:
            started = time.perf_counter()
            status, answer = await client.call(method, path, body)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if status >= 300 and len(odd) < 3:
                odd.append(answer[:300])

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.writer.close()
    return elapsed, latencies, statuses, odd


def open_idle(port: int, count: int, context: ssl.SSLContext | None) -> list[socket.socket]:
    idle = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        idle.append(context.wrap_socket(sock, server_hostname="127.0.0.1") if context else sock)
    return idle


def still_open(sockets: list[socket.socket]) -> int:
    """Connections the service has not closed: reading finds nothing yet (an idle
    connection), rather than its end (b"", or TLS's close-notify)."""
    alive = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            data = sock.recv(1) if isinstance(sock, ssl.SSLSocket) else sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, ssl.SSLWantReadError):
            alive += 1
            continue
        except OSError:
            continue
        if data:
            print(f"an idle connection was sent {data!r}", file=sys.stderr)
    return alive


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="uploads per host (hosts x rounds uploads)")
    parser.add_argument("--reads", type=int, default=2000, help="GET /wave requests after the uploads")
    parser.add_argument("--idle", type=int, default=200, help="idle connections held during the load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--report", choices=["full", "small"], default="full")
    parser.add_argument("--tls", action="store_true", help="HTTPS with a certificate made by openssl")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        template = healthy(template_report() if args.report == "full" else small_report())
        wave, uploads = make_wave(folder, args.hosts, args.rounds, template)
        (folder / "policy.json").write_text(json.dumps({"required_controls": [], "hosts": {"accept_offline_root": True},
                                                        "canaries": {"accept_offline_root": True}}))
        (folder / "reports").mkdir()
        command = [sys.executable, "-m", "compliance", "promote", "--serve", "127.0.0.1:0", "--wave", str(wave),
                   "--reports", str(folder / "reports"), "--nonce", NONCE, "--policy", str(folder / "policy.json"),
                   "--keep-alive", "300", "--max-connections", str(args.idle + args.concurrency + 64)]
        context = None
        if args.tls:
            cert, key = make_tls(folder)
            command += ["--tls-cert", str(cert), "--tls-key", str(key)]
            context = ssl.create_default_context(cafile=str(cert))
        log = (folder / "requests.log").open("w")
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(int(NOW.timestamp())), "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if not line.startswith("listening on "):
                print(f"the service did not start: {line!r}", file=sys.stderr)
                return 2
            port = int(line.rsplit(":", 1)[1])
            idle = open_idle(port, args.idle, context)
            size = statistics.mean(len(u) for u in uploads)
            up_time, up_lat, up_status, odd = asyncio.run(closed_loop(
                port, context, [("POST", "/reports", u) for u in uploads], args.concurrency))
            rd_time, _, rd_status, _ = asyncio.run(closed_loop(
                port, context, [("GET", "/wave", b"")] * args.reads, args.concurrency))
            alive = still_open(idle)
            decided = asyncio.run(closed_loop(port, context, [("GET", "/decision", b"")], 1))
            for sock in idle:
                sock.close()
        finally:
            proc.terminate()
            code = proc.wait(timeout=60)
            log.close()
        logged = sum(1 for _ in (folder / "requests.log").open())
        kept = sum(1 for p in (folder / "reports").iterdir() if p.is_file())

    rate = len(uploads) / up_time
    ratio = rate / TARGET
    load = os.getloadavg()
    print(f"report service, {'https' if args.tls else 'http'} on loopback, uvicorn (httptools), one worker; "
          f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    print(f"uploads: {len(uploads)} verified reports ({args.report}, {size / 1000:.0f} kB each) of {args.hosts} hosts, "
          f"{args.concurrency} connections: {up_time:.2f} s, statuses {dict(sorted(up_status.items()))}")
    print(f"  latency p50 {percentile(up_lat, 0.5) * 1000:.1f} ms, p99 {percentile(up_lat, 0.99) * 1000:.1f} ms")
    if odd:
        print(f"  unexpected answers: {odd}")
    print(f"reads: {args.reads} GET /wave in {rd_time:.2f} s = {args.reads / rd_time:.0f}/s, statuses {rd_status}")
    print(f"idle connections: {alive} of {args.idle} still open after the load; reports kept: {kept} (one per host); "
          f"decision: {decided[2]}; requests logged: {logged}; exit on SIGTERM: {code}")
    verdict = "meets" if ratio >= 1 and up_status == {201: len(uploads)} else "does NOT meet"
    print(f"verified uploads: {rate:.0f}/s against {TARGET:.0f}/s: ratio {ratio:.2f} -> {verdict} the target")
    return 0 if verdict == "meets" else 1


if __name__ == "__main__":
    sys.exit(main())
