"""Predicates over the packages a closure contains."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase, translate
from typing import Annotated

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate
from compliance.inputs.facts import lookup_optional
from compliance.models.params import INTERSECTION, LOWER, UNION, Params, merge

# Cleartext remote-access and legacy network services (ANSSI R58/R62, CIS "remove
# telnet/rsh/tftp/NIS"), matched against package names parsed from store paths.
DEFAULT_DENYLIST = [
    "telnet", "telnetd", "netkit-telnet", "inetutils", "rsh", "netkit-rsh", "rlogin", "rexec",
    "tftp-hpa", "atftp", "xinetd", "ypbind", "yp-tools", "ypserv", "vsftpd", "proftpd",
]


class DenylistParams(Params):
    denylist: Annotated[list[str], UNION] = DEFAULT_DENYLIST  # shell globs over package names
    allow: Annotated[list[str], INTERSECTION] = []  # full store paths or names exempted
    max_listed: Annotated[int, LOWER] = 50


@predicate("package_denylist", params=DenylistParams)
def package_denylist(subject: Subject, params: DenylistParams) -> Outcome:
    """No store path of the closure is a denied package."""
    closure = subject.need_closure()
    hits: list[dict[str, str]] = []
    allow = set(params.allow)
    # One regular expression for the whole denylist: one match per store path, not one per pattern.
    anyof = re.compile("|".join(f"(?:{translate(p)})" for p in params.denylist)) if params.denylist else None
    for info in closure.paths.values():
        if anyof is None or info.path in allow or info.name in allow or not anyof.match(info.name):
            continue
        pattern = next(p for p in params.denylist if fnmatchcase(info.name, p))
        hits.append({"path": info.path, "package": info.name, "pattern": pattern})
    observed = {"closure_paths": len(closure.paths), "denied": sorted(hits, key=lambda h: h["path"])[: params.max_listed], "denylist": params.denylist}
    if hits:
        names = sorted({h["package"] for h in hits})
        return failed(f"{len(hits)} denied package(s) in the closure: {', '.join(names[:10])}", **observed)
    return passed(f"none of {len(closure.paths)} store paths is a denied package", **observed)


class InsecureParams(Params):
    # Packages nixpkgs marks insecure that an approved exception allows (name-version).
    approved: Annotated[list[str], INTERSECTION] = []


# allowInsecurePredicate is a function (nixpkgs defines a default one), which facts cannot
# show; the audited decision is the permitted list.
INSECURE_OPTIONS = ["nixpkgs.config.permittedInsecurePackages"]


@predicate("no_insecure_packages_permitted", params=InsecureParams, reads=INSECURE_OPTIONS)
def no_insecure_packages_permitted(subject: Subject, params: InsecureParams) -> Outcome:
    """The configuration does not let nixpkgs build packages it marks insecure (knownVulnerabilities)."""
    facts = subject.need_facts()
    permitted = lookup_optional(facts, "nixpkgs.config.permittedInsecurePackages", [])
    if not isinstance(permitted, list):
        return failed("nixpkgs.config.permittedInsecurePackages is not a list", value=permitted)
    unapproved = sorted(str(p) for p in permitted if str(p) not in set(params.approved))
    observed = {"permitted": permitted, "unapproved": unapproved, "approved": params.approved}
    if unapproved:
        return failed(f"insecure packages permitted without approval: {', '.join(unapproved)}", **observed)
    return passed("no insecure package is permitted" if not permitted else "only approved insecure packages are permitted", **observed)



# Cryptographic library branches their upstream no longer fixes: OpenSSL 1.1.1 reached end
# of life on 2023-09-11 (1.0.2 and 0.9.8 long before), Mbed TLS 2.28 LTS at the end of 2024.
DEFAULT_EOL_VERSIONS: dict[str, list[str]] = {
    "openssl": ["0.9", "1.0", "1.1"],
    "mbedtls": ["2"],
}


class EolParams(Params):
    # package name → version branches that are end of life ("1.1" matches 1.1.1w, not 1.10)
    eol_versions: Annotated[dict[str, list[str]], merge(UNION)] = DEFAULT_EOL_VERSIONS
    allow: Annotated[list[str], INTERSECTION] = []  # full store paths exempted after review
    max_listed: Annotated[int, LOWER] = 50


def _on_branch(version: str, branch: str) -> bool:
    return version == branch or version.startswith((branch + ".", branch + "-"))


@predicate("eol_components", params=EolParams)
def eol_components(subject: Subject, params: EolParams) -> Outcome:
    """No store path of the closure is a release branch its upstream no longer maintains.

    An end-of-life branch gets no more security fixes, so its next vulnerability stays
    open whatever the patch process does; nixpkgs keeps some such branches for
    compatibility (openssl_1_1 behind permittedInsecurePackages), and an old pin can
    still carry them.
    """
    closure = subject.need_closure()
    hits: list[dict[str, str]] = []
    for info in closure.paths.values():
        branches = params.eol_versions.get(info.name)
        if not branches or info.version is None or info.path in params.allow:
            continue
        for branch in branches:
            if _on_branch(info.version, branch):
                hits.append({"path": info.path, "package": info.name, "version": info.version, "branch": branch})
                break
    hits.sort(key=lambda h: h["path"])
    observed = {"closure_paths": len(closure.paths), "end_of_life": hits[: params.max_listed], "rules": params.eol_versions}
    if hits:
        names = sorted({f"{h['package']} {h['version']}" for h in hits})
        return failed(f"{len(hits)} end-of-life component(s) in the closure: {', '.join(names[:10])}", **observed)
    return passed(f"no end-of-life branch of {', '.join(sorted(params.eol_versions))} among {len(closure.paths)} store paths", **observed)
