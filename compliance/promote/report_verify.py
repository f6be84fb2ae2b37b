"""One report through the gate's checks, in a fixed order; the first that fails classifies it.

1. readable: the file could be read, within the size limit
2. JSON, of a known kind (a probe report's DSSE envelope, or nixfleet evidence)
3. attributed: the host it names is in the wave
4. verified with *that* host's key from the wave file (the reader's checks: signature,
   payload type, canonical form, well-formed report)
5. the verified report names that host, and its machine id when the wave knows it
6. this wave's nonce
7. not dated in the future (beyond the allowed clock skew)
8. not older than the maximum age (nixfleet evidence: the shorter of the two limits)
9. taken after the wave was activated and the soak time had passed
10. of the running host: a probe of an offline root counts only where the policy accepts it
11. the closure the wave activated on the host is the one running
12. binds enough: evidence without nonce or closure counts only where the policy accepts it

Nothing a report says is believed before its signature verifies. A replay is called a
replay (step 6) whatever its age; and only a report that describes the host now (steps
7 to 9) can show it runs another closure, which rolls the wave back: a report taken
before the activation shows the previous closure, and is merely not fresh yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from compliance.errors import MalformedJSON, VerificationError
from compliance.promote.durations import describe
from compliance.promote.host_evidence import Binding, Evidence, EvidenceStatus, ReportKind
from compliance.promote.promotion_policy import PromotionPolicy
from compliance.promote.readers import Candidate, Claim, ReportReader, recognise
from compliance.promote.wave import LoadedWave, WaveHost
from compliance.util.clock import isoformat as _iso
from compliance.util.jsonparse import loads_json


@dataclass(frozen=True)
class CheckedReport:
    """One file of the reports folder and what the gate made of it (not its bytes: a
    wave's worth of reports need not stay in memory)."""

    file: str
    sha256: str
    status: EvidenceStatus
    message: str
    kind: ReportKind | None = None
    host: str | None = None  # the wave host it is attributed to; None: nobody's
    claimed_host: str | None = None
    evidence: Evidence | None = None  # set once the signature verified
    claimed_at: datetime | None = None  # the time the report says it was taken (verified once evidence is set)

    @property
    def taken_at(self) -> datetime | None:
        """The signed time if it verified, else the time the report claims."""
        return self.evidence.created if self.evidence is not None else self.claimed_at


@dataclass
class Expectations:
    """What every report is checked against."""

    wave: LoadedWave
    policy: PromotionPolicy
    now: datetime

    @cached_property
    def key_owners(self) -> dict[str, str]:
        """Key fingerprint → host name, to say whose key signed a misattributed report."""
        return {fp: name for name, keys in self.wave.keys.items() for fp in keys.fingerprints()}


@dataclass(frozen=True)
class Problem:
    status: EvidenceStatus
    message: str


Step = Callable[[Evidence, WaveHost, Expectations], Problem | None]


def _names_the_host(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    if evidence.host != host.name:
        return Problem(EvidenceStatus.WRONG_HOST, f"the signed report names host {evidence.host!r}, not {host.name!r}")
    return None


def _names_the_machine(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    if host.machine_id is None or evidence.kind is ReportKind.NIXFLEET:
        return None  # nixfleet evidence names no machine: it binds less, said in the last step
    if evidence.machine_id != host.machine_id:
        return Problem(EvidenceStatus.WRONG_HOST,
                       f"machine id is {evidence.machine_id!r}, the wave lists {host.name} as {host.machine_id!r}")
    return None


def _this_wave(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    if Binding.NONCE in evidence.binds and evidence.nonce != ctx.wave.wave.nonce:
        return Problem(EvidenceStatus.WRONG_NONCE, f"nonce {evidence.nonce!r} is not this wave's: a report of another wave")
    return None


def _runs_the_closure(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    if Binding.CLOSURE not in evidence.binds or evidence.running_closure == host.expected_closure:
        return None
    running = evidence.running_closure or "no NixOS system (no running closure)"
    return Problem(EvidenceStatus.WRONG_CLOSURE, f"runs {running}, the wave activated {host.expected_closure}")


def _not_in_future(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    skew = ctx.policy.max_clock_skew
    if evidence.created > ctx.now + skew:
        ahead = describe(evidence.created - ctx.now)
        return Problem(EvidenceStatus.FUTURE, f"dated {_iso(evidence.created)}, {ahead} after the decision "
                                              f"(allowed clock skew {describe(skew)}): a wrong clock or a forged date")
    return None


def _not_stale(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    limit = ctx.policy.rules_for(host.canary).max_report_age
    if evidence.kind is ReportKind.NIXFLEET:
        limit = min(limit, ctx.policy.nixfleet.max_report_age)
    if ctx.now - evidence.created > limit:
        return Problem(EvidenceStatus.STALE, f"taken {_iso(evidence.created)}, {describe(ctx.now - evidence.created)} "
                                             f"before the decision; the policy accepts {describe(limit)}")
    return None


def _after_activation(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    activated = ctx.wave.wave.activated_at
    if activated is None:
        return None
    ready = activated + ctx.policy.min_soak
    if evidence.created < ready:
        soak = f" and the {describe(ctx.policy.min_soak)} soak" if ctx.policy.min_soak else ""
        return Problem(EvidenceStatus.NOT_YET_FRESH,
                       f"taken {_iso(evidence.created)}, before the activation ({_iso(activated)}){soak} was over")
    return None


OFFLINE_ROOT = "offline-root"


def _describes_the_running_host(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    """A probe of an offline root judged files at rest (a disk image, a chroot): no boot id,
    the live checks not applicable. It says nothing of what the running host does."""
    if evidence.transport != OFFLINE_ROOT or ctx.policy.rules_for(host.canary).accept_offline_root:
        return None
    who = "canaries" if host.canary else "hosts"
    return Problem(EvidenceStatus.BINDS_LESS,
                   "a probe of an offline root (files at rest: no boot id, the live checks not applicable) is not evidence "
                   f"that the running host is compliant; the policy does not accept it for {who} (accept_offline_root)")


def _binds_enough(evidence: Evidence, host: WaveHost, ctx: Expectations) -> Problem | None:
    if {Binding.NONCE, Binding.CLOSURE} <= evidence.binds:
        return None
    rules = ctx.policy.rules_for(host.canary)
    lacks = "no nonce, closure, machine or boot id: it could be replayed within its age, from any closure"
    if not rules.accept_nixfleet:
        who = "canaries" if host.canary else "hosts"
        return Problem(EvidenceStatus.BINDS_LESS, f"nixfleet evidence binds only host and time ({lacks}); "
                                                  f"the policy does not accept it for {who}")
    if ctx.wave.wave.activated_at is None:
        return Problem(EvidenceStatus.BINDS_LESS, "nixfleet evidence binds only host and time, and the wave file gives "
                                                  "no activated_at: nothing shows it was taken after the release")
    return None


BINDING_STEPS: tuple[Step, ...] = (
    _names_the_host, _names_the_machine, _this_wave,
    _not_in_future, _not_stale, _after_activation, _describes_the_running_host, _runs_the_closure, _binds_enough,
)


def _whose_key(reader: ReportReader, candidate: Candidate, doc: object, claim: Claim, host: str, ctx: Expectations) -> str:
    """When a report verifies with the key of another host of the wave: say so (a host
    signing for another is worth knowing). A kind that names its key (a probe report) is
    tried with that key's owner only; one that names none (nixfleet evidence) with every
    other host's key."""
    if claim.signer is not None:
        owner = ctx.key_owners.get(claim.signer)
        owners = [owner] if owner is not None and owner != host else []
    else:
        owners = [name for name in ctx.wave.keys if name != host]
    for owner in owners:
        try:
            reader.verify(candidate, doc, claim, ctx.wave.keys[owner])
        except VerificationError:
            continue
        return f" (it is signed with the key of {owner})"
    return ""


def _strip_source(message: str, source: str) -> str:
    prefix = f"{source}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def check_report(candidate: Candidate, ctx: Expectations) -> CheckedReport:
    """Steps 1 to 4 here, then :data:`BINDING_STEPS` on the verified evidence."""

    def checked(status: EvidenceStatus, message: str, claim: Claim | None = None, kind: ReportKind | None = None,
                host: str | None = None, evidence: Evidence | None = None) -> CheckedReport:
        return CheckedReport(candidate.file, candidate.sha256, status, message, kind=kind, host=host,
                             claimed_host=claim.host if claim else None, evidence=evidence,
                             claimed_at=claim.created if claim else None)

    if candidate.problem is not None:
        return checked(EvidenceStatus.UNREADABLE, candidate.problem)
    try:
        doc = loads_json(candidate.data)
    except MalformedJSON as exc:
        return checked(EvidenceStatus.UNREADABLE, f"not JSON ({exc.problem}; truncated, or not a report)")
    found = recognise(doc)
    if found is None:
        return checked(EvidenceStatus.UNREADABLE, "neither a probe report (DSSE envelope) nor nixfleet evidence.json")
    reader, claim = found
    host = ctx.wave.hosts.get(claim.host)
    if host is None:
        return checked(EvidenceStatus.UNKNOWN_HOST, f"names host {claim.host!r}, which is not in the wave", claim, reader.kind)
    try:
        evidence = reader.verify(candidate, doc, claim, ctx.wave.keys[host.name])
    except VerificationError as exc:
        message = _strip_source(str(exc), candidate.file) + _whose_key(reader, candidate, doc, claim, host.name, ctx)
        return checked(EvidenceStatus.INVALID, message, claim, reader.kind, host.name)
    for step in BINDING_STEPS:
        problem = step(evidence, host, ctx)
        if problem is not None:
            return checked(problem.status, problem.message, claim, reader.kind, host.name, evidence)
    return checked(EvidenceStatus.VALID, "verified and bound", claim, reader.kind, host.name, evidence)
