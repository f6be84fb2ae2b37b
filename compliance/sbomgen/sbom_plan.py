"""What an SBOM of a closure says, before any format is chosen.

One :class:`Entry` per store path (name and version split the way Nix splits them, a
``pkg:nix`` purl, the NAR hash as SHA-256 hex, the deriver, the references), the top-level
path(s), and the document's identity and time. The identity is derived from the closure
alone, so the same closure always gives the same serial number and namespace, and with
``SOURCE_DATE_EPOCH`` set, the same bytes.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import orjson

from compliance import TOOL_NAME, __version__
from compliance.errors import HashFormatError, InputError
from compliance.models.subject import Closure, StorePathInfo
from compliance.nix.hashes import sha256_hex
from compliance.nix.storepath import split_output
from compliance.sbomgen.purl_build import nix_purl
from compliance.util import clock

# Fixed namespace of the name-based UUIDs this tool derives for its SBOMs.
_UUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:compliance-gate:sbom")


@dataclass(frozen=True, slots=True)
class Entry:
    """One store path as an SBOM component."""

    store_path: str
    name: str
    version: str | None  # the package's version, without an output name
    output: str | None  # the derivation output this path is ("bin", "lib", ...), if it says
    purl: str
    sha256: str | None  # NAR hash, lower-case hex; None when the input had no hash (a listing)
    deriver: str | None
    depends_on: tuple[str, ...]  # store paths this one references, itself excluded, sorted
    top_level: bool

    @property
    def basename(self) -> str:
        return self.store_path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class SbomPlan:
    """Everything a writer needs; writers add nothing but syntax."""

    digest: str  # SHA-256 hex over what the SBOM says about the closure
    roots: tuple[str, ...]
    entries: tuple[Entry, ...]  # top-level paths first, then by store path
    graph_known: bool  # False for a listing: no references were given, so none are claimed
    created: datetime
    tool_name: str = TOOL_NAME
    tool_version: str = __version__

    def document_uuid(self, family: str) -> uuid.UUID:
        """The same closure gives the same UUID; the two SPDX encodings share theirs."""
        return uuid.uuid5(_UUID_NAMESPACE, f"{family}:{self.digest}")

    @property
    def title(self) -> str:
        """What the document describes: the top-level store name, or how many there are."""
        if len(self.roots) == 1:
            return self.roots[0].rsplit("/", 1)[-1].split("-", 1)[1]
        return f"nix-closure-of-{len(self.roots)}-paths"


def build_plan(closure: Closure) -> SbomPlan:
    """Closure → plan. A NAR hash that is not a valid SHA-256 in any Nix notation is an
    input error naming the closure: an SBOM never carries a hash it could not read."""
    graph_known = _graph_known(closure)
    roots = tuple(sorted(set(closure.roots)))
    missing = [root for root in roots if root not in closure.paths]
    if missing or not roots:
        raise InputError(closure.source, f"top-level path {missing[0] if missing else '(none)'} is not in the closure")
    top = set(roots)
    entries = [_entry(info, closure.source, top) for info in closure.paths.values()]
    entries.sort(key=lambda e: (not e.top_level, e.store_path))
    return SbomPlan(
        digest=_digest(closure.store_dir, roots, entries),
        roots=roots,
        entries=tuple(entries),
        graph_known=graph_known,
        created=clock.now(),
    )


def _graph_known(closure: Closure) -> bool:
    """path-info JSON always carries a NAR hash; a plain listing carries nothing, and its
    lack of references means "unknown", not "no dependencies"."""
    return any(info.nar_hash or info.references or info.deriver for info in closure.paths.values())


def _entry(info: StorePathInfo, source: str, top: set[str]) -> Entry:
    name, version = info.name, info.version
    if not name:  # "-1.0": Nix's DrvName gives an empty name; keep the whole store name
        name, version = info.basename.split("-", 1)[1], None
    version, output = split_output(version)
    return Entry(
        store_path=info.path,
        name=name,
        version=version,
        output=output,
        purl=nix_purl(name, version, output),
        sha256=_sha256(info, source),
        deriver=info.deriver,
        depends_on=tuple(sorted(ref for ref in info.references if ref != info.path)),
        top_level=info.path in top,
    )


def _sha256(info: StorePathInfo, source: str) -> str | None:
    if info.nar_hash is None:
        return None
    try:
        return sha256_hex(info.nar_hash)
    except HashFormatError as exc:
        raise InputError(source, f"{info.path}: narHash {info.nar_hash!r}: {exc}") from None


def _by_path(entry: Entry) -> str:
    return entry.store_path


def _digest(store_dir: str, roots: tuple[str, ...], entries: list[Entry]) -> str:
    content = {
        "storeDir": store_dir,
        "roots": list(roots),
        "paths": [[e.store_path, e.sha256, e.deriver, list(e.depends_on)] for e in sorted(entries, key=_by_path)],
    }
    return hashlib.sha256(orjson.dumps(content)).hexdigest()
