"""``compliance sbom``: the SBOM of a closure, or of a wheel and its installed dependencies."""

from __future__ import annotations

from pathlib import Path

from compliance.errors import UsageError
from compliance.inputs.closure import read_closure
from compliance.sbomgen.sbom_files import FORMATS, write_sbom

__all__ = ["FORMATS", "sbom_bytes"]


def sbom_bytes(*, closure: str | None, wheel: str | None, fmt: str, store: str | None) -> bytes:
    """The SBOM document of exactly one of a closure or a wheel, in ``fmt``."""
    if (closure is None) == (wheel is None):
        raise UsageError("give exactly one of --closure and --wheel")
    if wheel is not None:
        if fmt != "cyclonedx":
            raise UsageError("--wheel writes CycloneDX only")
        from compliance.sbomgen.pydist import wheel_sbom  # only a release needs packaging

        return wheel_sbom(Path(wheel))
    assert closure is not None
    subject, _ = read_closure(closure, store=store)
    return write_sbom(subject, fmt)
