"""Judging vulnerability data against a release: where each finding lies in the closure,
which VEX statements and exceptions cover it, whether it blocks, and how old the data is.

Pure functions of the typed inputs (:mod:`compliance.models.vulns`, the closure, the
SBOM) and the assessment time; the vulnerability predicates are thin layers over them.
"""
