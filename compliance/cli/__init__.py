"""The ``compliance`` command: a thin layer over the library.

Every command returns its exit code. Errors the user can act on end as one line on stderr
(``compliance: <file>: <problem>``) with the contract's exit code; nothing ends in a
traceback (set ``COMPLIANCE_DEBUG=1`` to see one for a defect).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from compliance import __version__
from compliance.errors import ComplianceError

# Command name → the modules that define it (imported only when the command runs: start-up
# matters in CI, and the evidence, report and probe stacks are heavy). The first module
# exports the command in COMMANDS; the others attach subcommands to it.
COMMANDS: dict[str, tuple[str, ...]] = {
    "gate": ("gate_cmd",),
    "facts": ("facts_cmd",),
    "sbom": ("sbom_cmd",),
    "controls": ("catalog_cmds",),
    "frameworks": ("catalog_cmds",),
    "evidence": ("evidence_cmd", "report_cmd", "history_cmd"),
    "keys": ("keys_cmd",),
    "attest": ("attest_cmd",),
    "probe": ("probe_cmd", "history_cmd"),
    "promote": ("promote_cmd",),
    "agent": ("agent_cmd",),
    "policy": ("policy_cmd",),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        modules = COMMANDS.get(cmd_name)
        if modules is None:
            return None
        import importlib

        try:
            loaded = [importlib.import_module(f"{__name__}.{name}") for name in modules]
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{__name__}."):
                return None  # a command whose module is not part of this build
            raise
        for command in getattr(loaded[0], "COMMANDS", ()):
            if command.name == cmd_name:
                return command  # type: ignore[no-any-return]
        return None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="compliance")
def cli() -> None:
    """Regulation as a release gate for Nix and NixOS: typed NIS2, DORA, ISO/IEC 27001:2022
    and ANSSI BP-028 controls over closures, SBOMs and hosts, with signed evidence."""


def _fail(message: str, code: int) -> int:
    click.echo(f"compliance: {message}", err=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="compliance", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        return _fail("aborted", 130)
    except click.ClickException as exc:
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            click.echo(exc.ctx.get_usage(), err=True)
        return _fail(exc.format_message(), 2)
    except ComplianceError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 2
    except Exception as exc:  # a defect: still one line and exit 2, never a bare traceback
        if os.environ.get("COMPLIANCE_DEBUG"):
            traceback.print_exc()
        return _fail(f"internal error: {type(exc).__name__}: {exc}", 2)
    return int(result) if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
