"""SPDX 2.x tag-value → :class:`Sbom`.

A line-oriented parser: ``Tag: value`` pairs, ``<text>…</text>`` values that may span
lines, and sections that start with ``PackageName:`` (a package), ``FileName:``,
``SnippetSPDXID:`` or ``LicenseID:`` (not packages; their fields must not be attributed
to the package before them). spdx-tools re-builds its licence index for every licence
field (about 0.1 s per package), so it is not used here.
"""

from __future__ import annotations

from compliance.errors import InputError
from compliance.inputs.sbom._spdx_model import SpdxBuilder, SpdxPackage
from compliance.inputs.sbom.sbom_schema import ntia_spdx_fields
from compliance.models.subject import Sbom, SbomConformance

_SECTION_STARTS = {"FileName", "SnippetSPDXID", "LicenseID"}


def looks_like_tag_value(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return stripped.startswith("SPDXVersion:")
    return False


def _pairs(text: str, source: str) -> list[tuple[int, str, str]]:
    pairs: list[tuple[int, str, str]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        lineno = index + 1
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tag, sep, value = line.partition(":")
        if not sep or not tag.strip() or " " in tag.strip():
            raise InputError(source, f"SPDX tag-value: line {lineno} is not 'Tag: value'")
        value = value.strip()
        if value.startswith("<text>"):
            body = value[len("<text>") :]
            while "</text>" not in body:
                if index >= len(lines):
                    raise InputError(source, f"SPDX tag-value: <text> opened on line {lineno} is never closed")
                body += "\n" + lines[index]
                index += 1
            value = body[: body.index("</text>")]
        pairs.append((lineno, tag.strip(), value))
    return pairs


def parse(text: str, source: str) -> Sbom:
    pairs = _pairs(text, source)
    version = next((v for _, t, v in pairs if t == "SPDXVersion"), None)
    if version is None or not version.startswith("SPDX-2."):
        raise InputError(source, f"SPDX tag-value: version {version!r} is not supported (SPDX-2.2 or SPDX-2.3)")
    builder = SpdxBuilder(source, version.removeprefix("SPDX-"), "tag-value")
    document_id = "SPDXRef-DOCUMENT"
    current: SpdxPackage | None = None
    pending_name: str | None = None
    in_document_header = True
    suppliers: dict[str, str] = {}
    creators: list[str] = []
    relationships: list[str] = []
    for lineno, tag, value in pairs:
        if tag == "PackageName":
            in_document_header = False
            current = None
            pending_name = value
            continue
        if tag in _SECTION_STARTS:
            in_document_header = False
            current = None
            pending_name = None
            continue
        if tag == "SPDXID":
            if in_document_header:
                document_id = value
            elif pending_name is not None:
                current = builder.package(value, pending_name)
                pending_name = None
            continue
        if tag == "Relationship":
            parts = value.split()
            if len(parts) != 3:
                raise InputError(source, f"SPDX tag-value: line {lineno}: Relationship needs 'A TYPE B'")
            builder.relationship(parts[0], parts[1], parts[2], document_id)
            relationships.append(parts[1].upper())
            continue
        if in_document_header:
            if tag == "DocumentNamespace":
                builder.namespace = value
            elif tag == "Created":
                builder.created = value
            elif tag == "Creator":
                creators.append(value)
            continue
        if pending_name is not None and tag.startswith("Package"):
            raise InputError(source, f"SPDX tag-value: line {lineno}: package {pending_name!r} needs SPDXID before {tag}")
        if current is None:
            continue
        if tag == "PackageVersion":
            current.version = value
        elif tag in ("PackageLicenseConcluded", "PackageLicenseDeclared"):
            current.add_license(value)
        elif tag == "PackageChecksum":
            algorithm, sep, digest = value.partition(":")
            if not sep:
                raise InputError(source, f"SPDX tag-value: line {lineno}: PackageChecksum needs 'ALG: value'")
            current.add_checksum(algorithm, digest)
        elif tag == "ExternalRef":
            parts = value.split(None, 2)
            if len(parts) != 3:
                raise InputError(source, f"SPDX tag-value: line {lineno}: ExternalRef needs 'CATEGORY TYPE LOCATOR'")
            current.add_external_ref(*parts)
        elif tag == "PackageFileName":
            current.consider_store_path(value)
        elif tag == "PrimaryPackagePurpose":
            current.primary_purpose = value
        elif tag in ("PackageSupplier", "PackageOriginator") and value.strip() != "NOASSERTION":
            suppliers[current.spdx_id] = value
    if pending_name is not None:
        raise InputError(source, f"SPDX tag-value: package {pending_name!r} has no SPDXID")
    sbom = builder.build()
    packages = list(builder.packages.values())
    # Tag-value has no JSON schema: the reader checked its syntax; the NTIA elements are counted.
    missing = ntia_spdx_fields(
        suppliers=[suppliers.get(p.spdx_id) for p in packages], names=[p.name for p in packages],
        versions=[p.version for p in packages], identified=[bool(p.purl or p.cpe) for p in packages],
        relationships=relationships, creators=creators, created=builder.created,
    )
    return sbom.model_copy(update={"conformance": SbomConformance(schema_file=None, ntia_missing=tuple(missing))})
