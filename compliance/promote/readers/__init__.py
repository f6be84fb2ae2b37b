"""Readers of the two kinds of host report the wave gate accepts, behind one interface
(:class:`~compliance.promote.readers.reader_api.ReportReader`)."""

from __future__ import annotations

from typing import Any

from compliance.promote.readers.nixfleet import NixfleetReader
from compliance.promote.readers.probe_reader import ProbeReportReader
from compliance.promote.readers.reader_api import Candidate, Claim, ReportReader, ReportSource

READERS: tuple[ReportReader, ...] = (ProbeReportReader(), NixfleetReader())


def recognise(doc: Any) -> tuple[ReportReader, Claim] | None:
    """The reader of a parsed document and what it claims; ``None``: no known kind."""
    for reader in READERS:
        claim = reader.claim(doc)
        if claim is not None:
            return reader, claim
    return None


__all__ = ["READERS", "Candidate", "Claim", "ReportReader", "ReportSource", "recognise"]
