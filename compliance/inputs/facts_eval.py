"""Evaluating exactly the NixOS options the selected controls read, with ``nix eval``.

One evaluation for all paths (a NixOS configuration takes seconds to evaluate; one
``nix eval`` per option would take minutes). Each option is read under ``tryEval`` and
serialised on its own, so an option that throws (anywhere inside its value) or cannot be
serialised is reported as *unavailable* instead of failing the whole run; a predicate that
needs it then reports ``error`` (fail closed). An attribute that its attribute set simply
does not have (a freeform setting nobody set) is reported as *absent*: a different fact,
which only the few predicates that document a default for it may read as that default.
Passwords and password hashes are replaced by ``"<redacted>"``: checks only need to know
they are set, and facts travel in packets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from compliance.errors import (
    InputError,
    MalformedJSON,
    NixError,
    NotAConfigurationError,
    UsageError,
)
from compliance.inputs.facts import FACTS_VERSION, join_option_path, set_path, split_option_path
from compliance.nix import command as nix
from compliance.util.clock import isoformat, now
from compliance.util.jsonparse import loads_json

_APPLY = r"""
cfg0: let
  cfg = if builtins.isAttrs cfg0 && cfg0 ? config && !(cfg0 ? _module) then cfg0.config else cfg0;
  paths = builtins.fromJSON "@PATHS@";
  # Absent only when an attribute set lacks the name; a step into anything that is not an
  # attribute set (or that throws) is no evidence of absence.
  walk = v: p:
    if p == [] then { ok = true; value = v; }
    else if !(builtins.isAttrs v) then { ok = false; absent = false; }
    else if builtins.hasAttr (builtins.head p) v
    then walk (builtins.getAttr (builtins.head p) v) (builtins.tail p)
    else { ok = false; absent = true; };
  # Functions cannot be serialised (and toJSON's error is not catchable): print them as
  # "<function>" the way the repl shows them; derivations become their store path.
  # Passwords and password hashes never leave the evaluation (facts end up in evidence
  # packets): an attribute named password or *Password keeps only whether it is set, and
  # whether it only locks the account ("!", "*": no password, no hash).
  secret = n: n == "password" || builtins.match ".*Password" n != null;
  redact = x: if builtins.isString x && x != "" && builtins.match "[!*]*" x == null then "<redacted>" else x;
  clean = v:
    if builtins.isFunction v then "<function>"
    else if builtins.isAttrs v then
      (if v ? outPath then v.outPath
       else builtins.mapAttrs (n: x: if secret n then redact (clean x) else clean x) v)
    else if builtins.isList v then map clean v
    else v;
  # ... and so does an option read on its own whose name says it is one.
  top = p: v: if secret (builtins.elemAt p (builtins.length p - 1)) then redact (clean v) else clean v;
  read = p:
    let
      found = builtins.tryEval (walk cfg p);
      json = if found.success && found.value.ok
        then builtins.tryEval (builtins.toJSON (top p found.value.value))
        else { success = false; };
    in if json.success then json.value
       else if found.success && !found.value.ok && found.value.absent then { absent = true; }
       else null;
  # Where an option is defined, when the evaluation can tell: the files of its
  # definitions when the value carries the module system's options, else the position of
  # the attribute in the file that sets it (a configuration written as an attribute set).
  # Only positions: never a value. Anything that throws is no position.
  opts = if builtins.isAttrs cfg0 && cfg0 ? options && cfg0 ? config && builtins.isAttrs cfg0.options then cfg0.options else null;
  strings = xs: builtins.filter builtins.isString xs;
  byOptions = p:
    let o = builtins.tryEval (walk opts p);
        files = if o.success && o.value.ok && builtins.isAttrs o.value.value && o.value.value ? files
          then builtins.tryEval (builtins.deepSeq (map toString o.value.value.files) (map toString o.value.value.files))
          else { success = false; };
    in if files.success then map (f: { file = f; }) (strings files.value) else [];
  byAttr = p:
    let n = builtins.length p;
        parent = builtins.tryEval (walk cfg (builtins.genList (builtins.elemAt p) (n - 1)));
        last = builtins.elemAt p (n - 1);
        at = if parent.success && parent.value.ok && builtins.isAttrs parent.value.value
          then builtins.tryEval (builtins.unsafeGetAttrPos last parent.value.value) else { success = false; };
        self = if at.success && at.value != null
          then [ { file = toString at.value.file; line = at.value.line; } ] else [];
        # ... and of the attributes directly inside it (the setting a message names).
        v = builtins.tryEval (walk cfg p);
        inner = if v.success && v.value.ok && builtins.isAttrs v.value.value && !(v.value.value ? outPath)
          then builtins.attrNames v.value.value else [];
        child = n: let c = builtins.tryEval (builtins.unsafeGetAttrPos n v.value.value); in
          if c.success && c.value != null then [ { name = n; file = toString c.value.file; line = c.value.line; } ] else [];
    in self ++ builtins.concatLists (map child inner);
  pos = p: if opts != null then byOptions p else byAttr p;
in if builtins.isAttrs cfg then { values = map read paths; positions = map pos paths; }
   else { notConfiguration = builtins.typeOf cfg; }
"""


def _nix_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")


def apply_expression(paths: list[tuple[str, ...]]) -> str:
    return _APPLY.replace("@PATHS@", _nix_string(json.dumps([list(p) for p in paths])))


def installable_for_flake(ref: str) -> str:
    """``path/to/flake#web`` → ``path/to/flake#nixosConfigurations."web".config``."""
    flake, sep, host = ref.partition("#")
    if not sep or not flake or not host:
        raise UsageError(f"--flake {ref!r}: expected FLAKE#HOST, e.g. .#web")
    return f'{flake}#nixosConfigurations."{host}".config'


_ABSENT = {"absent": True}


def _eval_list(args: list[str], expected: int, timeout: float) -> tuple[list[Any], list[Any]]:
    """The values of the options, and their definition positions."""
    output = nix.run(args, timeout=timeout)
    try:
        doc = loads_json(output)
    except MalformedJSON:
        raise NixError("nix eval printed something that is not JSON") from None
    if isinstance(doc, dict) and isinstance(kind := doc.get("notConfiguration"), str):
        raise NotAConfigurationError(kind)
    values = doc.get("values") if isinstance(doc, dict) else None
    positions = doc.get("positions") if isinstance(doc, dict) else None
    if not isinstance(values, list) or len(values) != expected or not isinstance(positions, list) or len(positions) != expected:
        raise NixError("nix eval returned an unexpected shape")
    return values, positions


_ASSIGNMENT = "(?<![A-Za-z0-9_'-]){name}\\s*=(?!=)"


def _line_of(file: str, name: str) -> int | None:
    """The line assigning ``name`` in ``file`` when exactly one line does (the module
    system records the files of an option's definitions, not their lines)."""
    try:
        text = Path(file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    pattern = re.compile(_ASSIGNMENT.format(name=re.escape(name)))
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if pattern.search(line)]
    return hits[0] if len(hits) == 1 else None


def _definitions(unique: list[tuple[str, ...]], positions: list[Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for segments, places in zip(unique, positions, strict=True):
        for place in places if isinstance(places, list) else []:
            if not isinstance(place, dict) or not isinstance(place.get("file"), str):
                continue
            name = place.get("name")
            key = (*segments, name) if isinstance(name, str) else segments
            line = place.get("line")
            if not isinstance(line, int):
                line = _line_of(place["file"], key[-1])
            out.setdefault(join_option_path(key), []).append({"file": place["file"], **({"line": line} if isinstance(line, int) else {})})
    return out


def _a(kind: str) -> str:
    """``builtins.typeOf``'s word with its article: "an int", "a list"."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def _flake_positions(flake: str, unique: list[tuple[str, ...]], timeout: float) -> list[Any] | None:
    """The files defining each option, from the configuration's ``options`` (a NixOS
    system of a flake has them beside ``config``); None when it has none or they do not
    evaluate: positions are a help for placing results, never a reason to fail."""
    installable = installable_for_flake(flake).removesuffix(".config")
    expression = apply_expression(unique).replace("cfg0: let", "sys: let\n  cfg0 = { config = sys.config; options = sys.options or null; };", 1)
    try:
        _, positions = _eval_list(["eval", "--json", installable, "--apply", expression], len(unique), timeout)
    except (NixError, NotAConfigurationError):
        return None
    return positions if any(positions) else None


def evaluate_facts(
    option_paths: list[str],
    *,
    flake: str | None = None,
    nix_file: str | None = None,
    attr: str | None = None,
    timeout: float = 600.0,
) -> dict[str, Any]:
    """The facts document (``facts_version`` 1) for ``option_paths``."""
    if (flake is None) == (nix_file is None):
        raise UsageError("give exactly one of --flake REF#HOST or --file F")
    unique = sorted({split_option_path(p) for p in option_paths})
    expression = apply_expression(unique)
    if flake is not None:
        args = ["eval", "--json", installable_for_flake(flake), "--apply", expression]
        origin: dict[str, Any] = {"flake": flake}
    else:
        assert nix_file is not None
        path = Path(nix_file)
        if not path.is_file():
            raise InputError(nix_file, "no such Nix file")
        selector = "".join(f'."{_nix_string(s)}"' for s in split_option_path(attr)) if attr else ""
        args = ["eval", "--json", "--impure", "--expr", f"(import {json.dumps(str(path.resolve()))}){selector}", "--apply", expression]
        origin = {"file": str(nix_file), **({"attr": attr} if attr else {})}
    try:
        values, positions = _eval_list(args, len(unique), timeout)
    except NotAConfigurationError as kind:
        raise InputError(flake or nix_file or "", f"the value is {_a(str(kind))}, not a NixOS configuration "
                         "(an attribute set of options, or one with 'config')") from None
    except NixError as whole:
        # Some errors escape tryEval (e.g. a missing attribute deep inside a value): read
        # the options one by one so that only the broken ones are unavailable.
        values, positions = [], []
        for segments in unique:
            single = [*args[:-1], apply_expression([segments])]
            try:
                value, position = _eval_list(single, 1, timeout)
                values += value
                positions += position
            except (NixError, NotAConfigurationError):
                values.append(None)
                positions.append([])
        if all(v is None for v in values):
            raise NixError(f"evaluating facts from {flake or nix_file}: {whole}") from None
    options: dict[str, Any] = {}
    unavailable: list[str] = []
    absent: list[str] = []
    for segments, value in zip(unique, values, strict=True):
        if value == _ABSENT:
            absent.append(join_option_path(segments))
        elif isinstance(value, str):
            set_path(options, segments, loads_json(value))
        else:
            unavailable.append(join_option_path(segments))
    origin.update({"evaluated": isoformat(now()), "nix": nix.version(), "unavailable": unavailable, "absent": absent})
    if flake is not None:
        positions = _flake_positions(flake, unique, timeout) or positions
    definitions = _definitions(unique, positions)
    if definitions:
        origin["definitions"] = definitions
    return {"facts_version": FACTS_VERSION, "origin": origin, "options": options}
