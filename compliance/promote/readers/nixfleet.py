"""Reader of nixfleet-compliance's ``evidence.json``, signed as its hosts sign it.

The host parses the JSON, canonicalises it with JCS (RFC 8785), signs those bytes with
its OpenSSH ed25519 host key and writes the base64 of the 64-byte signature, on one line,
to ``evidence.json.sig``. Verifying is the same in reverse, with the key the wave file
pins (``ssh_host_key``), never the ``evidence.host.pub`` found next to the evidence.

Two shapes exist and both are read: the one the collector writes and nixfleet's agent
parses (``host``, ``timestamp``, ``controls[{control, status, framework_articles,
checks}]``, ``overall``), and the documented v0.2 one (``schemaVersion`` 1, ``hostname``,
``collectedAt``, ``controls[{controlId, passed, frameworkArticles, details, schema}]``).
Fields added later are covered by the signature and ignored, as nixfleet's versioning
allows; another ``schemaVersion`` is refused.

Whatever the shape, the evidence binds only the host name and the time: no nonce, no
closure, no machine or boot id. The gate says so, and the policy decides.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
)

from compliance.errors import CanonicalizationError, VerificationError
from compliance.models.common import Status
from compliance.promote.host_evidence import Binding, ControlOutcome, Evidence, ReportKind
from compliance.promote.hostkeys import HostKeys
from compliance.promote.readers.reader_api import Candidate, Claim, claimed_time, each_control_once
from compliance.signing.encoding import strict_b64decode
from compliance.signing.signed_docs import first_error
from compliance.util.canonical import canonical_json

BINDS = frozenset({Binding.HOST, Binding.TIME})
MAX_MESSAGE = 200


class _Lenient(BaseModel):
    """Signed by another tool: fields this reader does not know are ignored, not refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)


def _rfc3339_text(value: Any) -> Any:
    """Times are RFC 3339 text with an offset: a number (seconds since the epoch, in no
    stated zone) is as naive as a time without an offset, and as invalid."""
    if not isinstance(value, str):
        raise ValueError("expected an RFC 3339 time with an offset (text), not a number")
    return value


SignedTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class RunnerControl(_Lenient):
    control: str = Field(min_length=1)
    status: Literal["compliant", "non-compliant", "error"]
    framework_articles: dict[str, list[str]] = {}
    checks: Any = None


class RunnerEvidence(_Lenient):
    """The shape nixfleet-compliance's probe runner writes and nixfleet's agent reads."""

    host: str = Field(min_length=1)
    timestamp: SignedTime
    controls: list[RunnerControl]
    overall: str | None = None


class DocumentedControl(_Lenient):
    controlId: str = Field(min_length=1)  # nixfleet's wire names
    passed: StrictBool
    frameworkArticles: dict[str, list[str]] = {}
    details: dict[str, Any] = {}
    schema_: str | None = Field(default=None, alias="schema")


class DocumentedEvidence(_Lenient):
    """The v0.2 shape of nixfleet-compliance's docs/evidence-format.md."""

    schemaVersion: Literal[1]
    hostname: str = Field(min_length=1)
    collectedAt: SignedTime
    controls: list[DocumentedControl]


def _short(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _runner_outcome(control: RunnerControl) -> ControlOutcome:
    if control.status == "compliant":
        return ControlOutcome(control.control, Status.PASS, "compliant")
    if control.status == "non-compliant":
        return ControlOutcome(control.control, Status.FAIL, "non-compliant")
    error = control.checks.get("error") if isinstance(control.checks, dict) else None
    return ControlOutcome(control.control, Status.ERROR, _short(f"error: {error}" if error else "error: the probe failed"))


def _documented_outcome(control: DocumentedControl) -> ControlOutcome:
    if control.passed:
        return ControlOutcome(control.controlId, Status.PASS, "passed")
    error = control.details.get("error")
    if error is not None:  # probe errors are reported as passed: false with details.error
        return ControlOutcome(control.controlId, Status.ERROR, _short(f"error: {error}"))
    return ControlOutcome(control.controlId, Status.FAIL, "not passed")


class NixfleetReader:
    kind = ReportKind.NIXFLEET

    def claim(self, doc: Any) -> Claim | None:
        if not isinstance(doc, dict) or not isinstance(doc.get("controls"), list):
            return None
        name = doc.get("hostname") if "schemaVersion" in doc else doc.get("host")
        if not isinstance(name, str) or not name:
            return None
        return Claim(name, created=claimed_time(doc.get("collectedAt") if "schemaVersion" in doc else doc.get("timestamp")))

    def verify(self, candidate: Candidate, doc: Any, claim: Claim, keys: HostKeys) -> Evidence:
        if keys.ssh_key is None:
            raise VerificationError("the wave file gives this host no ssh_host_key: its nixfleet evidence cannot be verified")
        if candidate.signature is None:
            raise VerificationError(f"no signature ({candidate.file}.sig): unsigned nixfleet evidence is refused")
        signature = strict_b64decode(candidate.signature.strip(), source=f"{candidate.file}.sig", what="the signature")
        if len(signature) != 64:
            raise VerificationError(f"{candidate.file}.sig: an ed25519 signature is 64 bytes, this one {len(signature)}")
        try:
            message = canonical_json(doc)
        except CanonicalizationError as exc:
            raise VerificationError(f"cannot be canonicalised (RFC 8785): {exc}") from None
        if not keys.ssh_key.verify(signature, message):
            raise VerificationError(f"the ed25519 signature does not verify with the host key {keys.ssh_key.fingerprint}")
        report_id = "sha256:" + hashlib.sha256(message).hexdigest()
        try:
            if "schemaVersion" in doc:
                documented = DocumentedEvidence.model_validate(doc)
                host, created = documented.hostname, documented.collectedAt
                controls = [_documented_outcome(c) for c in documented.controls]
            else:
                runner = RunnerEvidence.model_validate(doc)
                host, created = runner.host, runner.timestamp
                controls = [_runner_outcome(c) for c in runner.controls]
        except ValidationError as exc:
            raise VerificationError(f"signed, but not nixfleet evidence: {first_error(exc)}") from None
        return Evidence(
            kind=self.kind, host=host, created=created, report_id=report_id, signer=keys.ssh_key.fingerprint,
            binds=BINDS, controls=each_control_once(controls),
        )
