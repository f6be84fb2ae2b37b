"""What SPDX JSON and tag-value have in common: packages, checksums, external references
and relationships, accumulated then turned into one :class:`Sbom`."""

from __future__ import annotations

from dataclasses import dataclass, field

from compliance.inputs.sbom.sbom_common import is_store_path, normalise_algorithm, parse_time
from compliance.models.subject import Component, Sbom

NO_LICENSE = {"NOASSERTION", "NONE", ""}
STORE_PATH_REF_TYPES = {"nix:output_path", "nix-store-path", "nix_store_path", "store-path"}
# DEPENDS_ON-like relationships (A DYNAMIC_LINK B: A links to B), and the inverse ones
# (B DEPENDENCY_OF A means A depends on B). Only edges between two packages make a
# dependency graph: a package that CONTAINS its files says nothing of what it needs.
DEPENDS = {"DEPENDS_ON", "CONTAINS", "DYNAMIC_LINK", "STATIC_LINK"}
DEPENDS_INVERSE = {"DEPENDENCY_OF", "CONTAINED_BY", "RUNTIME_DEPENDENCY_OF", "BUILD_DEPENDENCY_OF"}


@dataclass
class SpdxPackage:
    spdx_id: str
    name: str
    version: str | None = None
    licenses: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    purl: str | None = None
    cpe: str | None = None
    store_path: str | None = None
    primary_purpose: str | None = None

    def add_license(self, value: str) -> None:
        value = value.strip()
        if value not in NO_LICENSE and value not in self.licenses:
            self.licenses.append(value)

    def add_checksum(self, algorithm: str, value: str) -> None:
        self.hashes[normalise_algorithm(algorithm)] = value.strip().lower()

    def add_external_ref(self, category: str, kind: str, locator: str) -> None:
        kind_l = kind.lower()
        if kind_l == "purl" and self.purl is None:
            self.purl = locator
        elif kind_l.startswith("cpe") and self.cpe is None:
            self.cpe = locator
        elif kind_l in STORE_PATH_REF_TYPES:
            self.consider_store_path(locator)

    def consider_store_path(self, value: str) -> None:
        if self.store_path is None and is_store_path(value):
            self.store_path = value


@dataclass
class SpdxBuilder:
    source: str
    spec_version: str
    encoding: str
    created: object = None
    namespace: str | None = None
    describes: list[str] = field(default_factory=list)
    packages: dict[str, SpdxPackage] = field(default_factory=dict)
    edges: dict[str, list[str]] = field(default_factory=dict)

    def package(self, spdx_id: str, name: str) -> SpdxPackage:
        entry = SpdxPackage(spdx_id, name)
        self.packages[spdx_id] = entry
        return entry

    def relationship(self, a: str, kind: str, b: str, document_id: str) -> None:
        kind = kind.upper()
        if kind == "DESCRIBES" and a == document_id:
            if b not in self.describes:
                self.describes.append(b)
            return
        if kind == "DESCRIBED_BY" and b == document_id:
            if a not in self.describes:
                self.describes.append(a)
            return
        if kind in DEPENDS:
            self._edge(a, b)
        elif kind in DEPENDS_INVERSE:
            self._edge(b, a)

    def _edge(self, a: str, b: str) -> None:
        targets = self.edges.setdefault(a, [])
        if b not in targets:
            targets.append(b)

    def build(self) -> Sbom:
        components = tuple(
            Component(
                ref=p.spdx_id,
                name=p.name,
                version=p.version or None,
                purl=p.purl,
                cpe=p.cpe,
                licenses=tuple(p.licenses),
                hashes=p.hashes,
                store_path=p.store_path,
                depends_on=tuple(self.edges.get(p.spdx_id, ())),
                type=p.primary_purpose,
            )
            for p in self.packages.values()
        )
        return Sbom(
            source=self.source,
            format="spdx",
            spec_version=self.spec_version,
            encoding=self.encoding,
            serial=self.namespace,
            created=parse_time(self.created),
            described=tuple(d for d in self.describes if d in self.packages),
            components=components,
            has_dependency_graph=any(
                a in self.packages and b in self.packages for a, targets in self.edges.items() for b in targets
            ),
        )
