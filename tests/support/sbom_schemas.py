"""The official SBOM JSON Schemas as fast validators (jsonschema-rs, formats checked).

CycloneDX 1.6 comes from ../shared/data/schemas when present and, on any machine, from
the copy cyclonedx-python-lib ships (same schema, its ``$ref``s renamed ``*.SNAPSHOT``).
SPDX 2.3 JSON comes from ../shared/data/schemas only. Referenced schemas are read from
the same folder: nothing is fetched.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs


def _local_retriever(folder: Path) -> Any:
    def retrieve(uri: str) -> Any:
        return json.loads((folder / uri.rsplit("/", 1)[-1]).read_text())

    return retrieve


def _validator(schema: Path) -> Any:
    return jsonschema_rs.Draft7Validator(
        json.loads(schema.read_text()), retriever=_local_retriever(schema.parent), validate_formats=True
    )


def bundled_cyclonedx_1_6() -> Any:
    import cyclonedx.schema

    return _validator(Path(cyclonedx.schema.__file__).parent / "_res" / "bom-1.6.SNAPSHOT.schema.json")


def official_cyclonedx_1_6(shared_data: Path) -> Any:
    return _validator(shared_data / "schemas" / "cyclonedx" / "bom-1.6.schema.json")


def official_spdx_2_3(shared_data: Path) -> Any:
    return _validator(shared_data / "schemas" / "spdx-schema-2.3.json")


def errors(validator: Any, document: Any) -> list[str]:
    """Every violation as ``<json pointer>: <message>``; empty when the document is valid."""
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(document)]
