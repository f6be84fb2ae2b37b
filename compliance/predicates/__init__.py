"""Static predicates: pure functions of the subject and their typed parameters.

Importing this package registers every predicate (see :mod:`compliance.registry`).
"""

from . import (  # noqa: F401
    backup,
    kernel,
    network,
    nixos,
    nixsettings,
    packages,
    sbom,
    secrets,
    supply,
    vulnerabilities,
)
