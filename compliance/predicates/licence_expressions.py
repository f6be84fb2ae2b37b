"""Licence expressions judged against a denylist: allowed, denied, or unknown.

An SBOM names a component's licence as an SPDX expression (``MIT OR Apache-2.0``), a
deprecated SPDX id (``GPL-2.0+``), a ``LicenseRef-`` (``LicenseRef-scancode-agpl-3.0-only``)
or free text (``AGPLv3``, ``Apache License 2.0``). The expression is parsed with the
maintained ``license-expression`` library and each licence in it is resolved to one id:
its SPDX id when the SPDX list or ScanCode's licence database (shipped with the library)
knows it under that name or key, or when a common free-text spelling names it. A name that
resolves to nothing is *unknown*: the policy decides whether that fails, never silently
passes as allowed. An expression that does not parse is unknown too, and denied when any
word in it names a denied licence, so that a typo never lets a denied licence through.

Results are cached per distinct expression and denylist: an SBOM of thousands of
components carries a few hundred distinct licence strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import license_expression

# The GNU licences under the names an SBOM may still use for them, each read as the current
# SPDX id: deprecated SPDX ids (GPL-2.0 is GPL-2.0-only, GPL-2.0+ GPL-2.0-or-later; the
# GPL-2.0-with-*-exception ids are the licence with an exception, which does not change it),
# nixpkgs' names (agpl3Only, lgpl21Plus), the SPDX full names and free-text short forms
# (AGPLv3, GPLv2+, LGPL v2.1).
_DEPRECATED_GNU = re.compile(r"(?P<family>a?gpl|lgpl|gfdl)-(?P<version>\d\.\d)(?:-with-[a-z]+-exception)?(?P<later>\+)?")
_NIXPKGS_GNU = re.compile(r"(?P<family>a?gpl|lgpl|fdl)(?P<major>\d)(?P<minor>\d?)(?P<kind>only|plus)")
_FULL_NAME_GNU = re.compile(
    r"gnu (?P<family>affero |lesser |library |free documentation )?(?:general public )?license"
    r" v(?P<version>\d(?:\.\d)?)(?P<kind> only| or later)?"
)
_FULL_NAME_FAMILY = {None: "gpl", "affero ": "agpl", "lesser ": "lgpl", "library ": "lgpl", "free documentation ": "gfdl"}
_SHORT_GNU = re.compile(r"(?P<family>a?gpl|lgpl)[ -]?v(?P<major>\d)(?:\.(?P<minor>\d))?(?P<later>\+| or later|-or-later)?")

# Free-text spellings of common licences (casefolded, spaces collapsed), as SBOM tools and
# package metadata write them.
ALIASES: dict[str, str] = {
    "apache 2": "Apache-2.0", "apache 2.0": "Apache-2.0", "apache-2": "Apache-2.0", "apache2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0", "apache license, version 2.0": "Apache-2.0", "apache software license": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0", "asl 2.0": "Apache-2.0", "al2": "Apache-2.0",
    "mit license": "MIT", "the mit license": "MIT", "expat": "MIT", "expat license": "MIT",
    "bsd 2-clause": "BSD-2-Clause", "simplified bsd": "BSD-2-Clause", "freebsd": "BSD-2-Clause", "bsd-2": "BSD-2-Clause",
    "bsd 3-clause": "BSD-3-Clause", "new bsd": "BSD-3-Clause", "new bsd license": "BSD-3-Clause", "modified bsd": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause", "revised bsd": "BSD-3-Clause",
    "mpl 2.0": "MPL-2.0", "mplv2": "MPL-2.0", "mozilla public license 2.0": "MPL-2.0",
    "isc license": "ISC", "zlib license": "Zlib", "python software foundation license": "PSF-2.0", "psfl": "PSF-2.0",
    "sspl": "SSPL-1.0", "server side public license": "SSPL-1.0", "busl": "BUSL-1.1", "business source license 1.1": "BUSL-1.1",
    "cc0": "CC0-1.0", "unlicense": "Unlicense", "the unlicense": "Unlicense", "boost software license 1.0": "BSL-1.0",
    "openssl license": "OpenSSL", "curl license": "curl", "mozilla public license 1.1": "MPL-1.1", "mpl 1.1": "MPL-1.1",
}
# Names of a licence family without its variant (the trove classifier "BSD License" of
# Python packages): such a name is judged over every member, so it is allowed only when
# no member is denied, and denied only when every member is.
FAMILIES: dict[str, tuple[str, ...]] = {
    "bsd license": ("0BSD", "BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause"),
    "bsd": ("0BSD", "BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause"),
}
# "GNU General Public License v2 or later (GPLv2+)": a name and its short form (trove classifiers).
_PARENTHESISED = re.compile(r"(?P<main>[^()]+?)\s*\((?P<short>[^()]+)\)")
_LICENSEREF = re.compile(r"licenseref-(?:scancode-)?(?P<rest>.+)")


@lru_cache(maxsize=1)
def _licensing() -> Any:
    return license_expression.get_spdx_licensing()


@lru_cache(maxsize=1)
def _known() -> dict[str, tuple[str, bool]]:
    """Every name the licence database knows, casefolded, with its id and whether it is an
    exception: SPDX ids and their other keys, and ScanCode keys (``agpl-3.0-plus``)."""
    names: dict[str, tuple[str, bool]] = {}
    for entry in license_expression.get_license_index():
        spdx = entry.get("spdx_license_key")
        if not spdx:
            continue
        exception = bool(entry.get("is_exception"))
        if entry.get("category") == "Unstated License" and not exception:
            continue  # "unknown", "no-license", "any-OSI": names that identify no licence
        for name in (entry["license_key"], *entry.get("other_spdx_license_keys", ())):
            names.setdefault(name.casefold(), (spdx, exception))
        names[spdx.casefold()] = (spdx, exception)
    return names


def _gnu(folded: str) -> str | None:
    if match := _DEPRECATED_GNU.fullmatch(folded):
        return f"{match['family'].upper()}-{match['version']}-{'or-later' if match['later'] else 'only'}"
    if match := _NIXPKGS_GNU.fullmatch(folded):
        family = "GFDL" if match["family"] == "fdl" else match["family"].upper()
        return f"{family}-{match['major']}.{match['minor'] or '0'}-{'only' if match['kind'] == 'only' else 'or-later'}"
    if match := _FULL_NAME_GNU.fullmatch(folded):
        version = match["version"] if "." in match["version"] else f"{match['version']}.0"
        later = match["kind"] == " or later"
        return f"{_FULL_NAME_FAMILY[match['family']].upper()}-{version}-{'or-later' if later else 'only'}"
    if match := _SHORT_GNU.fullmatch(folded):
        return f"{match['family'].upper()}-{match['major']}.{match['minor'] or '0'}-{'or-later' if match['later'] else 'only'}"
    return None


@lru_cache(maxsize=8192)
def resolve(name: str) -> str | None:
    """The licence id ``name`` stands for, or None when no database or alias knows it.

    ``LicenseRef-scancode-X`` and ``LicenseRef-X`` are read as X when X is a known name; a
    trailing ``+`` ("or later") turns an ``-only`` id into its ``-or-later`` id."""
    folded = " ".join(name.casefold().split())
    if not folded:
        return None
    if gnu := _gnu(folded):
        return gnu
    known = _known()
    if folded in known and not known[folded][1]:
        return known[folded][0]
    if folded in ALIASES:
        return ALIASES[folded]
    if folded.endswith("+") and (base := resolve(folded[:-1])):
        return base.removesuffix("-only") + "-or-later" if base.endswith("-only") else base
    if (match := _LICENSEREF.fullmatch(folded)) and (inner := resolve(match["rest"])):
        return inner
    if match := _PARENTHESISED.fullmatch(folded):
        main, short = resolve(match["main"]), resolve(match["short"])
        if main and (short is None or short == main):
            return main
        if short and main is None:
            return short
    return None


def _exception_known(name: str) -> bool:
    entry = _known().get(" ".join(name.casefold().split()))
    return entry is not None and entry[1]


def canonical_denylist(denied: set[str] | frozenset[str]) -> frozenset[str]:
    """The denylist as casefolded ids, each name resolved the way licences are (so that
    ``GPL-3.0`` in a denylist also denies ``GPL-3.0-only``)."""
    return frozenset((resolve(d) or d).casefold() for d in denied)


@dataclass(frozen=True)
class Verdict:
    """How an expression stands against the denylist, and the names that decided it."""

    status: str  # "allowed" | "denied" | "unknown"
    denied: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    invalid: str | None = None


_ALLOWED = "allowed"
_DENIED = "denied"
_UNKNOWN = "unknown"
_WORD = re.compile(r"[^\s()]+")
_OPERATORS = {"and", "or", "with"}


def _leaf(name: str, denied: frozenset[str]) -> Verdict:
    licence = resolve(name)
    family = FAMILIES.get(" ".join(name.casefold().split())) if licence is None else None
    if family:
        hits = tuple(member for member in family if member.casefold() in denied)
        if not hits:
            return Verdict(_ALLOWED)
        if len(hits) == len(family):
            return Verdict(_DENIED, denied=hits)
        return Verdict(_UNKNOWN, unknown=(f"{name} (one of {', '.join(family)}; {', '.join(hits)} denied)",))
    if licence is None:
        return Verdict(_UNKNOWN, unknown=(name,))
    if licence.casefold() in denied:
        return Verdict(_DENIED, denied=(licence,))
    return Verdict(_ALLOWED)


def _join(parts: list[Verdict], conjunction: bool) -> Verdict:
    statuses = {p.status for p in parts}
    denied = tuple(d for p in parts for d in p.denied)
    unknown = tuple(u for p in parts for u in p.unknown)
    if conjunction:
        status = _DENIED if _DENIED in statuses else _UNKNOWN if _UNKNOWN in statuses else _ALLOWED
    else:
        status = _ALLOWED if _ALLOWED in statuses else _UNKNOWN if _UNKNOWN in statuses else _DENIED
    if status == _ALLOWED:
        return Verdict(_ALLOWED)
    return Verdict(status, denied if status == _DENIED else (), unknown if status == _UNKNOWN else ())


def _evaluate(node: Any, denied: frozenset[str]) -> Verdict:
    licensing = _licensing()
    if isinstance(node, license_expression.LicenseWithExceptionSymbol):
        licence = _leaf(node.license_symbol.key, denied)
        exception = node.exception_symbol.key
        if licence.status == _ALLOWED and not _exception_known(exception):
            return Verdict(_UNKNOWN, unknown=(f"WITH {exception}",))
        return licence  # an exception adds a permission: it never changes a denied licence
    if isinstance(node, license_expression.LicenseSymbol):
        return _leaf(node.key, denied)
    if isinstance(node, licensing.AND | licensing.OR):
        return _join([_evaluate(arg, denied) for arg in node.args], isinstance(node, licensing.AND))
    return Verdict(_UNKNOWN, unknown=(str(node),))


@lru_cache(maxsize=16384)
def judge(expression: str, denied: frozenset[str]) -> Verdict:
    """The verdict on ``expression`` for the casefolded ids in ``denied``
    (see :func:`canonical_denylist`). OR needs one allowed branch, AND needs all."""
    folded = " ".join(expression.casefold().split())
    if resolve(expression) is not None or folded in FAMILIES:  # a free-text name with spaces, read as one licence
        return _leaf(expression, denied)
    try:
        tree = _licensing().parse(expression, validate=False, strict=True)
    except license_expression.ExpressionError as exc:
        words = [w for w in _WORD.findall(expression) if w.casefold() not in _OPERATORS]
        hit = [w for w in words if _leaf(w, denied).status == _DENIED]
        problem = str(exc).splitlines()[0] if str(exc) else "does not parse"
        if hit:
            return Verdict(_DENIED, denied=tuple(resolve(w) or w for w in hit), invalid=problem)
        return Verdict(_UNKNOWN, unknown=(expression,), invalid=problem)
    if tree is None:
        return Verdict(_UNKNOWN, unknown=(expression,), invalid="empty expression")
    return _evaluate(tree, denied)


def licence_allowed(expression: str, denied: set[str] | frozenset[str]) -> bool:
    """True when ``expression`` is neither denied nor unknown under ``denied``."""
    return judge(expression, canonical_denylist(denied)).status == _ALLOWED
