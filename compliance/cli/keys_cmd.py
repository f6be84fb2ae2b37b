"""``compliance keys generate | sign | verify``: a cosign-compatible key pair, and signatures
over any file in the form the packets' manifest is signed in (how releases are signed)."""

from __future__ import annotations

import os
import sys

import click

from compliance.errors import UsageError
from compliance.runs.keys_command import PASSWORD_ENV, generate_keys, sign_files, verify_files


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
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise UsageError(f"{PASSWORD_ENV} is not set: it holds the password of the new private key (may be empty)")
        password = click.prompt("Password for the private key", hide_input=True, confirmation_prompt=True, default="", show_default=False)
    private_path, public_path, key = generate_keys(prefix, password.encode(), force=force)
    click.echo(f"Private key written to {private_path}")
    click.echo(f"Public key written to {public_path}")
    click.echo(f"Fingerprint {key.fingerprint}")
    return 0


@keys_group.command("sign")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--key", "key_path", required=True, metavar="K", help="Private key (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--signer", type=click.Choice(["native", "cosign"]), default="native", show_default=True,
              help="Sign natively (deterministic) or through a cosign binary.")
def sign_command(files: tuple[str, ...], key_path: str, signer: str) -> int:
    """Write FILE.sig (base64 DER ECDSA P-256 / SHA-256, as 'cosign sign-blob
    --output-signature') and FILE.sigstore.json (Sigstore bundle v0.3) beside each FILE.
    All are written or none. Exit 0 ok, 2 error."""
    fingerprint = sign_files(list(files), key_path, signer)
    for name in files:
        click.echo(f"signed {name}")
    click.echo(f"Fingerprint {fingerprint}")
    return 0


@keys_group.command("verify")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--key", "key_path", required=True, metavar="PUB", help="Public key (PEM) of the signer.")
def verify_command(files: tuple[str, ...], key_path: str) -> int:
    """Check that FILE.sig and FILE.sigstore.json beside each FILE both verify over it with
    the key. Exit 0 valid, 1 invalid (a signature missing, wrong key, changed file), 2
    unreadable or usage error."""
    key, checks = verify_files(list(files), key_path)
    failed = 0
    for check in checks:
        if check.problems:
            failed += 1
            click.echo(f"FAILED  {check.name}: {'; '.join(check.problems)}")
        else:
            click.echo(f"OK      {check.name}")
    if failed:
        click.echo(f"INVALID: {failed} of {len(checks)} file(s) do not verify with key {key.fingerprint}")
        return 1
    click.echo(f"VALID: {len(checks)} file(s) signed by key {key.fingerprint}")
    return 0


COMMANDS = [keys_group]
