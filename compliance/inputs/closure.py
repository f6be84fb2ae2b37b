"""Nix closures from ``nix path-info --json --recursive`` output, a plain listing of store
paths, or a live store path queried through ``nix``.

path-info JSON comes in several shapes: Nix 2.8 prints a list of objects with a ``path``
key; later versions print an object keyed by store path (``null`` for an invalid path);
the newest print store paths without the store directory, a structured ``ca`` and
structured signatures. All of them read into the same :class:`Closure`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from compliance.errors import InputError, MalformedJSON, StorePathError
from compliance.models.subject import NIX_STORE, Closure, StorePathInfo
from compliance.nix import command as nix
from compliance.nix.storepath import parse_store_path, split_name
from compliance.util.fsutil import parse_json, read_bytes
from compliance.util.jsonparse import loads_json


def read_closure(spec: str, *, store: str | None = None) -> tuple[Closure, bytes]:
    """``spec`` is a file (path-info JSON or a listing) or a live store path / symlink to
    one. Returns the closure and the bytes it was read from (kept as evidence)."""
    live = live_store_path(spec)
    if live is not None:
        return query_live(live, store=store, source=spec)
    data = read_bytes(spec, what="closure file")
    return parse_closure(data, spec), data


def live_store_path(spec: str) -> str | None:
    """A store path (or a ``result`` symlink into the store) means: ask Nix. A file inside
    a store object (``/nix/store/<hash>-closure-info/store-paths``, or a symlink to one) is
    a closure file like any other: asking Nix about the object holding it would judge that
    object, not the release the file describes."""
    target = spec
    if not spec.startswith(NIX_STORE + "/"):
        path = Path(spec)
        if not path.is_symlink():
            return None
        target = os.readlink(path)
        if not target.startswith(NIX_STORE + "/"):
            return None
    name, _, inner = target[len(NIX_STORE) + 1 :].partition("/")
    if inner.strip("/") and Path(spec).is_file():
        return None
    return f"{NIX_STORE}/{name}"


def json_format_args(version_line: str) -> list[str]:
    """Nix 2.33 deprecates path-info's unversioned JSON: ask it for format 2 (the wrapped,
    structured one this module reads); older Nix has no such option."""
    match = re.search(r"(\d+)\.(\d+)", version_line)
    if match and (int(match.group(1)), int(match.group(2))) >= (2, 33):
        return ["--json-format", "2"]
    return []


def query_live(store_path: str, *, store: str | None = None, source: str | None = None) -> tuple[Closure, bytes]:
    output = nix.run(["path-info", "--json", *json_format_args(nix.version()), "--recursive", store_path], store=store)
    closure = parse_closure(output, source or store_path, roots=(store_path,))
    real = Path(store) / NIX_STORE.lstrip("/") if store else Path(NIX_STORE)
    return closure.model_copy(update={"real_store_dir": real}), output


def parse_closure(data: bytes, source: str, *, roots: tuple[str, ...] | None = None) -> Closure:
    stripped = data.lstrip()
    if not stripped:
        raise InputError(source, "empty file, expected path-info JSON or a list of store paths")
    if stripped[:1] in (b"[", b"{"):
        return parse_path_info(parse_json(data, source), source, roots=roots)
    if not stripped.startswith((b"/", b"#")):
        try:
            doc = loads_json(data)
        except MalformedJSON:
            raise InputError(source, "neither path-info JSON nor a listing of store paths") from None
        raise InputError(source, f"top-level JSON is a {_kind(doc)}, expected a list or an object")
    return parse_listing(data, source)


def parse_listing(data: bytes, source: str) -> Closure:
    """One store path per line (``nix-store -qR`` output); ``#`` comments and blank lines
    are skipped. ``nix-store -qR`` prints dependencies first, so the last path is the
    top-level one. A listing has no references, hashes or sizes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"not a text listing of store paths (byte {exc.start} is not UTF-8)") from None
    paths: dict[str, StorePathInfo] = {}
    order: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        info = _info(line, {}, source, NIX_STORE, where=f"line {lineno}")
        if info.path not in paths:
            order.append(info.path)
        paths[info.path] = info
    if not paths:
        raise InputError(source, "no store paths in the listing")
    return Closure(source=source, roots=(order[-1],), paths=paths)


def _unwrapped(doc: dict[str, Any], source: str) -> tuple[dict[str, Any], str]:
    """Nix 2.33's ``--json-format 2`` wraps the object keyed by path: ``{"version": 2,
    "storeDir": "/nix/store", "info": {<path>: <info>}}``. Older shapes are returned as
    they are, with the default store directory."""
    if "info" not in doc or not isinstance(doc.get("version"), int) or set(doc) - {"version", "storeDir", "info"}:
        return doc, NIX_STORE
    info, store_dir = doc["info"], doc.get("storeDir", NIX_STORE)
    if not isinstance(info, dict):
        raise InputError(source, f"'info' is a {_kind(info)}, expected an object keyed by store path")
    if not isinstance(store_dir, str) or not store_dir.startswith("/"):
        raise InputError(source, "'storeDir' must be an absolute path")
    return info, store_dir


def parse_path_info(doc: Any, source: str, *, roots: tuple[str, ...] | None = None) -> Closure:
    entries: list[tuple[str, dict[str, Any]]] = []
    default_store_dir = NIX_STORE
    if isinstance(doc, list):
        for index, item in enumerate(doc):
            if not isinstance(item, dict):
                raise InputError(source, f"entry {index} is a {_kind(item)}, expected an object")
            path = item.get("path")
            if not isinstance(path, str):
                raise InputError(source, f"entry {index} has no 'path' string")
            if item.get("valid") is False:
                raise InputError(source, f"{path} is not valid in the store")
            entries.append((path, item))
    elif isinstance(doc, dict):
        doc, default_store_dir = _unwrapped(doc, source)
        if "narHash" in doc and "references" in doc:
            raise InputError(source, "a single path-info object without its store path; expected the output of 'nix path-info --json --recursive'")
        for path, item in doc.items():
            if item is None:
                raise InputError(source, f"{path} is not valid in the store")
            if not isinstance(item, dict):
                raise InputError(source, f"value for {path} is a {_kind(item)}, expected an object")
            entries.append((path, item))
    else:
        raise InputError(source, f"top-level JSON is a {_kind(doc)}, expected a list or an object")
    if not entries:
        raise InputError(source, "path-info JSON holds no store paths")
    paths: dict[str, StorePathInfo] = {}
    for path, item in entries:
        store_dir = item.get("storeDir", default_store_dir)
        if not isinstance(store_dir, str) or not store_dir.startswith("/"):
            raise InputError(source, f"{path}: 'storeDir' must be an absolute path")
        info = _info(path, item, source, store_dir, where=path)
        paths[info.path] = info
    for info in paths.values():
        for ref in info.references:
            if ref not in paths:
                raise InputError(source, f"{info.path} references {ref}, which is not in the closure (not the output of --recursive?)")
    if roots is None:
        roots = _roots(paths)
    else:
        missing = [r for r in roots if r not in paths]
        if missing:
            raise InputError(source, f"top-level path {missing[0]} is not in the closure")
    return Closure(source=source, roots=roots, paths=paths)


def _roots(paths: dict[str, StorePathInfo]) -> tuple[str, ...]:
    referenced = {ref for info in paths.values() for ref in info.references if ref != info.path}
    roots = tuple(sorted(p for p in paths if p not in referenced))
    # A closure always has at least one unreferenced path unless references form a
    # cycle, which Nix does not allow between distinct store paths.
    return roots or tuple(sorted(paths))


def _absolute(path: str, store_dir: str) -> str:
    return path if path.startswith("/") else f"{store_dir.rstrip('/')}/{path}"


def _info(path: str, item: dict[str, Any], source: str, store_dir: str, *, where: str) -> StorePathInfo:
    full = _absolute(path, store_dir)
    try:
        _, name = parse_store_path(full, store_dir)
    except StorePathError as exc:
        raise InputError(source, f"{where}: {exc}") from None
    refs_raw = item.get("references", [])
    if not isinstance(refs_raw, list) or not all(isinstance(r, str) for r in refs_raw):
        raise InputError(source, f"{where}: 'references' must be a list of store paths")
    references = []
    for ref in refs_raw:
        absolute = _absolute(ref, store_dir)
        try:
            parse_store_path(absolute, store_dir)
        except StorePathError as exc:
            raise InputError(source, f"{where}: reference {exc}") from None
        references.append(absolute)
    nar_hash = _hash_text(item.get("narHash"), source, f"{where}: 'narHash'")
    nar_size = item.get("narSize")
    if nar_size is not None and (not isinstance(nar_size, int) or isinstance(nar_size, bool) or nar_size < 0):
        raise InputError(source, f"{where}: 'narSize' must be a non-negative integer")
    deriver = _deriver(item.get("deriver"), source, store_dir, where)
    drv_name = split_name(name)
    # Every field was checked above: skip pydantic's second pass (5,000 paths in a closure).
    return StorePathInfo.model_construct(
        path=full,
        name=drv_name.name,
        version=drv_name.version,
        nar_hash=nar_hash,
        nar_size=nar_size,
        references=tuple(sorted(set(references))),
        deriver=deriver,
        signatures=_signatures(item.get("signatures", []), source, where),
        ca=_ca(item.get("ca"), source, where),
    )


def _deriver(raw: Any, source: str, store_dir: str, where: str) -> str | None:
    """The derivation a path was built from, a ``.drv`` store path: it becomes the SBOM's
    ``nix:drv_path`` and places vulnerability findings, so text that is not one is bad input."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise InputError(source, f"{where}: 'deriver' must be a string")
    deriver = _absolute(raw, store_dir)
    try:
        parse_store_path(deriver, store_dir)
    except StorePathError as exc:
        raise InputError(source, f"{where}: deriver {exc}") from None
    if not deriver.endswith(".drv"):
        raise InputError(source, f"{where}: deriver {deriver!r} is not a derivation (.drv)")
    return deriver


def _signatures(raw: Any, source: str, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise InputError(source, f"{where}: 'signatures' must be a list")
    out = []
    for sig in raw:
        if isinstance(sig, str):
            out.append(sig)
        elif isinstance(sig, dict) and isinstance(sig.get("keyName"), str) and isinstance(sig.get("sig"), str):
            out.append(f"{sig['keyName']}:{sig['sig']}")
        else:
            raise InputError(source, f"{where}: a signature is neither 'key:sig' nor {{keyName, sig}}")
    return tuple(out)


def _hash_text(raw: Any, source: str, what: str) -> str | None:
    """A hash as Nix prints it: a string (SRI, ``algo:nix32`` or ``algo:hex``), or, since
    Nix 2.33's structured JSON, ``{"algorithm", "format", "hash"}`` (format ``base16``,
    ``nix32``, ``base64`` or ``sri``); returned in a notation :mod:`compliance.nix.hashes`
    reads."""
    if raw is None or isinstance(raw, str):
        return raw
    if not isinstance(raw, dict):
        raise InputError(source, f"{what} must be a string or an object {{algorithm, format, hash}}")
    algorithm, form, digest = raw.get("algorithm"), raw.get("format"), raw.get("hash")
    if not isinstance(digest, str) or (algorithm is not None and not isinstance(algorithm, str)):
        raise InputError(source, f"{what}: a structured hash needs 'hash' (and 'algorithm') strings")
    if form == "sri" or (form is None and "-" in digest and algorithm is None):
        return digest
    if not isinstance(algorithm, str):
        raise InputError(source, f"{what}: a structured hash without 'algorithm'")
    if form == "base64":
        return f"{algorithm}-{digest}"
    if form in ("base16", "nix32", "base32"):
        return f"{algorithm}:{digest}"
    raise InputError(source, f"{what}: unknown hash format {form!r} (expected base16, nix32, base64 or sri)")


def _ca(raw: Any, source: str, where: str) -> str | None:
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        digest = _hash_text(raw.get("hash"), source, f"{where}: 'ca' hash")
        return f"{raw.get('method', '?')}:{digest or '?'}"
    return str(raw)


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), type(value).__name__
    )
