"""``compliance probe`` end to end: select the runtime checks, open the host, probe, sign,
write the report.

The key is decrypted (scrypt takes a moment) while the host is probed; nothing is written
until the signed report is complete.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import Selection, select
from compliance.errors import UsageError
from compliance.evidence.probe_report import sign_report
from compliance.formats.console import print_verdict, probe_verdict
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.models.probe import ProbeReport
from compliance.models.run_options import (
    catalog_dir_option,
    option,
    profiles_option,
    quiet_option,
    verbose_option,
)
from compliance.runs.host_open import open_host
from compliance.runs.outputs import check_output_file
from compliance.runs.probe_run import run_probes
from compliance.signing.keys import NativeSigner
from compliance.util import clock
from compliance.util.fsutil import atomic_write

STORE_PATH_PREFIX = "/nix/store/"
MAX_NONCE_LENGTH = 512


@dataclass
class ProbeOptions:
    """Everything ``compliance probe`` takes, declared once (the CLI is built from it)."""

    key: str = field(metadata=option(
        "--key", metavar="K", help="Signing key (cosign-compatible; password in COSIGN_PASSWORD)."))
    nonce: str = field(metadata=option(
        "--nonce", metavar="N", help="The wave's nonce: binds the report to this wave."))
    output: str = field(metadata=option(
        "--output", "-o", metavar="F", help="Where to write the signed report (a DSSE envelope)."))
    profiles: list[str] = field(default_factory=list, metadata=profiles_option())
    root: str | None = field(default=None, metadata=option(
        "--root", metavar="DIR", help="Probe an offline root folder (a mounted image or chroot) instead of this machine."))
    hosts: list[str] = field(default_factory=list, metadata=option(
        "--host", metavar="ssh://USER@HOST:PORT", help="Probe a remote host over SSH (one connection for the run; one host per run)."))
    ssh_identity: str | None = field(default=None, metadata=option(
        "--ssh-identity", metavar="FILE", help="SSH private key for --host."))
    ssh_known_hosts: str | None = field(default=None, metadata=option(
        "--ssh-known-hosts", metavar="FILE", help="known_hosts file holding the host's key, for --host."))
    ssh_options: list[str] = field(default_factory=list, metadata=option(
        "--ssh-option", metavar="OPT", help="Extra ssh -o option for --host (repeatable)."))
    expect_closure: str | None = field(default=None, metadata=option(
        "--expect-closure", metavar="PATH", help="The approved system closure (store path, or a link to it)."))
    timeout: float = field(default=30.0, metadata=option(
        "--timeout", minimum=1, show_default=True,
        help="Time limit of one check, and of each command or file-system walk the probes run, in seconds."))
    catalog: Path | None = field(default=None, metadata=catalog_dir_option())
    quiet: bool = field(default=False, metadata=quiet_option())
    verbose: bool = field(default=False, metadata=verbose_option())


@dataclass(frozen=True)
class ProbeWritten:
    """What a probe run wrote: the report, where, and a one-line summary."""

    report: ProbeReport
    output: str
    summary: str


def expected_closure(value: str | None) -> str | None:
    """A store path, or a link to one (``./result``), resolved to the store path."""
    if value is None:
        return None
    path = value if value.startswith(STORE_PATH_PREFIX) else os.path.realpath(value)
    if not path.startswith(STORE_PATH_PREFIX) or "/" in path[len(STORE_PATH_PREFIX) :]:
        raise UsageError(f"--expect-closure {value}: not a store path (nor a link to one)")
    return path


def check_nonce(nonce: str) -> str:
    """A nonce the report can carry: printable, no blanks, bounded."""
    if not nonce or len(nonce) > MAX_NONCE_LENGTH or any(c.isspace() or not c.isprintable() for c in nonce):
        raise UsageError(f"--nonce: expected 1 to {MAX_NONCE_LENGTH} printable characters without blanks")
    return nonce


def runtime_selection(opts: ProbeOptions) -> tuple[Selection, str]:
    """The selected controls that have a runtime check, and the catalog's digest."""
    loaded = load_catalog(opts.catalog)
    selection = select(loaded, list(opts.profiles), CheckKind.RUNTIME)
    runtime = [sc for sc in selection.controls if sc.control.checks_of(CheckKind.RUNTIME)]
    if not runtime:
        raise UsageError("the selected profiles have no runtime check")
    return Selection(selection.requested, selection.profiles, selection.frameworks, runtime), loaded.digest


def probe_command(opts: ProbeOptions) -> ProbeWritten:
    """Probe the host the options name and write its signed report."""
    if len(opts.hosts) > 1:  # never a silent drop of all but one
        raise UsageError(f"--host given {len(opts.hosts)} times ({', '.join(opts.hosts)}): a probe run probes one host; run one probe per host")
    host_url = opts.hosts[0] if opts.hosts else None
    nonce = check_nonce(opts.nonce)
    expected = expected_closure(opts.expect_closure)
    check_output_file(opts.output)
    pool = ThreadPoolExecutor(max_workers=1)
    pending_signer = pool.submit(NativeSigner.from_file, opts.key)
    try:
        selection, digest = runtime_selection(opts)
        created = clock.now()
        with open_host(root=opts.root, ssh_url=host_url, identity=opts.ssh_identity,
                       known_hosts=opts.ssh_known_hosts, ssh_options=opts.ssh_options) as host:
            report = run_probes(host, selection, catalog_digest=digest, nonce=nonce, signer_fingerprint="",
                                created=created, expected_closure=expected, timeout=opts.timeout)
        signer = pending_signer.result()
    finally:
        pool.shutdown(wait=True)
    report = report.model_copy(update={"signer": signer.public_key.fingerprint})
    atomic_write(opts.output, sign_report(report, signer))
    counts = report.assessment.counts().by_status
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts.get(s))
    host_name = report.assessment.subject.name or report.host.address
    line = f"{opts.output}: {host_name}: {len(report.assessment.results)} controls ({summary})"
    # The verdict goes to standard error; standard output holds nothing but a format.
    print_verdict(probe_verdict(report.assessment, host_name, [("signed report", opts.output)]), quiet=opts.quiet, verbose=opts.verbose)
    return ProbeWritten(report, opts.output, line)
