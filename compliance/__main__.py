"""``python -m compliance``."""

from .cli import run

run()
