"""``compliance keys generate``: a cosign-compatible key pair."""

from __future__ import annotations

import os
import sys

import click

from compliance.signing.keys import PASSWORD_ENV


@click.group("keys")
def keys_group() -> None:
    """Signing keys (cosign-compatible ECDSA P-256)."""


@keys_group.command("generate")
@click.option("--output-key-prefix", "prefix", default="cosign", show_default=True, metavar="PREFIX",
              help="Write PREFIX.key (encrypted private key, mode 0600) and PREFIX.pub.")
@click.option("--force", is_flag=True, help="Overwrite existing key files.")
def generate_command(prefix: str, force: bool) -> int:
    """Write an encrypted private key and its public key, as 'cosign generate-key-pair'
    does. The password comes from COSIGN_PASSWORD (asked for on a terminal when unset)."""
    from compliance.errors import UsageError
    from compliance.signing.keys import write_key_pair

    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise UsageError(f"{PASSWORD_ENV} is not set: it holds the password of the new private key (may be empty)")
        password = click.prompt("Password for the private key", hide_input=True, confirmation_prompt=True, default="", show_default=False)
    private_path, public_path, key = write_key_pair(prefix, password.encode(), force=force)
    click.echo(f"Private key written to {private_path}")
    click.echo(f"Public key written to {public_path}")
    click.echo(f"Fingerprint {key.fingerprint}")
    return 0


COMMANDS = [keys_group]
