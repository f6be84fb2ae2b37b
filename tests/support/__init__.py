"""Helpers shared by the tests: the CLI, real Nix builds, the third-party data folder."""
