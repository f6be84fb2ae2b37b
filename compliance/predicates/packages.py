"""Predicates over the packages a closure contains."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase, translate
from typing import Annotated

from ..inputs.facts import lookup_optional
from ..models.params import INTERSECTION, LOWER, UNION, Params
from ..registry import Outcome, failed, passed, predicate
from ..subject import Subject

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

