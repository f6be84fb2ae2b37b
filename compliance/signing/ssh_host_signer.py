"""Signing with a host's OpenSSH ed25519 key, as nixfleet-compliance's collector does.

The private key is the host's own (``/etc/ssh/ssh_host_ed25519_key``, an unencrypted
OpenSSH key file): nixfleet's agent and control plane verify the evidence with the public
half they already pin for the host. Signatures are raw 64-byte ed25519 (deterministic);
their base64 is what ``evidence.json.sig`` holds.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compliance.errors import SigningError
from compliance.util.fsutil import read_bytes


@dataclass(frozen=True)
class SshHostSigner:
    """An OpenSSH ed25519 private key, signing raw ed25519."""

    key: ed25519.Ed25519PrivateKey

    @classmethod
    def from_file(cls, path: str | Path) -> SshHostSigner:
        """The key of ``path``, or :class:`SigningError` naming the file and the problem
        (another key type, an encrypted key: a host key is never encrypted)."""
        data = read_bytes(path, what="SSH host key")
        try:
            key = serialization.load_ssh_private_key(data, password=None)
        except TypeError:
            raise SigningError(f"{path}: the key is encrypted; a host key is read without a password") from None
        except (ValueError, UnsupportedAlgorithm):
            raise SigningError(f"{path}: not an OpenSSH private key") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise SigningError(f"{path}: only ed25519 host keys sign nixfleet evidence")
        return cls(key)

    @property
    def public_line(self) -> str:
        """``ssh-ed25519 AAAA…``, as ``ssh_host_ed25519_key.pub`` and the wave file spell it."""
        return self.key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()

    @property
    def fingerprint(self) -> str:
        """``SHA256:<base64>`` as ``ssh-keygen -lf`` prints it."""
        digest = hashlib.sha256(base64.b64decode(self.public_line.split()[1])).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)
