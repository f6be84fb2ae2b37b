"""``compliance gate``: the CI release gate."""

from __future__ import annotations

from typing import Any

import click

from compliance.cli.options import click_options
from compliance.runs.gate_command import gate_command as run_gate_command
from compliance.runs.gate_run import GateOptions


@click.command("gate")
@click_options(GateOptions)
def gate_command(**options: Any) -> int:
    """Judge a release against the selected controls. Exit 0 pass, 1 fail, 2 input error."""
    _run, code = run_gate_command(GateOptions(**options))
    return code


COMMANDS = [gate_command]
