"""``compliance attest``: sign and verify manual attestations for clauses no machine can check."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from compliance.cli.options import catalog_option
from compliance.errors import UsageError
from compliance.runs.outputs import check_output_file


@click.group("attest")
def attest_group() -> None:
    """Sign and verify manual attestations (who attests which clause, until when)."""


@attest_group.command("sign")
@click.argument("attestations", metavar="FILE")
@click.option("--key", required=True, metavar="K", help="Private key (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--output", "-o", required=True, metavar="F", help="Signed attestation file to write.")
@catalog_option
def attest_sign(attestations: str, key: str, output: str, catalog: Path | None) -> int:
    """Sign the attestations of FILE (TOML or JSON) into a signed attestation file.

    Every clause an attestation names must exist in the catalog's clause lists.
    """
    from compliance.runs.attestation_files import sign_attestation_file
    from compliance.runs.outputs import write_file

    check_output_file(output)
    data, count, fingerprint = sign_attestation_file(attestations, key, catalog)
    write_file(output, data)
    click.echo(f"signed {count} attestation(s) with {fingerprint} into {output}")
    return 0


@attest_group.command("verify")
@click.argument("files", nargs=-1, metavar="FILE...")
@click.option("--key", required=True, metavar="PUB", help="Public key the attestations must be signed with.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@catalog_option
def attest_verify(files: tuple[str, ...], key: str, as_json: bool, catalog: Path | None) -> int:
    """Check signed attestation files at the assessment time (SOURCE_DATE_EPOCH or now).

    Exit 0 when every attestation counts, 1 when one does not (unsigned, tampered with,
    another key, unknown clause, not yet valid, expired), 2 when a file is unreadable.
    """
    from compliance.runs.attestation_files import (
        describe,
        valid_until_text,
        verify_attestation_files,
    )

    if not files:
        raise UsageError("give at least one signed attestation file")
    outcomes = verify_attestation_files(files, key, catalog)
    if as_json:
        click.echo(orjson.dumps([o.to_jsonable() for o in outcomes], option=orjson.OPT_INDENT_2).decode())
    else:
        for outcome in outcomes:
            until = valid_until_text(outcome)
            tail = f": {outcome.reason}" if outcome.reason else f", by {outcome.attested_by}, valid until {until}"
            click.echo(f"{outcome.status.value:<14} {describe(outcome)}{tail}")
    return 0 if all(o.counts for o in outcomes) else 1


COMMANDS = [attest_group]
