"""Validating the documents users write, without running a gate: the catalog, gate
policies and waiver files (what a pre-commit hook checks before a change lands).

A control id that a policy or a waiver names must exist in the catalog: a misspelt id
would silently block nothing, or waive nothing. The gate checks the same, with the same
functions, before it judges anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compliance.catalog.loader import Catalog, load_catalog
from compliance.errors import InputError
from compliance.inputs.documents import load_document, read_policy, read_waivers
from compliance.models.policy import Policy, Waiver
from compliance.util.fsutil import read_bytes


def check_policy_controls(policy: Policy, catalog: Catalog, source: str) -> None:
    """Every control the policy names is in the catalog."""
    for name, control in policy.control_ids():
        if control not in catalog.controls:
            raise InputError(source, f"{name} names unknown control {control!r}")


def check_waiver_controls(waivers: list[Waiver], catalog: Catalog, source: str) -> None:
    """Every control a waiver names is in the catalog."""
    for waiver in waivers:
        if waiver.control not in catalog.controls:
            raise InputError(source, f"waiver {waiver.id} names unknown control {waiver.control!r}")


def validate_catalog(folder: Path | None) -> str:
    """Load the catalog (every control, framework and profile validated); one line
    saying what it holds. A bad file is an :class:`InputError` naming it."""
    catalog = load_catalog(folder)
    return f"{folder or 'bundled catalog'}: {len(catalog.controls)} controls, {len(catalog.profiles)} profiles: valid"


@dataclass(frozen=True)
class Checked:
    path: str
    kind: str  # "policy" | "waivers"
    summary: str


def check_documents(paths: list[str], catalog_folder: Path | None) -> list[Checked]:
    """Each file is a gate policy or a waiver file (one with a ``waivers`` list), read
    and checked against the catalog as the gate would."""
    catalog = load_catalog(catalog_folder)
    checked: list[Checked] = []
    for path in paths:
        data = read_bytes(path, what="policy or waiver file")
        doc = load_document(path, data)
        if isinstance(doc, list) or (isinstance(doc, dict) and "waivers" in doc):
            waivers = read_waivers(path, data)
            check_waiver_controls(waivers, catalog, path)
            checked.append(Checked(path, "waivers", f"{len(waivers)} waiver(s): valid"))
        else:
            policy = read_policy(path, data)
            check_policy_controls(policy, catalog, path)
            blocks = ", ".join(s.value for s in policy.block_severities) or "no severity"
            checked.append(Checked(path, "policy", f"policy blocking {blocks}: valid"))
    return checked
