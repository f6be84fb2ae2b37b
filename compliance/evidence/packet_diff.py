"""What changed between two pieces of evidence: two packets (releases), or two signed probe
reports of one host (drift).

Each side is first reduced to a :class:`Snapshot`: the assessment's control results, the
gate's verdict, the clause standing per framework, and (for packets) what the inputs the
packet carries say: the closure's store paths and packages, the NixOS options of the
facts, the vulnerability findings with the verdict the results give each. Probe reports
add the host's identity and the digest of every raw answer. :func:`diff_snapshots` then
compares two snapshots; it is a pure function, so the same two give the same
:class:`EvidenceDiff`, and a snapshot compared with itself gives an empty one.

Only what the evidence says is compared: a verdict the signed results record, never one
re-derived here. Where a side cannot say (a packet that keeps its closure by digest only,
a list the results truncated), the diff says so in its notes instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from compliance.catalog.loader import Catalog
from compliance.errors import InputError, StorePathError, UnverifiedEvidenceError
from compliance.evidence.export import packet_manifest, packet_results
from compliance.evidence.layout import MANIFEST
from compliance.evidence.packet import Packet
from compliance.evidence.packet_verify import verify_packet
from compliance.inputs.facts import join_option_path, parse_facts
from compliance.models.common import Status
from compliance.models.evidence_history import (
    ClauseChange,
    ClosureChanges,
    ControlChange,
    ControlChangeKind,
    DiffKind,
    EvidenceDiff,
    EvidenceRef,
    ObservationChange,
    ObservedChange,
    OptionChange,
    PackageChange,
    PackageChangeKind,
    ParamChange,
    ValueChange,
    VulnChange,
    VulnChangeKind,
)
from compliance.models.probe import ProbeReport
from compliance.models.results import Assessment, ControlResult, Decision, GateReport
from compliance.models.subject import NIX_STORE
from compliance.nix.storepath import parse_store_path
from compliance.report.attestation_rows import attestation_views
from compliance.report.coverage_matrix import coverage_matrix
from compliance.signing.keys import PublicKey
from compliance.util.fsutil import parse_json

FAILING = frozenset({Status.FAIL, Status.ERROR})
GOOD = frozenset({Status.PASS, Status.NOT_APPLICABLE})
VULN_CHECK = "known_vulnerabilities"
# The lists of the vulnerability check's observed values, and the verdict each stands for.
VULN_LISTS = {
    "blocking": "blocking",
    "suppressed_by_vex": "suppressed_by_vex",
    "excepted": "excepted",
    "not_in_release": "not_in_release",
}
BELOW_THRESHOLD = "below_threshold"
UNLISTED = "not_listed_in_results"
CLOSURE_KINDS = ("closure",)
FACTS_KINDS = ("facts", "facts-evaluated")
VULN_KINDS = ("vulnerabilities",)

VulnKey = tuple[str, str]  # (vulnerability id, component label)


@dataclass(frozen=True)
class VulnState:
    """The verdict the results give a finding, with what identifies its weight."""

    verdict: str
    severity: str | None = None
    cvss: float | None = None


@dataclass(frozen=True)
class Package:
    """A store path's package name and version, as Nix's DrvName splits them."""

    name: str
    version: str | None


@dataclass
class Snapshot:
    """One side of a diff, reduced to what is compared."""

    kind: DiffKind
    ref: EvidenceRef
    assessment: Assessment
    decision: Decision | None = None
    policy_digest: str | None = None
    standing: dict[str, dict[str, str]] = field(default_factory=dict)  # framework → clause → standing
    closure: dict[str, Package] | None = None  # store path → package (None: not kept)
    options: dict[str, Any] | None = None  # dotted NixOS option → value (None: no facts)
    vulns: dict[VulnKey, VulnState] | None = None  # None: no vulnerability data
    host: dict[str, Any] = field(default_factory=dict)  # probe reports: the host's identity
    observations: dict[tuple[str, str], tuple[str, str]] | None = None  # (kind, target) → (sha256, status)
    notes: list[str] = field(default_factory=list)


# --- the clause standing: one function, so that its source can change in one place -------


def clause_standing(assessment: Assessment, catalog: Catalog | None) -> dict[str, dict[str, str]]:
    """Framework → clause → standing, as the report's coverage matrix states it for this
    assessment (with the catalog's clause lists when one is given)."""
    matrix = coverage_matrix(assessment, catalog, attestation_views(assessment.attestations, []))
    return {fw.id: {row.clause_id: row.state.value for row in fw.rows} for fw in matrix.frameworks}


StandingSource = Callable[[Assessment, Catalog | None], dict[str, dict[str, str]]]


# --- reading the sides ---------------------------------------------------------------------


def check_packet(packet: Packet, key: PublicKey | None) -> bool:
    """True when ``packet`` verifies with ``key``; raises when it does not. False: no key
    was given (``--no-verify``), so nothing vouches for the packet."""
    if key is None:
        return False
    result = verify_packet(packet, key)
    if not result.valid:
        failed = ", ".join(step.name for step in result.steps if not step.ok)
        first = next((f.message for step in result.steps for f in step.failures), "")
        detail = f" ({first})" if first else ""
        raise UnverifiedEvidenceError(f"{packet.source}: does not verify with key {key.fingerprint}: {failed} failed{detail}; refused")
    return True


def packet_snapshot(
    packet: Packet,
    *,
    verified: bool,
    catalog: Catalog | None,
    standing: StandingSource = clause_standing,
    as_release: bool = False,
) -> Snapshot:
    """The snapshot of a packet whose files are checked against its manifest (a damaged
    packet is an error, whether or not its signature was checked). ``as_release`` names
    the packet as the release being reported on, as :func:`release_snapshot` is named by
    the gate, so that both give the same diff."""
    manifest = packet_manifest(packet)
    report = packet_results(packet, manifest)
    inputs: list[tuple[str, str, bytes | None]] = []
    for entry in manifest.inputs:
        data = packet.files.get(entry.file) if entry.file is not None else None
        if entry.file is not None and (data is None or packet.digests.get(entry.file) != entry.sha256):
            raise InputError(packet.source, f"{entry.file} does not match its digest in {MANIFEST}: the packet is damaged")
        inputs.append((entry.kind, entry.path, data))
    ref = EvidenceRef(
        source=packet.source,
        id=manifest.packet_id,
        created=manifest.created,
        verdict=manifest.verdict,
        subject=manifest.subject.store_path,
        verified=verified,
        key_fingerprint=manifest.key_fingerprint,
    )
    return release_snapshot(report, inputs, release_ref(report) if as_release else ref, catalog=catalog, standing=standing)


def release_ref(report: GateReport) -> EvidenceRef:
    """How the release being judged (or reported on) is named on the new side of its diff."""
    a = report.assessment
    return EvidenceRef(
        source="this release", id=a.id, created=a.created, verdict=report.decision.verdict, subject=a.subject.store_path, verified=True
    )


def release_snapshot(
    report: GateReport,
    inputs: Iterable[tuple[str, str, bytes | None]],
    ref: EvidenceRef,
    *,
    catalog: Catalog | None,
    standing: StandingSource = clause_standing,
) -> Snapshot:
    """A release's snapshot from its gate report and its inputs ``(kind, path, bytes)``
    (bytes None: the input is recorded by digest only). The gate uses it for the release it
    is judging, before the packet exists; a packet gives the same from its own files."""
    snap = Snapshot(
        kind=DiffKind.PACKET,
        ref=ref,
        assessment=report.assessment,
        decision=report.decision,
        policy_digest=report.decision.policy_digest,
        standing=standing(report.assessment, catalog),
    )
    by_kind: dict[str, list[tuple[str, bytes | None]]] = {}
    for kind, path, data in inputs:
        by_kind.setdefault(kind, []).append((path, data))

    def first(kinds: tuple[str, ...], what: str) -> tuple[str, bytes] | None:
        """The first input of these kinds, kept in full (a note says so when it is not)."""
        found = [item for kind in kinds for item in by_kind.get(kind, [])]
        if not found:
            return None
        path, data = found[0]
        if data is None:
            snap.notes.append(f"{ref.source}: keeps the {what} {path} by digest only: it cannot be compared")
            return None
        return f"{ref.source}: {path}", data

    if (closure := first(CLOSURE_KINDS, "closure")) is not None:
        snap.closure = closure_packages(closure[1], closure[0])
    if (facts := first(FACTS_KINDS, "facts")) is not None:
        source, data = facts
        snap.options = dict(_flatten_options(parse_facts(parse_json(data, source), source).options, ()))
    snap.vulns = _vulnerabilities(report.assessment, by_kind, ref.source, snap.notes)
    return snap


_VERSION_DASH = re.compile(r"-(?=[^A-Za-z])")
_DEFAULT_STORE_PATH = re.compile(r"/nix/store/[0-9a-df-np-sv-z]{32}-(?!\.\.?(?:-|$))[A-Za-z0-9+\-._?=]{1,211}")


def closure_packages(data: bytes, source: str) -> dict[str, Package]:
    """Store path → package of a closure input (path-info JSON in either shape, or a
    listing). Only the paths are read: the packet's digest vouches that this is the file the
    gate judged, and the gate read it in full. A path that is not a store path is still an
    input error, never skipped."""
    stripped = data.lstrip()
    if stripped[:1] in (b"[", b"{"):
        doc = parse_json(data, source)
        if isinstance(doc, list):
            items = [(item.get("path"), item.get("storeDir", NIX_STORE)) if isinstance(item, dict) else (None, NIX_STORE) for item in doc]
        elif isinstance(doc, dict):
            items = [(path, item.get("storeDir", NIX_STORE) if isinstance(item, dict) else NIX_STORE) for path, item in doc.items()]
        else:
            raise InputError(source, "expected path-info JSON (a list or an object)")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(source, "not a text listing of store paths") from None
        items = [(line.strip(), NIX_STORE) for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    packages: dict[str, Package] = {}
    for path, store_dir in items:
        if not isinstance(path, str) or not isinstance(store_dir, str):
            raise InputError(source, "a closure entry has no store path")
        if not path.startswith("/"):
            path = f"{store_dir.rstrip('/')}/{path}"
        if store_dir == NIX_STORE and _DEFAULT_STORE_PATH.fullmatch(path):
            name = path[len(NIX_STORE) + 34 :]
        else:
            try:
                name = parse_store_path(path, store_dir)[1]
            except StorePathError as exc:
                raise InputError(source, f"{path}: {exc}") from None
        cut = _VERSION_DASH.search(name)  # Nix's DrvName, as nix.storepath.split_name, by one regex
        packages[path] = Package(name[: cut.start()], name[cut.end() :]) if cut else Package(name, None)
    if not packages:
        raise InputError(source, "the closure holds no store paths")
    return packages


def _flatten_options(tree: dict[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    for key in sorted(tree):
        value = tree[key]
        path = (*prefix, key)
        if isinstance(value, dict) and value:
            yield from _flatten_options(value, path)
        else:
            yield join_option_path(path), value


def _vulnerabilities(
    assessment: Assessment, by_kind: dict[str, list[tuple[str, bytes | None]]], source: str, notes: list[str]
) -> dict[VulnKey, VulnState] | None:
    """Every finding, with the verdict the results' vulnerability check gave it."""
    judged: dict[VulnKey, VulnState] = {}
    complete = True
    check = next((c for r in assessment.results for c in r.checks if c.function == VULN_CHECK), None)
    if check is not None:
        counts = check.observed.get("counts", {})
        for name, verdict in VULN_LISTS.items():
            listed = check.observed.get(name, [])
            for entry in listed if isinstance(listed, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    key = (entry["id"], str(entry.get("component")))
                    cvss = entry.get("cvss")
                    judged[key] = VulnState(verdict, entry.get("severity"), float(cvss) if isinstance(cvss, int | float) else None)
            total = counts.get(name) if isinstance(counts, dict) else None
            if isinstance(total, int) and isinstance(listed, list) and total > len(listed):
                complete = False
                notes.append(f"{source}: the results list {len(listed)} of {total} findings judged {verdict}; the others are compared without their verdict")
    reports = [item for kind in VULN_KINDS for item in by_kind.get(kind, [])]
    kept = [(path, data) for path, data in reports if data is not None]
    if len(kept) < len(reports):
        notes.append(f"{source}: keeps {len(reports) - len(kept)} vulnerability report(s) by digest only")
    if check is None and not kept:
        return None
    vulns = dict(judged)
    if kept:
        # Every reader is imported only when there are reports to read.
        from compliance.inputs.scanners import load_vulnerability_reports

        data = load_vulnerability_reports([(f"{source}: {path}", raw) for path, raw in kept])
        for finding in data.findings:
            key = (finding.id, finding.component.label)
            if key not in vulns:
                best = finding.best_cvss
                verdict = (BELOW_THRESHOLD if complete else UNLISTED) if check is not None else "not_judged"
                vulns[key] = VulnState(verdict, finding.severity.value, best.score if best else None)
    return vulns


def probe_snapshot(report: ProbeReport, source: str, *, verified: bool, catalog: Catalog | None, standing: StandingSource = clause_standing) -> Snapshot:
    """A signed probe report (already verified, or taken under ``--no-verify``)."""
    host = report.host
    ref = EvidenceRef(
        source=source,
        id=report.report_id,
        created=report.created,
        subject=host.running_closure,
        verified=verified,
        key_fingerprint=report.signer,
    )
    facts: dict[str, Any] = {
        "host.name": host.name,
        "host.machine_id": host.machine_id,
        "host.boot_id": host.boot_id,
        "host.kernel": host.kernel,
        "host.running_closure": host.running_closure,
        "host.booted_closure": host.booted_closure,
        "expected_closure": report.expected_closure,
        "closure_matches": report.closure_matches,
    }
    return Snapshot(
        kind=DiffKind.PROBE,
        ref=ref,
        assessment=report.assessment,
        standing=standing(report.assessment, catalog),
        host=facts,
        observations={(o.kind, o.target): (o.sha256, o.status) for o in report.observations},
    )


def same_host(old: Snapshot, new: Snapshot) -> None:
    """Drift is between two reports of one host: refuse two hosts."""
    for name in ("host.machine_id", "host.name"):
        a, b = old.host.get(name), new.host.get(name)
        if a is not None and b is not None:
            if a != b:
                raise InputError(new.ref.source, f"is a report of another host ({name} {b}, {old.ref.source} has {a}): drift compares two reports of one host")
            return
    raise InputError(new.ref.source, "neither report names its host (machine id or host name): cannot tell they are of one host")


# --- comparing -----------------------------------------------------------------------------


def diff_snapshots(old: Snapshot, new: Snapshot) -> EvidenceDiff:
    """Every difference from ``old`` to ``new``; empty when the two say the same."""
    controls, observed, params = _controls(old.assessment.results, new.assessment.results)
    vulns = _vuln_changes(old.vulns, new.vulns)
    notes = [*old.notes, *new.notes]
    closure: ClosureChanges | None = None
    if old.kind is DiffKind.PACKET:
        closure = _closure(old.closure, new.closure)
        if not closure.compared and (old.closure is not None or new.closure is not None):
            notes.append("only one side keeps a copy of its closure: the closures are not compared")
    options: list[OptionChange] = []
    if old.options is not None and new.options is not None:
        options = _options(old.options, new.options)
    elif (old.options is None) != (new.options is None):
        notes.append("only one side has NixOS configuration facts: the options are not compared")
    regressions = [
        f"control {c.control_id} ({c.severity.value}) {c.kind.value.replace('_', ' ')}: {c.old_status.value if c.old_status else 'not assessed'} → {c.new_status.value if c.new_status else '?'}: {c.message}"
        for c in controls
        if c.new_status in FAILING
        and c.kind in (ControlChangeKind.NEWLY_FAILING, ControlChangeKind.WAIVER_EXPIRED, ControlChangeKind.WAIVER_REMOVED)
    ]
    regressions += [
        f"vulnerability {v.id} in {v.component} newly blocks the release ({v.old_verdict or 'not reported'} → blocking)"
        for v in vulns
        if v.blocking and v.old_verdict != "blocking"
    ]
    return EvidenceDiff(
        kind=old.kind,
        old=old.ref,
        new=new.ref,
        regression=bool(regressions),
        regressions=regressions,
        identity=_identity(old, new),
        controls=controls,
        observed=observed,
        params=params,
        options=options,
        closure=closure,
        vulnerabilities=vulns,
        clauses=_clauses(old.standing, new.standing),
        observations=_observations(old.observations, new.observations),
        notes=notes,
    )


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (so ``1`` and ``true`` differ, as they do in the documents)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, str | int | float | type(None)):
        return bool(a == b)
    return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS)


def _identity(old: Snapshot, new: Snapshot) -> list[ValueChange]:
    a, b = old.assessment, new.assessment
    pairs: list[tuple[str, Any, Any]] = [
        ("verdict", old.decision.verdict if old.decision else None, new.decision.verdict if new.decision else None),
        ("mode", a.mode.value, b.mode.value),
        ("profiles", sorted(a.profiles), sorted(b.profiles)),
        ("frameworks", sorted(f.value for f in a.frameworks), sorted(f.value for f in b.frameworks)),
        ("policy_digest", old.policy_digest, new.policy_digest),
        ("catalog_digest", a.catalog_digest, b.catalog_digest),
        ("tool_version", a.tool_version, b.tool_version),
    ]
    if old.kind is DiffKind.PACKET:
        pairs += [
            ("subject.store_path", a.subject.store_path, b.subject.store_path),
            ("subject.nar_sha256", a.subject.nar_sha256, b.subject.nar_sha256),
            ("subject.commit", a.subject.commit, b.subject.commit),
        ]
    for name in sorted({*old.host, *new.host}):
        pairs.append((name, old.host.get(name), new.host.get(name)))
    return [ValueChange(name=n, old=x, new=y) for n, x, y in pairs if not _same(x, y)]


def _control_kind(o: ControlResult | None, n: ControlResult | None) -> ControlChangeKind | None:
    if n is None:
        return ControlChangeKind.REMOVED
    if o is None:
        return ControlChangeKind.NEWLY_FAILING if n.status in FAILING else ControlChangeKind.ADDED
    if o.status is n.status:
        if o.status is Status.WAIVED and o.waiver and n.waiver and o.waiver.id != n.waiver.id:
            return ControlChangeKind.NEWLY_WAIVED
        return None
    if o.status is Status.WAIVED:
        expired = o.waiver is not None and any(o.waiver.id in note and "expire" in note for note in n.notes)
        return ControlChangeKind.WAIVER_EXPIRED if expired else ControlChangeKind.WAIVER_REMOVED
    if n.status is Status.WAIVED:
        return ControlChangeKind.NEWLY_WAIVED
    if n.status in FAILING and o.status not in FAILING:
        return ControlChangeKind.NEWLY_FAILING
    if o.status in FAILING and n.status in GOOD:
        return ControlChangeKind.FIXED
    return ControlChangeKind.STATUS_CHANGED


def _controls(old: list[ControlResult], new: list[ControlResult]) -> tuple[list[ControlChange], list[ObservedChange], list[ParamChange]]:
    before = {r.control_id: r for r in old}
    after = {r.control_id: r for r in new}
    changes: list[ControlChange] = []
    observed: list[ObservedChange] = []
    params: list[ParamChange] = []
    for cid in sorted({*before, *after}):
        o, n = before.get(cid), after.get(cid)
        kind = _control_kind(o, n)
        shown = n or o
        assert shown is not None
        if kind is not None:
            waived = (n.waiver if n is not None and kind is ControlChangeKind.NEWLY_WAIVED else None) or (o.waiver if o is not None else None)
            changes.append(
                ControlChange(
                    control_id=cid,
                    title=shown.title,
                    severity=shown.severity,
                    kind=kind,
                    old_status=o.status if o else None,
                    new_status=n.status if n else None,
                    waiver=waived.id if waived is not None and kind in _WAIVER_KINDS else None,
                    message=shown.message,
                )
            )
        if o is None or n is None:
            continue
        observed += _observed(cid, o, n)
        for name in sorted({*o.params, *n.params}):
            x, y = o.params.get(name), n.params.get(name)
            xs, ys = o.param_sources.get(name), n.param_sources.get(name)
            if not _same(x, y) or xs != ys:
                params.append(ParamChange(control_id=cid, param=name, old=x, new=y, old_source=xs, new_source=ys))
    return changes, observed, params


_WAIVER_KINDS = (ControlChangeKind.NEWLY_WAIVED, ControlChangeKind.WAIVER_EXPIRED, ControlChangeKind.WAIVER_REMOVED)
_ABSENT = object()


def _observed(cid: str, o: ControlResult, n: ControlResult) -> list[ObservedChange]:
    out: list[ObservedChange] = []
    checks_o = {c.function: c for c in o.checks}
    checks_n = {c.function: c for c in n.checks}
    for function in sorted({*checks_o, *checks_n}):
        a = checks_o[function].observed if function in checks_o else {}
        b = checks_n[function].observed if function in checks_n else {}
        for path, x, y in _leaf_changes(a, b, ()):
            out.append(
                ObservedChange(
                    control_id=cid,
                    check=function,
                    path=list(path),
                    old=None if x is _ABSENT else x,
                    new=None if y is _ABSENT else y,
                    absent_before=x is _ABSENT,
                    absent_after=y is _ABSENT,
                )
            )
    return out


def _leaf_changes(a: Any, b: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """The leaves (values that are not non-empty objects) that differ between ``a`` and ``b``."""
    if isinstance(a, dict) and isinstance(b, dict) and ((a and b) or not path):
        for key in sorted({*a, *b}):
            x, y = a.get(key, _ABSENT), b.get(key, _ABSENT)
            if x is _ABSENT or y is _ABSENT:
                if x is not y:
                    yield (*path, key), x, y
            elif not _same(x, y):
                yield from _leaf_changes(x, y, (*path, key))
        return
    if (
        isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and a
        and all(isinstance(x, dict) for x in a) and all(isinstance(y, dict) for y in b)
    ):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):  # records in the same places: compare each
            if not _same(x, y):
                yield from _leaf_changes(x, y, (*path, str(index)))
        return
    if not _same(a, b):
        yield path, a, b


def _options(old: dict[str, Any], new: dict[str, Any]) -> list[OptionChange]:
    out = []
    for name in sorted(old.keys() | new.keys()):
        x, y = old.get(name, _ABSENT), new.get(name, _ABSENT)
        if x is _ABSENT or y is _ABSENT or not _same(x, y):
            out.append(
                OptionChange(
                    option=name,
                    old=None if x is _ABSENT else x,
                    new=None if y is _ABSENT else y,
                    absent_before=x is _ABSENT,
                    absent_after=y is _ABSENT,
                )
            )
    return out


def _closure(old: dict[str, Package] | None, new: dict[str, Package] | None) -> ClosureChanges:
    if old is None or new is None:
        return ClosureChanges(compared=False, old_paths=len(old or ()), new_paths=len(new or ()))
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    packages: list[PackageChange] = []
    kernel: ValueChange | None = None
    if added or removed:
        touched = {new[p].name for p in added} | {old[p].name for p in removed}
        versions_old = _versions(old, touched)
        versions_new = _versions(new, touched)
        for name in sorted(touched):
            change = _package_change(name, versions_old.get(name), versions_new.get(name))
            if change is not None:
                packages.append(change)
        if "linux" in touched:
            k_old = sorted(v for v in versions_old.get("linux", set()) if v[:1].isdigit())
            k_new = sorted(v for v in versions_new.get("linux", set()) if v[:1].isdigit())
            if k_old != k_new:
                kernel = ValueChange(name="linux", old=", ".join(k_old) or None, new=", ".join(k_new) or None)
    return ClosureChanges(
        compared=True, old_paths=len(old), new_paths=len(new), added=added, removed=removed, packages=packages, kernel=kernel
    )


def _versions(paths: dict[str, Package], names: set[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for package in paths.values():
        if package.name in names:
            out.setdefault(package.name, set()).add(package.version or "")
    return out


def _package_change(name: str, old: set[str] | None, new: set[str] | None) -> PackageChange | None:
    if old is None and new is None:
        return None
    if old is None:
        return PackageChange(name=name, kind=PackageChangeKind.ADDED, new_versions=_sorted_versions(new or set()))
    if new is None:
        return PackageChange(name=name, kind=PackageChangeKind.REMOVED, old_versions=_sorted_versions(old))
    if old == new:
        return None  # rebuilt at the same version: only its store paths differ
    gone, came = old - new, new - old
    kind = PackageChangeKind.CHANGED
    if gone and came and all(compare_versions(c, g) > 0 for c in came for g in gone):
        kind = PackageChangeKind.UPGRADED
    elif gone and came and all(compare_versions(c, g) < 0 for c in came for g in gone):
        kind = PackageChangeKind.DOWNGRADED
    return PackageChange(name=name, kind=kind, old_versions=_sorted_versions(old), new_versions=_sorted_versions(new))


_COMPONENT = re.compile(r"[0-9]+|[^0-9.\-]+")


def _components(version: str) -> list[str]:
    return _COMPONENT.findall(version)


def _component_lt(a: str, b: str) -> bool:
    """Nix's ``componentsLT`` (``builtins.compareVersions``)."""
    if a.isdigit() and b.isdigit():
        return int(a) < int(b)
    if a == "" and b.isdigit():
        return True
    if a == "pre" and b != "pre":
        return True
    if b == "pre":
        return False
    if b.isdigit():
        return True
    if a.isdigit():
        return False
    return a < b


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as Nix's ``builtins.compareVersions a b``."""
    ca, cb = _components(a), _components(b)
    for i in range(max(len(ca), len(cb))):
        x = ca[i] if i < len(ca) else ""
        y = cb[i] if i < len(cb) else ""
        if _component_lt(x, y):
            return -1
        if _component_lt(y, x):
            return 1
    return 0


def _sorted_versions(versions: set[str]) -> list[str]:
    import functools

    return sorted(versions, key=functools.cmp_to_key(compare_versions))


def _vuln_changes(old: dict[VulnKey, VulnState] | None, new: dict[VulnKey, VulnState] | None) -> list[VulnChange]:
    if old is None and new is None:
        return []
    a, b = old or {}, new or {}
    out: list[VulnChange] = []
    for key in sorted(a.keys() | b.keys()):
        x, y = a.get(key), b.get(key)
        if x is not None and y is not None and x.verdict == y.verdict:
            continue
        if x is None:
            kind = VulnChangeKind.NEW
        elif y is None:
            kind = VulnChangeKind.FIXED
        elif y.verdict == "suppressed_by_vex":
            kind = VulnChangeKind.NEWLY_SUPPRESSED_BY_VEX
        else:
            kind = VulnChangeKind.VERDICT_CHANGED
        shown = y or x
        assert shown is not None
        out.append(
            VulnChange(
                id=key[0],
                component=key[1],
                kind=kind,
                old_verdict=x.verdict if x else None,
                new_verdict=y.verdict if y else None,
                severity=shown.severity,
                cvss=shown.cvss,
                blocking=y is not None and y.verdict == "blocking",
            )
        )
    return out


def _clauses(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[ClauseChange]:
    out: list[ClauseChange] = []
    for fw in sorted(old.keys() | new.keys()):
        a, b = old.get(fw, {}), new.get(fw, {})
        for clause in sorted(a.keys() | b.keys()):
            if a.get(clause) != b.get(clause):
                out.append(ClauseChange(framework=fw, clause=clause, old=a.get(clause), new=b.get(clause)))
    return out


def _observations(
    old: dict[tuple[str, str], tuple[str, str]] | None, new: dict[tuple[str, str], tuple[str, str]] | None
) -> list[ObservationChange]:
    if old is None or new is None:
        return []
    out = []
    for key in sorted(old.keys() | new.keys()):
        x, y = old.get(key), new.get(key)
        if x != y:
            out.append(
                ObservationChange(
                    kind=key[0],
                    target=key[1],
                    old_sha256=x[0] if x else None,
                    new_sha256=y[0] if y else None,
                    old_status=x[1] if x else None,
                    new_status=y[1] if y else None,
                )
            )
    return out
