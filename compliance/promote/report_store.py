"""The reports folder as the report service's embedded store: only verified reports get in.

An upload is checked in memory before anything is written. One that does not verify with
the key of the wave host it names (not a report, a host the wave does not list, a bad or
missing signature) is refused and written to the quarantine folder, where nothing decides:
it never replaces, deletes or outranks a verified report, whatever time it claims. Each
host keeps its newest verified report: a verified upload taken later (by its *signed*
time) replaces the host's older ones, one taken earlier is refused (a replay changes
nothing), and the same bytes again are answered as already stored. Two different
verified reports with the same signed time are both kept, and the decision names the
host's evidence *duplicated*.

The quarantine folder is ``.quarantine`` inside the reports folder by default: hidden
names are never read as reports (:mod:`.collect`). It holds at most a bounded number of
files, so that unauthenticated uploads cannot fill the disk; past that, a refused upload
is only counted. The count of refused uploads is a note of every decision.

At start, the store reads the folder once: verified reports are ranked per host; a file
that does not verify (an upload an earlier version of the service stored, a file put
there by hand) is moved to the quarantine folder, so the folder holds verified evidence
only. Every write is atomic (temporary file, then rename); all changes take turns under
one lock, with the decisions.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from compliance.errors import UsageError
from compliance.promote.collect import SIGNATURE_SUFFIX, candidate_from_bytes, list_reports
from compliance.promote.host_evidence import EvidenceStatus
from compliance.promote.promotion_policy import Action
from compliance.promote.report_verify import CheckedReport, Expectations, check_report
from compliance.promote.session import PromotionGate
from compliance.promote.wave_decision import Finding, WaveDecision
from compliance.util.clock import isoformat
from compliance.util.fsutil import atomic_write
from compliance.util.gcpause import cyclic_gc_paused

QUARANTINE = ".quarantine"
DEFAULT_QUARANTINE_LIMIT = 10_000


@dataclass(frozen=True)
class Submission:
    """The service's answer to one upload: HTTP status and JSON body."""

    status: int
    answer: dict[str, object]


def quarantine_folder(reports: Path, chosen: str | Path | None) -> Path:
    """``chosen``, or ``<reports>/.quarantine``. A folder inside the reports folder must
    be hidden (a name starting with a dot): otherwise its files would be read as reports."""
    folder = Path(chosen) if chosen is not None else reports / QUARANTINE
    resolved, root = folder.resolve(), reports.resolve()
    if resolved == root or (resolved.is_relative_to(root) and
                            not any(part.startswith(".") for part in resolved.relative_to(root).parts)):
        raise UsageError(f"--quarantine {folder}: inside the reports folder it must be a hidden folder "
                         f"(e.g. {reports / QUARANTINE}), or its files would decide")
    return folder


@dataclass
class ReportStore:
    gate: PromotionGate
    quarantine: Path
    quarantine_limit: int = DEFAULT_QUARANTINE_LIMIT
    lock: threading.Lock = field(default_factory=threading.Lock)
    # host → file → signed time, of the verified reports in the folder
    by_host: dict[str, dict[str, datetime]] = field(default_factory=dict)
    refused: int = 0  # uploads refused since start
    quarantined: int = 0  # files in the quarantine folder
    dropped: int = 0  # refused uploads not written: the quarantine folder was full

    @classmethod
    def open(cls, gate: PromotionGate, quarantine: Path, quarantine_limit: int, now: datetime) -> ReportStore:
        """Read the folder once: rank its verified reports, move the others to quarantine."""
        try:
            quarantine.mkdir(parents=True, exist_ok=True)
            present = sum(1 for p in quarantine.iterdir() if not p.name.endswith(SIGNATURE_SUFFIX))
        except OSError as exc:
            raise UsageError(f"--quarantine {quarantine}: {exc.strerror or exc}") from None
        store = cls(gate, quarantine, quarantine_limit, quarantined=present)
        ctx = Expectations(gate.wave, gate.policy, now)
        for source in list_reports(gate.reports):
            checked = check_report(source.read(), ctx)
            if checked.evidence is not None and checked.host is not None:
                store.by_host.setdefault(checked.host, {})[checked.file] = checked.evidence.created
            else:
                store._move_to_quarantine(checked)
        return store

    def _move_to_quarantine(self, checked: CheckedReport) -> None:
        source = self.gate.reports / checked.file
        target = self.quarantine / f"{checked.sha256}.json"
        for src, dst in ((source, target), (Path(f"{source}{SIGNATURE_SUFFIX}"), Path(f"{target}{SIGNATURE_SUFFIX}"))):
            if src.exists() or src.is_symlink():
                os.replace(src, dst)
        self.quarantined += 1

    def check(self, body: bytes, signature: bytes | None, now: datetime) -> CheckedReport:
        """An upload through the gate's checks, in memory (no lock needed: reads only the wave)."""
        name = candidate_from_bytes("", body).sha256 + ".json"
        return check_report(candidate_from_bytes(name, body, signature), Expectations(self.gate.wave, self.gate.policy, now))

    def upload(self, body: bytes, signature: bytes | None, now: datetime) -> Submission:
        """:meth:`check` then :meth:`submit`: the one call the service makes per upload.
        Under the lock, with the cyclic garbage collector paused (checking creates no
        cycles, and the collector would rescan a report's many small objects: a third of
        the time of a check). The lock costs no parallelism: a check holds the GIL anyway,
        and it keeps two threads from pausing and resuming the collector out of turn."""
        with self.lock, cyclic_gc_paused():
            checked = self.check(body, signature, now)
            return self._store(checked, body, signature)

    def submit(self, checked: CheckedReport, body: bytes, signature: bytes | None) -> Submission:
        """Store a checked upload, or refuse it (see the module's docstring)."""
        with self.lock:
            return self._store(checked, body, signature)

    def _store(self, checked: CheckedReport, body: bytes, signature: bytes | None) -> Submission:
        if checked.evidence is None or checked.host is None:
            return self._refuse(checked, body, signature)
        return self._keep(checked, body, signature, checked.host, checked.evidence.created)

    def _answer(self, checked: CheckedReport, message: str, kept: bool, replaced: list[str]) -> dict[str, object]:
        return {"file": checked.file, "sha256": checked.sha256, "host": checked.host or checked.claimed_host,
                "evidence": checked.status.value, "message": message, "kept": kept, "replaced": replaced}

    def _refuse(self, checked: CheckedReport, body: bytes, signature: bytes | None) -> Submission:
        self.refused += 1
        target = self.quarantine / checked.file
        if target.exists():
            where = "already in quarantine"
        elif self.quarantined >= self.quarantine_limit:
            self.dropped += 1
            where = f"not kept: the quarantine folder holds its limit of {self.quarantine_limit} files"
        else:
            if signature is not None:
                atomic_write(Path(f"{target}{SIGNATURE_SUFFIX}"), signature + b"\n")
            atomic_write(target, body)
            self.quarantined += 1
            where = "quarantined"
        status = 400 if checked.status is EvidenceStatus.UNREADABLE else 403
        message = f"refused, {where}: {checked.message}"
        return Submission(status, self._answer(checked, message, False, []))

    def _keep(self, checked: CheckedReport, body: bytes, signature: bytes | None, host: str, taken: datetime) -> Submission:
        stored = self.by_host.setdefault(host, {})
        if checked.file in stored:
            return Submission(200, self._answer(checked, f"{checked.message}; already stored", True, []))
        newer = [t for t in stored.values() if t > taken]
        if newer:
            message = (f"{checked.message}; refused: the host has a newer verified report (taken {isoformat(max(newer))}), "
                       f"this one was taken {isoformat(taken)}")
            return Submission(409, self._answer(checked, message, False, []))
        target = self.gate.reports / checked.file
        if signature is not None:
            atomic_write(Path(f"{target}{SIGNATURE_SUFFIX}"), signature + b"\n")
        atomic_write(target, body)
        # Written first, removed after: a crash in between leaves both (duplicated: a hold).
        older = sorted(f for f, t in stored.items() if t < taken)
        for file in older:
            for path in (self.gate.reports / file, self.gate.reports / f"{file}{SIGNATURE_SUFFIX}"):
                path.unlink(missing_ok=True)
            del stored[file]
        stored[checked.file] = taken
        return Submission(201, self._answer(checked, checked.message, True, older))

    def note(self) -> Finding | None:
        """What the decision says of the refused uploads (they decide nothing)."""
        if not self.refused and not self.quarantined:
            return None
        dropped = f", {self.dropped} of them not kept (the folder was full)" if self.dropped else ""
        return Finding(action=Action.NOTE, message=(
            f"{self.refused} upload(s) refused since the service started (not verified with a wave host's key){dropped}; "
            f"{self.quarantined} file(s) in the quarantine folder {self.quarantine}: none of them decides"))

    def decide(self, now: datetime) -> WaveDecision:
        """The decision over the folder, with the note on the quarantine."""
        with self.lock:
            decision = self.gate.decide(now, processes=1)  # in a thread of the service: no fork
            note = self.note()
        if note is None:
            return decision
        return decision.model_copy(update={"notes": [*decision.notes, note]})
