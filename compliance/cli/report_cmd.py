"""``compliance evidence report PACKET --pdf F [--html F]``: the auditor's report of a packet.

Attached to the ``evidence`` group of :mod:`.evidence`; that module registers the group,
so this one exports no command of its own. Both documents are rendered in memory before
either is written, and each is written under a temporary name then renamed: a failure
leaves no file, and never half of one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from compliance.cli.evidence_cmd import evidence_group
from compliance.cli.options import catalog_option
from compliance.errors import UsageError
from compliance.runs.outputs import check_output_file
from compliance.util.fsutil import atomic_write


@evidence_group.command("report")
@click.argument("packet", metavar="PACKET")
@click.option("--pdf", "pdf_path", required=True, metavar="F", help="Write the PDF report to F.")
@click.option("--html", "html_path", metavar="F", help="Also write the HTML report (self-contained) to F.")
@click.option("--previous", metavar="OLD", help="The previous release's packet: add a section of the changes since it.")
@click.option("--key", "key_path", metavar="PUB", help="With --previous: the public key both packets must verify with.")
@click.option("--no-verify", is_flag=True, help="With --previous: compare without checking signatures (said loudly).")
@catalog_option
def report_command(
    packet: str, pdf_path: str, html_path: str | None, previous: str | None, key_path: str | None, no_verify: bool, catalog: Path | None
) -> int:
    """Render the auditor's report of a packet (a directory or a .tar.gz). Exit 0 ok, 2 error.

    With the catalog and SOURCE_DATE_EPOCH the packet was built with, the PDF is byte for
    byte the report.pdf inside the packet (given the same --previous, if it was built with one)."""
    from compliance.catalog.loader import load_catalog
    from compliance.evidence.packet import open_packet
    from compliance.formats.console import progress
    from compliance.report import render_html, render_pdf
    from compliance.runs.report_run import report_from_packet

    check_output_file(pdf_path, option="--pdf")
    if html_path is not None:
        check_output_file(html_path, option="--html")
        if Path(html_path).resolve() == Path(pdf_path).resolve():
            raise UsageError(f"--html {html_path}: the same file as --pdf")
    if (key_path or no_verify) and not previous:
        raise UsageError("--key and --no-verify check the packets compared with --previous: give --previous OLD")
    loaded = load_catalog(catalog)
    report, context = report_from_packet(open_packet(packet), loaded)
    if previous:
        from compliance.runs.diff_run import Trust, report_changes

        trust = Trust.from_options(key_path, no_verify)
        if no_verify:
            click.echo("compliance: WARNING: --no-verify: the packets' signatures were NOT checked; the changes section is unverified", err=True)
        context = dataclasses.replace(context, changes=report_changes(packet, previous, trust, loaded))
    with progress("rendering the PDF report"):
        pdf = render_pdf(report, context)
    html = render_html(report, context) if html_path is not None else None
    atomic_write(pdf_path, pdf)
    if html_path is not None and html is not None:
        atomic_write(html_path, html)
    click.echo(f"report of packet {context.packet_id}: {pdf_path}" + (f", {html_path}" if html_path else ""))
    return 0


COMMANDS: list[click.Command] = []
