"""``compliance keys generate | sign | verify``: a cosign-compatible key pair, and signatures
over any file in the form the packets' manifest is signed in (how releases are signed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

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


@keys_group.command("sign")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--key", "key_path", required=True, metavar="K", help="Private key (cosign-compatible; password in COSIGN_PASSWORD).")
@click.option("--signer", type=click.Choice(["native", "cosign"]), default="native", show_default=True,
              help="Sign natively (deterministic) or through a cosign binary.")
def sign_command(files: tuple[str, ...], key_path: str, signer: str) -> int:
    """Write FILE.sig (base64 DER ECDSA P-256 / SHA-256, as 'cosign sign-blob
    --output-signature') and FILE.sigstore.json (Sigstore bundle v0.3) beside each FILE.
    All are written or none. Exit 0 ok, 2 error."""
    from compliance.signing.blob import BUNDLE_SUFFIX, SIGNATURE_SUFFIX, sign_blob
    from compliance.signing.signers import open_signer
    from compliance.util.fsutil import atomic_write_all, read_bytes

    blobs = [(name, read_bytes(name, what="file to sign")) for name in files]
    signing = open_signer(signer, key_path)
    written: list[tuple[str | Path, bytes]] = []
    for name, data in blobs:
        signed = sign_blob(signing, data)
        written += [(name + SIGNATURE_SUFFIX, signed.signature), (name + BUNDLE_SUFFIX, signed.bundle)]
    atomic_write_all(written)
    for name, _ in blobs:
        click.echo(f"signed {name}")
    click.echo(f"Fingerprint {signing.public_key.fingerprint}")
    return 0


@keys_group.command("verify")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--key", "key_path", required=True, metavar="PUB", help="Public key (PEM) of the signer.")
def verify_command(files: tuple[str, ...], key_path: str) -> int:
    """Check that FILE.sig and FILE.sigstore.json beside each FILE both verify over it with
    the key. Exit 0 valid, 1 invalid (a signature missing, wrong key, changed file), 2
    unreadable or usage error."""
    from compliance.errors import VerificationError
    from compliance.signing.blob import (
        BUNDLE_SUFFIX,
        SIGNATURE_SUFFIX,
        verify_bundle,
        verify_detached,
    )
    from compliance.signing.keys import load_public_key
    from compliance.util.fsutil import read_bytes

    key = load_public_key(key_path)
    blobs = [(name, read_bytes(name, what="signed file")) for name in files]
    failed = 0
    for name, data in blobs:
        problems: list[str] = []
        for suffix, check in ((SIGNATURE_SUFFIX, verify_detached), (BUNDLE_SUFFIX, verify_bundle)):
            companion = Path(name + suffix)
            if not companion.is_file():
                problems.append(f"{companion}: missing")
                continue
            try:
                check(data, read_bytes(companion, what="signature"), key, str(companion))
            except VerificationError as exc:
                problems.append(str(exc))
        if problems:
            failed += 1
            click.echo(f"FAILED  {name}: {'; '.join(problems)}")
        else:
            click.echo(f"OK      {name}")
    if failed:
        click.echo(f"INVALID: {failed} of {len(blobs)} file(s) do not verify with key {key.fingerprint}")
        return 1
    click.echo(f"VALID: {len(blobs)} file(s) signed by key {key.fingerprint}")
    return 0


COMMANDS = [keys_group]
