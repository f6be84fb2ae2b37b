"""``compliance evidence``: verify and export signed evidence packets.

``evidence report`` is attached to :data:`evidence_group` by ``report_cmd``.
"""

from __future__ import annotations

import click

from compliance.evidence.layout import EXPORTABLE
from compliance.runs.outputs import check_output_file
from compliance.util.fsutil import atomic_write


@click.group("evidence")
def evidence_group() -> None:
    """Check and read evidence packets (a directory or a .tar.gz), offline."""


@evidence_group.command("verify")
@click.argument("packet", metavar="PACKET")
@click.option("--key", "key_path", required=True, metavar="PUB", help="The signer's public key (PEM, e.g. cosign.pub).")
def verify_command(packet: str, key_path: str) -> int:
    """Check every file's digest, the signatures and that statement, manifest and results
    agree. Exit 0 valid, 1 invalid, 2 unreadable."""
    from compliance.evidence.packet import open_packet
    from compliance.evidence.packet_verify import verify_packet
    from compliance.formats.console import progress
    from compliance.signing.keys import load_public_key

    key = load_public_key(key_path)
    with progress(f"verifying {packet}"):
        result = verify_packet(open_packet(packet), key)
    click.echo(f"packet {result.packet}")
    click.echo(f"key    {result.key_fingerprint}")
    width = max(len(step.name) for step in result.steps)
    for step in result.steps:
        if step.ok:
            click.echo(f"ok      {step.name:<{width}}  {step.passed_summary}")
        elif step.skipped is not None and not step.failures:
            click.echo(f"SKIPPED {step.name:<{width}}  {step.skipped}")
        for failure in step.failures:
            click.echo(f"FAILED  {step.name:<{width}}  {failure.message}")
    if result.valid:
        click.echo("VALID: every check passed")
        return 0
    failed = [step.name for step in result.steps if not step.ok]
    click.echo(f"INVALID: {len(failed)} check(s) failed ({', '.join(failed)}); files: {', '.join(result.failed_files) or 'none'}")
    return 1


@evidence_group.command("export")
@click.argument("packet", metavar="PACKET")
@click.option("--format", "-f", "fmt", required=True, type=click.Choice(sorted(EXPORTABLE)), help="What to export.")
@click.option("--output", "-o", metavar="F", help="Write to F instead of standard output.")
def export_command(packet: str, fmt: str, output: str | None) -> int:
    """Write the packet's OSCAL, SARIF, JUnit or JSON results (as signed). Exit 0 ok, 2 error."""
    from compliance.evidence.export import export_file
    from compliance.evidence.packet import open_packet

    if output:
        check_output_file(output)
    data = export_file(open_packet(packet), fmt)
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode("utf-8"), nl=False)
    return 0


COMMANDS = [evidence_group]
