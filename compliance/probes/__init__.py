"""Runtime probes: ``func(host, params) -> Outcome`` over the effective state of a host.

Importing this package registers every probe (see :mod:`compliance.checks.registry`):
each module below is named here once, explicitly. Probes reach the host only through
:class:`compliance.hosts.host_api.Host`, never through a transport.
"""

from compliance.probes import (
    accounts,
    crypto,
    files,
    kernel_live,
    logs,
    network_live,
    nixstore,
    services,
    sshd,
)

__all__ = [
    "accounts",
    "crypto",
    "files",
    "kernel_live",
    "logs",
    "network_live",
    "nixstore",
    "services",
    "sshd",
]
