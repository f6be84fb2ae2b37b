"""Every error the tool raises on purpose.

One module, one hierarchy (the sigstore-python way): the CLI maps each family to an exit
code and prints ``str(error)`` as one line, so the message must name the file and the
problem. Anything that is not a ``ComplianceError`` is a defect and still must not reach
the user as a traceback (the CLI reports it as an internal error, exit 2).
"""

from __future__ import annotations

from pathlib import Path


class ComplianceError(Exception):
    """Base class: a failure the user can act on. Exit code 2 unless a subclass says otherwise."""

    exit_code = 2


class UsageError(ComplianceError):
    """The command line is inconsistent (missing option, conflicting flags)."""


class InputError(ComplianceError):
    """An input file or live source cannot be read or does not have the expected shape."""

    def __init__(self, source: str | Path, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")


class CatalogError(InputError):
    """A control, framework or profile file of the catalog is invalid."""


class NixError(ComplianceError):
    """The ``nix`` command line failed or is not installed."""


class SigningError(ComplianceError):
    """A key cannot be loaded or a signature cannot be made."""


class VerificationError(ComplianceError):
    """A signature, digest or binding does not verify. Exit code 1: the evidence is invalid."""

    exit_code = 1


class UnverifiedEvidenceError(ComplianceError):
    """A packet or report to compare does not verify: it is refused (exit 2, the comparison
    cannot be made), unless the caller chose not to verify."""


class UnsafeArchiveError(ComplianceError):
    """An archive tries to escape its target or exceeds the extraction bounds."""


class ProbeError(ComplianceError):
    """A host cannot be reached or a probe transport failed as a whole."""


class CheckError(Exception):
    """Raised inside a predicate or probe: the check cannot decide (missing or bad input).

    The engine turns it into an ``error`` result with this message; it never becomes a pass.
    """


class NotApplicable(Exception):
    """Raised inside a predicate or probe when the check does not apply to this subject."""


class ServiceRefused(ComplianceError):
    """The report service answered *no* (a 4xx other than 408 and 429): retrying would give
    the same answer."""


class ServiceUnavailable(ComplianceError):
    """The report service could not be reached, or answered *later* (408, 429, 5xx)."""


# Value-level errors: raised by parsers and caught by their callers, which turn them into an
# InputError naming the file (or a check error), so they never reach the user bare.


class CanonicalizationError(ComplianceError):
    """The value cannot be represented in canonical JSON (NaN, infinity, a non-string key)."""


class TemplateError(ComplianceError):
    """The report templates are missing or broken: an installation defect."""


class PdfError(ComplianceError):
    """WeasyPrint is missing or could not lay the report out."""


class CheckTimeout(Exception):
    """A check ran past its time limit: the engine reports it as an error, never a pass."""


class CvssError(ValueError):
    """A vector that is not a complete CVSS v2 or v3.x base vector."""


class NotAConfigurationError(Exception):
    """The evaluated value is not an attribute set: no option can be read from it."""


class OptionPathError(ValueError):
    """A NixOS option path that cannot be split into its attribute names."""


class StorePathError(ValueError):
    """Not a valid store path."""


class HashFormatError(ValueError):
    """A digest that is not valid in the Nix hash encoding it claims."""


class MalformedJSON(ValueError):
    """Bytes that are not JSON this tool accepts: a syntax error, a key written twice in one
    object, nesting deeper than the parser's limit. It carries no file name: the caller wraps
    it into an :class:`InputError` (an input) or a :class:`VerificationError` (signed evidence)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)
