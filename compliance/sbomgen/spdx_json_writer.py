"""SPDX 2.3 JSON from an :class:`~.plan.SbomPlan`.

One package per store path: the Nix name and version, the NAR hash as a SHA256 checksum,
the store path as ``packageFileName`` and as an ``OTHER nix:output_path`` external
reference (the sbomnix property names), the deriver as ``OTHER nix:drv_path``, the purl
as a ``PACKAGE-MANAGER purl`` reference. The top-level path(s) are both in
``documentDescribes`` and in ``DESCRIBES`` relationships (readers look for either);
references are ``DEPENDS_ON`` relationships.
"""

from __future__ import annotations

from typing import Any

import orjson

from compliance.sbomgen import spdx_common as common
from compliance.sbomgen.sbom_plan import Entry, SbomPlan
from compliance.sbomgen.spdx_common import SpdxDocument
from compliance.util import clock


def render(plan: SbomPlan) -> bytes:
    """The SPDX 2.3 JSON of an SBOM plan."""
    spdx = common.spdx_document(plan)
    doc: dict[str, Any] = {
        "spdxVersion": common.SPDX_VERSION,
        "dataLicense": common.DATA_LICENSE,
        "SPDXID": common.DOCUMENT_ID,
        "name": plan.title,
        "documentNamespace": spdx.namespace,
        "creationInfo": {"created": clock.isoformat(plan.created), "creators": [spdx.creator]},
        "documentDescribes": spdx.described,
        "packages": [_package(e, spdx) for e in plan.entries],
        "relationships": [
            {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b} for a, kind, b in spdx.relationships
        ],
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def _package(entry: Entry, spdx: SpdxDocument) -> dict[str, Any]:
    package: dict[str, Any] = {"SPDXID": spdx.ids[entry.store_path], "name": entry.name}
    if entry.version:
        package["versionInfo"] = entry.version
    package["packageFileName"] = entry.store_path
    package["downloadLocation"] = common.NOASSERTION
    package["filesAnalyzed"] = False
    if entry.sha256:
        package["checksums"] = [{"algorithm": "SHA256", "checksumValue": entry.sha256}]
    package["licenseConcluded"] = common.NOASSERTION
    package["licenseDeclared"] = common.NOASSERTION
    package["copyrightText"] = common.NOASSERTION
    refs = [
        {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": entry.purl},
        {"referenceCategory": "OTHER", "referenceType": "nix:output_path", "referenceLocator": entry.store_path},
    ]
    if entry.deriver:
        refs.append({"referenceCategory": "OTHER", "referenceType": "nix:drv_path", "referenceLocator": entry.deriver})
    package["externalRefs"] = refs
    package["primaryPackagePurpose"] = common.purpose(entry)
    return package
