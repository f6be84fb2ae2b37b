"""``compliance agent``: a host probes itself for the current wave and uploads its signed
report to the report service (``compliance promote --serve``)."""

from __future__ import annotations

import random
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from compliance.cli.options import catalog_option, profile_option
from compliance.errors import ComplianceError, UsageError


def _log(message: str) -> None:
    click.echo(f"compliance agent: {message}", err=True)


@click.command("agent")
@click.option("--server", required=True, metavar="URL", help="The report service, e.g. https://gate.example:8700 (plain http only to loopback).")
@click.option("--key", required=True, metavar="K", help="The host's signing key (cosign-compatible), whose public key the wave lists.")
@click.option("--password-file", metavar="F", help="The key's password (first line). Default: COSIGN_PASSWORD.")
@profile_option
@catalog_option
@click.option("--root", metavar="DIR", help="Probe an offline root folder instead of this machine (images, tests).")
@click.option("--token-file", metavar="F", help="A bearer token (one line) sent with every request.")
@click.option("--ca-file", metavar="F", help="CA certificates (PEM) that verify the server. Default: the system's.")
@click.option("--client-cert", metavar="F", help="Client certificate (PEM) for mutual TLS.")
@click.option("--client-key", metavar="F", help="Its private key (PEM).")
@click.option("--once", is_flag=True, help="One cycle, then exit (for a systemd timer). Default: a cycle every --interval.")
@click.option("--interval", type=click.FloatRange(min=1), default=3600.0, show_default=True, metavar="S",
              help="Seconds between cycles without --once (each wait shortened by up to 10%% at random).")
@click.option("--attempts", type=click.IntRange(min=1, max=100), default=5, show_default=True,
              help="Tries of each request before the cycle fails.")
@click.option("--backoff", type=click.FloatRange(min=0), default=2.0, show_default=True, metavar="S",
              help="First wait between tries, doubling each time (with jitter).")
@click.option("--max-backoff", type=click.FloatRange(min=0), default=60.0, show_default=True, metavar="S",
              help="Longest wait between tries.")
@click.option("--http-timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, metavar="S",
              help="Time limit of one request.")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, metavar="S",
              help="Time limit of one check, and of each command or walk the probes run.")
def agent_command(
    server: str,
    key: str,
    password_file: str | None,
    profiles: tuple[str, ...],
    catalog: Path | None,
    root: str | None,
    token_file: str | None,
    ca_file: str | None,
    client_cert: str | None,
    client_key: str | None,
    once: bool,
    interval: float,
    attempts: int,
    backoff: float,
    max_backoff: float,
    http_timeout: float,
    timeout: float,
) -> int:
    """Fetch the current wave (id and nonce) from the report service, probe this host with the
    selected runtime checks, sign the report with the host's key and upload it; retry with
    backoff while the service is unreachable or busy.

    Exit 0 when the report was accepted (whatever it found), 2 when a cycle fails (the
    service refused the report, could not be reached after the attempts, or bad input).
    Without --once, a failed cycle is logged and the next one runs; SIGTERM ends with 0.
    """
    from compliance.runs.agent_run import Probe, Retry, ServiceClient, run_cycle, runtime_selection
    from compliance.signing.keys import NativeSigner
    from compliance.util.fsutil import read_text

    client = ServiceClient.create(server, ca_file=ca_file, client_cert=client_cert, client_key=client_key,
                                  token_file=token_file, timeout=http_timeout)
    password = None
    if password_file is not None:
        lines = read_text(password_file, what="password file").splitlines()
        if not lines or not lines[0]:
            raise UsageError(f"--password-file {password_file}: empty")
        password = lines[0].encode()
    signer = NativeSigner.from_file(key, password)
    selection, digest = runtime_selection(catalog, list(profiles))
    probe = Probe(selection, digest, signer, root=root, timeout=timeout)
    retry = Retry(attempts, backoff, max_backoff)

    def cycle() -> None:
        delivered = run_cycle(client, probe, retry, _log)
        answer = delivered.answer
        click.echo(f"wave {delivered.wave}: report {answer.get('file')} of host {answer.get('host')} "
                   f"accepted ({delivered.status}): {answer.get('evidence')}: {answer.get('message')}")
        sys.stdout.flush()

    if once:
        cycle()
        return 0
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    while not stopping.is_set():
        try:
            cycle()
        except ComplianceError as exc:
            _log(f"cycle failed: {exc}")
        stopping.wait(interval * random.uniform(0.9, 1.0))
    return 0


COMMANDS = [agent_command]
