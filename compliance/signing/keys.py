"""cosign-compatible key pairs.

A private key is a PKCS#8 ECDSA P-256 key, encrypted the way cosign does it (PEM block
``ENCRYPTED SIGSTORE PRIVATE KEY`` whose body is a JSON document: scrypt key derivation,
NaCl secretbox); the public key is a PEM ``PUBLIC KEY`` (SPKI). The password comes from
``COSIGN_PASSWORD``. Signatures are ECDSA over SHA-256, DER-encoded, and deterministic
(RFC 6979): the same key and message always give the same bytes, so packets are
reproducible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import nacl.exceptions
import nacl.secret
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from compliance.errors import SigningError, UsageError
from compliance.util.fsutil import atomic_write, read_bytes
from compliance.util.jsonparse import loads_json

ENCRYPTED_LABEL = "ENCRYPTED SIGSTORE PRIVATE KEY"
LEGACY_LABELS = ("ENCRYPTED COSIGN PRIVATE KEY",)
SCRYPT_PARAMS = {"N": 65536, "r": 8, "p": 1}
ACCEPTED_N = (32768, 65536, 131072)
PASSWORD_ENV = "COSIGN_PASSWORD"


def _pem(label: str, body: bytes) -> bytes:
    b64 = base64.b64encode(body).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return (f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n").encode()


def _unpem(data: bytes, source: str) -> tuple[str, bytes]:
    text = data.decode("ascii", "replace").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) < 3 or not lines[0].startswith("-----BEGIN ") or not lines[-1].startswith("-----END "):
        raise SigningError(f"{source}: not a PEM file")
    label = lines[0][len("-----BEGIN ") :].rstrip("-")
    try:
        return label, base64.b64decode("".join(lines[1:-1]), validate=True)
    except (binascii.Error, ValueError):
        raise SigningError(f"{source}: invalid base64 in the PEM body") from None


def password_from_env() -> bytes:
    """The private key's password from COSIGN_PASSWORD, as cosign reads it (unset is an error, empty is allowed)."""
    value = os.environ.get(PASSWORD_ENV)
    if value is None:
        raise SigningError(f"{PASSWORD_ENV} is not set: it holds the password of the private key (may be empty)")
    return value.encode()


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=512 << 20, dklen=32)


def encrypt_private_key(pkcs8_der: bytes, password: bytes, *, salt: bytes | None = None, nonce: bytes | None = None) -> bytes:
    """A PKCS#8 key encrypted as cosign does (scrypt, then NaCl secretbox), as the PEM document cosign reads."""
    salt = salt or os.urandom(32)
    nonce = nonce or os.urandom(24)
    key = _scrypt(password, salt, SCRYPT_PARAMS["N"], SCRYPT_PARAMS["r"], SCRYPT_PARAMS["p"])
    ciphertext = nacl.secret.SecretBox(key).encrypt(pkcs8_der, nonce).ciphertext
    doc = {
        "kdf": {"name": "scrypt", "params": SCRYPT_PARAMS, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(ciphertext).decode(),
    }
    return _pem(ENCRYPTED_LABEL, json.dumps(doc, separators=(",", ":")).encode())


def _is_pkcs8(der: bytes) -> bool:
    """PrivateKeyInfo starts ``SEQUENCE { INTEGER 0, SEQUENCE AlgorithmIdentifier, ...``; a
    SEC1 ``ECPrivateKey`` (which cryptography would also load, and cosign refuses) starts
    ``SEQUENCE { INTEGER 1, OCTET STRING ...``."""
    if len(der) < 8 or der[0] != 0x30:
        return False
    length_octets = der[1] & 0x7F if der[1] & 0x80 else 0
    body = der[2 + length_octets :]
    return body[:3] == b"\x02\x01\x00" and body[3:4] == b"\x30"


def decrypt_private_key(data: bytes, password: bytes, source: str) -> ec.EllipticCurvePrivateKey:
    """The EC private key of a cosign-encrypted (or plain PKCS#8) PEM document; a wrong password is a clear error."""
    label, body = _unpem(data, source)
    if label not in (ENCRYPTED_LABEL, *LEGACY_LABELS):
        if "PRIVATE KEY" in label:
            raise SigningError(f"{source}: a '{label}' PEM; expected a cosign key ({ENCRYPTED_LABEL})")
        raise SigningError(f"{source}: a '{label}' PEM, not a private key")
    try:
        doc = loads_json(body)
        kdf, cipher = doc["kdf"], doc["cipher"]
        if kdf["name"] != "scrypt" or cipher["name"] != "nacl/secretbox":
            raise SigningError(f"{source}: unsupported key encryption {kdf['name']}/{cipher['name']}")
        params = kdf["params"]
        n, r, p = int(params["N"]), int(params["r"]), int(params["p"])
        salt = base64.b64decode(kdf["salt"])
        nonce = base64.b64decode(cipher["nonce"])
        ciphertext = base64.b64decode(doc["ciphertext"])
    except SigningError:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise SigningError(f"{source}: malformed encrypted key document") from None
    if n not in ACCEPTED_N or r != 8 or p != 1:
        raise SigningError(f"{source}: unsupported scrypt parameters N={n} r={r} p={p}")
    try:
        der = nacl.secret.SecretBox(_scrypt(password, salt, n, r, p)).decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise SigningError(f"{source}: wrong password (COSIGN_PASSWORD) or corrupted key") from None
    if not _is_pkcs8(der):
        raise SigningError(f"{source}: the decrypted key is not PKCS#8 (cosign keys are PKCS#8)")
    try:
        key = serialization.load_der_private_key(der, password=None)
    except ValueError:
        raise SigningError(f"{source}: the decrypted key is not a readable PKCS#8 key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(f"{source}: only ECDSA P-256 keys are supported")
    return key


@dataclass(frozen=True)
class PublicKey:
    """An ECDSA P-256 public key with its fingerprint: what verifies packets, reports and attestations."""
    key: ec.EllipticCurvePublicKey

    @property
    def spki_der(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def pem(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @property
    def fingerprint(self) -> str:
        """``SHA256:<hex>`` of the SPKI DER: what reports print and auditors compare."""
        return "SHA256:" + hashlib.sha256(self.spki_der).hexdigest()

    @property
    def hint(self) -> str:
        """cosign's public-key hint in a Sigstore bundle: base64 of sha256(SPKI DER)."""
        return base64.b64encode(hashlib.sha256(self.spki_der).digest()).decode()

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def load_public_key(path: str | Path) -> PublicKey:
    """The public key in a PEM file (a cosign .pub or an openssl-written key)."""
    data = read_bytes(path, what="public key")
    return parse_public_key(data, str(path))


def parse_public_key(data: bytes, source: str) -> PublicKey:
    """The ECDSA P-256 public key in PEM bytes; any other key type is refused, naming ``source``."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise SigningError(f"{source}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(f"{source}: only ECDSA P-256 public keys are supported")
    return PublicKey(key)


class Signer(Protocol):
    """Signs bytes with one key; ``sign`` returns a DER ECDSA P-256 / SHA-256 signature."""

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes: ...


class NativeSigner:
    """Signs in-process with the cryptography library, deterministically (RFC 6979)."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        self._key = private_key

    @classmethod
    def from_file(cls, path: str | Path, password: bytes | None = None) -> NativeSigner:
        data = read_bytes(path, what="private key")
        return cls(decrypt_private_key(data, password_from_env() if password is None else password, str(path)))

    @property
    def public_key(self) -> PublicKey:
        return PublicKey(self._key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


def generate_keypair(password: bytes) -> tuple[bytes, bytes]:
    """A new (encrypted private key PEM, public key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return encrypt_private_key(der, password), PublicKey(key.public_key()).pem


def write_key_pair(prefix: str | Path, password: bytes, *, force: bool = False) -> tuple[Path, Path, PublicKey]:
    """Write ``PREFIX.key`` (0600) and ``PREFIX.pub`` (0644), as ``cosign generate-key-pair``.

    Existing files are kept unless ``force``: overwriting a signing key loses it for good.
    """
    private_path, public_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    if not force:
        for path in (private_path, public_path):
            if path.exists() or path.is_symlink():
                raise UsageError(f"{path}: already exists; refusing to overwrite a key (use --force)")
    private_pem, public_pem = generate_keypair(password)
    atomic_write(private_path, private_pem, mode=0o600)
    atomic_write(public_path, public_pem, mode=0o644)
    return private_path, public_path, parse_public_key(public_pem, str(public_path))
