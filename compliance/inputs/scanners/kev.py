"""The CISA Known Exploited Vulnerabilities catalogue (``known_exploited_vulnerabilities.json``).

It reports nothing against a component: it marks vulnerabilities, by CVE id, as exploited
in the wild, whatever scanner found them. Its ``dateReleased`` dates the data, so the
freshness control can tell a stale catalogue.
"""

from __future__ import annotations

from typing import Any

from compliance.inputs.scanners.scanner_common import Fields, ReadResult
from compliance.models.vulns import ReportInfo, ReportRole

FORMAT = "cisa-kev"


def detect(doc: Any) -> bool:
    return isinstance(doc, dict) and "catalogVersion" in doc and isinstance(doc.get("vulnerabilities"), list)


def read(doc: Any, source: str) -> ReadResult:
    top = Fields(doc, source, "")
    ids = {entry.text("cveID", required=True) or "" for entry in top.children("vulnerabilities")}
    info = ReportInfo(
        source=source,
        format=FORMAT,
        role=ReportRole.KNOWN_EXPLOITED,
        tool=top.text("title"),
        tool_version=top.text("catalogVersion"),
        database_updated=top.time("dateReleased"),
        statements=len(ids),
    )
    return ReadResult(info=info, known_exploited=ids)
