"""Static predicates: pure functions of the subject and their typed parameters.

Importing this package registers every predicate (see :mod:`compliance.checks.registry`):
each module below is named here once, explicitly, so the import graph shows every check.
"""

from compliance.predicates import (
    backup,
    kernel_static,
    network_static,
    nixos,
    nixsettings,
    packages,
    sbom_checks,
    secrets,
    supply,
    vulnerabilities,
)

__all__ = [
    "backup",
    "kernel_static",
    "network_static",
    "nixos",
    "nixsettings",
    "packages",
    "sbom_checks",
    "secrets",
    "supply",
    "vulnerabilities",
]
