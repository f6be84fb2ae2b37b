"""``compliance probe`` end to end: select the runtime checks, open the host, probe, sign,
write the report (and, with ``--nixfleet-dir``, nixfleet-compliance's evidence.json);
with ``--inventory``, every host of an inventory (:mod:`compliance.runs.fleet_probe`).

The key is decrypted (scrypt takes a moment) while the host is probed; nothing is written
until the signed report is complete.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import Selection, select
from compliance.errors import UsageError
from compliance.evidence.nixfleet_evidence import sign_evidence
from compliance.evidence.probe_report import sign_report
from compliance.formats.console import print_verdict, probe_verdict
from compliance.inputs.host_inventory import Inventory, load_inventory
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.models.probe import MIN_NONCE_LENGTH, ProbeReport
from compliance.models.run_options import (
    catalog_dir_option,
    option,
    profiles_option,
    quiet_option,
    verbose_option,
)
from compliance.runs.fleet_probe import (
    FORMATS,
    FleetDefaults,
    FleetJob,
    HostRun,
    plan_jobs,
    probe_fleet,
)
from compliance.runs.host_open import open_host
from compliance.runs.outputs import check_output_file
from compliance.runs.probe_run import run_probes
from compliance.signing.keys import NativeSigner
from compliance.signing.ssh_host_signer import SshHostSigner
from compliance.util import clock
from compliance.util.fsutil import atomic_write_all

STORE_PATH_PREFIX = "/nix/store/"
MAX_NONCE_LENGTH = 512
MAX_PARALLEL = 256
# Exit code of an inventory run in which some host has no report (unreachable, failed,
# timed out); the reports of the others are written. 2 stays "nothing was probed".
SOME_HOSTS_FAILED = 4


@dataclass
class ProbeOptions:
    """Everything ``compliance probe`` takes, declared once (the CLI is built from it)."""

    key: str | None = field(default=None, metadata=option(
        "--key", metavar="K", help="Signing key (cosign-compatible; password in COSIGN_PASSWORD). "
                                   "With --inventory: of hosts that name none ({name}: the host's name)."))
    nonce: str | None = field(default=None, metadata=option(
        "--nonce", metavar="N", help="The wave's nonce: binds the report to this wave "
                                     "(default with a wave file as --inventory: the wave's)."))
    output: str | None = field(default=None, metadata=option(
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
    nixfleet_dir: str | None = field(default=None, metadata=option(
        "--nixfleet-dir", metavar="DIR",
        help="Also write nixfleet-compliance evidence.json, .sig and evidence.host.pub into DIR (needs --nixfleet-key)."))
    nixfleet_key: str | None = field(default=None, metadata=option(
        "--nixfleet-key", metavar="FILE",
        help="The host's OpenSSH ed25519 private key (e.g. /etc/ssh/ssh_host_ed25519_key) that signs evidence.json "
             "(--inventory: of hosts that name none)."))
    inventory: str | None = field(default=None, metadata=option(
        "--inventory", metavar="FILE",
        help="Probe every host of FILE over SSH (inventory TOML/JSON, a wave file, or an Ansible YAML inventory)."))
    output_dir: str | None = field(default=None, metadata=option(
        "--output-dir", metavar="DIR",
        help="--inventory: the folder of the reports (HOST.dsse.json; HOST/evidence.json with --format nixfleet)."))
    formats: list[str] = field(default_factory=list, metadata=option(
        "--format", metavar="FMT", help="--inventory: dsse or nixfleet, the reports written per host (repeatable; default dsse)."))
    parallel: int = field(default=8, metadata=option(
        "--parallel", minimum=1, show_default=True, help=f"--inventory: hosts probed at the same time (at most {MAX_PARALLEL})."))
    host_timeout: float = field(default=600.0, metadata=option(
        "--host-timeout", minimum=1, show_default=True, help="--inventory: time limit of one host's whole run, in seconds."))
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
    if len(nonce) < MIN_NONCE_LENGTH:
        raise UsageError(f"--nonce: {len(nonce)} characters; a wave needs at least {MIN_NONCE_LENGTH}"
                         " (a guessable nonce lets a report be made before the wave)")
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
    """Probe the host the options name and write its signed report (and its nixfleet
    evidence, with ``--nixfleet-dir``)."""
    if opts.output_dir is not None or opts.formats:
        raise UsageError("--output-dir and --format go with --inventory (one host: -o and --nixfleet-dir)")
    if opts.nonce is None:
        raise UsageError("--nonce is required")
    if opts.key is None:
        raise UsageError("--key is required")
    if opts.output is None and opts.nixfleet_dir is None:
        raise UsageError("--output (or --nixfleet-dir) is required")
    if (opts.nixfleet_dir is None) != (opts.nixfleet_key is None):
        raise UsageError("--nixfleet-dir and --nixfleet-key go together")
    if len(opts.hosts) > 1:  # never a silent drop of all but one
        raise UsageError(f"--host given {len(opts.hosts)} times ({', '.join(opts.hosts)}): a probe run probes one host; "
                         "give an --inventory to probe many")
    host_url = opts.hosts[0] if opts.hosts else None
    nonce = check_nonce(opts.nonce)
    expected = expected_closure(opts.expect_closure)
    if opts.output is not None:
        check_output_file(opts.output)
    if opts.nixfleet_dir is not None and not Path(opts.nixfleet_dir).is_dir():
        raise UsageError(f"--nixfleet-dir {opts.nixfleet_dir}: no such folder")
    host_signer = SshHostSigner.from_file(opts.nixfleet_key) if opts.nixfleet_key is not None else None
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
    files: list[tuple[str | Path, bytes]] = []
    if opts.output is not None:
        files.append((opts.output, sign_report(report, signer)))
    if opts.nixfleet_dir is not None and host_signer is not None:
        files.extend((Path(opts.nixfleet_dir) / name, data) for name, data in sign_evidence(report, host_signer).files().items())
    atomic_write_all(files)
    counts = report.assessment.counts().by_status
    summary = ", ".join(f"{counts[s]} {s.value}" for s in Status if counts.get(s))
    where = opts.output if opts.output is not None else f"{opts.nixfleet_dir}/evidence.json"
    host_name = report.assessment.subject.name or report.host.address
    line = f"{where}: {host_name}: {len(report.assessment.results)} controls ({summary})"
    # The verdict goes to standard error; standard output holds nothing but a format.
    print_verdict(probe_verdict(report.assessment, host_name, [("signed report", where)]), quiet=opts.quiet, verbose=opts.verbose)
    return ProbeWritten(report, where, line)


@dataclass(frozen=True)
class FleetPlan:
    """An inventory run, checked and ready: nothing is probed until :func:`fleet_command`."""

    inventory: Inventory
    jobs: list[FleetJob]
    nonce: str
    formats: tuple[str, ...]


def plan_fleet(opts: ProbeOptions, check_wave: Callable[[str], object] | None = None) -> FleetPlan:
    """The inventory's hosts with their keys, or a usage or input error before anything runs.
    ``check_wave`` validates a wave file given as inventory as the wave gate reads it."""
    assert opts.inventory is not None
    if opts.root or opts.hosts or opts.output or opts.nixfleet_dir or opts.expect_closure:
        raise UsageError("--inventory probes the hosts it lists: --root, --host, -o, --nixfleet-dir and "
                         "--expect-closure do not apply (expected closures come from the inventory)")
    if opts.output_dir is None:
        raise UsageError("--inventory needs --output-dir")
    if Path(opts.output_dir).exists() and not Path(opts.output_dir).is_dir():
        raise UsageError(f"--output-dir {opts.output_dir}: not a folder")
    if opts.parallel > MAX_PARALLEL:
        raise UsageError(f"--parallel {opts.parallel}: at most {MAX_PARALLEL}")
    formats = tuple(dict.fromkeys(opts.formats)) or ("dsse",)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(f"--format {unknown[0]}: expected {' or '.join(FORMATS)}")
    listed = load_inventory(opts.inventory)
    nonce = opts.nonce
    if listed.kind == "wave":
        if check_wave is not None:
            check_wave(opts.inventory)
        if nonce is not None and nonce != listed.nonce:
            raise UsageError(f"--nonce {nonce}: not the nonce of the wave file {opts.inventory}")
        nonce = listed.nonce
    if nonce is None:
        raise UsageError("--nonce is required (unless --inventory is the wave file)")
    defaults = FleetDefaults(identity=opts.ssh_identity, known_hosts=opts.ssh_known_hosts,
                             ssh_options=tuple(opts.ssh_options), key=opts.key, nixfleet_key=opts.nixfleet_key)
    jobs = plan_jobs(listed.hosts, defaults, formats, opts.inventory)
    return FleetPlan(listed, jobs, check_nonce(nonce), formats)


def fleet_command(opts: ProbeOptions, plan: FleetPlan, *, on_start: Callable[[FleetJob], None] | None = None,
                  on_done: Callable[[HostRun], None] | None = None) -> list[HostRun]:
    """Probe every host of the plan; one outcome per host, in the inventory's order."""
    assert opts.output_dir is not None
    selection, digest = runtime_selection(opts)
    return probe_fleet(plan.jobs, selection, catalog_digest=digest, nonce=plan.nonce, created=clock.now(),
                       output_dir=opts.output_dir, formats=plan.formats, parallel=opts.parallel, timeout=opts.timeout,
                       host_timeout=opts.host_timeout, on_start=on_start, on_done=on_done)
