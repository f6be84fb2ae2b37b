"""``compliance probe``: read a host's effective state and write a signed probe report."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click

from compliance.cli.options import catalog_option, profile_option
from compliance.errors import UsageError
from compliance.models.common import Status
from compliance.runs.outputs import check_output_file

STORE_PATH_PREFIX = "/nix/store/"


def _expected_closure(value: str | None) -> str | None:
    """A store path, or a link to one (``./result``), resolved to the store path."""
    if value is None:
        return None
    path = value if value.startswith(STORE_PATH_PREFIX) else os.path.realpath(value)
    if not path.startswith(STORE_PATH_PREFIX) or "/" in path[len(STORE_PATH_PREFIX) :]:
        raise UsageError(f"--expect-closure {value}: not a store path (nor a link to one)")
    return path


def _check_nonce(nonce: str) -> str:
    if not nonce or len(nonce) > 512 or any(c.isspace() or not c.isprintable() for c in nonce):
        raise UsageError("--nonce: expected 1 to 512 printable characters without blanks")
    return nonce


@click.command("probe")
@profile_option
@click.option("--root", metavar="DIR", help="Probe an offline root folder (a mounted image or chroot) instead of this machine.")
@click.option("--host", "host_url", metavar="ssh://USER@HOST:PORT", help="Probe a remote host over SSH (one connection for the run).")
@click.option("--ssh-identity", metavar="FILE", help="SSH private key for --host.")
@click.option("--ssh-known-hosts", metavar="FILE", help="known_hosts file holding the host's key, for --host.")
@click.option("--ssh-option", "ssh_options", multiple=True, metavar="OPT", help="Extra ssh -o option for --host (repeatable).")
@click.option("--key", required=True, metavar="K", help="Signing key (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--nonce", required=True, metavar="N", help="The wave's nonce: binds the report to this wave.")
@click.option("--expect-closure", metavar="PATH", help="The approved system closure (store path, or a link to it).")
@click.option("--timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Time limit of one check, and of each command or file-system walk the probes run, in seconds.")
@click.option("--output", "-o", required=True, metavar="F", help="Where to write the signed report (a DSSE envelope).")
@catalog_option
def probe_command(
    profiles: tuple[str, ...],
    root: str | None,
    host_url: str | None,
    ssh_identity: str | None,
    ssh_known_hosts: str | None,
    ssh_options: tuple[str, ...],
    key: str,
    nonce: str,
    expect_closure: str | None,
    timeout: float,
    output: str,
    catalog: Path | None,
) -> int:
    """Probe a host's effective state with the selected runtime checks and write a signed report.

    Exit 0 when the report is written, whatever the results; 2 on an input or connection error.
    """
    from compliance.catalog.loader import load_catalog
    from compliance.catalog.selection import select
    from compliance.evidence.probe_report import sign_report
    from compliance.models.control import CheckKind
    from compliance.runs.host_open import open_host
    from compliance.runs.probe_run import run_probes
    from compliance.signing.keys import NativeSigner
    from compliance.util import clock
    from compliance.util.fsutil import atomic_write

    nonce = _check_nonce(nonce)
    expected = _expected_closure(expect_closure)
    check_output_file(output)
    # Decrypting the key (scrypt) takes a moment: do it while the host is probed.
    pool = ThreadPoolExecutor(max_workers=1)
    pending_signer = pool.submit(NativeSigner.from_file, key)
    loaded = load_catalog(catalog)
    selection = select(loaded, list(profiles), CheckKind.RUNTIME)
    if not any(sc.control.checks_of(CheckKind.RUNTIME) for sc in selection.controls):
        raise UsageError("the selected profiles have no runtime check")
    selection = type(selection)(selection.requested, selection.profiles, selection.frameworks,
                                [sc for sc in selection.controls if sc.control.checks_of(CheckKind.RUNTIME)])
    created = clock.now()
    try:
        with open_host(root=root, ssh_url=host_url, identity=ssh_identity, known_hosts=ssh_known_hosts, ssh_options=ssh_options) as host:
            report = run_probes(host, selection, catalog_digest=loaded.digest, nonce=nonce, signer_fingerprint="",
                                created=created, expected_closure=expected, timeout=timeout)
        signer = pending_signer.result()
    finally:
        pool.shutdown(wait=True)
    report = report.model_copy(update={"signer": signer.public_key.fingerprint})
    atomic_write(output, sign_report(report, signer))
    counts = report.assessment.counts().by_status
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts.get(s))
    click.echo(f"{output}: {report.assessment.subject.name or report.host.address}: {len(report.assessment.results)} controls ({summary})")
    return 0


COMMANDS = [probe_command]
