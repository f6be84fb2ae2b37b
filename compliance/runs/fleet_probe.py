"""Probing many hosts in one run: ``compliance probe --inventory``.

Each host is probed as ``compliance probe --host`` probes one (one SSH connection,
reused by every round trip of its run), on a bounded pool of ``parallel`` workers, and
its report is signed with its own key and written under the output folder. A host that
cannot be reached, fails mid-way or runs past its time limit gets no report, only a
line in the outcome saying why: an absent report is never a pass, and the wave gate
holds on it as on any missing evidence.

The time limit of a host covers its whole run; when it expires the host's SSH
connection is closed (which ends whatever was running over it) and whatever the worker
still had is dropped, never written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from compliance.catalog.selection import Selection
from compliance.errors import ComplianceError, InputError, UsageError
from compliance.evidence.nixfleet_evidence import sign_evidence
from compliance.evidence.probe_report import sign_report
from compliance.hosts.ssh import SshHost, SshTarget
from compliance.inputs.host_inventory import InventoryHost
from compliance.models.common import Status
from compliance.models.probe import ProbeReport
from compliance.runs.probe_run import run_probes
from compliance.signing.keys import NativeSigner, Signer
from compliance.signing.ssh_host_signer import SshHostSigner
from compliance.util.fsutil import atomic_write

FORMATS = ("dsse", "nixfleet")
REPORT_SUFFIX = ".dsse.json"


class HostState:
    WRITTEN = "written"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    ERROR = "error"


@dataclass
class HostRun:
    """What became of one host: its report files, or why there are none."""

    name: str
    address: str
    transport: str = "ssh"
    state: str = HostState.ERROR
    error: str | None = None
    seconds: float = 0.0
    round_trips: int = 0
    counts: dict[Status, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.state == HostState.WRITTEN


@dataclass(frozen=True)
class FleetDefaults:
    """What the command line gives every host that its inventory entry leaves unset."""

    identity: str | None = None
    known_hosts: str | None = None
    ssh_options: tuple[str, ...] = ()
    key: str | None = None
    nixfleet_key: str | None = None
    expected_closure_required: bool = False


@dataclass(frozen=True)
class FleetJob:
    host: InventoryHost
    target: SshTarget
    identity: str | None
    known_hosts: str | None
    ssh_options: tuple[str, ...]
    key: str | None
    nixfleet_key: str | None


def plan_jobs(hosts: Sequence[InventoryHost], defaults: FleetDefaults, formats: Sequence[str], source: str) -> list[FleetJob]:
    """Each host with everything it needs, or :class:`InputError` naming the first host that
    lacks a key its formats need (before anything is probed)."""
    jobs = []
    for host in hosts:
        key = host.key or _for(defaults.key, host)
        nixfleet_key = host.nixfleet_key or _for(defaults.nixfleet_key, host)
        if "dsse" in formats and key is None:
            raise InputError(source, f"host {host.name}: no signing key (give key in the inventory, or --key)")
        if "nixfleet" in formats and nixfleet_key is None:
            raise InputError(source, f"host {host.name}: no SSH host key for evidence.json (nixfleet_key, or --nixfleet-key)")
        jobs.append(FleetJob(
            host=host, target=SshTarget(host.user, host.address, host.port),
            identity=host.identity or defaults.identity, known_hosts=host.known_hosts or defaults.known_hosts,
            ssh_options=(*defaults.ssh_options, *host.ssh_options), key=key, nixfleet_key=nixfleet_key,
        ))
    return jobs


def _for(path: str | None, host: InventoryHost) -> str | None:
    """A default key path of the command line, ``{name}`` replaced by the host's name."""
    return None if path is None else path.replace("{name}", host.name)


class _Keys:
    """Every signing key of the run, each loaded once (decrypting a cosign key is slow)."""

    def __init__(self, jobs: Sequence[FleetJob], formats: Sequence[str], parallel: int) -> None:
        self.probe: dict[str, Signer] = {}
        self.nixfleet: dict[str, SshHostSigner] = {}
        probe_paths = sorted({j.key for j in jobs if j.key is not None}) if "dsse" in formats else []
        nixfleet_paths = sorted({j.nixfleet_key for j in jobs if j.nixfleet_key is not None}) if "nixfleet" in formats else []
        with ThreadPoolExecutor(max_workers=max(1, min(parallel, 4))) as pool:
            loaded = list(pool.map(NativeSigner.from_file, probe_paths))
        self.probe = dict(zip(probe_paths, loaded, strict=True))
        self.nixfleet = {path: SshHostSigner.from_file(path) for path in nixfleet_paths}


def _outputs(report: ProbeReport, job: FleetJob, keys: _Keys, formats: Sequence[str], output_dir: Path) -> list[tuple[Path, bytes]]:
    files: list[tuple[Path, bytes]] = []
    if "dsse" in formats and job.key is not None:
        signer = keys.probe[job.key]
        signed = report.model_copy(update={"signer": signer.public_key.fingerprint})
        files.append((output_dir / f"{job.host.name}{REPORT_SUFFIX}", sign_report(signed, signer)))
    if "nixfleet" in formats and job.nixfleet_key is not None:
        evidence = sign_evidence(report, keys.nixfleet[job.nixfleet_key])
        files.extend((output_dir / job.host.name / name, data) for name, data in evidence.files().items())
    return files


def probe_fleet(
    jobs: Sequence[FleetJob],
    selection: Selection,
    *,
    catalog_digest: str,
    nonce: str,
    created: datetime,
    output_dir: str | Path,
    formats: Sequence[str] = ("dsse",),
    parallel: int = 8,
    timeout: float = 30.0,
    host_timeout: float = 300.0,
    on_start: Callable[[FleetJob], None] | None = None,
    on_done: Callable[[HostRun], None] | None = None,
) -> list[HostRun]:
    """Probe every host of ``jobs``, ``parallel`` at a time; one :class:`HostRun` per host,
    in the inventory's order. Keys that cannot be loaded stop the run before any probe."""
    if parallel < 1:
        raise UsageError("--parallel: at least 1")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise UsageError(f"--format: expected {' or '.join(FORMATS)}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = _Keys(jobs, formats, parallel)

    def one(job: FleetJob) -> HostRun:
        if on_start is not None:
            on_start(job)
        outcome = _probe_one(job, selection, keys, formats, out, catalog_digest=catalog_digest, nonce=nonce,
                             created=created, timeout=timeout, host_timeout=host_timeout)
        if on_done is not None:
            on_done(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=min(parallel, len(jobs)) or 1, thread_name_prefix="probe") as pool:
        return list(pool.map(one, jobs))


def _probe_one(job: FleetJob, selection: Selection, keys: _Keys, formats: Sequence[str], out: Path, *,
               catalog_digest: str, nonce: str, created: datetime, timeout: float, host_timeout: float) -> HostRun:
    outcome = HostRun(job.host.name, job.target.url)
    started = time.monotonic()
    expired = threading.Event()
    closing = threading.Lock()
    host: SshHost | None = None

    def close() -> None:
        with closing:
            if host is not None:
                host.close()

    def expire() -> None:
        expired.set()
        close()

    timer = threading.Timer(host_timeout, expire)
    timer.daemon = True
    connected = False
    report: ProbeReport | None = None
    try:
        host = SshHost(job.target, identity=job.identity, known_hosts=job.known_hosts, options=job.ssh_options)
        timer.start()
        host.connect()
        connected = True
        report = run_probes(host, selection, catalog_digest=catalog_digest, nonce=nonce, signer_fingerprint="",
                            created=created, expected_closure=job.host.expected_closure, timeout=timeout)
        outcome.round_trips = report.round_trips
    except ComplianceError as exc:
        outcome.state = HostState.ERROR if connected else HostState.UNREACHABLE
        outcome.error = str(exc)
    except Exception as exc:  # a defect must not take the other hosts down: this host fails, closed
        outcome.state = HostState.ERROR
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        timer.cancel()
        close()
    if expired.is_set():
        outcome.state, outcome.error, report = HostState.TIMEOUT, f"did not finish within {host_timeout:g} s", None
    if report is not None:
        try:
            files = _outputs(report, job, keys, formats, out)
            for path, data in files:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, data)
        except (ComplianceError, OSError) as exc:
            outcome.state, outcome.error = HostState.ERROR, f"report not written: {exc}"
        else:
            outcome.state = HostState.WRITTEN
            outcome.files = [str(p) for p, _ in files]
            counts = report.assessment.counts().by_status
            outcome.counts = {s: counts[s] for s in Status if counts.get(s)}
    outcome.seconds = time.monotonic() - started
    return outcome
