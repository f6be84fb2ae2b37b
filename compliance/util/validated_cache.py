"""A cache of a validated document tree (the control catalog), keyed by digest.

Loading the bundled catalog parses about 80 TOML files and validates them as a whole
(every check, parameter, clause and profile): about 0.1 s of CPU on every run of the
gate, for the same bytes each time. :func:`cached` keeps the validated result on disk
under a key that covers everything the result depends on: the bytes and relative paths
of every ``*.toml`` under the root, the Python and pydantic versions, and the path,
size and modification time of every module of this package (the models, the checks and
the loader decide what is valid). Any change of one of them is another key, so a stale
entry is never read; the loader runs again and writes the new entry.

The cache only ever saves time: an entry that is missing, unreadable, corrupt or of the
wrong type is ignored and the tree is loaded and validated as without the cache; a cache
folder that cannot be written is not an error. ``COMPLIANCE_NO_CACHE=1`` turns it off.
Entries are pickles: the folder (``$COMPLIANCE_CACHE_DIR``, else
``$XDG_CACHE_HOME/compliance-gate``, else ``~/.cache/compliance-gate``) must be writable
only by the user running the tool, like the folder of its byte-compiled modules.

Wiring, one line in ``compliance/catalog/loader.py``::

    return validated_cache.cached(root.resolve(), _load_catalog, Catalog)

in place of ``return _load_catalog(root.resolve())`` in ``load_catalog``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

PACKAGE = Path(__file__).resolve().parents[1]
FORMAT = b"validated-cache 1"


def cache_dir() -> Path:
    """Where entries live (see the module docstring)."""
    explicit = os.environ.get("COMPLIANCE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "compliance-gate"


def _code_stamp(digest: hashlib._Hash) -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        st = path.stat()
        digest.update(f"{path.relative_to(PACKAGE).as_posix()}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())


def tree_key(root: Path) -> str:
    """The digest of everything a validated ``root`` depends on."""
    import pydantic

    digest = hashlib.sha256(FORMAT)
    digest.update(f"\0{sys.version}\0{pydantic.VERSION}\0{root}\0".encode())
    _code_stamp(digest)
    for path in sorted(p for p in root.rglob("*.toml") if p.is_file()):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _read(entry: Path, kind: type[T]) -> T | None:
    try:
        with open(entry, "rb") as handle:
            value = pickle.load(handle)  # the user's own cache folder, keyed by content
    except Exception:  # any unreadable entry is a miss, never an error
        return None
    return value if isinstance(value, kind) else None


def _write(entry: Path, value: object) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=entry.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, entry)
        except BaseException:
            os.unlink(temp)
            raise
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # a read-only home, a full disk: the next run validates again


def cached(root: Path, load: Callable[[Path], T], kind: type[T]) -> T:
    """``load(root)``, or its result validated by an earlier run on the same bytes and code."""
    if os.environ.get("COMPLIANCE_NO_CACHE") or not root.is_dir():
        return load(root)  # a missing root: the loader names the problem
    try:
        entry = cache_dir() / f"{root.name or 'root'}-{tree_key(root)}.pickle"
    except OSError:
        return load(root)
    hit = _read(entry, kind)
    if hit is not None:
        return hit
    value = load(root)
    _write(entry, value)
    return value
