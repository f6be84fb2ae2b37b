"""What SPDX 2.3 JSON and tag-value share: identifiers, namespace, creator, relationships.

Both encodings are the same document, so they share one namespace and one set of
SPDXIDs; only the syntax differs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from compliance.sbomgen.sbom_plan import Entry, SbomPlan

SPDX_VERSION = "SPDX-2.3"
DATA_LICENSE = "CC0-1.0"
DOCUMENT_ID = "SPDXRef-DOCUMENT"
NOASSERTION = "NOASSERTION"
# SPDXIDs may hold letters, digits, '.' and '-' only; Nix names also hold '+', '_', '?', '='.
_NOT_ID = re.compile(r"[^A-Za-z0-9.-]")


@dataclass(frozen=True, slots=True)
class SpdxDocument:
    """What both SPDX encodings share: the plan, SPDX ids, namespace, creator and relationships."""
    plan: SbomPlan
    ids: dict[str, str]  # store path → SPDXID
    namespace: str
    creator: str
    relationships: tuple[tuple[str, str, str], ...]  # (element, type, related element)

    @property
    def described(self) -> list[str]:
        return [self.ids[root] for root in self.plan.roots]


def spdx_document(plan: SbomPlan) -> SpdxDocument:
    """The SPDX document of a plan, ready to be written as JSON or tag-value."""
    ids = spdx_ids(plan.entries)
    relationships = [(DOCUMENT_ID, "DESCRIBES", ids[root]) for root in plan.roots]
    relationships.extend((ids[e.store_path], "DEPENDS_ON", ids[dep]) for e in plan.entries for dep in e.depends_on)
    return SpdxDocument(
        plan=plan,
        ids=ids,
        # An absolute URI unique to this closure (SPDX 2.3 §6.5); urn:uuid needs no domain.
        namespace=plan.document_uuid("spdx").urn,
        creator=f"Tool: {plan.tool_name}-{plan.tool_version}",
        relationships=tuple(relationships),
    )


def spdx_ids(entries: tuple[Entry, ...]) -> dict[str, str]:
    """``SPDXRef-<hash part>-<name>``: the hash part alone is unique in a store; the name
    keeps the identifier readable. A collision (two stores in one closure) gets a suffix."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for entry in entries:
        base = "SPDXRef-" + _NOT_ID.sub("-", entry.basename)
        spdx_id, n = base, 1
        while spdx_id in used:
            n += 1
            spdx_id = f"{base}-{n}"
        used.add(spdx_id)
        ids[entry.store_path] = spdx_id
    return ids


def purpose(entry: Entry) -> str:
    """The SPDX primary package purpose of an entry (the top level is the application)."""
    return "APPLICATION" if entry.top_level else "LIBRARY"
