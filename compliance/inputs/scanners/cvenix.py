"""CVENix text output: blocks of ``[Warning]`` lines, one block per finding.

CVENix matches an sbomnix SBOM against NVD data and prints, per finding, the package
name, the CVE, its URL, an optional ``Severity:``, ``Version:`` and the derivation
(``Full drv path:``), in ANSI colours. The ``Cache last updated`` line dates its NVD
data; the output does not give the scan time. A block that lacks the CVE, the version or
the derivation is an input error: the file is not what it claims to be.
"""

from __future__ import annotations

import re
from datetime import datetime

from compliance.errors import InputError
from compliance.inputs.scanners.scanner_common import (
    ReadResult,
    derivation_path,
    parse_time,
    severity_word,
)
from compliance.models.vulns import ComponentRef, Finding, ReportInfo, ReportRole

FORMAT = "cvenix"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_LINE = re.compile(r"^\[(?P<level>[A-Za-z]+)\]\s?(?P<text>.*)$")
_CVE = re.compile(r"^(CVE-\d{4}-\d{4,}|GHSA(-[0-9a-z]{4}){3})$")
_CACHE = "Cache last updated:"


def detect_text(text: str) -> bool:
    return "Full drv path:" in text and "[Warning]" in text


def read_text(text: str, source: str) -> ReadResult:
    database_updated: datetime | None = None
    findings: list[Finding] = []
    block: list[tuple[int, str]] = []
    for lineno, raw in enumerate([*_ANSI.sub("", text).splitlines(), ""], 1):
        line = raw.strip()
        if not line:
            if block:
                findings.append(_finding(block, source))
                block = []
            continue
        match = _LINE.match(line)
        if match is None:
            raise InputError(source, f"line {lineno}: not a CVENix message line: {line[:80]!r}")
        content = match.group("text").strip()
        if match.group("level") != "Warning":
            if content.startswith(_CACHE):
                database_updated = parse_time(content[len(_CACHE):])
                if database_updated is None:
                    raise InputError(source, f"line {lineno}: unreadable cache time {content!r}")
            continue
        block.append((lineno, content))
    info = ReportInfo(
        source=source, format=FORMAT, role=ReportRole.SCAN, tool="CVENix", database_updated=database_updated, findings=len(findings)
    )
    return ReadResult(info=info, findings=findings)


def _finding(block: list[tuple[int, str]], source: str) -> Finding:
    first = block[0][0]
    if len(block) < 2 or not _CVE.match(block[1][1]):
        raise InputError(source, f"line {first}: a finding block must start with the package name and the CVE")
    keyed: dict[str, str] = {}
    for _lineno, content in block[2:]:
        key, sep, value = content.partition(":")
        if sep and key in ("Severity", "Version", "Full drv path"):
            keyed[key] = value.strip()
    derivation = derivation_path(keyed.get("Full drv path"))
    if derivation is None or "Version" not in keyed:
        raise InputError(source, f"line {first}: finding {block[1][1]} has no version or no derivation path")
    return Finding(
        id=block[1][1],
        component=ComponentRef(name=block[0][1], version=keyed["Version"], derivation=derivation),
        severity=severity_word(keyed.get("Severity")),
        scanner=FORMAT,
        source=source,
    )
