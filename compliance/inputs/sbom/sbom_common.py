"""Normalisation shared by the SBOM readers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from compliance.models.subject import NIX_STORE
from compliance.nix.storepath import BASENAME_PATTERN

# CycloneDX "SHA-256", SPDX "SHA256", others "sha-256" → "sha256".
_ALG = re.compile(r"[^a-z0-9]")
STORE_PATH_PROPERTIES = ("nix:output_path", "nix:store_path", "nix:out_path")
_STORE_PATH = re.compile(rf"^{re.escape(NIX_STORE)}/{BASENAME_PATTERN}$")


def normalise_algorithm(name: str) -> str:
    return _ALG.sub("", name.lower())


def is_store_path(value: str) -> bool:
    return bool(_STORE_PATH.match(value)) and not value.endswith(".drv")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def text(value: Any) -> str | None:
    """A non-empty string, or None (SBOM writers emit '' for unknown versions)."""
    if isinstance(value, str) and value.strip():
        return value
    return None
