"""CycloneDX JSON (spec 1.2 to 1.7) → :class:`Sbom`."""

from __future__ import annotations

from typing import Any

from compliance.errors import InputError
from compliance.inputs.sbom.sbom_common import (
    STORE_PATH_PROPERTIES,
    is_store_path,
    normalise_algorithm,
    parse_time,
    text,
)
from compliance.models.subject import Component, Sbom

SUPPORTED = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")


def parse(doc: dict[str, Any], source: str) -> Sbom:
    spec = doc.get("specVersion")
    if not isinstance(spec, str):
        raise InputError(source, "CycloneDX: 'specVersion' missing or not a string")
    if spec not in SUPPORTED:
        raise InputError(source, f"CycloneDX specVersion {spec} is not supported ({SUPPORTED[0]}–{SUPPORTED[-1]})")
    raw_components = doc.get("components", [])
    if not isinstance(raw_components, list):
        raise InputError(source, "CycloneDX: 'components' must be a list")
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InputError(source, "CycloneDX: 'metadata' must be an object")

    deps: dict[str, tuple[str, ...]] = {}
    raw_deps = doc.get("dependencies")
    if raw_deps is not None:
        if not isinstance(raw_deps, list):
            raise InputError(source, "CycloneDX: 'dependencies' must be a list")
        for index, entry in enumerate(raw_deps):
            if not isinstance(entry, dict) or not isinstance(entry.get("ref"), str):
                raise InputError(source, f"CycloneDX: dependencies[{index}] has no 'ref' string")
            depends = entry.get("dependsOn", [])
            if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
                raise InputError(source, f"CycloneDX: dependencies[{index}].dependsOn must be a list of refs")
            deps[entry["ref"]] = tuple(depends)

    components: list[Component] = []
    described: list[str] = []
    main = metadata.get("component")
    if isinstance(main, dict):
        top = _component(main, source, "metadata.component", deps)
        described.append(top.ref)
        components.append(top)
    stack: list[tuple[str, Any]] = [(f"components[{i}]", c) for i, c in enumerate(raw_components)]
    stack.reverse()
    while stack:
        where, raw = stack.pop()
        if not isinstance(raw, dict):
            raise InputError(source, f"CycloneDX: {where} is not an object")
        components.append(_component(raw, source, where, deps))
        nested = raw.get("components")
        if isinstance(nested, list):
            stack.extend(reversed([(f"{where}.components[{i}]", c) for i, c in enumerate(nested)]))
    return Sbom(
        source=source,
        format="cyclonedx",
        spec_version=spec,
        encoding="json",
        serial=text(doc.get("serialNumber")),
        created=parse_time(metadata.get("timestamp")),
        described=tuple(described),
        components=tuple(components),
        has_dependency_graph=bool(deps),
    )


def _component(raw: dict[str, Any], source: str, where: str, deps: dict[str, tuple[str, ...]]) -> Component:
    name = raw.get("name")
    if not isinstance(name, str):
        raise InputError(source, f"CycloneDX: {where} has no 'name' string")
    ref = raw.get("bom-ref")
    if ref is not None and not isinstance(ref, str):
        raise InputError(source, f"CycloneDX: {where}.bom-ref must be a string")
    purl = text(raw.get("purl"))
    ref = ref or purl or f"{where}:{name}"
    properties = raw.get("properties") or []
    store_path = None
    if isinstance(properties, list):
        for prop in properties:
            if isinstance(prop, dict) and prop.get("name") in STORE_PATH_PROPERTIES:
                value = prop.get("value")
                if isinstance(value, str) and is_store_path(value):
                    store_path = value
                    break
    if store_path is None and is_store_path(ref):
        store_path = ref
    # Types were checked above (text() returns str or None): construct without revalidating.
    return Component.model_construct(
        ref=ref,
        name=name,
        version=text(raw.get("version")),
        purl=purl,
        cpe=text(raw.get("cpe")),
        licenses=_licenses(raw.get("licenses"), source, where),
        hashes=_hashes(raw.get("hashes"), source, where),
        store_path=store_path,
        depends_on=deps.get(ref, ()),
        type=text(raw.get("type")),
    )


def _licenses(raw: Any, source: str, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError(source, f"CycloneDX: {where}.licenses must be a list")
    out: list[str] = []
    for choice in raw:
        if not isinstance(choice, dict):
            continue
        expression = choice.get("expression")
        if isinstance(expression, str) and expression:
            out.append(expression)
            continue
        lic = choice.get("license")
        if isinstance(lic, dict):
            value = lic.get("id") or lic.get("name")
            if isinstance(value, str) and value:
                out.append(value)
    return tuple(out)


def _hashes(raw: Any, source: str, where: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise InputError(source, f"CycloneDX: {where}.hashes must be a list")
    out: dict[str, str] = {}
    for item in raw:
        if isinstance(item, dict) and isinstance(item.get("alg"), str) and isinstance(item.get("content"), str):
            out[normalise_algorithm(item["alg"])] = item["content"].lower()
    return out
