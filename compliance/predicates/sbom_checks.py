"""Predicates over the SBOM and its agreement with the closure."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate
from compliance.errors import CheckError
from compliance.models.params import FAIL_FIRST, HIGHER, INTERSECTION, LOWER, TRUE, UNION, Params
from compliance.models.subject import Component, StorePathInfo
from compliance.predicates.licence_expressions import canonical_denylist, judge
from compliance.predicates.licence_expressions import (
    licence_allowed as licence_allowed,  # re-exported for callers of this module
)

# Output names Nix appends to a store path name (xz-5.4.6-bin); an SBOM that describes the
# package once may still cover every output.
OUTPUT_SUFFIXES = ("bin", "dev", "lib", "out", "man", "doc", "info", "debug", "static", "devdoc", "modules", "dist", "python", "terminfo")
_PURL = re.compile(r"^pkg:nix/(?P<name>[^@?#]+)(?:@(?P<version>[^?#]+))?")


def strip_output(version: str | None) -> str | None:
    if version is None:
        return None
    head, sep, tail = version.rpartition("-")
    if sep and tail in OUTPUT_SUFFIXES:
        return head
    return version


def _purl_key(purl: str) -> tuple[str, str | None] | None:
    match = _PURL.match(purl)
    if not match:
        return None
    from urllib.parse import unquote

    return unquote(match.group("name")), unquote(match.group("version")) if match.group("version") else None


class SbomCoverageParams(Params):
    min_coverage: Annotated[float, HIGHER] = 1.0
    # How a store path may be matched: exact store path (property nix:output_path or a
    # store-path bom-ref), or a pkg:nix purl / name and version parsed the way Nix does.
    match_by: Annotated[list[str], INTERSECTION] = ["store_path", "purl", "name_version"]
    max_listed: Annotated[int, LOWER] = 50


@predicate("sbom_covers_closure", params=SbomCoverageParams, needs=["closure", "sbom"])
def sbom_covers_closure(subject: Subject, params: SbomCoverageParams) -> Outcome:
    """Every store path of the closure is described by at least one SBOM component."""
    closure, sbom = subject.need_closure(), subject.need_sbom()
    by_path = {c.store_path for c in sbom.components if c.store_path}
    by_purl: set[tuple[str, str | None]] = set()
    by_name: set[tuple[str, str | None]] = set()
    for component in sbom.components:
        if component.purl and (key := _purl_key(component.purl)):
            by_purl.add((key[0], strip_output(key[1])))
        by_name.add((component.name, strip_output(component.version)))
    uncovered: list[str] = []
    how: dict[str, int] = {"store_path": 0, "purl": 0, "name_version": 0}
    for info in closure.paths.values():
        method = _covered(info, by_path, by_purl, by_name, params.match_by)
        if method is None:
            uncovered.append(info.path)
        else:
            how[method] += 1
    total = len(closure.paths)
    coverage = (total - len(uncovered)) / total if total else 0.0
    observed = {
        "closure_paths": total,
        "sbom_components": len(sbom.components),
        "covered": total - len(uncovered),
        "coverage": round(coverage, 4),
        "matched_by": how,
        "uncovered": sorted(uncovered)[: params.max_listed],
    }
    if coverage >= params.min_coverage and total:
        return passed(f"{total - len(uncovered)} of {total} store paths are in the SBOM", **observed)
    if not total:
        return failed("the closure lists no store path: there is nothing the SBOM could cover", **observed)
    return failed(
        f"{len(uncovered)} of {total} store paths are missing from the SBOM (coverage {coverage:.1%}, needs {params.min_coverage:.0%})",
        **observed,
    )


def _covered(
    info: StorePathInfo,
    by_path: set[str],
    by_purl: set[tuple[str, str | None]],
    by_name: set[tuple[str, str | None]],
    methods: list[str],
) -> str | None:
    if "store_path" in methods and info.path in by_path:
        return "store_path"
    key = (info.name, strip_output(info.version))
    if "purl" in methods and key in by_purl:
        return "purl"
    if "name_version" in methods and key in by_name:
        return "name_version"
    return None


class LicencePolicyParams(Params):
    deny_licenses: Annotated[list[str], UNION] = ["AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0", "BUSL-1.1"]
    max_unknown: Annotated[int, LOWER] = 0
    unknown_allowlist: Annotated[list[str], INTERSECTION] = []  # component names allowed without a licence
    # A licence no database or alias identifies (free text, an unknown LicenseRef-, an
    # expression that does not parse): "fail" fails the check, "warn" lists it and passes.
    unknown: Annotated[Literal["fail", "warn"], FAIL_FIRST] = "fail"
    max_listed: Annotated[int, LOWER] = 50


@predicate("licence_policy", params=LicencePolicyParams, needs=["sbom"])
def licence_policy(subject: Subject, params: LicencePolicyParams) -> Outcome:
    """No SBOM component carries a denied licence; licences that cannot be identified are
    judged by ``unknown``; components without a licence stay under a limit."""
    sbom = subject.need_sbom()
    if not sbom.components:
        # Nothing carries a licence, so nothing can carry a denied one: that is no evidence.
        return failed("the SBOM lists no component: there is no licence to judge", components=0)
    denied = canonical_denylist(set(params.deny_licenses))
    allow_unknown = set(params.unknown_allowlist)
    violations: list[dict[str, str]] = []
    unidentified: list[dict[str, str]] = []
    unknown: list[str] = []
    for component in sbom.components:
        if not component.licenses:
            if component.name not in allow_unknown:
                unknown.append(_label(component))
            continue
        for expression in component.licenses:
            verdict = judge(expression, denied)
            if verdict.status == "denied":
                violations.append({"component": _label(component), "licence": expression, "denied": ", ".join(verdict.denied)})
            elif verdict.status == "unknown":
                entry = {"component": _label(component), "licence": expression, "unknown": ", ".join(verdict.unknown)}
                if verdict.invalid:
                    entry["invalid"] = verdict.invalid
                unidentified.append(entry)
    observed = {
        "components": len(sbom.components),
        "denied": violations[: params.max_listed],
        "unknown_licence": len(unidentified),
        "unknown_licence_examples": unidentified[: params.max_listed],
        "unknown_policy": params.unknown,
        "without_licence": len(unknown),
        "without_licence_examples": sorted(unknown)[: params.max_listed],
    }
    problems = []
    if violations:
        problems.append(f"{len(violations)} component(s) carry a denied licence")
    if unidentified and params.unknown == "fail":
        problems.append(f"{len(unidentified)} licence(s) name no known licence (unknown = \"fail\")")
    if len(unknown) > params.max_unknown:
        problems.append(f"{len(unknown)} component(s) have no licence (at most {params.max_unknown} allowed)")
    if problems:
        return failed("; ".join(problems), **observed)
    warning = f"; warning: {len(unidentified)} licence(s) name no known licence" if unidentified else ""
    return passed(f"all {len(sbom.components)} components meet the licence policy{warning}", **observed)


class SbomQualityParams(Params):
    require_version: Annotated[bool, TRUE] = True
    require_purl_or_cpe: Annotated[bool, TRUE] = True
    require_hash: Annotated[bool, TRUE] = False
    allowed_hash_algorithms: Annotated[list[str], INTERSECTION] = ["sha256", "sha384", "sha512", "sha3256", "sha3512", "blake2b256", "blake3"]
    require_dependency_graph: Annotated[bool, TRUE] = True
    max_listed: Annotated[int, LOWER] = 50


@predicate("sbom_component_quality", params=SbomQualityParams, needs=["sbom"])
def sbom_component_quality(subject: Subject, params: SbomQualityParams) -> Outcome:
    """Each component has a version, an identifier (purl or CPE) and a strong hash; the SBOM has a dependency graph."""
    sbom = subject.need_sbom()
    allowed = set(params.allowed_hash_algorithms)
    problems: dict[str, list[str]] = {"no_version": [], "no_identifier": [], "no_strong_hash": [], "weak_hash_only": []}
    for component in sbom.components:
        label = _label(component)
        if params.require_version and not component.version:
            problems["no_version"].append(label)
        if params.require_purl_or_cpe and not (component.purl or component.cpe):
            problems["no_identifier"].append(label)
        strong = [a for a in component.hashes if a in allowed]
        if component.hashes and not strong:
            problems["weak_hash_only"].append(label)
        elif params.require_hash and not strong:
            problems["no_strong_hash"].append(label)
    counts = {k: len(v) for k, v in problems.items()}
    observed = {"components": len(sbom.components), "counts": counts, "has_dependency_graph": sbom.has_dependency_graph,
                "examples": {k: sorted(v)[: params.max_listed] for k, v in problems.items() if v}}
    issues = [f"{n} component(s) {k.replace('_', ' ')}" for k, n in counts.items() if n]
    if params.require_dependency_graph and not sbom.has_dependency_graph:
        issues.append("no dependency graph")
    if not sbom.components:
        issues.append("the SBOM lists no component")
    if issues:
        return failed("; ".join(issues), **observed)
    return passed(f"all {len(sbom.components)} components are identified, versioned and hashed as required", **observed)


def _label(component: Component) -> str:
    if component.store_path:
        return component.store_path
    return f"{component.name}@{component.version}" if component.version else component.name



NTIA_ELEMENTS = ["supplier", "name", "version", "unique identifier", "dependency relationships", "author", "timestamp"]


class SbomConformanceParams(Params):
    # The NTIA minimum elements required (NTIA, "The Minimum Elements For a Software Bill
    # of Materials", 2021): a profile may only add to them.
    ntia_elements: Annotated[list[str], UNION] = list(NTIA_ELEMENTS)
    max_listed: Annotated[int, LOWER] = 20


@predicate("sbom_conforms", params=SbomConformanceParams, needs=["sbom"])
def sbom_conforms(subject: Subject, params: SbomConformanceParams) -> Outcome:
    """The SBOM validates against the official JSON schema of its declared specification
    version, and carries the NTIA minimum elements."""
    sbom = subject.need_sbom()
    conformance = sbom.conformance
    if conformance is None:
        raise CheckError(f"{sbom.source}: the SBOM was not judged against its specification")
    if sbom.encoding == "json" and conformance.schema_file is None:
        raise CheckError(f"{sbom.source}: no official schema of {sbom.format} {sbom.spec_version} is shipped: its conformance cannot be judged")
    unknown = [e for e in params.ntia_elements if e not in NTIA_ELEMENTS]
    if unknown:
        raise CheckError(f"unknown NTIA element(s) {', '.join(unknown)} (known: {', '.join(NTIA_ELEMENTS)})")
    missing = [m for m in conformance.ntia_missing if any(m.startswith(e) for e in params.ntia_elements)]
    observed = {
        "specification": f"{sbom.format} {sbom.spec_version} ({sbom.encoding})",
        "schema": conformance.schema_file or "none (tag-value: syntax checked by the reader)",
        "schema_violations": conformance.violation_count,
        "violations": list(conformance.violations[: params.max_listed]),
        "ntia_missing": missing,
    }
    problems = []
    if conformance.violation_count:
        problems.append(f"{conformance.violation_count} violation(s) of {conformance.schema_file}, first {conformance.violations[0]}")
    if missing:
        problems.append("NTIA minimum elements missing: " + "; ".join(missing))
    if problems:
        return failed(" — ".join(problems), **observed)
    judged = f"valid against {conformance.schema_file}" if conformance.schema_file else "tag-value read without error"
    return passed(f"{judged}, with every NTIA minimum element ({len(sbom.components)} components)", **observed)
