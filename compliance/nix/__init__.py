"""Nix itself: the ``nix`` command, Nix's hash encodings and store-path names.

The readers in ``inputs`` and the probes use these; nothing here reads a user's file.
"""
