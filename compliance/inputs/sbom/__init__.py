"""SBOM readers: CycloneDX 1.3–1.6 JSON, SPDX 2.3 JSON and SPDX 2.3 tag-value → :class:`Sbom`.

The format is detected from the content, never from the file name. These readers parse
with orjson straight into the component model: the SBOM libraries are far too slow on
large documents for the gate's hot path (see docs/performance.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.inputs.sbom import cdx_reader as cyclonedx
from compliance.inputs.sbom import spdx_json_reader as spdx_json
from compliance.inputs.sbom import spdx_tag_reader as spdx_tag
from compliance.models.subject import Sbom
from compliance.util.fsutil import parse_json, read_bytes, without_bom


def read_sbom(path: str | Path) -> Sbom:
    data = read_bytes(path, what="SBOM file")
    return parse_sbom(data, str(path))


def parse_sbom(data: bytes, source: str) -> Sbom:
    data = without_bom(data, source)
    head = data.lstrip()[:1]
    if not head:
        raise InputError(source, "empty file, expected an SBOM")
    if head in (b"{", b"["):
        doc = parse_json(data, source)
        return parse_sbom_document(doc, source)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(source, "unknown SBOM format: binary data, not JSON nor SPDX tag-value") from None
    if spdx_tag.looks_like_tag_value(text):
        return spdx_tag.parse(text, source)
    raise InputError(source, "unknown SBOM format: not CycloneDX JSON, SPDX JSON or SPDX tag-value")


def parse_sbom_document(doc: Any, source: str) -> Sbom:
    if not isinstance(doc, dict):
        raise InputError(source, "unknown SBOM format: top-level JSON is not an object")
    if doc.get("bomFormat") == "CycloneDX":
        sbom = cyclonedx.parse(doc, source)
    elif "spdxVersion" in doc:
        sbom = spdx_json.parse(doc, source)
    else:
        sbom = None
    if sbom is not None:
        from compliance.inputs.sbom.sbom_schema import judge_json

        return sbom.model_copy(update={"conformance": judge_json(doc, sbom.format, sbom.spec_version)})
    if "@context" in doc and "spdx" in str(doc.get("@context")):
        raise InputError(source, "SPDX 3 JSON-LD is not supported yet; export SPDX 2.3")
    raise InputError(source, "unknown SBOM format: JSON without 'bomFormat: CycloneDX' or 'spdxVersion'")
