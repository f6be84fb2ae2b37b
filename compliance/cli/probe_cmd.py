"""``compliance probe``: read a host's effective state and write a signed probe report."""

from __future__ import annotations

from typing import Any

import click

from compliance.cli.options import click_options
from compliance.runs.probe_command import ProbeOptions
from compliance.runs.probe_command import probe_command as run_probe_command


@click.command("probe")
@click_options(ProbeOptions)
def probe_command(**options: Any) -> int:
    """Probe a host's effective state with the selected runtime checks and write a signed report.

    Exit 0 when the report is written, whatever the results; 2 on an input or connection error.
    """
    run_probe_command(ProbeOptions(**options))  # says its verdict on standard error
    return 0


COMMANDS = [probe_command]
