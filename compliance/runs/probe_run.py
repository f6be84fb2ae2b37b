"""Running the selected runtime checks against one host and assembling the report.

The host is asked for everything the selected probes declared (and for its identity) in
one batch; then the engine evaluates each control, failing closed as it always does, while
the host records which raw answers each control read. The result is an unsigned
:class:`~compliance.models.probe.ProbeReport`; :mod:`compliance.evidence.probe_report` signs it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from compliance.assess import assessment as assessment_mod
from compliance.assess import engine
from compliance.catalog.selection import Selection
from compliance.formats.console import progress
from compliance.hosts.host_api import Host
from compliance.hosts.requests import Request, describe
from compliance.models.control import CheckKind
from compliance.models.probe import ControlEvidence, ProbedHost, ProbeReport, RawObservation
from compliance.models.results import SubjectRef
from compliance.runs.probe_plan import prefetch_planned
from compliance.util.canonical import canonical_json
from compliance.util.clock import isoformat

REPORT_NAMESPACE = uuid.UUID("0b7c61c4-3f0e-4d8e-9d3a-5e2f1a7c9b10")


def run_probes(
    host: Host,
    selection: Selection,
    *,
    catalog_digest: str,
    nonce: str,
    signer_fingerprint: str,
    created: datetime,
    expected_closure: str | None = None,
    timeout: float = engine.DEFAULT_TIMEOUT,
) -> ProbeReport:
    """Probe one host with the selected runtime checks and assemble the unsigned report."""
    host.nonce = nonce
    host.expected_closure = expected_closure
    host.timeout = timeout  # each command and walk of the collection too, not only each check
    results = []
    touched: dict[str, list[Request]] = {}
    with progress(f"probing {host.address}: collecting what the probes read") as step:
        identity_requests = host.identity_requests()
        prefetch_planned(selection, host, list(identity_requests.values()))
        identity = host.identity()
        total = len(selection.controls)
        for number, selected in enumerate(selection.controls, start=1):
            step(f"probing {identity.name or host.address}: {selected.control.id}, {number} of {total}")
            with host.tracking() as used:
                results.append(engine.evaluate_control(selected, CheckKind.RUNTIME, host, timeout))
            touched[selected.control.id] = list(used)

    ids: dict[Request, str] = {}
    observations: list[RawObservation] = []
    for obs in host.observations():
        ids[obs.request] = f"o{len(ids) + 1}"
        kind, target = describe(obs.request)
        observations.append(RawObservation(id=ids[obs.request], kind=kind, target=target, status=obs.status.value,
                                           exit_code=obs.exit_code, sha256=obs.sha256, size=len(obs.data)))

    notes = [f"probed through the {host.kind} transport ({host.address}) in {host.round_trips} round trips"]
    if not host.live:
        notes.append("offline root: probes that need a running system are not applicable; the others judge the configuration at rest")
    subject = SubjectRef(kind="host", name=identity.name, store_path=identity.running_closure, host=identity.name,
                         machine_id=identity.machine_id, boot_id=identity.boot_id)
    assessment = assessment_mod.build(selection=selection, results=results, subject=subject, inputs=[],
                                      catalog_digest=catalog_digest, mode=CheckKind.RUNTIME, created=created, notes=notes)
    probed = ProbedHost(
        transport=host.kind, address=host.address, name=identity.name, machine_id=identity.machine_id,
        boot_id=identity.boot_id, kernel=identity.kernel, running_closure=identity.running_closure,
        booted_closure=identity.booted_closure,
        identity_observations=[ids[r] for r in identity_requests.values() if r in ids],
    )
    identity_doc = {"nonce": nonce, "host": probed.to_jsonable(), "created": isoformat(created), "assessment": assessment.id}
    return ProbeReport(
        report_id=str(uuid.uuid5(REPORT_NAMESPACE, canonical_json(identity_doc).decode())),
        created=created,
        nonce=nonce,
        host=probed,
        expected_closure=expected_closure,
        closure_matches=None if expected_closure is None else identity.running_closure == expected_closure,
        signer=signer_fingerprint,
        round_trips=host.round_trips,
        observations=observations,
        evidence=[ControlEvidence(control_id=cid, observations=[ids[r] for r in used if r in ids]) for cid, used in touched.items()],
        assessment=assessment,
    )
