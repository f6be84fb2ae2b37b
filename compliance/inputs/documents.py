"""Policy and waiver files (TOML or JSON), validated into their models."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from compliance.errors import InputError
from compliance.models.policy import Policy, Waiver, WaiverFile
from compliance.util.fsutil import parse_json, read_bytes

M = TypeVar("M", bound=BaseModel)


def load_document(path: str | Path, data: bytes | None = None) -> Any:
    """TOML when the name ends in .toml, JSON otherwise."""
    raw = read_bytes(path) if data is None else data
    if str(path).endswith(".toml"):
        try:
            return tomllib.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(path, "not UTF-8 text") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(path, f"invalid TOML: {exc}") from None
        except RecursionError:
            raise InputError(path, "invalid TOML: nested too deeply") from None
    return parse_json(raw, path)


def validate(cls: type[M], doc: Any, source: str | Path) -> M:
    from compliance.util.validation import format_validation_error

    if not isinstance(doc, dict):
        raise InputError(source, f"expected an object, got {type(doc).__name__}")
    try:
        return cls.model_validate(doc)
    except ValidationError as exc:
        raise InputError(source, format_validation_error(exc)) from None


def read_policy(path: str | Path, data: bytes | None = None) -> Policy:
    return validate(Policy, load_document(path, data), path)


def read_listing(path: str | Path, data: bytes | None, cls: type[M], key: str, noun: str) -> M:
    """A document listing items under ``key`` (or a bare list of them), each id used once."""
    doc = load_document(path, data)
    if isinstance(doc, list):
        doc = {key: doc}
    listing = validate(cls, doc, path)
    seen: set[str] = set()
    for item in getattr(listing, key):
        if item.id in seen:
            raise InputError(path, f"{noun} id {item.id} is used twice")
        seen.add(item.id)
    return listing


def read_waivers(path: str | Path, data: bytes | None = None) -> list[Waiver]:
    return read_listing(path, data, WaiverFile, "waivers", "waiver").waivers
