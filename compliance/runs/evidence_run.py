"""Building a signed evidence packet from a gate run.

Order matters and is fixed: render the files (results, report, exports, inputs), list them
in the manifest, sign the manifest (detached and as a bundle), then bind the release, the
assessment summary and the manifest digest in an in-toto statement signed in a DSSE
envelope (also as a bundle). Everything is a function of the run, the catalog, the key
and ``SOURCE_DATE_EPOCH``, so the same inputs give the same bytes.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from pathlib import Path

from compliance import formats
from compliance.errors import SigningError, UsageError
from compliance.evidence.commands import verify_commands
from compliance.evidence.layout import (
    EXPORTS,
    INPUTS_DIR,
    MANIFEST,
    MANIFEST_BUNDLE,
    MANIFEST_SIGNATURE,
    MAX_INCLUDED_INPUT_BYTES,
    PREDICATE_TYPE,
    REPORT_HTML,
    REPORT_PDF,
    RESULTS,
    STATEMENT_BUNDLE,
    STATEMENT_ENVELOPE,
)
from compliance.evidence.manifest import FileEntry, InputEntry, Manifest
from compliance.evidence.predicate import make_predicate, statement_subjects
from compliance.evidence.writer import check_destination, write_packet
from compliance.formats.console import progress
from compliance.models.evidence_history import EvidenceDiff
from compliance.report import ReportContext, render_html, render_pdf
from compliance.runs.gate_run import GateRun, LoadedInput
from compliance.signing.bundle import dsse_bundle, message_bundle
from compliance.signing.detached import encode_signature
from compliance.signing.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope
from compliance.signing.intoto import Statement
from compliance.signing.keys import PublicKey, Signer
from compliance.signing.signers import open_signer
from compliance.util.canonical import canonical_json

# Packet ids are UUIDv5 over what identifies the packet's content (see assessment.ID_NAMESPACE).
PACKET_NAMESPACE = uuid.UUID("0b6c3e8e-2f4a-5d8b-9c61-7e2d4f1a9b30")
_PRIVATE_KEY_PEM = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def build_packet(
    run: GateRun,
    out: str,
    *,
    key_path: str,
    signer: str = "native",
    signing: Signer | None = None,
    include_pdf: bool = True,
    max_input_bytes: int = MAX_INCLUDED_INPUT_BYTES,
    changes: EvidenceDiff | None = None,
) -> None:
    """Write the signed packet of ``run`` to ``out`` (a directory, or a ``.tar.gz``).

    ``signing`` is a signer already opened (see :class:`SignerOpening`); otherwise the
    ``signer`` kind is opened here with the key at ``key_path``. ``changes`` (since the
    previous release) adds their section to the report.
    """
    check_destination(out)
    files = packet_files(
        run, signing or open_signer(signer, key_path), include_pdf=include_pdf, max_input_bytes=max_input_bytes, changes=changes
    )
    write_packet(files, out, int(run.report.assessment.created.timestamp()))


class SignerOpening:
    """Opens a signer in a background thread, started before the gate runs.

    Decrypting a cosign key is scrypt with N=65536: about a quarter of a second that
    releases the GIL, so on a second core it costs the gate nothing. An error (wrong
    password, no cosign) is raised by :meth:`result`, where the packet is built.
    """

    def __init__(self, kind: str, key_path: str) -> None:
        self._signer: Signer | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._open, args=(kind, key_path), name="open-signer", daemon=True)
        self._thread.start()

    def _open(self, kind: str, key_path: str) -> None:
        try:
            self._signer = open_signer(kind, key_path)
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def wait(self) -> None:
        """Let the key finish opening: the process must not end while the thread is inside
        the crypto library (the gate failing on an input, before it needs the signer)."""
        self._thread.join()

    def result(self) -> Signer:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._signer is not None
        return self._signer


def packet_files(
    run: GateRun,
    signing: Signer,
    *,
    include_pdf: bool = True,
    max_input_bytes: int = MAX_INCLUDED_INPUT_BYTES,
    changes: EvidenceDiff | None = None,
) -> dict[str, bytes]:
    """Every file of the packet, by path inside it."""
    key = signing.public_key
    report = run.report
    results = formats.render("json", report)
    inputs, input_files = _inputs(run.inputs, max_input_bytes)
    packet_id = _packet_id(run, key, results)
    context = ReportContext(
        packet_id=packet_id,
        key_fingerprint=key.fingerprint,
        inputs=[item.ref for item in run.inputs],
        verify_commands=verify_commands(report.assessment.subject.store_path),
        catalog=run.catalog,
        sbom=run.subject.sbom,
        changes=changes,
    )
    files: dict[str, bytes] = {RESULTS: results, REPORT_HTML: render_html(report, context), **input_files}
    if include_pdf:
        with progress("rendering the PDF report"):
            files[REPORT_PDF] = render_pdf(report, context)
    for fmt, path in EXPORTS.items():
        files[path] = formats.render(fmt, report)

    manifest = _manifest(run, key, packet_id, inputs, files)
    manifest_bytes = manifest.to_bytes()
    signature = signing.sign(manifest_bytes)
    if not key.verify(signature, manifest_bytes):
        raise SigningError(f"the signer's signature does not verify with its own public key {key.fingerprint}")
    predicate = make_predicate(report, manifest, hashlib.sha256(manifest_bytes).hexdigest())
    statement = Statement(subject=statement_subjects(manifest), predicate_type=PREDICATE_TYPE, predicate=predicate.to_jsonable())
    envelope = sign_envelope(signing, IN_TOTO_PAYLOAD_TYPE, statement.to_bytes())
    files[MANIFEST] = manifest_bytes
    files[MANIFEST_SIGNATURE] = encode_signature(signature)
    files[MANIFEST_BUNDLE] = message_bundle(manifest_bytes, signature, key).to_json()
    files[STATEMENT_ENVELOPE] = envelope.to_bytes()
    files[STATEMENT_BUNDLE] = dsse_bundle(envelope, key).to_json()
    return files


def _inputs(loaded: list[LoadedInput], max_bytes: int) -> tuple[list[InputEntry], dict[str, bytes]]:
    entries: list[InputEntry] = []
    files: dict[str, bytes] = {}
    for item in loaded:
        ref = item.ref
        name: str | None = None
        if ref.size <= max_bytes:
            if b"PRIVATE KEY-----" in item.data and _PRIVATE_KEY_PEM.search(item.data):
                raise UsageError(f"{ref.path}: holds a private key; a private key never enters an evidence packet")
            name = _input_name(ref.kind, ref.path, files)
            files[name] = item.data
        entries.append(InputEntry(kind=ref.kind, path=ref.path, sha256=ref.sha256, size=ref.size, file=name))
    return entries, files


def _input_name(kind: str, path: str, taken: dict[str, bytes]) -> str:
    base = _UNSAFE_CHARS.sub("_", f"{kind}-{Path(path).name}").lstrip("._-")[:80] or "input"
    name, counter = f"{INPUTS_DIR}/{base}", 1
    while name in taken:
        counter += 1
        name = f"{INPUTS_DIR}/{counter}-{base}"
    return name


def _packet_id(run: GateRun, key: PublicKey, results: bytes) -> str:
    identity = {
        "assessment": run.report.assessment.id,
        "key": key.fingerprint,
        "results": hashlib.sha256(results).hexdigest(),
        "inputs": [item.ref.sha256 for item in run.inputs],
    }
    return str(uuid.uuid5(PACKET_NAMESPACE, canonical_json(identity).decode()))


def _manifest(run: GateRun, key: PublicKey, packet_id: str, inputs: list[InputEntry], files: dict[str, bytes]) -> Manifest:
    a = run.report.assessment
    return Manifest(
        packet_id=packet_id,
        created=a.created,
        tool=a.tool,
        tool_version=a.tool_version,
        assessment_id=a.id,
        subject=a.subject,
        profiles=a.profiles,
        policy_digest=run.report.decision.policy_digest,
        catalog_digest=a.catalog_digest,
        verdict=run.report.decision.verdict,
        passed=run.report.decision.passed,
        key_fingerprint=key.fingerprint,
        predicate_type=PREDICATE_TYPE,
        inputs=inputs,
        files=[FileEntry(path=p, sha256=hashlib.sha256(d).hexdigest(), size=len(d)) for p, d in sorted(files.items())],
    )

