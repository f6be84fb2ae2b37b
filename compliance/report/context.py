"""What a report needs beyond the gate report itself.

The packet builder knows things the assessment does not: the packet id, the key that
signs it, the files it holds and the commands that verify it. It hands them over in a
:class:`ReportContext`, so that the report is a function of (gate report, context) and the
same pair always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.catalog.loader import Catalog
from compliance.models.evidence_history import EvidenceDiff
from compliance.models.subject import InputRef, Sbom


@dataclass(frozen=True)
class ReportContext:
    packet_id: str
    key_fingerprint: str | None = None
    inputs: list[InputRef] = field(default_factory=list)
    verify_commands: list[str] = field(default_factory=list)
    catalog: Catalog | None = None  # framework clause lists for the coverage matrix
    sbom: Sbom | None = None  # for the SBOM summary in the appendix
    attestations: list[Any] = field(default_factory=list)  # manual attestations, when given
    changes: EvidenceDiff | None = None  # since the previous release, when one is given
