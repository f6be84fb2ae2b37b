"""Evidence over time, as use cases: ``evidence diff``, ``probe diff``, ``evidence log``,
and the previous release a report or a gate compares against.

Each side is verified with the key before anything is read from it; a side that does not
verify is refused (exit 2), unless the caller passes no key (``--no-verify``), and then
the document it produces says, on each side, that nothing vouched for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson
from pydantic import ValidationError

from compliance.catalog.loader import Catalog, load_catalog
from compliance.errors import InputError, UnverifiedEvidenceError, UsageError, VerificationError
from compliance.evidence.layout import MAX_INCLUDED_INPUT_BYTES
from compliance.evidence.packet import open_packet
from compliance.evidence.packet_diff import (
    Snapshot,
    check_packet,
    diff_snapshots,
    packet_snapshot,
    probe_snapshot,
    release_ref,
    release_snapshot,
    same_host,
)
from compliance.evidence.probe_report import verify_report
from compliance.evidence.writer import is_tarball_name
from compliance.models.common import Status
from compliance.models.evidence_history import (
    EvidenceDiff,
    EvidenceLog,
    FrameworkStanding,
    LogEntry,
)
from compliance.models.probe import PROBE_REPORT_PAYLOAD_TYPE, ProbeReport
from compliance.runs.gate_run import GateRun
from compliance.signing.dsse import Envelope
from compliance.signing.keys import PublicKey, load_public_key
from compliance.util.fsutil import read_bytes
from compliance.util.validation import format_validation_error


@dataclass(frozen=True)
class Trust:
    """How the sides are checked: with ``key``, or not at all (``--no-verify``)."""

    key: PublicKey | None

    @classmethod
    def from_options(cls, key_path: str | None, no_verify: bool) -> Trust:
        if key_path and no_verify:
            raise UsageError("give either --key or --no-verify, not both")
        if not key_path and not no_verify:
            raise UsageError("--key PUB is required to verify both sides (or --no-verify, to compare unverified evidence)")
        return cls(load_public_key(key_path) if key_path else None)


def _catalog(catalog_dir: Path | None) -> Catalog:
    return load_catalog(catalog_dir)


def packet_side(path: str, trust: Trust, catalog: Catalog | None, *, as_release: bool = False) -> Snapshot:
    """The snapshot of the packet at ``path``, verified first (refused when it does not verify)."""
    packet = open_packet(path)
    verified = check_packet(packet, trust.key)
    return packet_snapshot(packet, verified=verified, catalog=catalog, as_release=as_release)


def diff_packets(old: str, new: str, trust: Trust, catalog_dir: Path | None = None) -> EvidenceDiff:
    """``compliance evidence diff OLD NEW``."""
    catalog = _catalog(catalog_dir)
    return diff_snapshots(packet_side(old, trust, catalog), packet_side(new, trust, catalog))


def read_probe_report(path: str, key: PublicKey | None) -> ProbeReport:
    """The signed report at ``path``, verified with the host's key (or, without a key, only
    parsed: the caller must say it was not verified)."""
    data = read_bytes(path, what="probe report")
    if key is not None:
        try:
            return verify_report(data, key, path)
        except VerificationError as exc:
            raise UnverifiedEvidenceError(f"{exc}; refused") from None
    try:
        envelope = Envelope.from_json(orjson.loads(data), path)
    except orjson.JSONDecodeError:
        raise InputError(path, "not JSON (expected a DSSE envelope)") from None
    except VerificationError as exc:
        raise InputError(path, str(exc).removeprefix(f"{path}: ")) from None
    if envelope.payload_type != PROBE_REPORT_PAYLOAD_TYPE:
        raise InputError(path, f"payload type {envelope.payload_type!r} is not a probe report")
    try:
        return ProbeReport.model_validate_json(envelope.payload)
    except ValidationError as exc:
        raise InputError(path, f"not a probe report: {format_validation_error(exc)}") from None


def diff_probe_reports(old: str, new: str, trust: Trust, catalog_dir: Path | None = None) -> EvidenceDiff:
    """``compliance probe diff A B``: the drift of one host between two waves."""
    catalog = _catalog(catalog_dir)
    verified = trust.key is not None
    a = probe_snapshot(read_probe_report(old, trust.key), old, verified=verified, catalog=catalog)
    b = probe_snapshot(read_probe_report(new, trust.key), new, verified=verified, catalog=catalog)
    same_host(a, b)
    return diff_snapshots(a, b)


def gate_changes(run: GateRun, previous: str, trust: Trust, max_input_bytes: int = MAX_INCLUDED_INPUT_BYTES) -> EvidenceDiff:
    """The changes from the ``previous`` packet to the release ``run`` judged, for the
    report of the packet the gate builds (the same as ``evidence report NEW --previous``)."""
    inputs = [(i.ref.kind, i.ref.path, i.data if i.ref.size <= max_input_bytes else None) for i in run.inputs]
    new = release_snapshot(run.report, inputs, release_ref(run.report), catalog=run.catalog)
    old = packet_side(previous, trust, run.catalog)
    return diff_snapshots(old, new)


def report_changes(packet_path: str, previous: str, trust: Trust, catalog: Catalog | None) -> EvidenceDiff:
    """The changes from ``previous`` to the packet being reported on."""
    new = packet_side(packet_path, trust, catalog, as_release=True)
    return diff_snapshots(packet_side(previous, trust, catalog), new)


def packet_paths(arguments: list[str]) -> list[str]:
    """The packets named, a folder of packets expanded (its packet directories and .tar.gz)."""
    out: list[str] = []
    for arg in arguments:
        path = Path(arg)
        if path.is_dir() and not (path / "manifest.json").exists():
            found = sorted(str(p) for p in path.iterdir() if (p.is_dir() and (p / "manifest.json").exists()) or is_tarball_name(p))
            if not found:
                raise InputError(arg, "holds no evidence packet (a directory with manifest.json, or a .tar.gz)")
            out += found
        else:
            out.append(arg)
    if not out:
        raise UsageError("give at least one packet, or a folder of packets")
    return out


def evidence_log(arguments: list[str], trust: Trust, catalog_dir: Path | None = None) -> EvidenceLog:
    """``compliance evidence log``: one entry per release, oldest first."""
    catalog = _catalog(catalog_dir)
    entries = []
    for path in packet_paths(arguments):
        snap = packet_side(path, trust, catalog)
        entries.append(log_entry(snap))
    entries.sort(key=lambda e: (e.created, e.packet_id))
    return EvidenceLog(releases=entries)


def log_entry(snap: Snapshot) -> LogEntry:
    """One release of the log, from its snapshot."""
    results = snap.assessment.results
    blocking = sorted(f"{key[0]} {key[1]}" for key, state in (snap.vulns or {}).items() if state.verdict == "blocking")
    clauses = []
    for fw, rows in snap.standing.items():
        counts: dict[str, int] = {}
        for state in rows.values():
            counts[state] = counts.get(state, 0) + 1
        clauses.append(FrameworkStanding(framework=fw, counts=counts))
    return LogEntry(
        source=snap.ref.source,
        packet_id=snap.ref.id,
        created=snap.ref.created,
        subject=snap.ref.subject,
        verdict=snap.ref.verdict or "?",
        verified=snap.ref.verified,
        failing=sorted(r.control_id for r in results if r.status in (Status.FAIL, Status.ERROR)),
        waived=sorted(r.control_id for r in results if r.status is Status.WAIVED),
        blocking_vulnerabilities=blocking,
        clauses=sorted(clauses, key=lambda c: c.framework),
    )
