"""Static predicates: pure functions of the subject and their typed parameters.

Importing this package registers every predicate (see :mod:`compliance.registry`).
"""

from . import kernel, nixos, nixsettings, packages, sbom, supply, vulnerabilities  # noqa: F401
