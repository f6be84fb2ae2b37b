"""``compliance probe``: read a host's effective state and write a signed probe report;
with ``--inventory``, many hosts in one run."""

from __future__ import annotations

import sys
from typing import Any

import click

from compliance.cli.options import click_options
from compliance.runs.probe_command import SOME_HOSTS_FAILED, ProbeOptions, fleet_command, plan_fleet
from compliance.runs.probe_command import probe_command as run_probe_command


@click.command("probe")
@click_options(ProbeOptions)
def probe_command(**options: Any) -> int:
    """Probe a host's effective state with the selected runtime checks and write a signed report.

    Exit 0 when the report is written, whatever the results; 2 on an input or connection
    error. With --inventory: 0 when every host's report is written, 4 when some host has
    none (unreachable, failed or timed out; the others' are written), 2 on an input error
    (nothing probed).
    """
    opts = ProbeOptions(**options)
    if opts.inventory is None:
        run_probe_command(opts)  # says its verdict on standard error
        return 0
    from compliance.cli.fleet_view import FleetProgress, render_summary
    from compliance.promote.wave import read_wave

    plan = plan_fleet(opts, check_wave=read_wave)
    with FleetProgress(len(plan.jobs), enabled=sys.stderr.isatty()) as progress:
        runs = fleet_command(opts, plan, on_start=progress.started, on_done=progress.done)
    render_summary(runs)
    failed = [r for r in runs if not r.ok]
    for run in failed:
        click.echo(f"compliance: {run.name} ({run.address}): {run.state}: {run.error}", err=True)
    return SOME_HOSTS_FAILED if failed else 0


COMMANDS = [probe_command]
