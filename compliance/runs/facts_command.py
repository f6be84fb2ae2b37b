"""``compliance facts``: evaluate exactly the NixOS options the selected controls read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.inputs.facts_eval import evaluate_facts
from compliance.models.control import CheckKind
from compliance.runs.gate_run import option_paths


def facts_paths(profiles: list[str], catalog: Path | None) -> list[str]:
    """The option paths the static checks of the selected controls read."""
    return option_paths(select(load_catalog(catalog), profiles, CheckKind.STATIC))


def facts_document(paths: list[str], *, flake: str | None, nix_file: str | None, attr: str | None) -> bytes:
    """The facts document for ``paths``, evaluated through ``nix eval``, as indented JSON."""
    doc: Any = evaluate_facts(paths, flake=flake, nix_file=nix_file, attr=attr)
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
