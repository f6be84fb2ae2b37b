"""CycloneDX 1.6 JSON from an :class:`~.plan.SbomPlan`.

Conventions follow sbomnix and bombon so that other Nix tooling reads the result: the
``bom-ref`` is the store path, the purl is ``pkg:nix/<name>@<version>``, the store path and
deriver are the properties ``nix:output_path`` and ``nix:drv_path``. The top-level path is
``metadata.component``; when a closure has several top-level paths, ``metadata.component``
is the closure itself (an application whose dependencies are those paths), so that every
store path stays an ordinary component. Every component has a ``dependencies`` entry, an
empty ``dependsOn`` saying "depends on nothing", except for a listing, whose references
are unknown and therefore not claimed.
"""

from __future__ import annotations

from typing import Any

import orjson

from compliance.sbomgen.sbom_plan import Entry, SbomPlan
from compliance.util import clock

SPEC_VERSION = "1.6"
SCHEMA_URL = "http://cyclonedx.org/schema/bom-1.6.schema.json"


def render(plan: SbomPlan) -> bytes:
    """The CycloneDX 1.6 JSON of an SBOM plan."""
    components = [_component(e) for e in plan.entries]
    dependencies = [{"ref": e.store_path, "dependsOn": list(e.depends_on)} for e in plan.entries]
    if len(plan.roots) == 1:
        described = components.pop(0)  # entries put the top-level path first
    else:
        described = {
            "type": "application",
            "bom-ref": f"nix-closure:{plan.digest}",
            "name": plan.title,
            "description": f"Nix closure of {len(plan.roots)} top-level store paths",
        }
        dependencies.insert(0, {"ref": described["bom-ref"], "dependsOn": list(plan.roots)})
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": plan.document_uuid("cyclonedx").urn,
        "version": 1,
        "metadata": {
            "timestamp": clock.isoformat(plan.created),
            "lifecycles": [{"phase": "post-build"}],
            "tools": {"components": [{"type": "application", "name": plan.tool_name, "version": plan.tool_version}]},
            "component": described,
        },
        "components": components,
    }
    if plan.graph_known:
        doc["dependencies"] = dependencies
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


def _component(entry: Entry) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": "application" if entry.top_level else "library",
        "bom-ref": entry.store_path,
        "name": entry.name,
    }
    if entry.version:
        component["version"] = entry.version
    if entry.sha256:
        component["hashes"] = [{"alg": "SHA-256", "content": entry.sha256}]
    component["purl"] = entry.purl
    properties = [{"name": "nix:output_path", "value": entry.store_path}]
    if entry.deriver:
        properties.append({"name": "nix:drv_path", "value": entry.deriver})
    component["properties"] = properties
    return component
