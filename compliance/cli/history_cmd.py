"""``compliance evidence diff|log`` and ``compliance probe diff``: evidence over time.

Attached to the ``evidence`` group (``evidence_cmd``) and to the ``probe`` command, which
takes options of its own and so is not a group: :func:`with_subcommands` gives it a
``diff`` subcommand without changing how ``compliance probe --key ...`` parses.

Exit codes: 0 no regression, 1 regression (a control newly failing, or a new blocking
vulnerability), 2 error (including a side that does not verify with ``--key``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from compliance.cli import probe_cmd
from compliance.cli.evidence_cmd import evidence_group
from compliance.cli.options import catalog_option
from compliance.runs.outputs import check_output_file
from compliance.util.fsutil import atomic_write

FORMATS = ("text", "json", "markdown")


def _trust_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--no-verify", is_flag=True, help="Compare without checking signatures (said loudly on stderr).")(func)
    return click.option("--key", "key_path", metavar="PUB", help="Public key both sides must verify with.")(func)


def _output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--output", "-o", metavar="F", help="Write to F instead of standard output.")(func)
    return click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")(func)


def _warn_unverified(what: str) -> None:
    click.echo(
        f"compliance: WARNING: --no-verify: the signatures of the {what} were NOT checked; nothing vouches for what follows",
        err=True,
    )


def _emit(data: bytes, output: str | None) -> None:
    if output:
        atomic_write(output, data)
    else:
        click.echo(data.decode("utf-8"), nl=False)


def _diff(
    compare: Callable[..., Any], what: str, old: str, new: str, key_path: str | None, no_verify: bool, fmt: str,
    output: str | None, catalog: Path | None,
) -> int:
    """Both diff commands: check the options, warn when unverified, compare, write; the exit code."""
    from compliance.formats.evidence_changes import (
        render_diff_markdown,
        render_diff_text,
        render_json,
    )
    from compliance.runs.diff_run import Trust

    trust = Trust.from_options(key_path, no_verify)
    if output:
        check_output_file(output)
    if no_verify:
        _warn_unverified(what)
    diff = compare(old, new, trust, catalog)
    render = {"text": render_diff_text, "json": render_json, "markdown": render_diff_markdown}[fmt]
    _emit(render(diff), output)
    return 1 if diff.regression else 0


@evidence_group.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@_trust_options
@_output_options
@catalog_option
def evidence_diff_command(old: str, new: str, key_path: str | None, no_verify: bool, fmt: str, output: str | None, catalog: Path | None) -> int:
    """What changed from packet OLD to packet NEW (directories or .tar.gz), both verified
    with --key first. Exit 0 no regression, 1 regression, 2 error."""
    from compliance.runs.diff_run import diff_packets

    return _diff(diff_packets, "packets", old, new, key_path, no_verify, fmt, output, catalog)


@evidence_group.command("log")
@click.argument("packets", nargs=-1, required=True, metavar="PACKET... | DIR")
@_trust_options
@_output_options
@click.option("--svg", "svg_path", metavar="F", help="Also write the trend chart (SVG) to F.")
@catalog_option
def evidence_log_command(
    packets: tuple[str, ...], key_path: str | None, no_verify: bool, fmt: str, output: str | None, svg_path: str | None, catalog: Path | None
) -> int:
    """Per release (oldest first): the verdict, failing and waived controls, blocking
    vulnerabilities and clause standing per framework. Exit 0 ok, 2 error."""
    from compliance.formats.evidence_changes import (
        render_json,
        render_log_markdown,
        render_log_text,
    )
    from compliance.report.trend_chart import trend_svg
    from compliance.runs.diff_run import Trust, evidence_log

    trust = Trust.from_options(key_path, no_verify)
    for path in (output, svg_path):
        if path:
            check_output_file(path)
    if no_verify:
        _warn_unverified("packets")
    log = evidence_log(list(packets), trust, catalog)
    data = {"text": render_log_text, "json": render_json, "markdown": render_log_markdown}[fmt](log)
    svg = trend_svg(log).encode("utf-8") if svg_path else None
    if svg_path and svg is not None:
        atomic_write(svg_path, svg)
    _emit(data, output)
    return 0


@click.command("diff")
@click.argument("old", metavar="A")
@click.argument("new", metavar="B")
@_trust_options
@_output_options
@catalog_option
def probe_diff_command(old: str, new: str, key_path: str | None, no_verify: bool, fmt: str, output: str | None, catalog: Path | None) -> int:
    """Drift of one host between two signed probe reports A and B, both verified with the
    host's public key (--key). Exit 0 no regression, 1 regression, 2 error."""
    from compliance.runs.diff_run import diff_probe_reports

    return _diff(diff_probe_reports, "probe reports", old, new, key_path, no_verify, fmt, output, catalog)


class CommandWithSubcommands(click.Command):
    """A command that keeps its own options and also answers ``NAME SUB ...``."""

    def __init__(self, base: click.Command, subcommands: dict[str, click.Command]) -> None:
        super().__init__(
            base.name or "", context_settings=base.context_settings, callback=base.callback, params=base.params,
            help=base.help, epilog=base.epilog, short_help=base.short_help, add_help_option=base.add_help_option,
        )
        self.subcommands = subcommands

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any) -> click.Context:
        if args and args[0] in self.subcommands:
            name = args[0]
            return self.subcommands[name].make_context(f"{info_name} {name}", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        with formatter.section("Subcommands"):
            formatter.write_dl([(name, cmd.get_short_help_str()) for name, cmd in sorted(self.subcommands.items())])


def with_subcommands(commands: list[click.Command], name: str, subcommands: dict[str, click.Command]) -> None:
    """Replace the command ``name`` in ``commands`` (a module's COMMANDS) by one with subcommands."""
    for index, command in enumerate(commands):
        if command.name == name and not isinstance(command, CommandWithSubcommands):
            commands[index] = CommandWithSubcommands(command, subcommands)


with_subcommands(probe_cmd.COMMANDS, "probe", {"diff": probe_diff_command})

COMMANDS: list[click.Command] = []
