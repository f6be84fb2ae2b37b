"""The keys a wave pins for each host, one per report kind.

A host signs this tool's probe reports with a cosign-format ECDSA P-256 key (PEM public
key in the wave file), and nixfleet-compliance's ``evidence.json`` with its OpenSSH
ed25519 host key (an ``ssh-ed25519 AAAA…`` line, as in nixfleet's ``fleet.resolved.json``).
The key that verifies a report is always the one the wave file gives, never one shipped
next to the report (nixfleet's ``evidence.host.pub`` proves nothing: whoever forges the
evidence writes that file too).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compliance.errors import SigningError
from compliance.signing.keys import PublicKey, parse_public_key


@dataclass(frozen=True)
class SshHostKey:
    """An OpenSSH ed25519 public key, verifying raw 64-byte ed25519 signatures."""

    key: ed25519.Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def fingerprint(self) -> str:
        """``SHA256:<base64>`` as ``ssh-keygen -lf`` prints it."""
        blob = self.key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
        digest = hashlib.sha256(base64.b64decode(blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.key.verify(signature, data)
        except InvalidSignature:
            return False
        return True


def parse_ssh_host_key(text: str) -> SshHostKey:
    """``ssh-ed25519 AAAA… [comment]`` → the key; any other type is refused."""
    fields = text.strip().split()
    if len(fields) < 2 or fields[0] != "ssh-ed25519":
        raise SigningError("expected an OpenSSH 'ssh-ed25519 AAAA…' public key line")
    try:
        key = serialization.load_ssh_public_key(f"{fields[0]} {fields[1]}".encode())
    except (ValueError, TypeError):
        raise SigningError("not a readable OpenSSH ed25519 public key") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise SigningError("only ed25519 host keys are supported")
    return SshHostKey(key)


@dataclass(frozen=True)
class HostKeys:
    """What can verify a host's reports: ``None`` where the wave gives no key of that kind."""

    probe_key: PublicKey | None
    ssh_key: SshHostKey | None

    @classmethod
    def parse(cls, public_key: str | None, ssh_host_key: str | None) -> HostKeys:
        """Raises :class:`SigningError` naming the field that is wrong."""
        probe_key = ssh_key = None
        if public_key is not None:
            try:
                probe_key = parse_public_key(public_key.encode(), "public_key")
            except SigningError as exc:
                raise SigningError(str(exc)) from None
        if ssh_host_key is not None:
            try:
                ssh_key = parse_ssh_host_key(ssh_host_key)
            except SigningError as exc:
                raise SigningError(f"ssh_host_key: {exc}") from None
        return cls(probe_key, ssh_key)

    def fingerprints(self) -> list[str]:
        return [k.fingerprint for k in (self.probe_key, self.ssh_key) if k is not None]
