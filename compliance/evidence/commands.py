"""The exact commands an auditor runs to check a packet, printed in the report.

They name files as they are inside the packet and the public key as ``cosign.pub``; the
packet itself is ``PACKET`` (its file name is not part of what was signed, so the report
stays the same wherever the packet is written). Scratch files (the DER signature, the
release's NAR) go to a fresh directory outside the packet, and the key is named by its
absolute path, so following the commands leaves the packet as it was: verifying it again
afterwards still finds no extra file.
"""

from __future__ import annotations

from compliance.evidence.layout import (
    MANIFEST,
    MANIFEST_BUNDLE,
    MANIFEST_SIGNATURE,
    PREDICATE_TYPE,
    STATEMENT_BUNDLE,
)

SETUP = 'key=$(realpath cosign.pub) && scratch=$(mktemp -d)    # scratch files go there, never into the packet'


def verify_commands(store_path: str | None) -> list[str]:
    """The standard-tool commands an auditor runs to check a packet by hand, as the report prints them."""
    commands = [
        "compliance evidence verify PACKET --key cosign.pub",
        SETUP,
        "mkdir packet && tar -xzf PACKET -C packet && cd packet    # for a .tar.gz packet; for a directory: cd PACKET",
        f'base64 -d {MANIFEST_SIGNATURE} > "$scratch/manifest.sig.der" && '
        f'openssl dgst -sha256 -verify "$key" -signature "$scratch/manifest.sig.der" {MANIFEST}',
        f"jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' {MANIFEST} | sha256sum -c -",
        f'cosign verify-blob --key "$key" --bundle {MANIFEST_BUNDLE} --insecure-ignore-tlog=true {MANIFEST}',
    ]
    if store_path:
        commands.append(
            f'nix-store --dump {store_path} > "$scratch/release.nar" && '
            f'cosign verify-blob-attestation --key "$key" --bundle {STATEMENT_BUNDLE} '
            f'--type {PREDICATE_TYPE} --insecure-ignore-tlog=true "$scratch/release.nar"'
        )
    return commands
