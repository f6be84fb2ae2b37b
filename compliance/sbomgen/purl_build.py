"""``pkg:nix`` package URLs, percent-encoded as the purl specification says.

The purl specification leaves unencoded only the letters, digits, ``.-_~`` and the colon;
every other character of a name or version is percent-encoded as UTF-8. Nix names may
hold ``+``, ``?`` and ``=`` (``gtk+3``, ``foo?bar``), which would otherwise be read as a
space, the start of the qualifiers or a qualifier separator.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# ``quote`` never encodes the letters, digits and ``_.-~``; ``safe`` adds the colon.
_SAFE = ":"
_NOTHING_TO_ENCODE = re.compile(r"[A-Za-z0-9._~:-]*")


def encode_component(value: str) -> str:
    """One purl component (name or version), percent-encoded. Most Nix names need no
    encoding; checking that first is ten times cheaper than ``quote``."""
    if _NOTHING_TO_ENCODE.fullmatch(value):
        return value
    return quote(value, safe=_SAFE)


def nix_purl(name: str, version: str | None, output: str | None = None) -> str:
    """``pkg:nix/<name>@<version>``, the form sbomnix and bombon write for store paths; an
    output other than the default one is a qualifier (``?output=bin``), never part of the
    version, so that the version is the package's one matchers compare."""
    purl = f"pkg:nix/{encode_component(name)}"
    if version:
        purl += f"@{encode_component(version)}"
    if output:
        purl += f"?output={encode_component(output)}"
    return purl
