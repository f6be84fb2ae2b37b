"""The control catalog: loading and validating ``controls/``, selecting controls by
profile, and what the framework clauses are covered by (coverage and gaps)."""
