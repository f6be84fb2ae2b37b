"""The names and limits of a packet: one place, shared by the builder and the verifier."""

from __future__ import annotations

MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.json.sig"
MANIFEST_BUNDLE = "manifest.json.sigstore.json"
STATEMENT_ENVELOPE = "statement.dsse.json"
STATEMENT_BUNDLE = "statement.sigstore.json"
RESULTS = "results.json"
REPORT_PDF = "report.pdf"
REPORT_HTML = "report.html"
INPUTS_DIR = "inputs"

# Export format → its file in the packet (``evidence export`` copies these out).
EXPORTS = {
    "oscal": "exports/assessment-results.oscal.json",
    "sarif": "exports/results.sarif",
    "junit": "exports/junit.xml",
}
EXPORTABLE = {**EXPORTS, "json": RESULTS}

# The files the manifest cannot list: itself, and what is signed over it.
SIGNATURE_FILES = (MANIFEST_SIGNATURE, MANIFEST_BUNDLE, STATEMENT_ENVELOPE, STATEMENT_BUNDLE)
UNLISTED = (MANIFEST, *SIGNATURE_FILES)

MANIFEST_SCHEMA = "https://compliance-gate.dev/schemas/packet-manifest/v1"
PREDICATE_SCHEMA = "https://compliance-gate.dev/schemas/gate-predicate/v1"
PREDICATE_TYPE = "https://compliance-gate.dev/attestation/gate/v1"

# An input larger than this is recorded by digest only (the packet stays mailable).
MAX_INCLUDED_INPUT_BYTES = 64 << 20

# Reading a packet (directory or tarball) stops beyond these bounds.
MAX_ENTRIES = 4096
MAX_FILE_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30

SAFE_PATH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$"
