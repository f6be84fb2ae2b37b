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

# Reading a packet (directory or tarball) stops beyond these bounds. They are set from what
# the builder writes, with margin, so that a hostile packet is refused before it costs much.
MAX_ENTRIES = 4096
# The largest file a packet holds is an input, at most MAX_INCLUDED_INPUT_BYTES (a larger
# one is recorded by digest only); results.json, the reports and the exports of a
# 5,000-path release are a few MB. Four times the input cap leaves room for far larger runs.
MAX_FILE_BYTES = 4 * MAX_INCLUDED_INPUT_BYTES
# A packet holds about ten inputs (one per kind, vulnerability reports repeatable) and its
# own files: 52 MB for the largest release measured. 1 GiB is sixteen inputs at the cap.
MAX_TOTAL_BYTES = 16 * MAX_INCLUDED_INPUT_BYTES
# A .tar.gz may inflate to at most this many times the compressed bytes read so far, plus
# the slack: packets are JSON, TOML and PDF, which deflate 3 to 6 times (a highly repetitive
# JSON file about 150 times at the builder's level), while a gzip bomb of zeros inflates
# about 1,000 times. The check runs as the stream inflates, so a bomb stops after about the
# slack's worth of output, whatever its headers claim.
MAX_INFLATION_RATIO = 256
INFLATION_SLACK_BYTES = 16 << 20

SAFE_PATH_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$"
