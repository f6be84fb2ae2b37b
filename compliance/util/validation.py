"""One line from a pydantic validation error: where, and what is wrong.

Every reader of a typed document (catalog, policy, waivers, reports) reports bad input the
same way: the field's dotted path and the first problem, an unknown field first since it
usually explains the "missing" one beside it.
"""

from __future__ import annotations

from pydantic import ValidationError


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    # An unknown (misspelt) field usually explains the "missing" one next to it: say it first.
    """One line for a validation error: the field's dotted path (after ``prefix``) and the first problem."""
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc = ".".join(str(part) for part in first["loc"])
    where = f"{prefix}{loc}" if loc else prefix.rstrip(".")
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown field (misspelt?)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"
