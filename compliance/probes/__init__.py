"""Runtime probes: ``func(host, params) -> Outcome`` over the effective state of a host.

Importing this package registers every probe (see :mod:`compliance.registry`).
"""

from . import accounts, crypto, files, kernel, logs, network, nixstore, services, sshd  # noqa: F401
