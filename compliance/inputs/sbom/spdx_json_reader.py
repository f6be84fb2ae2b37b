"""SPDX 2.x JSON → :class:`Sbom`."""

from __future__ import annotations

from typing import Any

from compliance.errors import InputError
from compliance.inputs.sbom._spdx_model import SpdxBuilder
from compliance.models.subject import Sbom


def parse(doc: dict[str, Any], source: str) -> Sbom:
    version = doc.get("spdxVersion")
    if not isinstance(version, str) or not version.startswith("SPDX-2."):
        raise InputError(source, f"SPDX version {version!r} is not supported (SPDX-2.2 or SPDX-2.3)")
    builder = SpdxBuilder(source, version.removeprefix("SPDX-"), "json")
    creation = doc.get("creationInfo")
    if isinstance(creation, dict):
        builder.created = creation.get("created")
    builder.namespace = doc.get("documentNamespace") if isinstance(doc.get("documentNamespace"), str) else None
    document_id = doc.get("SPDXID", "SPDXRef-DOCUMENT")
    describes = doc.get("documentDescribes", [])
    if isinstance(describes, list):
        builder.describes.extend(d for d in describes if isinstance(d, str))

    packages = doc.get("packages", [])
    if not isinstance(packages, list):
        raise InputError(source, "SPDX: 'packages' must be a list")
    for index, pkg in enumerate(packages):
        if not isinstance(pkg, dict):
            raise InputError(source, f"SPDX: packages[{index}] is not an object")
        spdx_id, name = pkg.get("SPDXID"), pkg.get("name")
        if not isinstance(spdx_id, str) or not isinstance(name, str):
            raise InputError(source, f"SPDX: packages[{index}] needs 'SPDXID' and 'name' strings")
        entry = builder.package(spdx_id, name)
        entry.version = pkg.get("versionInfo") if isinstance(pkg.get("versionInfo"), str) else None
        for key in ("licenseConcluded", "licenseDeclared"):
            value = pkg.get(key)
            if isinstance(value, str):
                entry.add_license(value)
        checksums = pkg.get("checksums", [])
        if isinstance(checksums, list):
            for c in checksums:
                if isinstance(c, dict) and isinstance(c.get("algorithm"), str) and isinstance(c.get("checksumValue"), str):
                    entry.add_checksum(c["algorithm"], c["checksumValue"])
        refs = pkg.get("externalRefs", [])
        if isinstance(refs, list):
            for r in refs:
                if isinstance(r, dict):
                    entry.add_external_ref(str(r.get("referenceCategory", "")), str(r.get("referenceType", "")), str(r.get("referenceLocator", "")))
        file_name = pkg.get("packageFileName")
        if isinstance(file_name, str):
            entry.consider_store_path(file_name)
        entry.primary_purpose = pkg.get("primaryPackagePurpose") if isinstance(pkg.get("primaryPackagePurpose"), str) else None

    relationships = doc.get("relationships", [])
    if not isinstance(relationships, list):
        raise InputError(source, "SPDX: 'relationships' must be a list")
    for index, rel in enumerate(relationships):
        if not isinstance(rel, dict):
            raise InputError(source, f"SPDX: relationships[{index}] is not an object")
        a, kind, b = rel.get("spdxElementId"), rel.get("relationshipType"), rel.get("relatedSpdxElement")
        if isinstance(a, str) and isinstance(kind, str) and isinstance(b, str):
            builder.relationship(a, kind, b, document_id if isinstance(document_id, str) else "SPDXRef-DOCUMENT")
    return builder.build()
