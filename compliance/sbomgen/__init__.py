"""SBOMs written from a Nix closure: CycloneDX 1.6 JSON, SPDX 2.3 JSON and SPDX 2.3 tag-value.

A closure is first turned into one format-neutral :class:`~.plan.SbomPlan` (one entry per
store path, the reference graph, the document identity and time); each writer only
serialises that plan. The three formats therefore cannot disagree on what the release
contains. Writers build plain dicts or lines and serialise them with orjson: the SBOM
libraries' serialisers are quadratic in the number of components (docs/performance.md).
The entry point the gate and the CLI call is :func:`compliance.sbomgen.sbom_files.write_sbom`.
"""
