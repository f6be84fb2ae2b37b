"""OpenVEX documents (v0.0.x and v0.2.0): statements of a vulnerability's status in
products.

A product with ``subcomponents`` speaks about those subcomponents (the packages inside an
image or a closure); a product without them speaks about itself. Products and
subcomponents are named by purl (``@id`` or ``identifiers.purl``), by store path, or by
an opaque IRI. An ``affected`` statement is itself a finding: the author says the
product is vulnerable. A statement without a timestamp takes the document's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from compliance.inputs.scanners.scanner_common import Fields, ReadResult, component_of_id
from compliance.models.vulns import (
    ComponentRef,
    Finding,
    ReportInfo,
    ReportRole,
    VexStatement,
    VexStatus,
)

FORMAT = "openvex"
_STATUSES = {s.value: s for s in VexStatus}


def detect(doc: Any) -> bool:
    return isinstance(doc, dict) and "openvex" in str(doc.get("@context", "")) and "statements" in doc


def read(doc: Any, source: str) -> ReadResult:
    top = Fields(doc, source, "")
    author = top.text("author")
    issued = top.time("timestamp")
    statements = [_statement(s, source, author, issued) for s in top.children("statements")]
    findings = [
        Finding(id=s.vulnerability, aliases=s.aliases, component=product, scanner=FORMAT, source=source, scanned_at=s.timestamp,
                title=s.action_statement)
        for s in statements
        if s.status is VexStatus.AFFECTED
        for product in s.products
    ]
    info = ReportInfo(
        source=source,
        format=FORMAT,
        role=ReportRole.VEX,
        tool=author,
        target=top.text("@id"),
        scanned_at=issued,
        findings=len(findings),
        statements=len(statements),
    )
    return ReadResult(info=info, findings=findings, vex=statements)


def _statement(raw: Fields, source: str, author: str | None, issued: datetime | None) -> VexStatement:
    name, aliases = _vulnerability(raw)
    status_text = raw.text("status", required=True) or ""
    status = _STATUSES.get(status_text)
    if status is None:
        raise raw.fail("status", f"unknown status {status_text!r} (expected {', '.join(_STATUSES)})")
    products: list[ComponentRef] = []
    shared_subcomponents = _ids(raw, "subcomponents")  # v0.0.x: at statement level
    for index, product in enumerate(raw.items("products")):
        where = f"{raw.where}.products[{index}]"
        if isinstance(product, str):
            products.extend(shared_subcomponents or [component_of_id(product)])
            continue
        fields = Fields(product, source, where)
        subcomponents = _ids(fields, "subcomponents") or shared_subcomponents
        products.extend(subcomponents or [_product(fields)])
    if not products:
        raise raw.fail("products", "a statement must name at least one product")
    return VexStatement(
        vulnerability=name,
        aliases=aliases,
        products=tuple(products),
        status=status,
        justification=raw.text("justification"),
        impact_statement=raw.text("impact_statement"),
        action_statement=raw.text("action_statement"),
        author=raw.text("supplier") or author,
        timestamp=raw.time("last_updated") or raw.time("timestamp") or issued,
        format=FORMAT,
        source=source,
    )


def _vulnerability(raw: Fields) -> tuple[str, tuple[str, ...]]:
    value = raw.obj.get("vulnerability")
    if isinstance(value, str) and value:
        return value, ()
    vuln = raw.child("vulnerability")
    if vuln is None:
        raise raw.fail("vulnerability", "missing")
    name = vuln.text("name") or vuln.text("@id")
    if name is None:
        raise vuln.fail("name", "missing")
    return name, tuple(a for a in vuln.strings("aliases") if a != name)


def _ids(raw: Fields, key: str) -> list[ComponentRef]:
    out: list[ComponentRef] = []
    for index, item in enumerate(raw.items(key)):
        if isinstance(item, str):
            out.append(component_of_id(item))
        else:
            out.append(_product(Fields(item, raw.source, f"{raw.where}.{key}[{index}]")))
    return out


def _product(product: Fields) -> ComponentRef:
    identifiers = product.child("identifiers")
    purl = identifiers.text("purl") if identifiers is not None else None
    identifier = product.text("@id")
    if purl is not None:
        return ComponentRef(purl=purl, ref=identifier)
    if identifier is None:
        raise product.fail("@id", "a product needs an @id or identifiers.purl")
    return component_of_id(identifier)
