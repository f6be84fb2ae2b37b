"""``python -m compliance``."""

from compliance.cli import run

run()
