"""``compliance sbom``: write the SBOM of a closure, or of a Python wheel and its installed
runtime dependencies (how the tool's own releases carry theirs)."""

from __future__ import annotations

import sys

import click

from compliance.runs.outputs import check_output_file, write_file
from compliance.runs.sbom_command import FORMATS, sbom_bytes


@click.command("sbom")
@click.option("--closure", metavar="X", help="Closure: path-info JSON, a store path listing, or a store path / result link (asks nix).")
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="cyclonedx", show_default=True,
              help="CycloneDX 1.6 JSON, SPDX 2.3 JSON or SPDX 2.3 tag-value.")
@click.option("--output", "-o", metavar="F", help="SBOM file to write (default: standard output).")
@click.option("--store", metavar="DIR", help="Nix store to query for a live closure (a chroot store).")
@click.option("--wheel", metavar="W", help="Instead of a closure: a Python wheel, with the runtime dependencies installed here (CycloneDX only).")
def sbom_command(closure: str | None, fmt: str, output: str | None, store: str | None, wheel: str | None) -> int:
    """Write an SBOM with one component per store path of a closure, or of a wheel and every
    runtime dependency it requires as installed in this environment. Exit 0 ok, 2 error.

    SOURCE_DATE_EPOCH, when set, is the SBOM's timestamp: the same input then gives the
    same bytes."""
    if output:
        check_output_file(output)
    data = sbom_bytes(closure=closure, wheel=wheel, fmt=fmt, store=store)
    if output:
        write_file(output, data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


COMMANDS = [sbom_command]
