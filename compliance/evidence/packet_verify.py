"""Verifying a packet with a public key: explicit steps, in a fixed order.

1. ``manifest``: manifest.json is present, well-formed and canonical.
2. ``manifest-signature``: the detached signature verifies over manifest.json.
3. ``manifest-bundle``: the Sigstore bundle carries the key's hint, the manifest's digest
   and a signature that verifies.
4. ``statement``: the DSSE envelope's signature verifies over the PAE, its bundle holds the
   same envelope, the payload is an in-toto Statement v1 with this project's predicate.
5. ``files``: every listed file is present with its sha256 and size; no file is missing,
   none is extra (nor a directory that holds no file of the packet), and none is a link or
   a special file.
6. ``agreement``: statement, manifest and results.json say the same thing (manifest
   digest, packet, subject, verdict, counts, inputs).

Every step runs that can (a step that needs the manifest is skipped without one), so the
output names each failed check and each file involved. The packet is valid only when no
step failed or was skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from compliance.errors import HashFormatError, UsageError, VerificationError
from compliance.evidence.layout import (
    MANIFEST,
    MANIFEST_BUNDLE,
    MANIFEST_SIGNATURE,
    PREDICATE_TYPE,
    RESULTS,
    STATEMENT_BUNDLE,
    STATEMENT_ENVELOPE,
    UNLISTED,
)
from compliance.evidence.manifest import Manifest, PacketIdentity, parse_manifest
from compliance.evidence.packet import Packet
from compliance.evidence.predicate import GatePredicate, statement_subjects
from compliance.models.results import GateReport
from compliance.nix.hashes import to_hex
from compliance.signing.bundle import (
    bundle_envelope,
    parse_bundle,
    verify_dsse_bundle,
    verify_message_bundle,
)
from compliance.signing.detached import decode_signature
from compliance.signing.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, parse_envelope, verify_envelope
from compliance.signing.intoto import Statement, parse_statement
from compliance.signing.keys import PublicKey
from compliance.signing.signed_docs import first_error


@dataclass(frozen=True)
class Failure:
    file: str
    message: str


@dataclass
class Step:
    name: str
    passed_summary: str
    failures: list[Failure] = field(default_factory=list)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.skipped is None


@dataclass
class Verification:
    packet: str
    key_fingerprint: str
    steps: list[Step]
    # What the manifest says the packet is about (release, profiles, time, verdict); it is
    # what was verified only when ``valid``.
    identity: PacketIdentity | None = None

    @property
    def valid(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failed_files(self) -> list[str]:
        return sorted({f.file for step in self.steps for f in step.failures})


@dataclass
class _State:
    packet: Packet
    key: PublicKey
    manifest: Manifest | None = None
    statement: Statement | None = None
    predicate: GatePredicate | None = None


class _Collector:
    """Turns each VerificationError raised inside a check into a named failure."""

    def __init__(self, step: Step) -> None:
        self.step = step

    def check(self, file: str, func: Callable[[], object]) -> bool:
        try:
            func()
        except VerificationError as exc:
            self.fail(file, str(exc))
            return False
        return True

    def fail(self, file: str, message: str) -> None:
        prefix = f"{file}: "
        self.step.failures.append(Failure(file, message if message.startswith(prefix) else prefix + message))


def _require(state: _State, name: str, collect: _Collector) -> bytes | None:
    data = state.packet.files.get(name)
    if data is None:
        collect.fail(name, "missing from the packet")
    return data


def _step_manifest(state: _State, step: Step) -> None:
    collect = _Collector(step)
    data = _require(state, MANIFEST, collect)
    if data is None:
        return
    try:
        state.manifest = parse_manifest(data, MANIFEST)
    except VerificationError as exc:
        collect.fail(MANIFEST, str(exc))


def _signed_pair(state: _State, step: Step, collect: _Collector, name: str) -> tuple[bytes, bytes] | None:
    """manifest.json and the signature file ``name``, or None (the step is then failed or
    skipped)."""
    manifest, raw = state.packet.files.get(MANIFEST), _require(state, name, collect)
    if raw is not None and manifest is None:
        step.skipped = "needs manifest.json"
    return (manifest, raw) if manifest is not None and raw is not None else None


def _step_manifest_signature(state: _State, step: Step) -> None:
    collect = _Collector(step)
    pair = _signed_pair(state, step, collect, MANIFEST_SIGNATURE)
    if pair is None:
        return
    manifest, raw = pair
    try:
        signature = decode_signature(raw, MANIFEST_SIGNATURE)
    except VerificationError as exc:
        collect.fail(MANIFEST_SIGNATURE, str(exc))
        return
    if not state.key.verify(signature, manifest):
        named = state.manifest.key_fingerprint if state.manifest else None
        other = f" (the manifest names key {named})" if named and named != state.key.fingerprint else ""
        collect.fail(MANIFEST_SIGNATURE, f"does not verify over manifest.json with key {state.key.fingerprint}{other}")


def _step_manifest_bundle(state: _State, step: Step) -> None:
    collect = _Collector(step)
    pair = _signed_pair(state, step, collect, MANIFEST_BUNDLE)
    if pair is not None:
        manifest, raw = pair
        collect.check(MANIFEST_BUNDLE, lambda: verify_message_bundle(parse_bundle(raw, MANIFEST_BUNDLE), manifest, state.key, MANIFEST_BUNDLE))


def _step_statement(state: _State, step: Step) -> None:
    collect = _Collector(step)
    raw_envelope = _require(state, STATEMENT_ENVELOPE, collect)
    raw_bundle = _require(state, STATEMENT_BUNDLE, collect)
    envelope: Envelope | None = None
    if raw_envelope is not None:
        try:
            envelope = parse_envelope(raw_envelope, STATEMENT_ENVELOPE)
        except VerificationError as exc:
            collect.fail(STATEMENT_ENVELOPE, str(exc))
    if envelope is not None:
        collect.check(STATEMENT_ENVELOPE, lambda: verify_envelope(envelope, state.key, payload_type=IN_TOTO_PAYLOAD_TYPE, source=STATEMENT_ENVELOPE))
    if raw_bundle is not None:
        def bundle_check() -> None:
            bundle = parse_bundle(raw_bundle, STATEMENT_BUNDLE)
            verify_dsse_bundle(bundle, state.key, STATEMENT_BUNDLE, payload_type=IN_TOTO_PAYLOAD_TYPE)
            if envelope is not None and bundle_envelope(bundle, STATEMENT_BUNDLE) != envelope:
                raise VerificationError(f"{STATEMENT_BUNDLE}: holds another envelope than {STATEMENT_ENVELOPE}")

        collect.check(STATEMENT_BUNDLE, bundle_check)
    if envelope is None:
        return
    try:
        statement = parse_statement(envelope.payload, STATEMENT_ENVELOPE)
    except VerificationError as exc:
        collect.fail(STATEMENT_ENVELOPE, str(exc))
        return
    state.statement = statement
    if statement.predicate_type != PREDICATE_TYPE:
        collect.fail(STATEMENT_ENVELOPE, f"predicateType is {statement.predicate_type!r}, expected {PREDICATE_TYPE!r}")
        return
    try:
        state.predicate = GatePredicate.model_validate(statement.predicate)
    except ValidationError as exc:
        collect.fail(STATEMENT_ENVELOPE, f"malformed predicate: {first_error(exc)}")


def _step_files(state: _State, step: Step) -> None:
    if state.manifest is None:
        step.skipped = "needs a valid manifest.json"
        return
    collect = _Collector(step)
    packet = state.packet
    digests = packet.digests
    listed = set()
    for entry in state.manifest.files:
        listed.add(entry.path)
        if entry.path in packet.problems:
            continue
        if entry.path not in packet.files:
            collect.fail(entry.path, "listed in the manifest but missing from the packet")
        elif len(packet.files[entry.path]) != entry.size:
            collect.fail(entry.path, f"size {len(packet.files[entry.path])} differs from the manifest's {entry.size}")
        elif digests[entry.path] != entry.sha256:
            collect.fail(entry.path, f"sha256 {digests[entry.path]} differs from the manifest's {entry.sha256}")
    for name in sorted(set(packet.files) - listed - set(UNLISTED)):
        collect.fail(name, "extra file, not listed in the manifest")
    for name in sorted(packet.directories - _parents(listed | set(packet.files) | set(packet.problems))):
        collect.fail(name, "extra directory, holds no file of the packet")
    for name, problem in sorted(packet.problems.items()):
        collect.fail(name, problem)


def _parents(paths: set[str]) -> set[str]:
    """Every directory above one of ``paths``."""
    return {path.rsplit("/", depth)[0] for path in paths for depth in range(1, path.count("/") + 1)}


def _compare(collect: _Collector, file: str, what: str, found: object, expected: object) -> None:
    if found != expected:
        collect.fail(file, f"{what} is {found!r}, the manifest says {expected!r}")


def _step_agreement(state: _State, step: Step) -> None:
    manifest = state.manifest
    if manifest is None:
        step.skipped = "needs a valid manifest.json"
        return
    collect = _Collector(step)
    _statement_agrees(state, manifest, collect)
    report = _results(state, collect)
    if report is not None:
        _results_agree(report, manifest, state.predicate, collect)
    _inputs_agree(manifest, collect)


def _statement_agrees(state: _State, manifest: Manifest, collect: _Collector) -> None:
    statement, predicate = state.statement, state.predicate
    if statement is None or predicate is None:
        collect.fail(STATEMENT_ENVELOPE, "no readable statement to compare with the manifest")
        return
    raw = state.packet.files.get(MANIFEST, b"")
    f = STATEMENT_ENVELOPE
    if predicate.manifest.sha256 != hashlib.sha256(raw).hexdigest():
        collect.fail(f, "the statement's manifest digest is not the sha256 of manifest.json")
    if statement.subject != statement_subjects(manifest):
        collect.fail(f, "the statement's subject is not the release the manifest names")
    mine, theirs = predicate.identity(), manifest.identity()
    for name in mine:
        _compare(collect, f, name, mine[name], theirs[name])
    results = manifest.file(RESULTS)
    _compare(collect, f, "results sha256", predicate.results.sha256, results.sha256 if results else None)


def _results(state: _State, collect: _Collector) -> GateReport | None:
    data = state.packet.files.get(RESULTS)
    if data is None:
        collect.fail(RESULTS, "missing from the packet")
        return None
    try:
        return GateReport.model_validate_json(data)
    except ValidationError as exc:
        collect.fail(RESULTS, f"not a gate report: {first_error(exc)}")
        return None


def _results_agree(report: GateReport, manifest: Manifest, predicate: GatePredicate | None, collect: _Collector) -> None:
    a, f = report.assessment, RESULTS
    _compare(collect, f, "assessment id", a.id, manifest.assessment_id)
    _compare(collect, f, "subject", a.subject, manifest.subject)
    _compare(collect, f, "created", a.created, manifest.created)
    _compare(collect, f, "profiles", a.profiles, manifest.profiles)
    _compare(collect, f, "catalog digest", a.catalog_digest, manifest.catalog_digest)
    _compare(collect, f, "policy digest", report.decision.policy_digest, manifest.policy_digest)
    _compare(collect, f, "verdict", (report.decision.verdict, report.decision.passed), (manifest.verdict, manifest.passed))
    inputs = [(i.kind, i.path, i.sha256, i.size) for i in a.inputs]
    _compare(collect, f, "inputs", inputs, [(i.kind, i.path, i.sha256, i.size) for i in manifest.inputs])
    if predicate is not None:
        counts = dict(a.counts().by_status)
        if counts != predicate.counts:
            collect.fail(f, f"status counts {counts} differ from the statement's {predicate.counts}")
        blocking = sorted({r.control_id for r in report.decision.blocking if r.control_id})
        if blocking != predicate.blocking:
            collect.fail(f, f"blocking controls {blocking} differ from the statement's {predicate.blocking}")


def _inputs_agree(manifest: Manifest, collect: _Collector) -> None:
    for item in manifest.inputs:
        if item.file is None:
            continue
        entry = manifest.file(item.file)
        if entry is None:
            collect.fail(MANIFEST, f"input {item.path} is kept as {item.file}, which the manifest does not list")
        elif (entry.sha256, entry.size) != (item.sha256, item.size):
            collect.fail(item.file, f"is not the input {item.path} the assessment was judged on (sha256 {item.sha256})")


_STEPS: tuple[tuple[str, str, Callable[[_State, Step], None]], ...] = (
    ("manifest", "manifest.json is a canonical packet manifest", _step_manifest),
    ("manifest-signature", "manifest.json.sig verifies over manifest.json (ECDSA P-256, SHA-256)", _step_manifest_signature),
    ("manifest-bundle", "manifest.json.sigstore.json: key hint, message digest and signature verify", _step_manifest_bundle),
    ("statement", "in-toto statement: DSSE signature and bundle verify, predicate type known", _step_statement),
    ("files", "every file present with its sha256 and size, none missing, none extra", _step_files),
    ("agreement", "statement, manifest and results.json agree", _step_agreement),
)


def verify_packet(packet: Packet, key: PublicKey) -> Verification:
    state = _State(packet, key)
    steps: list[Step] = []
    for name, summary, run in _STEPS:
        step = Step(name, summary)
        run(state, step)
        steps.append(step)
    identity = PacketIdentity.model_validate(state.manifest.identity()) if state.manifest is not None else None
    return Verification(packet.source, key.fingerprint, steps, identity)


@dataclass(frozen=True)
class Expectation:
    """A release the verifier was told to expect, compared with the one the packet is of."""

    what: str  # "subject" | "nar-hash" | "commit"
    expected: str
    actual: str | None

    @property
    def ok(self) -> bool:
        return self.actual == self.expected


def expectations(identity: PacketIdentity, *, subject: str | None = None, nar_hash: str | None = None,
                 commit: str | None = None) -> list[Expectation]:
    """Each expectation given, against the packet's signed subject. A NAR hash is compared
    as hex whatever Nix notation it is given in (SRI, ``sha256:`` nix-base32 or hex)."""
    out: list[Expectation] = []
    ref = identity.subject
    if subject is not None:
        out.append(Expectation("subject", subject, ref.store_path))
    if nar_hash is not None:
        out.append(Expectation("nar-hash", expected_nar_hex(nar_hash), ref.nar_sha256))
    if commit is not None:
        actual = ref.commit
        # a short commit names the same commit as the full one it starts
        if actual and len(commit) >= 7 and actual.startswith(commit.lower()):
            actual = commit.lower()
        out.append(Expectation("commit", commit.lower(), actual))
    return out


def expected_nar_hex(value: str) -> str:
    if len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        algorithm, digest = to_hex(value)
    except HashFormatError as exc:
        raise UsageError(f"--expect-nar-hash {value}: {exc}") from None
    if algorithm != "sha256":
        raise UsageError(f"--expect-nar-hash {value}: a {algorithm} hash; packets record the NAR's sha256")
    return digest
