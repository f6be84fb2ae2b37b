"""``flake.lock`` (version 7): the locked inputs, with the time each was last modified."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.models.subject import FlakeInput, FlakeLock
from compliance.util.fsutil import load_json


def read_flake_lock(path: str | Path) -> FlakeLock:
    return parse_flake_lock(load_json(path, what="flake.lock"), str(path))


def parse_flake_lock(doc: Any, source: str) -> FlakeLock:
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), dict):
        raise InputError(source, "not a flake.lock: no 'nodes' object")
    version = doc.get("version")
    if not isinstance(version, int) or version < 5:
        raise InputError(source, f"flake.lock version {version!r} is not supported (5 or later)")
    root_name = doc.get("root", "root")
    if not isinstance(root_name, str):
        raise InputError(source, "'root' must be the name of a node")
    nodes: dict[str, FlakeInput] = {}
    for name, node in doc["nodes"].items():
        if not isinstance(node, dict):
            raise InputError(source, f"node {name!r} is not an object")
        locked = node.get("locked") or {}
        original = node.get("original") or {}
        if not isinstance(locked, dict) or not isinstance(original, dict):
            raise InputError(source, f"node {name!r}: 'locked' and 'original' must be objects")
        if not isinstance(node.get("inputs") or {}, dict):
            raise InputError(source, f"node {name!r}: 'inputs' must be an object")
        nodes[name] = FlakeInput(
            name=name,
            type=locked.get("type") if isinstance(locked.get("type"), str) else None,
            last_modified=_timestamp(locked.get("lastModified"), source, name),
            rev=locked.get("rev") if isinstance(locked.get("rev"), str) else None,
            nar_hash=locked.get("narHash") if isinstance(locked.get("narHash"), str) else None,
            locked=locked,
            original=original,
        )
    root = doc["nodes"].get(root_name)
    if not isinstance(root, dict):
        raise InputError(source, f"root node {root_name!r} is missing")
    root_inputs: dict[str, str] = {}
    for input_name, target in (root.get("inputs") or {}).items():
        if isinstance(target, str):
            root_inputs[input_name] = target
        elif isinstance(target, list) and target and all(isinstance(t, str) for t in target):
            root_inputs[input_name] = _follow(doc["nodes"], root_name, target)
    return FlakeLock(source=source, root=root_name, root_inputs=root_inputs, nodes=nodes)


def _timestamp(value: Any, source: str, node: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(source, f"node {node!r}: 'lastModified' must be an integer")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise InputError(source, f"node {node!r}: 'lastModified' {value} is not a time") from None


MAX_FOLLOWS = 64


def _follow(nodes: dict[str, Any], root: str, path: list[str], depth: int = 0) -> str:
    """The node an input path (``follows``) leads to, from the root; "?" when it leads
    nowhere (a missing node, a cycle of follows)."""
    if depth > MAX_FOLLOWS:
        return "?"
    current = root
    for step in path:
        node = nodes.get(current)
        inputs = node.get("inputs") if isinstance(node, dict) else None
        target = inputs.get(step) if isinstance(inputs, dict) else None
        if isinstance(target, list) and all(isinstance(t, str) for t in target):
            target = _follow(nodes, root, target, depth + 1)
        if not isinstance(target, str) or target == "?":
            return "?"
        current = target
    return current
