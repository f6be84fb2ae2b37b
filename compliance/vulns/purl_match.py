"""Package URLs, split into what matching compares: type, namespace, name and version.

Qualifiers (``?arch=…``) and the subpath (``#…``) do not change which package is meant,
so they are dropped. Components are percent-decoded. Parsing is cached: the same purl
recurs across thousands of findings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from urllib.parse import unquote


class Purl(NamedTuple):
    """A package URL split into the parts matching compares (type, namespace, name, version)."""
    type: str
    namespace: str | None
    name: str
    version: str | None


@lru_cache(maxsize=65536)
def parse_purl(text: str) -> Purl | None:
    """``None`` when ``text`` is not a package URL."""
    if not text.startswith("pkg:"):
        return None
    body = text[4:].lstrip("/").split("#", 1)[0].split("?", 1)[0]
    kind, sep, rest = body.partition("/")
    if not sep or not kind or not rest:
        return None
    version = None
    last_slash = rest.rfind("/")
    at = rest.rfind("@")
    if at > last_slash:  # an "@" in the namespace (npm scopes) is not the version separator
        rest, version = rest[:at], unquote(rest[at + 1 :]) or None
    namespace, _, name = rest.rstrip("/").rpartition("/")
    if not name:
        return None
    return Purl(kind.lower(), unquote(namespace) or None, unquote(name), version)
