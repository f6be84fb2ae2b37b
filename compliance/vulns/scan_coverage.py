"""Which VEX statements and exceptions speak about a finding.

A statement or exception covers a finding when one of its vulnerability ids is one of the
finding's ids (id or alias) and its component is the finding's component: both located
at the same store path of the release, or, when the claim names something the release
does not hold, the same identity (purl, store path, derivation, bom-ref, or name and
version). A VEX product that is the release itself (a top-level store path) speaks for
every component of the release, as VEX means it: the product as a whole is (not)
affected.

Of several VEX statements on one finding the latest (by timestamp, then input order)
is the one that counts, whatever its status: a later ``affected`` overrides an earlier
``not_affected``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from compliance.models.vulns import ComponentRef, Finding, VexStatement, VulnException
from compliance.vulns.inventory import NIX_PURL_TYPES, Inventory, Location, name_keys, version_keys
from compliance.vulns.purl_match import parse_purl

_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def _name_version(ref: ComponentRef) -> tuple[str | None, str | None]:
    if ref.name:
        return ref.name, ref.version
    purl = parse_purl(ref.purl) if ref.purl else None
    return (purl.name, purl.version) if purl else (None, None)


def same_component(claim: ComponentRef, component: ComponentRef) -> bool:
    """Does ``claim`` (a VEX product, an exception's component) name ``component``?
    A claim without a version names every version. A purl of another ecosystem than Nix
    names only a component known by a purl of that ecosystem."""
    for attr in ("store_path", "derivation", "ref"):
        mine, theirs = getattr(claim, attr), getattr(component, attr)
        if mine and theirs and mine == theirs:
            return True
    if claim.purl:
        mine_purl = parse_purl(claim.purl)
        if mine_purl is None:
            return False
        theirs_purl = parse_purl(component.purl) if component.purl else None
        if theirs_purl is not None:
            if (mine_purl.type, mine_purl.namespace) != (theirs_purl.type, theirs_purl.namespace):
                return False
        elif mine_purl.type not in NIX_PURL_TYPES:
            return False
    name, version = _name_version(claim)
    other_name, other_version = _name_version(component)
    if not name or not other_name or not set(name_keys(name)) & set(name_keys(other_name)):
        return False
    return version is None or bool(set(version_keys(version)) & set(version_keys(other_version)))


@dataclass(frozen=True)
class _Claim:
    """A statement or exception with its component(s) located once."""

    order: int
    products: tuple[ComponentRef, ...]  # empty: any component
    paths: frozenset[str]
    whole_release: bool

    def covers(self, finding: Finding, location: Location | None) -> bool:
        if not self.products or (self.whole_release and location is not None):
            return True
        if location is not None and self.paths.intersection(location.paths):
            return True
        return any(same_component(p, finding.component) for p in self.products)


def _claim(order: int, products: tuple[ComponentRef, ...], inventory: Inventory) -> _Claim:
    paths: set[str] = set()
    for product in products:
        located = inventory.locate(product, strict=True)
        if located is not None:
            paths.update(located.paths)
    return _Claim(order, products, frozenset(paths), bool(paths & inventory.roots))


class VexIndex:
    """VEX statements by vulnerability id, each with the components it speaks about, so a finding finds its statement at once."""
    def __init__(self, statements: tuple[VexStatement, ...], inventory: Inventory) -> None:
        self._by_id: dict[str, list[tuple[VexStatement, _Claim]]] = defaultdict(list)
        for order, statement in enumerate(statements):
            claim = _claim(order, statement.products, inventory)
            for vid in dict.fromkeys(statement.ids):
                self._by_id[vid].append((statement, claim))

    def statement_for(self, finding: Finding, location: Location | None) -> VexStatement | None:
        """The latest statement that speaks about this finding, or None."""
        best: tuple[datetime, int, VexStatement] | None = None
        for vid in finding.ids:
            for statement, claim in self._by_id.get(vid, ()):
                if not claim.covers(finding, location):
                    continue
                key = (statement.timestamp or _EPOCH, claim.order, statement)
                if best is None or key[:2] > best[:2]:
                    best = key
        return best[2] if best else None


class ExceptionIndex:
    """Vulnerability exceptions by vulnerability id, each with the component it is limited to, if any."""
    def __init__(self, exceptions: tuple[VulnException, ...], inventory: Inventory) -> None:
        self._by_id: dict[str, list[tuple[VulnException, _Claim]]] = defaultdict(list)
        for order, exception in enumerate(exceptions):
            products = (exception.component,) if exception.component is not None else ()
            self._by_id[exception.vulnerability].append((exception, _claim(order, products, inventory)))

    def exceptions_for(self, finding: Finding, location: Location | None) -> list[VulnException]:
        found: list[VulnException] = []
        for vid in dict.fromkeys(finding.ids):
            for exception, claim in self._by_id.get(vid, ()):
                if claim.covers(finding, location) and exception not in found:
                    found.append(exception)
        return found
