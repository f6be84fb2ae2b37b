"""Store path names, parsed the way Nix parses them.

``/nix/store/<32 nix-base32 chars>-<name>``; the name splits into package name and version
at the first ``-`` that is followed by a character that is not a letter (Nix's
``DrvName``): ``openssl-3.0.13`` → (``openssl``, ``3.0.13``), ``xz-5.4.6-bin`` →
(``xz``, ``5.4.6-bin``), ``source`` → (``source``, None), ``python3.11-pip-24.0`` →
(``python3.11-pip``, ``24.0``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from compliance.errors import StorePathError
from compliance.nix.hashes import NIX32

HASH_LENGTH = 32
MAX_NAME_LENGTH = 211
# Nix's nameRegexStr: the name characters, and no name "." or ".." nor one whose first
# dash-separated part is one of them (".-x", "..-x"); other leading periods are allowed.
NAME_PATTERN = r"(?!\.\.?(?:[-/]|$))[A-Za-z0-9+\-._?=]+"
# <hash>-<name>: the last component of a store path. Readers that only need to know
# whether a string is a store path match this; parse_basename says what is wrong.
BASENAME_PATTERN = rf"[{NIX32}]{{{HASH_LENGTH}}}-{NAME_PATTERN}"
_NAME_CHARS = re.compile(r"^[A-Za-z0-9+\-._?=]+$")
_HASH = re.compile(rf"^[{NIX32}]{{{HASH_LENGTH}}}$")


class DrvName(NamedTuple):
    """A store path's name split as Nix splits it: package name and version."""
    name: str
    version: str | None


def split_name(full: str) -> DrvName:
    """Nix's ``DrvName``: split at the first dash followed by a non-letter."""
    for index, char in enumerate(full):
        if char == "-" and index + 1 < len(full) and not _is_c_alpha(full[index + 1]):
            return DrvName(full[:index], full[index + 1 :])
    return DrvName(full, None)


# Output names nixpkgs gives to a derivation's outputs other than ``out``: a store path of
# one ends in ``-<output>`` after the version ("openssl-3.0.13-bin"), which is no part of
# the package's version.
NIX_OUTPUT_NAMES = frozenset({
    "bin", "dev", "lib", "out", "man", "doc", "devdoc", "info", "static", "debug", "dist", "terminfo",
    "modules", "python", "py", "sbin", "udev", "locales", "getent", "fonts", "data", "tools", "scripts",
    "examples", "sandbox", "etc", "include", "js", "lua", "nscd", "plugins", "sys", "sysconfig",
})


def split_output(version: str | None) -> tuple[str | None, str | None]:
    """``"3.0.13-bin"`` → ``("3.0.13", "bin")``: a trailing known output name is the
    output's, not the version's; anything else stays the version."""
    if not version:
        return version, None
    head, sep, tail = version.rpartition("-")
    if sep and head and tail in NIX_OUTPUT_NAMES:
        return head, tail
    return version, None


def _is_c_alpha(char: str) -> bool:
    """``isalpha`` in the C locale: ASCII letters only."""
    return ("a" <= char <= "z") or ("A" <= char <= "Z")


def check_name(name: str) -> None:
    """Refuse a store path name with characters Nix does not allow."""
    if not name:
        raise StorePathError("empty name")
    if len(name) > MAX_NAME_LENGTH:
        raise StorePathError(f"name longer than {MAX_NAME_LENGTH} characters")
    if name.split("-", 1)[0] in (".", ".."):
        raise StorePathError(f"name {name!r} is '.' or '..', or starts with '.-' or '..-'")
    if not _NAME_CHARS.match(name):
        raise StorePathError("name has characters outside [A-Za-z0-9+-._?=]")


def parse_basename(basename: str) -> tuple[str, str]:
    """``<hash>-<name>`` → (hash, name); raises :class:`StorePathError`."""
    if len(basename) < HASH_LENGTH + 2 or basename[HASH_LENGTH] != "-":
        raise StorePathError(f"{basename!r} is not <hash>-<name>")
    digest, name = basename[:HASH_LENGTH], basename[HASH_LENGTH + 1 :]
    if not _HASH.match(digest):
        raise StorePathError(f"{digest!r} is not a nix-base32 hash")
    check_name(name)
    return digest, name


def parse_store_path(path: str, store_dir: str = "/nix/store") -> tuple[str, str]:
    """A full store path → (hash, name). The path must sit directly in ``store_dir``."""
    prefix = store_dir.rstrip("/") + "/"
    if not path.startswith(prefix):
        raise StorePathError(f"{path!r} is not in {store_dir}")
    basename = path[len(prefix) :]
    if "/" in basename:
        raise StorePathError(f"{path!r} is a path inside a store object, not a store path")
    return parse_basename(basename)
