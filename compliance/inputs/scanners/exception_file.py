"""Vulnerability exception files: the organisation's recorded, time-bound acceptance of a
vulnerability that is not fixed (JSON or TOML, a ``vulnerability_exceptions`` list).

    [[vulnerability_exceptions]]
    id = "VEX-2026-014"
    vulnerability = "CVE-2024-12345"
    component = "pkg:nix/openssl@3.0.13"     # a purl, a store path, name@version or a name
    reason = "only the TLS client is shipped; the flaw is in the server"
    compensating_measure = "port 443 closed by the host firewall"
    owner = "platform-team"
    approver = "ciso"
    created = 2026-10-01
    expires = 2026-12-31                      # a date means the end of that day, UTC

Only the id and the vulnerability are required to read the file: an exception that
lacks an owner, an approver, a reason or an expiry is read, and the exceptions control
fails naming what it lacks. Unknown keys are errors (a misspelt ``expiry`` must not
silently make an exception permanent).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, ValidationError

from compliance.errors import InputError
from compliance.inputs.scanners.scanner_common import ReadResult, component_of_id
from compliance.models.common import Strict
from compliance.models.policy import UtcEnd, UtcStart
from compliance.models.vulns import ComponentRef, ReportInfo, ReportRole, VulnException

FORMAT = "exceptions"
KEY = "vulnerability_exceptions"


class _Entry(Strict):
    id: str = Field(min_length=1)
    vulnerability: str = Field(min_length=1)
    component: str | None = None
    reason: str = ""
    compensating_measure: str = ""
    owner: str = ""
    approver: str = ""
    created: UtcStart | None = None
    expires: UtcEnd | None = None


class _File(Strict):
    vulnerability_exceptions: list[_Entry]


def detect(doc: Any) -> bool:
    return isinstance(doc, dict) and KEY in doc


def read(doc: Any, source: str) -> ReadResult:
    from compliance.util.validation import format_validation_error

    try:
        entries = _File.model_validate(doc).vulnerability_exceptions
    except ValidationError as exc:
        raise InputError(source, format_validation_error(exc)) from None
    seen: set[str] = set()
    exceptions: list[VulnException] = []
    for entry in entries:
        if entry.id in seen:
            raise InputError(source, f"exception id {entry.id} is used twice")
        seen.add(entry.id)
        exceptions.append(VulnException(
            id=entry.id,
            vulnerability=entry.vulnerability,
            component=component_of_text(entry.component) if entry.component else None,
            reason=entry.reason.strip(),
            compensating_measure=entry.compensating_measure.strip(),
            owner=entry.owner.strip(),
            approver=entry.approver.strip(),
            created=entry.created,
            expires=entry.expires,
            source=source,
        ))
    info = ReportInfo(source=source, format=FORMAT, role=ReportRole.EXCEPTIONS, statements=len(exceptions))
    return ReadResult(info=info, exceptions=exceptions)


def component_of_text(text: str) -> ComponentRef:
    """``pkg:…`` and store paths as such; ``name@version``; else a bare package name."""
    text = text.strip()
    parsed = component_of_id(text)
    if parsed.ref is None:
        return parsed
    name, sep, version = text.rpartition("@")
    if sep and name and version:
        return ComponentRef(name=name, version=version)
    return ComponentRef(name=text)
