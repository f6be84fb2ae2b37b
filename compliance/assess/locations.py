"""Where each result can be placed in the repository, for code-scanning services.

An alert that links to nothing is read by nobody: a result is placed, most precise first,
at the Nix file and line that define a NixOS option its checks read (when the facts carry
definition positions, see ``compliance facts``), at ``flake.lock`` (the line of the input)
for input pinning and age, or at the input file its checks judged (the SBOM, the closure,
the vulnerability report, the facts). Paths inside the folder the gate runs in (the
repository, in CI) are written relative to it; a file of a flake's source in the store
(``/nix/store/…-source/hosts/web.nix``) is its path inside the flake.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from compliance.catalog.selection import Selection
from compliance.checks import registry
from compliance.checks.predicate_subject import Subject
from compliance.errors import OptionPathError
from compliance.inputs.facts import join_option_path, split_option_path
from compliance.models.control import CheckKind
from compliance.models.results import Assessment, ControlResult, SourceLocation
from compliance.models.subject import InputRef

SRCROOT = "SRCROOT"
MAX_LOCATIONS = 5
_STORE_SOURCE = re.compile(r"^/nix/store/[0-9a-df-np-sv-z]{32}-[^/]*source/(.+)$")
# Subject part a check needs → the input kinds it was read from, in order of preference.
_NEED_INPUTS = {
    "flake_lock": ("flake-lock",),
    "vulnerabilities": ("vulnerabilities",),
    "sbom": ("sbom", "closure"),
    "closure": ("closure", "sbom"),
    "kernel_config": ("kernel-config", "closure"),
}
_FALLBACK = ("facts", "closure", "sbom")


def flake_folder(subject: Subject, base: Path) -> str:
    """Where the flake the facts were evaluated from sits, relative to ``base`` ("" when it
    is ``base``, or a remote flake, whose root is taken to be the repository's)."""
    ref = subject.facts.origin.get("flake") if subject.facts is not None else None
    if not isinstance(ref, str):
        return ""
    where = ref.partition("#")[0]
    if where.startswith("path:"):
        where = where[len("path:"):].partition("?")[0]
    elif ":" in where:
        return ""
    try:
        folder = (base / where).resolve(strict=False).relative_to(base.resolve(strict=False)).as_posix()
    except ValueError:
        return ""
    return "" if folder == "." else folder


def relative_uri(path: str, base: Path, flake: str = "") -> tuple[str, str | None]:
    """(uri, uri base id): relative to ``base`` when inside it, else the absolute path; a
    file of a flake's source in the store is placed in the flake's folder ``flake``."""
    store = _STORE_SOURCE.match(path)
    if store:
        return (f"{flake}/{store.group(1)}" if flake else store.group(1)), SRCROOT
    candidate = Path(path)
    absolute = candidate if candidate.is_absolute() else (base / candidate)
    try:
        relative = absolute.resolve(strict=False).relative_to(base.resolve(strict=False))
    except ValueError:
        return PurePosixPath(absolute).as_posix(), None
    return relative.as_posix(), SRCROOT


def _definitions(subject: Subject) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """``origin.definitions`` of the facts, by option path: [{"file", "line"?}, …]."""
    if subject.facts is None:
        return {}
    raw = subject.facts.origin.get("definitions")
    out: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    if not isinstance(raw, dict):
        return out
    for path, places in raw.items():
        try:
            key = split_option_path(path)
        except OptionPathError:
            continue
        if isinstance(places, list):
            out[key] = [p for p in places if isinstance(p, dict) and isinstance(p.get("file"), str)]
    return out


def _defined_at(option: str, definitions: dict[tuple[str, ...], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Definitions of ``option``, else of the nearest enclosing option, else of options inside it."""
    try:
        wanted = split_option_path(option)
    except OptionPathError:
        return []
    for end in range(len(wanted), 0, -1):
        if wanted[:end] in definitions:
            return definitions[wanted[:end]]
    return [p for key, places in sorted(definitions.items()) if key[: len(wanted)] == wanted for p in places]


def _named_inside(option: str, definitions: dict[tuple[str, ...], list[dict[str, Any]]], said: str) -> list[tuple[str, dict[str, Any]]]:
    """Definitions of the settings directly inside ``option`` that the messages name
    (``services.openssh.settings`` read, "PasswordAuthentication" said)."""
    try:
        wanted = split_option_path(option)
    except OptionPathError:
        return []
    out = []
    for key, places in sorted(definitions.items()):
        if len(key) == len(wanted) + 1 and key[:-1] == wanted and _named(join_option_path(key), said):
            out += [(join_option_path(key), place) for place in places]
    return out


def _input_line(data: bytes | None, needles: list[str]) -> int | None:
    """The line of the last of ``needles`` found in order, each after the one before (an
    option's keys in an indented JSON document); None unless all are found."""
    if data is None or not needles:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    start, found = 0, None
    for needle in needles:
        found = next((n for n in range(start, len(lines)) if needle in lines[n]), None)
        if found is None:
            return None
        start = found + 1
    return None if found is None else found + 1


def _json_keys(option: str) -> list[str]:
    try:
        return [f"{orjson.dumps(segment).decode()}:" for segment in split_option_path(option)]
    except OptionPathError:
        return []


def _locations_of(
    result: ControlResult,
    selection: Selection,
    subject: Subject,
    inputs: list[tuple[InputRef, bytes | None]],
    definitions: dict[tuple[str, ...], list[dict[str, Any]]],
    base: Path,
    flake: str,
) -> list[SourceLocation]:
    selected = next((sc for sc in selection.controls if sc.control.id == result.control_id), None)
    said = " ".join([result.message, *(c.message for c in result.checks)])
    found: list[SourceLocation] = []
    needs: list[str] = []
    options: list[str] = []
    if selected is not None:
        for check in selected.control.checks_of(CheckKind.STATIC):
            spec = registry.get(CheckKind.STATIC, check.function)
            if spec is None:
                continue
            needs += sorted(spec.needs)
            for option in spec.facts_read(selected.params_for(CheckKind.STATIC, check.function)):
                options.append(option)
                for inner, place in _named_inside(option, definitions, said):
                    uri, uri_base = relative_uri(place["file"], base, flake)
                    line = place.get("line") if isinstance(place.get("line"), int) and place["line"] > 0 else None
                    found.append(SourceLocation(uri=uri, uri_base=uri_base, line=line, kind="nixos-option", option=inner))
                for place in _defined_at(option, definitions):
                    uri, uri_base = relative_uri(place["file"], base, flake)
                    line = place.get("line") if isinstance(place.get("line"), int) and place["line"] > 0 else None
                    found.append(SourceLocation(uri=uri, uri_base=uri_base, line=line, kind="nixos-option", option=option))
    kinds = [k for need in needs for k in _NEED_INPUTS.get(need, ())] + list(_FALLBACK)
    for kind in dict.fromkeys(kinds):
        ref, data = next(((r, d) for r, d in inputs if r.kind == kind), (None, None))
        if ref is None:
            continue
        needles: list[str] = []
        if kind == "flake-lock" and subject.flake_lock is not None:
            node = subject.flake_lock.root_inputs.get("nixpkgs") or next(iter(subject.flake_lock.root_inputs.values()), None)
            needles = ['"nodes":', f'"{node}": {{'] if node else []
        elif kind == "facts" and options:
            needles = ['"options":', *_json_keys(options[0])]
        uri, uri_base = relative_uri(ref.path, base)
        found.append(SourceLocation(uri=uri, uri_base=uri_base, line=_input_line(data, needles), kind=kind,
                                    option=options[0] if kind == "facts" and options else None))
        break  # one input file: the most specific the checks read
    # The options the result's messages name first: the definition to change.
    found.sort(key=lambda loc: 0 if loc.option and _named(loc.option, said) else 1)
    unique: dict[tuple[str, int | None, str | None], SourceLocation] = {}
    for location in found:
        unique.setdefault((location.uri, location.line, location.option), location)
    return list(unique.values())[:MAX_LOCATIONS]


def _named(option: str, text: str) -> bool:
    try:
        last = split_option_path(option)[-1]
    except OptionPathError:
        return False
    return option in text or re.search(rf"(?<![A-Za-z0-9_.-]){re.escape(last)}(?![A-Za-z0-9_-])", text) is not None


def place_results(
    assessment: Assessment, selection: Selection, subject: Subject, inputs: list[tuple[InputRef, bytes | None]], base: Path
) -> Assessment:
    """``assessment`` with each result's :class:`SourceLocation` list (see the module)."""
    definitions = _definitions(subject)
    flake = flake_folder(subject, base)
    results = [
        r.model_copy(update={"locations": _locations_of(r, selection, subject, inputs, definitions, base, flake) or None})
        for r in assessment.results
    ]
    return assessment.model_copy(update={"results": results})
