"""Where the tool's own data lives: the catalog, the report templates, the schemas.

An installed tool reads them from inside its own package (``compliance/_data/``, put there
by the wheel build), so a stray top-level ``templates/`` or ``controls/`` folder that some
other distribution left in site-packages can never take their place. A source checkout has
no ``_data``; there the folders at the top of the repository are used, and only when the
folder above the package is this project's checkout (its ``pyproject.toml`` names it).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_NAME = 'name = "compliance-gate"'


@cache
def _checkout_root() -> Path | None:
    root = PACKAGE_DIR.parent
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if PROJECT_NAME in pyproject else None


def data_dir(name: str) -> Path:
    """The data folder ``name`` (``controls``, ``templates``, ``evidence``) of this tool."""
    packaged = PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    root = _checkout_root()
    if root is not None:
        return root / name
    return packaged  # absent: the caller reports the missing file it looked for
