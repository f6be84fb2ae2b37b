"""The SBOM in a few lines: how many components, under which licences.

The appendix does not reprint the SBOM (it is in the packet); it tells the auditor what
it describes and how licences are spread, including how many components declare none.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from compliance.models.subject import Sbom

MAX_LICENCES = 25
NO_LICENCE = "(no licence declared)"


@dataclass(frozen=True)
class LicenceCount:
    licence: str
    components: int


@dataclass(frozen=True)
class SbomSummary:
    format: str  # "CycloneDX 1.5 (json)"
    serial: str | None
    components: int
    with_licence: int
    with_hash: int
    with_purl: int
    licences: tuple[LicenceCount, ...]  # most frequent first, at most MAX_LICENCES
    other_licences: int  # distinct licences beyond those listed
    other_components: int  # components under those other licences


def summarise_sbom(sbom: Sbom) -> SbomSummary:
    counts: Counter[str] = Counter()
    for component in sbom.components:
        for licence in component.licenses or (NO_LICENCE,):
            counts[licence] += 1
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown, rest = ranked[:MAX_LICENCES], ranked[MAX_LICENCES:]
    name = {"cyclonedx": "CycloneDX", "spdx": "SPDX"}.get(sbom.format, sbom.format)
    return SbomSummary(
        format=f"{name} {sbom.spec_version} ({sbom.encoding})",
        serial=sbom.serial,
        components=len(sbom.components),
        with_licence=sum(1 for c in sbom.components if c.licenses),
        with_hash=sum(1 for c in sbom.components if c.hashes),
        with_purl=sum(1 for c in sbom.components if c.purl),
        licences=tuple(LicenceCount(licence, n) for licence, n in shown),
        other_licences=len(rest),
        other_components=sum(n for _, n in rest),
    )
