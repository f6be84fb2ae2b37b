"""Evidence packets: build, sign, read safely, verify, export.

A packet is a directory or a deterministic ``.tar.gz`` holding a canonical
``manifest.json`` (every other file with its sha256 and size), the manifest's signatures
(detached and as a Sigstore bundle), an in-toto statement in a DSSE envelope (also as a
bundle), ``results.json``, the rendered report, the exports and the inputs.
"""
