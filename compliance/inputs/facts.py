"""NixOS configuration facts: a JSON document of option values.

The document written by ``compliance facts`` is::

    {"facts_version": 1, "origin": {...}, "options": {<nested option tree>}}

A bare nested option tree (``{"services": {"openssh": ...}}``) is accepted too. Option
paths are written the way Nix writes attribute paths: ``boot.kernel.sysctl."kernel.kptr_restrict"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from compliance.errors import CheckError, InputError, OptionPathError
from compliance.models.subject import ConfigFacts
from compliance.util.fsutil import load_json

FACTS_VERSION = 1
_SEGMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_\'\-+*<>]+)')


def split_option_path(path: str) -> tuple[str, ...]:
    """``a.b."c.d".e`` → ("a", "b", "c.d", "e")."""
    segments: list[str] = []
    pos = 0
    while pos < len(path):
        match = _SEGMENT.match(path, pos)
        if not match:
            raise OptionPathError(f"invalid option path {path!r} at character {pos}")
        quoted, bare = match.groups()
        segments.append(_unescape(quoted) if quoted is not None else bare)
        pos = match.end()
        if pos < len(path):
            if path[pos] != ".":
                raise OptionPathError(f"invalid option path {path!r}: expected '.' at character {pos}")
            pos += 1
            if pos == len(path):
                raise OptionPathError(f"invalid option path {path!r}: ends with '.'")
    if not segments:
        raise OptionPathError("empty option path")
    return tuple(segments)


_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t"}


def _unescape(quoted: str) -> str:
    r"""A Nix string's escapes: ``\n``, ``\r``, ``\t``; any other escaped character is itself."""
    return _ESCAPE.sub(lambda m: _ESCAPED.get(m.group(1), m.group(1)), quoted)


def join_option_path(segments: tuple[str, ...] | list[str]) -> str:
    out = []
    for seg in segments:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_'\-]*", seg):
            out.append(seg)
        else:
            out.append('"' + seg.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return ".".join(out)


def _listed(facts: ConfigFacts, key: str, path: str) -> bool:
    """Whether ``origin[key]`` (``unavailable`` or ``absent``) names the option ``path``."""
    listed = facts.origin.get(key, [])
    wanted = split_option_path(path)
    return isinstance(listed, list) and any(isinstance(p, str) and _safe_split(p) == wanted for p in listed)


def _missing(facts: ConfigFacts, path: str) -> CheckError:
    if _listed(facts, "unavailable", path):
        why = "evaluating it failed (it, or part of its value, throws or cannot be serialised)"
    elif _listed(facts, "absent", path):
        why = "it is not defined"
    else:
        why = "evaluate it with 'compliance facts'"
    return CheckError(f"option {path} is not in the facts ({facts.source}): {why}")


def _find(facts: ConfigFacts, path: str) -> tuple[bool, Any]:
    node: Any = facts.options
    for segment in split_option_path(path):
        if not isinstance(node, dict) or segment not in node:
            return False, None
        node = node[segment]
    return True, node


def lookup(facts: ConfigFacts, path: str) -> Any:
    """The value of an option; raises :class:`CheckError` (→ error result) when the facts
    do not hold it. A missing fact is never read as a default."""
    found, value = _find(facts, path)
    if not found:
        raise _missing(facts, path)
    return value


def lookup_or(facts: ConfigFacts, path: str, default: Any) -> Any:
    """For values a check can also take from elsewhere, or whose absence it judges itself:
    ``default`` when the facts do not hold the option, but an error when its evaluation
    failed (a configuration that throws is never read as one that says nothing)."""
    found, value = _find(facts, path)
    if found:
        return value
    if _listed(facts, "unavailable", path):
        raise _missing(facts, path)
    return default


def lookup_optional(facts: ConfigFacts, path: str, default: Any) -> Any:
    """For options that may legitimately be undefined (names in freeform attribute sets such
    as ``nixpkgs.config`` or ``nix.settings``): ``default`` only when the facts record that
    the attribute set was evaluated and does not have the name (``origin.absent``); the
    value when present; an error when its evaluation failed (``origin.unavailable``) or the
    facts never tried to read it."""
    found, value = _find(facts, path)
    if found:
        return value
    if _listed(facts, "absent", path) and not _listed(facts, "unavailable", path):
        return default
    raise _missing(facts, path)


def _safe_split(path: str) -> tuple[str, ...] | None:
    try:
        return split_option_path(path)
    except OptionPathError:
        return None


def read_facts(path: str | Path) -> ConfigFacts:
    doc = load_json(path, what="facts file")
    return parse_facts(doc, str(path))


def parse_facts(doc: Any, source: str) -> ConfigFacts:
    if not isinstance(doc, dict):
        raise InputError(source, "facts must be a JSON object of NixOS option values")
    if "facts_version" in doc or "options" in doc:
        # NixOS's config has no top-level "options" attribute: a document with one is the
        # wrapped form, and must say which version it is.
        version = doc.get("facts_version")
        if isinstance(version, bool) or version != FACTS_VERSION:
            raise InputError(source, f"facts_version {version!r} is not supported (expected {FACTS_VERSION})")
        options = doc.get("options")
        if not isinstance(options, dict):
            raise InputError(source, "'options' must be an object of NixOS option values")
        origin = doc.get("origin", {})
        if not isinstance(origin, dict):
            raise InputError(source, "'origin' must be an object")
        return ConfigFacts(source=source, options=options, origin=origin)
    return ConfigFacts(source=source, options=doc)


def set_path(tree: dict[str, Any], segments: tuple[str, ...], value: Any) -> None:
    node = tree
    for segment in segments[:-1]:
        child = node.get(segment)
        if not isinstance(child, dict):
            child = {}
            node[segment] = child
        node = child
    node[segments[-1]] = value
