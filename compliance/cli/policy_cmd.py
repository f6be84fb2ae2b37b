"""``compliance policy check``: validate gate policies and waiver files before they land."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.cli.options import catalog_option


@click.group("policy")
def policy_group() -> None:
    """Gate policies and waiver files."""


@policy_group.command("check")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@catalog_option
def policy_check(files: tuple[str, ...], catalog: Path | None) -> int:
    """Check gate policies and waiver files (TOML or JSON; a file with a 'waivers' list is a
    waiver file) as the gate reads them, control ids against the catalog. Exit 0 all valid,
    2 otherwise (one line naming the file and the problem)."""
    from compliance.runs.validate_run import check_documents

    for checked in check_documents(list(files), catalog):
        click.echo(f"{checked.path}: {checked.summary}")
    return 0


COMMANDS = [policy_group]
