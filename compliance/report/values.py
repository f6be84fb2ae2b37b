"""Short, faithful text for the values a report prints: observed values and NixOS options.

Observed values come straight from the checks and can be large (every store path a SBOM
misses, a whole option tree). The report is read by a person, so long lists are cut to a
few items with the count of what was left out, and the reader is sent to ``results.json``,
which keeps everything. Values are never reworded: what is shown is a prefix of the truth. Mapping keys are sorted,
so that a report rendered from ``results.json`` (canonical JSON, sorted keys) is the same as
one rendered from the assessment in memory.

Remediation values are printed as Nix, the language of the file the operator will edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from compliance.util.clock import isoformat

MAX_ITEMS = 12
MAX_CHARS = 400
MAX_DEPTH = 3

_NIX_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_'-]*$")


def _clip(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    return _clip(str(value))


def _more(omitted: int) -> str:
    return f"… and {omitted} more (all of them in results.json)"


def observed_text(value: Any, depth: int = 0) -> str:
    """One value as a short text: scalars as they are, lists and mappings cut to a few items."""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = sorted(value.items(), key=lambda item: str(item[0]))
        shown = [f"{key}: {observed_text(item, depth + 1)}" for key, item in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            shown.append(_more(len(items) - MAX_ITEMS))
        joined = "; ".join(shown)
        return "{" + joined + "}" if depth else joined
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            return "none"
        if depth >= MAX_DEPTH:
            return f"[{len(value)} items]"
        shown = [observed_text(item, depth + 1) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            shown.append(_more(len(value) - MAX_ITEMS))
        return ", ".join(shown)
    return _scalar(value)


def nix_value(value: Any, depth: int = 0) -> str:
    """A JSON-like value written as a Nix expression: ``true``, ``"x"``, ``[ 22 443 ]``, ``{ a = 1; }``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${").replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, Mapping):
        if not value:
            return "{ }"
        body = " ".join(f"{_nix_attr(str(k))} = {nix_value(v, depth + 1)};" for k, v in sorted(value.items(), key=lambda item: str(item[0])))
        return "{ " + body + " }"
    if isinstance(value, Sequence):
        if not value:
            return "[ ]"
        return "[ " + " ".join(_nix_list_item(v, depth + 1) for v in value) + " ]"
    return nix_value(str(value), depth)


def _nix_attr(name: str) -> str:
    return name if _NIX_IDENTIFIER.match(name) else nix_value(name)


def _nix_list_item(value: Any, depth: int) -> str:
    text = nix_value(value, depth)
    # A negative number or a function application inside a list needs parentheses.
    return f"({text})" if text.startswith("-") else text


def nix_assignments(option: str, value: Any) -> list[str]:
    """Lines a NixOS configuration would contain, one per leaf option.

    ``("boot.kernel.sysctl", {"kernel.kptr_restrict": 2})`` gives
    ``boot.kernel.sysctl."kernel.kptr_restrict" = 2;``: attribute sets are spelt out one
    option per line, the way they are read and diffed in a configuration.
    """
    if isinstance(value, Mapping) and value:
        lines: list[str] = []
        for key, item in sorted(value.items(), key=lambda item: str(item[0])):
            lines.extend(nix_assignments(f"{option}.{_nix_attr(str(key))}", item))
        return lines
    return [f"{option} = {nix_value(value)};"]
