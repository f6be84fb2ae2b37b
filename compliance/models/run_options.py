"""Command options declared once, as typed fields of a run's options model.

A run (``compliance.runs``) takes a frozen dataclass of options; each field carries, in its
metadata, how it is spelt on the command line (:func:`option`). The CLI builds its click
options from those fields (:func:`compliance.cli.options.click_options`), so the flag, its
help, its type and the run's signature cannot drift apart: there is one declaration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OPTION_KEY = "compliance.option"


@dataclass(frozen=True)
class OptionSpec:
    """How one field of a run's options is given on the command line."""

    flags: tuple[str, ...]  # "--closure", or ("--format", "-f")
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] = ()
    inverted: bool = False  # a bool field set by a --no-... flag (True unless the flag is given)
    show_default: bool = False
    minimum: float | None = None


def option(*flags: str, help: str, metavar: str | None = None, choices: tuple[str, ...] = (),
           inverted: bool = False, show_default: bool = False, minimum: float | None = None) -> dict[str, Any]:
    """Field metadata: ``field(default=None, metadata=option("--sbom", metavar="F", help=...))``."""
    return {OPTION_KEY: OptionSpec(tuple(flags), help, metavar, choices, inverted, show_default, minimum)}


def option_spec(metadata: Any) -> OptionSpec | None:
    """The command-line spelling a field declares, if any."""
    spec = metadata.get(OPTION_KEY) if metadata else None
    return spec if isinstance(spec, OptionSpec) else None


def profiles_option() -> dict[str, Any]:
    """The ``--profile`` option every run that selects controls takes."""
    return option("--profile", "-p", metavar="P",
                  help="Profile to apply (repeatable; the strictest parameter wins). Default: every control.")


def catalog_dir_option() -> dict[str, Any]:
    """The ``--catalog`` option every run that loads the catalog takes."""
    return option("--catalog", metavar="DIR", help="Control catalog folder (default: the bundled one).")


def quiet_option() -> dict[str, Any]:
    """``--quiet``: no verdict on standard error."""
    return option("--quiet", "-q", help="Print no verdict on standard error (the exit code and the outputs still say it).")


def verbose_option() -> dict[str, Any]:
    """``--verbose``: a longer verdict on standard error."""
    return option("--verbose", "-v", help="Say more in the verdict on standard error: every item, the inputs, the notes.")
