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
in if builtins.isAttrs cfg then map read paths else { notConfiguration = builtins.typeOf cfg; }
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


def _eval_list(args: list[str], expected: int, timeout: float) -> list[Any]:
    output = nix.run(args, timeout=timeout)
    try:
        values = loads_json(output)
    except MalformedJSON:
        raise NixError("nix eval printed something that is not JSON") from None
    if isinstance(values, dict) and isinstance(kind := values.get("notConfiguration"), str):
        raise NotAConfigurationError(kind)
    if not isinstance(values, list) or len(values) != expected:
        raise NixError("nix eval returned an unexpected shape")
    return values


def _a(kind: str) -> str:
    """``builtins.typeOf``'s word with its article: "an int", "a list"."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


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
        values = _eval_list(args, len(unique), timeout)
    except NotAConfigurationError as kind:
        raise InputError(flake or nix_file or "", f"the value is {_a(str(kind))}, not a NixOS configuration "
                         "(an attribute set of options, or one with 'config')") from None
    except NixError as whole:
        # Some errors escape tryEval (e.g. a missing attribute deep inside a value): read
        # the options one by one so that only the broken ones are unavailable.
        values = []
        for segments in unique:
            single = [*args[:-1], apply_expression([segments])]
            try:
                values.extend(_eval_list(single, 1, timeout))
            except (NixError, NotAConfigurationError):
                values.append(None)
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
    return {"facts_version": FACTS_VERSION, "origin": origin, "options": options}
