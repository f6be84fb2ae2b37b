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

from ..errors import CheckError, InputError
from ..fsutil import load_json
from ..models.subject import ConfigFacts

FACTS_VERSION = 1
_SEGMENT = re.compile(r'"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_\'\-+*<>]+)')


class OptionPathError(ValueError):
    pass


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


_MISSING = object()


def lookup(facts: ConfigFacts, path: str) -> Any:
    """The value of an option; raises :class:`CheckError` (→ error result) when the facts
    do not hold it. A missing fact is never read as a default."""
    node: Any = facts.options
    for segment in split_option_path(path):
        if not isinstance(node, dict) or segment not in node:
            raise CheckError(f"option {path} is not in the facts ({facts.source}); evaluate it with 'compliance facts'")
        node = node[segment]
    return node


def lookup_or(facts: ConfigFacts, path: str, default: Any) -> Any:
    node: Any = facts.options
    for segment in split_option_path(path):
        if not isinstance(node, dict) or segment not in node:
            return default
        node = node[segment]
    return node


def lookup_optional(facts: ConfigFacts, path: str, default: Any) -> Any:
    """For options that may legitimately be undefined (freeform attribute sets such as
    ``nixpkgs.config``): ``default`` when the facts record that the option was evaluated
    and is undefined (``origin.unavailable``), the value when present, and an error when
    the facts never tried to read it."""
    node: Any = facts.options
    for segment in split_option_path(path):
        if not isinstance(node, dict) or segment not in node:
            unavailable = facts.origin.get("unavailable", [])
            wanted = split_option_path(path)
            if isinstance(unavailable, list) and any(
                isinstance(u, str) and _safe_split(u) == wanted for u in unavailable
            ):
                return default
            raise CheckError(f"option {path} is not in the facts ({facts.source}); evaluate it with 'compliance facts'")
        node = node[segment]
    return node


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
