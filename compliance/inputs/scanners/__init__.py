"""Vulnerability reports, VEX documents, known-exploited catalogues and exception files →
one :class:`VulnerabilityData`.

One module per format, each with a ``detect`` that looks at the content (never the file
name) and a ``read``. Exactly one reader must recognise a document; a document no reader
recognises, or that a reader finds malformed, is an input error naming the file.

    vulnix --json          vulnix.py       grype -o json          grype.py
    trivy --format json    trivy.py        osv-scanner --json     osv.py
    CycloneDX vulns/VEX    cyclonedx.py    OpenVEX                openvex.py
    CVENix text output     cvenix.py       CISA KEV catalogue     kev.py
    exception files        exceptions.py   (JSON or TOML)
"""

from __future__ import annotations

import tomllib
from typing import Any

from compliance.errors import InputError
from compliance.inputs.scanners import cdx_vulns as cyclonedx
from compliance.inputs.scanners import cvenix, grype, kev, openvex, osv, trivy, vulnix
from compliance.inputs.scanners import exception_file as exceptions
from compliance.inputs.scanners.scanner_common import JsonReader, ReadResult, TextReader
from compliance.models.vulns import VulnerabilityData
from compliance.util.fsutil import parse_json, without_bom
from compliance.util.gcpause import cyclic_gc_paused

JSON_READERS: tuple[JsonReader, ...] = (vulnix, grype, trivy, osv, cyclonedx, openvex, kev, exceptions)
TEXT_READERS: tuple[TextReader, ...] = (cvenix,)
KNOWN = "vulnix, grype, trivy or osv-scanner JSON, CycloneDX vulnerabilities or VEX, OpenVEX, CVENix output, the CISA KEV catalogue or an exception file"


def load_vulnerability_reports(items: list[tuple[str, bytes]]) -> VulnerabilityData:
    """Read every ``(source, content)`` pair and merge them, in the order given."""
    with cyclic_gc_paused():
        results = [read_report(data, source) for source, data in items]
    return VulnerabilityData(
        reports=tuple(r.info for r in results),
        findings=tuple(f for r in results for f in r.findings),
        vex=tuple(s for r in results for s in r.vex),
        exceptions=tuple(e for r in results for e in r.exceptions),
        known_exploited=frozenset(i for r in results for i in r.known_exploited),
    )


def read_report(data: bytes, source: str) -> ReadResult:
    data = without_bom(data, source)
    head = data.lstrip()[:1]
    if not head:
        raise InputError(source, "empty file, expected a vulnerability report")
    json_error: InputError | None = None
    if head in (b"{", b"["):
        try:
            return read_document(parse_json(data, source), source)
        except InputError as exc:
            if not exc.problem.startswith("invalid JSON"):
                raise
            json_error = exc  # CVENix lines start with "[", so do TOML tables: try them
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(source, f"unknown vulnerability report format: binary data, expected {KNOWN}") from None
    for reader in TEXT_READERS:
        if reader.detect_text(text):
            return reader.read_text(text, source)
    doc = _toml(text)
    if doc is not None:
        return read_document(doc, source)
    raise json_error or InputError(source, f"unknown vulnerability report format, expected {KNOWN}")


def read_document(doc: Any, source: str) -> ReadResult:
    """A parsed JSON or TOML document, given to the one reader that recognises it."""
    matching = [reader for reader in JSON_READERS if reader.detect(doc)]
    if not matching:
        if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
            raise InputError(source, "a CycloneDX document without 'vulnerabilities' is an SBOM, not a vulnerability report")
        raise InputError(source, f"unknown vulnerability report format, expected {KNOWN}")
    if len(matching) > 1:
        names = ", ".join(r.FORMAT for r in matching)
        raise InputError(source, f"ambiguous vulnerability report: it looks like each of {names}")
    return matching[0].read(doc, source)


def _toml(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None
