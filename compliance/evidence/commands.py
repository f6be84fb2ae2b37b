"""The exact commands an auditor runs to check a packet, printed in the report.

They name files as they are inside the packet and the public key as ``cosign.pub``; the
packet itself is ``PACKET`` (its file name is not part of what was signed, so the report
stays the same wherever the packet is written).
"""

from __future__ import annotations

from .layout import MANIFEST, MANIFEST_BUNDLE, MANIFEST_SIGNATURE, PREDICATE_TYPE, STATEMENT_BUNDLE


def verify_commands(store_path: str | None) -> list[str]:
    commands = [
        "compliance evidence verify PACKET --key cosign.pub",
        "mkdir packet && tar -xzf PACKET -C packet && cd packet    # for a .tar.gz packet",
        f"base64 -d {MANIFEST_SIGNATURE} > manifest.sig.der && "
        f"openssl dgst -sha256 -verify cosign.pub -signature manifest.sig.der {MANIFEST}",
        f"jq -r '.files[] | \"\\(.sha256)  \\(.path)\"' {MANIFEST} | sha256sum -c -",
        f"cosign verify-blob --key cosign.pub --bundle {MANIFEST_BUNDLE} --insecure-ignore-tlog=true {MANIFEST}",
    ]
    if store_path:
        commands.append(
            f"nix-store --dump {store_path} > release.nar && "
            f"cosign verify-blob-attestation --key cosign.pub --bundle {STATEMENT_BUNDLE} "
            f"--type {PREDICATE_TYPE} --insecure-ignore-tlog=true release.nar"
        )
    return commands
