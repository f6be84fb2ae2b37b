"""SPDX 2.3 tag-value from an :class:`~.plan.SbomPlan`: the same document as the JSON
encoding (same namespace, SPDXIDs, fields and relationships), one ``Tag: value`` per line.

Every value comes from a store path or a fixed word, so none holds a line break and no
``<text>`` block is needed.
"""

from __future__ import annotations

from compliance.sbomgen import spdx_common as common
from compliance.sbomgen.sbom_plan import Entry, SbomPlan
from compliance.sbomgen.spdx_common import SpdxDocument
from compliance.util import clock


def render(plan: SbomPlan) -> bytes:
    """The SPDX 2.3 tag-value of an SBOM plan."""
    spdx = common.spdx_document(plan)
    lines = [
        f"SPDXVersion: {common.SPDX_VERSION}",
        f"DataLicense: {common.DATA_LICENSE}",
        f"SPDXID: {common.DOCUMENT_ID}",
        f"DocumentName: {plan.title}",
        f"DocumentNamespace: {spdx.namespace}",
        f"Creator: {spdx.creator}",
        f"Created: {clock.isoformat(plan.created)}",
    ]
    for entry in plan.entries:
        lines.append("")
        lines.extend(_package(entry, spdx))
    lines.append("")
    lines.extend(f"Relationship: {a} {kind} {b}" for a, kind, b in spdx.relationships)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _package(entry: Entry, spdx: SpdxDocument) -> list[str]:
    lines = [f"PackageName: {entry.name}", f"SPDXID: {spdx.ids[entry.store_path]}"]
    if entry.version:
        lines.append(f"PackageVersion: {entry.version}")
    lines += [
        f"PackageFileName: {entry.store_path}",
        f"PackageDownloadLocation: {common.NOASSERTION}",
        "FilesAnalyzed: false",
    ]
    if entry.sha256:
        lines.append(f"PackageChecksum: SHA256: {entry.sha256}")
    lines += [
        f"PackageLicenseConcluded: {common.NOASSERTION}",
        f"PackageLicenseDeclared: {common.NOASSERTION}",
        f"PackageCopyrightText: {common.NOASSERTION}",
        f"ExternalRef: PACKAGE-MANAGER purl {entry.purl}",
        f"ExternalRef: OTHER nix:output_path {entry.store_path}",
    ]
    if entry.deriver:
        lines.append(f"ExternalRef: OTHER nix:drv_path {entry.deriver}")
    lines.append(f"PrimaryPackagePurpose: {common.purpose(entry)}")
    return lines
