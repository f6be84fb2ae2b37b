"""The signed probe report: what ``compliance probe`` writes and ``compliance promote``
verifies.

The report is the payload of a DSSE envelope (payload type
:data:`PROBE_REPORT_PAYLOAD_TYPE`), serialised as canonical JSON (RFC 8785), and signed
with the host's key. It binds the results to what a replay would have to fake: the host's
name, machine id and boot id, the closure it runs, the wave's nonce and the time. It also
lists the SHA-256 of every raw answer the probes judged (file contents, command outputs),
so an auditor holding the same inputs can show which input each verdict came from, without
the report carrying the inputs themselves (``/etc/shadow`` never leaves the host).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from compliance.models.common import Record
from compliance.models.results import Assessment

# A wave's nonce must be at least this long: a guessable nonce lets a report be made before
# the wave. ``probe`` refuses a shorter one, and a promotion policy can only raise it.
MIN_NONCE_LENGTH = 16

PROBE_REPORT_SCHEMA = "https://compliance-gate.dev/schemas/probe-report/v1"
PROBE_REPORT_PAYLOAD_TYPE = "application/vnd.compliance-gate.probe-report.v1+json"


class ProbedHost(Record):
    """Who answered. ``None`` where the transport cannot know (an offline root has no boot id)."""

    transport: str = Field(description="local | ssh | offline-root")
    address: str = Field(description="'local', ssh://user@host:port, or the root folder")
    name: str | None = Field(default=None, description="host name (/proc/sys/kernel/hostname; offline: /etc/hostname)")
    machine_id: str | None = Field(default=None, description="/etc/machine-id")
    boot_id: str | None = Field(default=None, description="/proc/sys/kernel/random/boot_id: changes at every boot")
    kernel: str | None = Field(default=None, description="running kernel release")
    running_closure: str | None = Field(default=None, description="/run/current-system resolved (offline: the system profile)")
    booted_closure: str | None = Field(default=None, description="/run/booted-system resolved")
    identity_observations: list[str] = Field(default=[], description="ids of the observations the identity was read from")


class RawObservation(Record):
    """One raw answer of the host: what was asked, and the digest of what came back."""

    id: str
    kind: str = Field(description="file | command | stat | listdir | resolve | find-special | processes")
    target: str
    status: str = Field(description="ok | missing | denied | error | unavailable")
    exit_code: int | None = None
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the raw bytes (stdout for a command)")
    size: int = Field(ge=0)


class ControlEvidence(Record):
    """Which raw host answers one control's runtime checks read (so an auditor can follow a verdict to its data)."""
    control_id: str
    observations: list[str] = Field(description="ids of the raw answers this control's runtime checks read")


class ProbeReport(Record):
    """A host's probe report: what was probed, bound to the host, boot, running closure, wave nonce and time, with the raw answers."""
    schema_: str = Field(default=PROBE_REPORT_SCHEMA, alias="$schema")
    report_id: str
    created: datetime
    nonce: str = Field(min_length=1)
    host: ProbedHost
    expected_closure: str | None = None
    closure_matches: bool | None = Field(default=None, description="running_closure == expected_closure (None: nothing expected)")
    signer: str = Field(description="SHA256 fingerprint of the public key that signs the report")
    round_trips: int = Field(ge=0, description="batches the host answered (one SSH exchange each)")
    observations: list[RawObservation]
    evidence: list[ControlEvidence]
    assessment: Assessment


def probe_report_schema() -> dict[str, object]:
    """The published JSON Schema of the report (``evidence/probe-report.schema.json``)."""
    schema = ProbeReport.model_json_schema(by_alias=True, mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PROBE_REPORT_SCHEMA,
        "title": "compliance-gate probe report",
        "description": (
            "The payload of the DSSE envelope written by 'compliance probe' (payloadType "
            f"{PROBE_REPORT_PAYLOAD_TYPE}), as canonical JSON (RFC 8785)."
        ),
        **{k: v for k, v in schema.items() if k != "title"},
    }
