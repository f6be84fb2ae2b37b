"""What every vulnerability reader shares: its interface, its result, typed field access
that turns a wrong shape into an :class:`InputError` naming the place, and the
normalisation of severities, times and store paths."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from compliance.errors import InputError
from compliance.models.subject import NIX_STORE
from compliance.models.vulns import (
    ComponentRef,
    CvssScore,
    Finding,
    ReportInfo,
    VexStatement,
    VulnException,
    VulnSeverity,
)
from compliance.nix.storepath import BASENAME_PATTERN


@dataclass
class ReadResult:
    """What one reader made of one document."""

    info: ReportInfo
    findings: list[Finding] = field(default_factory=list)
    vex: list[VexStatement] = field(default_factory=list)
    exceptions: list[VulnException] = field(default_factory=list)
    known_exploited: set[str] = field(default_factory=set)


class JsonReader(Protocol):
    """A reader of one JSON (or TOML) format. ``detect`` looks at the content only."""

    FORMAT: str

    def detect(self, doc: Any) -> bool: ...

    def read(self, doc: Any, source: str) -> ReadResult: ...


class TextReader(Protocol):
    FORMAT: str

    def detect_text(self, text: str) -> bool: ...

    def read_text(self, text: str, source: str) -> ReadResult: ...


class Fields:
    """Typed access to one JSON object of a report.

    A missing optional field is ``None`` (or an empty list); a field of the wrong type is
    an input error that names the file and the JSON location, never a silent default.
    """

    __slots__ = ("obj", "source", "where")

    def __init__(self, obj: Any, source: str, where: str) -> None:
        if not isinstance(obj, dict):
            raise InputError(source, f"{where or 'top level'}: expected an object, got {kind(obj)}")
        self.obj: dict[str, Any] = obj
        self.source = source
        self.where = where

    def at(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> InputError:
        return InputError(self.source, f"{self.at(key)}: {problem}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A string; empty strings count as absent (scanners write "" for unknown)."""
        value = self.obj.get(key)
        if value is None or value == "":
            if required:
                raise self.fail(key, "missing")
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {kind(value)}")
        return value

    def number(self, key: str) -> float | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number, got {kind(value)}")
        return float(value)

    def items(self, key: str) -> list[Any]:
        value = self.obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {kind(value)}")
        return value

    def strings(self, key: str) -> list[str]:
        values = self.items(key)
        for value in values:
            if not isinstance(value, str):
                raise self.fail(key, "expected a list of strings")
        return values

    def child(self, key: str) -> Fields | None:
        value = self.obj.get(key)
        if value is None:
            return None
        return Fields(value, self.source, self.at(key))

    def children(self, key: str) -> list[Fields]:
        where, source = self.at(key), self.source
        return [Fields(v, source, f"{where}[{i}]") for i, v in enumerate(self.items(key))]

    def time(self, key: str) -> datetime | None:
        raw = self.text(key)
        if raw is None:
            return None
        moment = parse_time(raw)
        if moment is None:
            raise self.fail(key, f"not an RFC 3339 time: {raw!r}")
        return moment


def kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), f"a {type(value).__name__}"
    )


_NANOS = re.compile(r"(\.\d{6})\d+")


def parse_time(raw: str) -> datetime | None:
    """RFC 3339 / ISO 8601 as scanners write it (``Z``, nanoseconds, a space instead of
    ``T``, a trailing ``UTC``). A time without a zone is UTC."""
    text = raw.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    text = _NANOS.sub(r"\1", text.replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_SEVERITY_WORDS = {
    "critical": VulnSeverity.CRITICAL,
    "high": VulnSeverity.HIGH,
    "important": VulnSeverity.HIGH,
    "medium": VulnSeverity.MEDIUM,
    "moderate": VulnSeverity.MEDIUM,
    "low": VulnSeverity.LOW,
    # "negligible" (grype, Debian) is below low; it is not "none": something was found.
    "negligible": VulnSeverity.LOW,
    "none": VulnSeverity.NONE,
    "info": VulnSeverity.NONE,
    "informational": VulnSeverity.NONE,
}


def severity_word(raw: str | None) -> VulnSeverity:
    if not raw:
        return VulnSeverity.UNKNOWN
    return _SEVERITY_WORDS.get(raw.strip().lower(), VulnSeverity.UNKNOWN)


def severity_of_score(score: float) -> VulnSeverity:
    """The CVSS v3/v4 qualitative rating of a base score."""
    if score >= 9.0:
        return VulnSeverity.CRITICAL
    if score >= 7.0:
        return VulnSeverity.HIGH
    if score >= 4.0:
        return VulnSeverity.MEDIUM
    if score > 0.0:
        return VulnSeverity.LOW
    return VulnSeverity.NONE


def severity_of(word: VulnSeverity, cvss: tuple[CvssScore, ...]) -> VulnSeverity:
    """The scanner's word, or else the rating of its best score."""
    if word is not VulnSeverity.UNKNOWN:
        return word
    modern = [c.score for c in cvss if c.major >= 3] or [c.score for c in cvss]
    return severity_of_score(max(modern)) if modern else VulnSeverity.UNKNOWN


def cvss_version_of_vector(vector: str | None, default: str = "2.0") -> str:
    if vector and vector.startswith("CVSS:"):
        return vector[5:].split("/", 1)[0]
    return default


def checked_score(value: float, source: str, where: str) -> float:
    if not 0.0 <= value <= 10.0:
        raise InputError(source, f"{where}: CVSS score {value} is outside 0–10")
    return value


def cvss_rating(score: float, vector: str | None, version: str | None, origin: str | None, at: Fields, key: str) -> CvssScore:
    """A rating as a report gives it; the version comes from the vector when the report
    does not name it. ``at``/``key`` locate the score for the error message."""
    return CvssScore(
        version=version or cvss_version_of_vector(vector),
        score=checked_score(score, at.source, at.at(key)),
        vector=vector,
        source=origin,
    )


_STORE_OBJECT = re.compile(rf"^({re.escape(NIX_STORE)}/{BASENAME_PATTERN})(?:/|$)")


def store_object(path: str | None) -> str | None:
    """The store path a file path lies in (``/nix/store/<hash>-x/bin/y`` → ``/nix/store/<hash>-x``)."""
    if not path:
        return None
    match = _STORE_OBJECT.match(path)
    if match is None:
        return None
    found = match.group(1)
    return None if found.endswith(".drv") else found


def derivation_path(path: str | None) -> str | None:
    match = _STORE_OBJECT.match(path or "")
    return match.group(1) if match and match.group(1).endswith(".drv") else None


def component_of_id(identifier: str) -> ComponentRef:
    """A product or component named by one string: a purl, a store path, a derivation,
    ``name@version``, or an opaque reference (a bom-ref)."""
    if identifier.startswith("pkg:"):
        return ComponentRef(purl=identifier)
    if derivation_path(identifier):
        return ComponentRef(derivation=identifier)
    if store_object(identifier) == identifier:
        return ComponentRef(store_path=identifier)
    return ComponentRef(ref=identifier)


def first_line(text: str | None, limit: int = 200) -> str | None:
    if not text:
        return None
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line[:limit] or None
