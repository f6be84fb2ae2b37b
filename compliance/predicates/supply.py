"""Predicates about where a release comes from and how fresh it is."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate
from compliance.errors import CheckError
from compliance.inputs.facts import lookup_or
from compliance.models.params import FALSE, FIXED, LOWER, TRUE, UNION, Params
from compliance.util import clock

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


@predicate("nixpkgs_age", params=NixpkgsAgeParams, reads=["system.nixos.version"], needs=["flake_lock"])
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


# ---------------------------------------------------------------------------- pinned inputs

# Input types whose lock names a commit: a lock without one does not say which source was built.
REVISION_TYPES = ("github", "gitlab", "sourcehut", "git", "mercurial")


class PinnedInputsParams(Params):
    # "path": a folder of the build machine; "indirect": a registry name resolved at build time.
    denied_input_types: Annotated[list[str], UNION] = ["path", "indirect"]
    require_nar_hash: Annotated[bool, TRUE] = True
    require_rev: Annotated[bool, TRUE] = True
    allow_local_urls: Annotated[bool, FALSE] = False  # git+file://, file:// tarballs
    require_configuration_revision: Annotated[bool, TRUE] = False


@predicate(
    "flake_inputs_locked",
    params=PinnedInputsParams,
    reads=lambda p: ["system.configurationRevision"] if p.require_configuration_revision else [],
    needs=["flake_lock"],
)
def flake_inputs_locked(subject: Subject, params: PinnedInputsParams) -> Outcome:
    """Every flake input is locked to content (narHash) and, for version control, a commit, from a source others can fetch.

    A release can be rebuilt and audited only from what its flake.lock names: an input
    without a content hash, a branch instead of a commit, a folder of the build machine or
    a registry alias resolved at build time means the same lock can yield another system.
    With require_configuration_revision, the configuration also records the commit it was
    built from (system.configurationRevision), which links the closure to reviewed source.
    """
    lock = subject.need_flake_lock()
    problems: dict[str, list[str]] = {}
    inputs: dict[str, dict[str, object]] = {}
    for name, node in sorted(lock.nodes.items()):
        if name == lock.root:
            continue  # the flake itself
        issues: list[str] = []
        url = str(node.locked.get("url", ""))
        if not node.locked:
            issues.append("not locked")
        if node.type in params.denied_input_types:
            issues.append(f"input type {node.type}")
        if params.require_nar_hash and node.locked and not node.nar_hash:
            issues.append("no narHash")
        if params.require_rev and node.type in REVISION_TYPES and not node.rev:
            issues.append("no commit (rev)")
        if not params.allow_local_urls and (url.startswith("file:") or url.startswith("git+file:") or url.startswith("/")):
            issues.append(f"local source {url}")
        inputs[name] = {"type": node.type, "rev": node.rev, "nar_hash": node.nar_hash is not None}
        if issues:
            problems[name] = issues
    observed: dict[str, object] = {"inputs": inputs, "not_pinned": problems, "source": lock.source}
    if params.require_configuration_revision:
        revision = lookup_or(subject.need_facts(), "system.configurationRevision", None)
        observed["configuration_revision"] = revision
        if not isinstance(revision, str) or not revision:
            problems["system.configurationRevision"] = ["not set: the system does not record the commit it was built from"]
    if not inputs:
        raise CheckError(f"{lock.source}: the flake has no input to judge")
    if problems:
        return failed("inputs not pinned: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in problems.items()), **observed)
    return passed(f"{len(inputs)} flake inputs locked to a content hash" + (" and a commit" if params.require_rev else ""), **observed)
