"""Where a component named by a report lies in the release.

The inventory indexes the closure's store paths by every identity a report may use: the
store path itself, its derivation (``deriver``), the package name and version parsed the
way Nix does, and, through the SBOM, the bom-refs and purls of components that carry a
store path. Without a closure the SBOM's components are the inventory.

Keys are deliberately generous (case-insensitive names, versions with and without an
output suffix such as ``-bin``, Python packages with and without their ``python3.x-``
prefix): an extra key can only make a finding count as part of the release, which is the
safe direction for a vulnerability gate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from compliance.models.subject import Closure, Component, Sbom
from compliance.models.vulns import ComponentRef
from compliance.vulns.purl_match import parse_purl

# A Nix output name at the end of a version: "5.4.6-bin" → "5.4.6".
_OUTPUT_SUFFIX = re.compile(r"-[a-z][a-z0-9_]*$")
# nixpkgs names Python packages "python3.11-<pname>"; reports name them "<pname>".
_PYTHON_PREFIX = re.compile(r"^python3(?:\.?\d+)?-(.+)$")

NameKey = tuple[str, str | None]
# purl types whose name is a Nix package name (sbomnix and bombon write pkg:nix; genealogos
# and nix2sbom write pkg:generic).
NIX_PURL_TYPES = frozenset({"nix", "generic"})


@dataclass(frozen=True)
class Location:
    """The store paths (or, without a closure, SBOM components) a component lies in."""

    paths: tuple[str, ...]
    method: str  # "store_path" | "derivation" | "sbom" | "purl" | "name_version"


def version_keys(version: str | None) -> tuple[str | None, ...]:
    """The versions a component may be matched under: as written, and without a Nix output suffix."""
    if version is None:
        return (None,)
    stripped = _OUTPUT_SUFFIX.sub("", version)
    return (version, stripped) if stripped and stripped != version else (version,)


def name_keys(name: str) -> tuple[str, ...]:
    """The names a component may be matched under: case-folded, and without a python3.x- prefix."""
    folded = name.casefold()
    match = _PYTHON_PREFIX.match(folded)
    return (folded, match.group(1)) if match else (folded,)


class Inventory:
    """Lookups from a report's component identity to the release's store paths."""

    def __init__(self, closure: Closure | None = None, sbom: Sbom | None = None) -> None:
        self.has_closure = closure is not None
        self.paths: set[str] = set()
        self.roots: frozenset[str] = frozenset()
        self._by_derivation: dict[str, list[str]] = defaultdict(list)
        self._by_name: dict[NameKey, list[str]] = defaultdict(list)
        self._by_name_any_version: dict[str, list[str]] = defaultdict(list)
        self._by_ref: dict[str, list[str]] = defaultdict(list)
        self._by_purl: dict[str, list[str]] = defaultdict(list)
        if closure is not None:
            self.roots = frozenset(closure.roots)
            for info in closure.paths.values():
                self.paths.add(info.path)
                if info.deriver:
                    self._by_derivation[info.deriver].append(info.path)
                self._add_name(info.name, info.version, info.path)
        if sbom is not None:
            for component in sbom.components:
                self._add_component(component, sbom)

    @property
    def empty(self) -> bool:
        return not self.paths

    def _add_name(self, name: str, version: str | None, location: str) -> None:
        for key in name_keys(name):
            self._by_name_any_version[key].append(location)
            for v in version_keys(version):
                self._by_name[(key, v)].append(location)

    def _add_component(self, component: Component, sbom: Sbom) -> None:
        if self.has_closure:
            # The SBOM only adds identities of store paths that are in the closure.
            if component.store_path is None or component.store_path not in self.paths:
                return
            location = component.store_path
        else:
            location = component.store_path or component.ref
            self.paths.add(location)
            if component.ref in sbom.described:
                self.roots = self.roots | {location}
            self._add_name(component.name, component.version, location)
        self._by_ref[component.ref].append(location)
        if component.purl:
            self._by_purl[component.purl].append(location)

    def locate(self, ref: ComponentRef, *, strict: bool = False) -> Location | None:
        """The most precise identity that names something of the release wins.

        ``strict`` is for claims that hide findings (VEX products, exceptions): a purl
        then names a store path by its name only when it is a Nix (or generic) purl, so
        that a statement about Debian's openssl does not speak for Nix's. A claim whose
        purl is of another ecosystem (or is not a purl at all) is placed only by an exact
        identity (store path, derivation, bom-ref or purl of the SBOM), never by the name
        and version it also carries: those name Debian's package too.
        """
        if ref.store_path and ref.store_path in self.paths:
            return Location((ref.store_path,), "store_path")
        if ref.derivation:
            found = self._by_derivation.get(ref.derivation) or self._by_ref.get(ref.derivation)
            if found:
                return Location(tuple(found), "derivation")
        if ref.ref and (found := self._by_ref.get(ref.ref)):
            return Location(tuple(found), "sbom")
        if ref.purl:
            if found := self._by_purl.get(ref.purl):
                return Location(tuple(found), "sbom")
            purl = parse_purl(ref.purl)
            if strict and (purl is None or purl.type not in NIX_PURL_TYPES):
                return None
            if purl is not None and (named := self._lookup_name(purl.name, purl.version)):
                return Location(named, "purl")
        if ref.name and (named := self._lookup_name(ref.name, ref.version)):
            return Location(named, "name_version")
        return None

    def _lookup_name(self, name: str, version: str | None) -> tuple[str, ...]:
        """A name without a version names every version of the package."""
        found: list[str] = []
        for key in name_keys(name):
            if version is None:
                found += self._by_name_any_version.get(key, ())
            else:
                for v in version_keys(version):
                    found += self._by_name.get((key, v), ())
        return tuple(dict.fromkeys(found))
