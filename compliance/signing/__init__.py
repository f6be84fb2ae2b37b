"""Keys and signatures: cosign-compatible ECDSA P-256 keys, deterministic signatures.

This package is the only place that touches private keys. Everything signed by the tool
is signed through a :class:`~compliance.signing.keys.Signer`.
"""
