"""Reading signed JSON documents into typed models, with one-line errors.

Bundles, envelopes' statements and packet manifests are all read the same way: JSON, then
the pydantic model; a failure is a :class:`VerificationError` naming the file and the first
field that is wrong.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from compliance.errors import MalformedJSON, VerificationError
from compliance.util.jsonparse import loads_json

M = TypeVar("M", bound=BaseModel)


def first_error(exc: ValidationError) -> str:
    """One line for a validation error: where, and the first problem."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    return f"{where}: {first['msg']}"


def load_document(model: type[M], data: bytes, source: str, what: str) -> M:
    """A signed document's payload as its model; a bad one is invalid evidence naming ``source`` and ``what``."""
    try:
        doc = loads_json(data)
    except MalformedJSON as exc:
        raise VerificationError(f"{source}: not JSON ({exc.problem})") from None
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise VerificationError(f"{source}: not {what}: {first_error(exc)}") from None
