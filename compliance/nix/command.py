"""The ``nix`` command line, the only way the tool talks to a Nix store or evaluator.

Every call has a timeout, runs without a shell, enables the experimental commands it needs
by flag (so it works whatever the user's nix.conf says) and turns a failure into a
:class:`NixError` carrying nix's own last line of error output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence

from compliance.errors import NixError

FEATURES = ["--extra-experimental-features", "nix-command flakes"]
DEFAULT_TIMEOUT = 300.0


def nix_binary(name: str = "nix") -> str:
    """The path of a Nix command (``nix``, ``nix-store``); a clear error when Nix is not installed."""
    found = shutil.which(name)
    if found is None:
        raise NixError(f"{name}: command not found (install Nix, e.g. Debian's nix-bin)")
    return found


def run(
    args: Sequence[str],
    *,
    binary: str = "nix",
    store: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    features: bool = True,
) -> bytes:
    """Run ``nix <args>`` and return its standard output."""
    command = [nix_binary(binary)]
    if features and binary == "nix":
        command += FEATURES
    if store is not None:
        command += ["--store", store]
    command += list(args)
    env = dict(os.environ)
    env.setdefault("NIX_PAGER", "cat")
    try:
        proc = subprocess.run(command, capture_output=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise NixError(f"{binary} {' '.join(args[:2])}: timed out after {timeout:.0f} s") from None
    except OSError as exc:
        raise NixError(f"{binary}: cannot run: {exc.strerror or exc}") from None
    if proc.returncode != 0:
        raise NixError(f"{binary} {' '.join(args[:2])}: {_last_error_line(proc.stderr)}")
    return proc.stdout


def _last_error_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    for line in reversed(lines):
        if line.startswith("error:"):
            return line[len("error:") :].strip()
    return lines[-1] if lines else "failed without a message"


def version() -> str:
    """The version ``nix --version`` prints (what the facts and closures were read with)."""
    return run(["--version"], features=False).decode().strip()
