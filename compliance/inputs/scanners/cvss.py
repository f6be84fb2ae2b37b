"""CVSS v2 and v3.x base scores computed from their vectors.

Some reports (osv-scanner, OSV records, some CycloneDX ratings) give a CVSS vector
without its score; the gate's threshold is a score, so the score is computed with the
formulas of the specifications (FIRST CVSS v3.1 §7.1 and Appendix A, v3.0 §8.1, v2 §3.2.1).
CVSS v4 scores come from a lookup table of the specification and are not computed here:
a v4 vector without a score leaves the severity to the report's own words.
"""

from __future__ import annotations

import math

from compliance.errors import CvssError

_V3_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_V3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}

_V2_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


def _metrics(parts: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in parts:
        key, sep, value = part.partition(":")
        if not sep or not key or not value:
            raise CvssError(f"malformed metric {part!r}")
        if key in out:
            raise CvssError(f"metric {key} given twice")
        out[key] = value
    return out


def base_score(vector: str) -> tuple[str, float]:
    """``(version, base score)`` of a v3.x (``CVSS:3.1/…``) or v2 (``AV:N/…``) vector."""
    text = vector.strip()
    if text.startswith("CVSS:3."):
        head, _, rest = text.partition("/")
        version = head[5:]
        if version not in ("3.0", "3.1"):
            raise CvssError(f"unknown CVSS version {version}")
        return version, _v3(_metrics(rest.split("/")), version)
    if text.startswith("CVSS:"):
        raise CvssError(f"cannot compute a score for {text.split('/', 1)[0]}")
    return "2.0", _v2(_metrics(text.removeprefix("(").removesuffix(")").split("/")))


def _weight(table: dict[str, dict[str, float]], metrics: dict[str, str], key: str) -> float:
    try:
        return table[key][metrics[key]]
    except KeyError:
        raise CvssError(f"metric {key} missing or invalid") from None


def _roundup_31(value: float) -> float:
    """CVSS v3.1 Appendix A: round up to one decimal, robust to floating-point noise."""
    whole = round(value * 100000)
    if whole % 10000 == 0:
        return whole / 100000.0
    return (math.floor(whole / 10000) + 1) / 10.0


def _roundup_30(value: float) -> float:
    return math.ceil(value * 10) / 10


def _v3(metrics: dict[str, str], version: str) -> float:
    scope = metrics.get("S")
    if scope not in ("U", "C"):
        raise CvssError("metric S missing or invalid")
    av, ac, ui = (_weight(_V3_WEIGHTS, metrics, k) for k in ("AV", "AC", "UI"))
    c, i, a = (_weight(_V3_WEIGHTS, metrics, k) for k in ("C", "I", "A"))
    pr = _V3_PR[scope].get(metrics.get("PR", ""))
    if pr is None:
        raise CvssError("metric PR missing or invalid")
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    impact = 6.42 * iss if scope == "U" else 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    exploitability = 8.22 * av * ac * pr * ui
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    roundup = _roundup_31 if version == "3.1" else _roundup_30
    return roundup(min(total, 10.0))


def _v2(metrics: dict[str, str]) -> float:
    av, ac, au = (_weight(_V2_WEIGHTS, metrics, k) for k in ("AV", "AC", "Au"))
    c, i, a = (_weight(_V2_WEIGHTS, metrics, k) for k in ("C", "I", "A"))
    impact = 10.41 * (1 - (1 - c) * (1 - i) * (1 - a))
    exploitability = 20 * av * ac * au
    factor = 0.0 if impact == 0 else 1.176
    return round(((0.6 * impact) + (0.4 * exploitability) - 1.5) * factor, 1)
