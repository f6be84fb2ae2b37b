"""Predicates about where a release comes from and how fresh it is."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from .. import clock
from ..errors import CheckError
from ..inputs.facts import lookup_or
from ..models.params import FIXED, LOWER, Params
from ..registry import Outcome, failed, passed, predicate
from ..subject import Subject

# NixOS versions carry the nixpkgs commit date: 24.05.20240612.abc1234 (also in the
# nixos-system-<host>-<version> store path name).
_VERSION_DATE = re.compile(r"(?:^|[.-])(\d{2}\.\d{2})(?:pre[^.]*)?\.(\d{8})\.[0-9a-f]{6,40}")


class NixpkgsAgeParams(Params):
    max_age_days: Annotated[int, LOWER] = 30
    input_name: Annotated[str, FIXED] = "nixpkgs"


def _date_from_version(text: str) -> datetime | None:
    match = _VERSION_DATE.search(text)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(2), "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@predicate("nixpkgs_age", params=NixpkgsAgeParams, reads=["system.nixos.version"])
def nixpkgs_age(subject: Subject, params: NixpkgsAgeParams) -> Outcome:
    """The locked nixpkgs is recent: from flake.lock (lastModified), else the NixOS version's date."""
    when: datetime | None = None
    source = ""
    if subject.flake_lock is not None:
        node_name = subject.flake_lock.root_inputs.get(params.input_name)
        node = subject.flake_lock.nodes.get(node_name) if node_name else None
        if node is None:
            raise CheckError(f"{subject.flake_lock.source}: the flake has no input named {params.input_name!r}")
        if node.last_modified is None:
            raise CheckError(f"{subject.flake_lock.source}: input {params.input_name!r} has no lastModified")
        when, source = node.last_modified, f"flake.lock input {params.input_name} (rev {node.rev or '?'})"
    elif subject.facts is not None and isinstance(version := lookup_or(subject.facts, "system.nixos.version", None), str):
        when, source = _date_from_version(version), f"system.nixos.version {version}"
    elif subject.closure is not None:
        root = subject.closure.paths[subject.closure.roots[0]]
        if root.version:
            when, source = _date_from_version(root.version), f"top-level store path version {root.version}"
    if when is None:
        raise CheckError("cannot date nixpkgs: give --flake-lock, or facts with system.nixos.version")
    now = clock.now()
    age_days = (now - when).total_seconds() / 86400
    observed = {"last_modified": clock.isoformat(when), "age_days": round(age_days, 1), "source": source, "max_age_days": params.max_age_days}
    if age_days > params.max_age_days:
        return failed(f"nixpkgs is {age_days:.0f} days old ({source}), more than {params.max_age_days}", **observed)
    if age_days < -1:
        return failed(f"nixpkgs is dated {-age_days:.0f} days in the future ({source})", **observed)
    return passed(f"nixpkgs is {max(age_days, 0):.0f} days old ({source})", **observed)
