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

from .. import __version__
from ..errors import ComplianceError

COMMAND_MODULES = ("gate", "facts", "catalog_cmds", "evidence", "report_cmd", "keys", "probe", "promote", "sbom", "attest")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="compliance")
def cli() -> None:
    """Regulation as a release gate for Nix and NixOS: typed NIS2, DORA, ISO/IEC 27001:2022
    and ANSSI BP-028 controls over closures, SBOMs and hosts, with signed evidence."""


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


def _fail(message: str, code: int) -> int:
    click.echo(f"compliance: {message}", err=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    _register_commands()
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
