"""SBOM conformance: the official JSON schema of the declared specification version, and
the NTIA minimum elements.

Readers take what they need from an SBOM and are lenient where real tools are sloppy, so
a document with a bad hash, timestamp, serial number or licence choice would be read and
signed into evidence without a word. Here the document is judged as its specification
defines it: every JSON SBOM is validated (jsonschema-rs, compiled once per version) against
the schema shipped in the package (``schemas/sbom``, see its PROVENANCE.md), and the
NTIA minimum elements (supplier, name, version, unique identifier, dependency
relationships, author of the SBOM data, timestamp) are counted. The result is recorded on
the :class:`Sbom`; the ``sbom_conforms`` predicate judges it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs

from compliance.models.subject import SbomConformance
from compliance.util.datafiles import data_dir
from compliance.util.jsonparse import loads_json

CYCLONEDX_SCHEMAS = {v: f"bom-{v}.schema.json" for v in ("1.3", "1.4", "1.5", "1.6")}
SPDX_SCHEMAS = {"2.3": "spdx-2.3.schema.json"}
_CYCLONEDX_BASE = "http://cyclonedx.org/schema/"
_CYCLONEDX_SHARED = ("spdx.schema.json", "jsf-0.82.schema.json")
MAX_VIOLATIONS = 20
_UNIQUE_ID_TYPES = {"purl", "cpe22Type", "cpe23Type", "swid", "swh", "gitoid"}
_DEPENDENCY_RELATIONSHIPS = {"DEPENDS_ON", "DEPENDENCY_OF", "CONTAINS", "CONTAINED_BY", "RUNTIME_DEPENDENCY_OF",
                             "BUILD_DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF", "STATIC_LINK", "DYNAMIC_LINK"}


def _schema(name: str) -> Any:
    return loads_json((data_dir("schemas") / "sbom" / name).read_bytes())


@cache
def _validator(name: str) -> Any:
    registry = None
    if name.startswith("bom-"):
        registry = jsonschema_rs.Registry([(_CYCLONEDX_BASE + shared, _schema(shared)) for shared in _CYCLONEDX_SHARED])
    return jsonschema_rs.validator_for(_schema(name), registry=registry, validate_formats=True)


def judge_json(doc: dict[str, Any], fmt: str, spec_version: str) -> SbomConformance:
    """Schema violations and missing NTIA elements of a CycloneDX or SPDX JSON document."""
    name = CYCLONEDX_SCHEMAS.get(spec_version) if fmt == "cyclonedx" else SPDX_SCHEMAS.get(spec_version)
    violations: list[str] = []
    count = 0
    if name is not None:
        validator = _validator(name)
        if not validator.is_valid(doc):
            for error in validator.iter_errors(doc):
                count += 1
                if len(violations) < MAX_VIOLATIONS:
                    where = "/" + "/".join(str(p) for p in error.instance_path)
                    violations.append(f"{where}: {_short(error.message)}")
    missing = _ntia_cyclonedx(doc) if fmt == "cyclonedx" else _ntia_spdx(doc)
    return SbomConformance(schema_file=name, violations=tuple(violations), violation_count=count, ntia_missing=tuple(missing))


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def _count(missing: list[str], what: str, lacking: int, total: int) -> None:
    if lacking:
        missing.append(f"{what} ({lacking} of {total} components)")


def _ntia_cyclonedx(doc: dict[str, Any]) -> list[str]:
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    components: list[dict[str, Any]] = []
    stack = [c for c in doc.get("components") or [] if isinstance(c, dict)]
    while stack:
        item = stack.pop()
        components.append(item)
        stack.extend(c for c in item.get("components") or [] if isinstance(c, dict))
    missing: list[str] = []
    total = len(components)
    _count(missing, "supplier", sum(1 for c in components if not _named(c.get("supplier")) and not _named(c.get("manufacturer"))
                                    and not c.get("publisher") and not c.get("author") and not c.get("authors")), total)
    _count(missing, "name", sum(1 for c in components if not c.get("name")), total)
    _count(missing, "version", sum(1 for c in components if not c.get("version")), total)
    _count(missing, "unique identifier (purl, CPE or SWID)", sum(1 for c in components if not (c.get("purl") or c.get("cpe") or c.get("swid"))), total)
    if not any(isinstance(d, dict) and d.get("ref") for d in doc.get("dependencies") or []):
        missing.append("dependency relationships")
    if not (metadata.get("authors") or metadata.get("tools") or _named(metadata.get("manufacture")) or _named(metadata.get("manufacturer"))
            or _named(metadata.get("supplier"))):
        missing.append("author of the SBOM data (metadata.authors or tools)")
    if not metadata.get("timestamp"):
        missing.append("timestamp (metadata.timestamp)")
    return missing


def _named(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("name") or value.get("url"))


def _asserted(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and value.strip() != "NOASSERTION"


def _ntia_spdx(doc: dict[str, Any]) -> list[str]:
    packages = [p for p in doc.get("packages") or [] if isinstance(p, dict)]
    creation = doc.get("creationInfo") if isinstance(doc.get("creationInfo"), dict) else {}
    assert isinstance(creation, dict)
    return ntia_spdx_fields(
        suppliers=[p.get("supplier") or p.get("originator") for p in packages],
        names=[p.get("name") for p in packages],
        versions=[p.get("versionInfo") for p in packages],
        identified=[any(isinstance(r, dict) and r.get("referenceType") in _UNIQUE_ID_TYPES for r in p.get("externalRefs") or []) for p in packages],
        relationships=[r.get("relationshipType") for r in doc.get("relationships") or [] if isinstance(r, dict)],
        creators=[c for c in creation.get("creators") or [] if isinstance(c, str)],
        created=creation.get("created"),
    )


def ntia_spdx_fields(*, suppliers: list[Any], names: list[Any], versions: list[Any], identified: list[bool],
                     relationships: list[Any], creators: list[str], created: Any) -> list[str]:
    """The NTIA elements missing from an SPDX document (JSON or tag-value), field by field."""
    missing: list[str] = []
    total = len(names)
    _count(missing, "supplier", sum(1 for s in suppliers if not _asserted(s)), total)
    _count(missing, "name", sum(1 for n in names if not _asserted(n)), total)
    _count(missing, "version", sum(1 for v in versions if not _asserted(v)), total)
    _count(missing, "unique identifier (purl, CPE or SWID)", sum(1 for i in identified if not i), total)
    if not any(r in _DEPENDENCY_RELATIONSHIPS for r in relationships):
        missing.append("dependency relationships")
    if not creators:
        missing.append("author of the SBOM data (creationInfo.creators)")
    if not created:
        missing.append("timestamp (creationInfo.created)")
    return missing
