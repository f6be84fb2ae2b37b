"""``compliance facts``: evaluate the NixOS options the selected controls read."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.cli.options import catalog_option, profile_option
from compliance.runs.facts_command import facts_document, facts_paths
from compliance.runs.outputs import check_output_file, write_file


@click.command("facts")
@click.option("--flake", metavar="REF#HOST", help="Flake and host: evaluates nixosConfigurations.HOST.config.")
@click.option("--file", "nix_file", metavar="F", help="Nix file whose value (or its .config) is the configuration.")
@click.option("--attr", metavar="A", help="Attribute path inside --file.")
@click.option("--list", "list_only", is_flag=True, help="Only print the option paths that would be evaluated.")
@click.option("-o", "--output", metavar="F", help="Facts document to write (default: standard output).")
@profile_option
@catalog_option
def facts_command(flake: str | None, nix_file: str | None, attr: str | None, list_only: bool, output: str | None,
                  profiles: tuple[str, ...], catalog: Path | None) -> int:
    """Evaluate exactly the NixOS options the selected controls read, into a facts document."""
    if output:
        check_output_file(output)
    paths = facts_paths(list(profiles), catalog)
    if list_only:
        click.echo("\n".join(paths))
        return 0
    data = facts_document(paths, flake=flake, nix_file=nix_file, attr=attr)
    if output:
        write_file(output, data)
    else:
        click.echo(data.decode(), nl=False)
    return 0


COMMANDS = [facts_command]
