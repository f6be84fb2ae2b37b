"""Licence expressions: SPDX parsed by license-expression, free-text and LicenseRef- names
resolved to the licence they name, the rest unknown and judged by the policy's
``unknown`` field (SC-08)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.checks import registry
from compliance.checks.predicate_subject import Subject
from compliance.inputs.sbom import parse_sbom_document
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.models.params import FAIL_FIRST
from compliance.predicates.licence_expressions import canonical_denylist, judge, resolve

DENIED = canonical_denylist({"AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0", "BUSL-1.1"})


@pytest.mark.parametrize(("name", "licence"), [
    ("AGPLv3", "AGPL-3.0-only"), ("AGPLv3+", "AGPL-3.0-or-later"), ("agpl v3", "AGPL-3.0-only"),
    ("LicenseRef-scancode-agpl-3.0-only", "AGPL-3.0-only"), ("LicenseRef-scancode-agpl-3.0-plus", "AGPL-3.0-or-later"),
    ("LicenseRef-AGPL-3.0", "AGPL-3.0-only"), ("GPLv2+", "GPL-2.0-or-later"), ("LGPL v2.1", "LGPL-2.1-only"),
    ("GPL-2.0+", "GPL-2.0-or-later"), ("agpl3Plus", "AGPL-3.0-or-later"), ("Apache License 2.0", "Apache-2.0"),
    ("apache 2.0", "Apache-2.0"), ("The MIT License", "MIT"), ("mit", "MIT"), ("Server Side Public License", "SSPL-1.0"),
    ("GNU Affero General Public License v3.0 or later", "AGPL-3.0-or-later"),
    # Python packages' trove classifiers: a name and its short form
    ("GNU General Public License v2 or later (GPLv2+)", "GPL-2.0-or-later"),
    ("GNU Lesser General Public License v2 or later (LGPLv2+)", "LGPL-2.0-or-later"),
    ("Mozilla Public License 1.1 (MPL 1.1)", "MPL-1.1"), ("ISC License (ISCL)", "ISC"), ("Apache Software License", "Apache-2.0"),
    # a ScanCode licence without an SPDX id is still a known licence, under its LicenseRef
    ("LicenseRef-scancode-3com-microcode", "LicenseRef-scancode-3com-microcode"),
])
def test_free_text_and_licenseref_names_resolve_to_the_licence_they_name(name: str, licence: str) -> None:
    assert resolve(name) == licence


@pytest.mark.parametrize("name", [
    "Foo-1.0", "LicenseRef-my-company", "LicenseRef-scancode-unknown", "LicenseRef-scancode-unknown-license-reference",
    "NOASSERTION", "public domain-ish", "", "Classpath-exception-2.0",  # an exception is not a licence
])
def test_names_that_identify_no_licence_are_unknown(name: str) -> None:
    assert resolve(name) is None
    assert judge(name, DENIED).status == "unknown"


@pytest.mark.parametrize(("expression", "status", "deciding"), [
    ("AGPLv3", "denied", ("AGPL-3.0-only",)),
    ("LicenseRef-scancode-agpl-3.0-only", "denied", ("AGPL-3.0-only",)),
    ("MIT OR GPL-3.0-only", "allowed", ()),
    ("MIT OR AGPL-3.0-only", "allowed", ()),
    ("MIT AND AGPLv3", "denied", ("AGPL-3.0-only",)),
    ("AGPL-3.0-only OR SSPL-1.0", "denied", ("AGPL-3.0-only", "SSPL-1.0")),
    ("Apache-2.0 WITH LLVM-exception", "allowed", ()),
    ("(Apache-2.0 AND BSD-3-Clause) OR (MIT AND GPL-2.0-or-later WITH Classpath-exception-2.0)", "allowed", ()),
    # SPDX puts WITH after one licence only: a compound before WITH does not parse, so it is unknown
    ("(Apache-2.0 AND BSD-3-Clause) WITH LLVM-exception", "unknown", ("(Apache-2.0 AND BSD-3-Clause) WITH LLVM-exception",)),
    ("AGPL-3.0-only WITH Classpath-exception-2.0", "denied", ("AGPL-3.0-only",)),  # an exception never lifts a denial
    ("MIT AND Foo-1.0", "unknown", ("Foo-1.0",)),
    ("AGPL-3.0-only OR Foo-1.0", "unknown", ("Foo-1.0",)),  # the way out is a licence nobody identified
    ("MIT OR Foo-1.0", "allowed", ()),
    # invalid expressions: unknown, or denied when a word in them names a denied licence
    ("MIT OR", "unknown", ("MIT OR",)), ("(MIT", "unknown", ("(MIT",)), ("MIT AGPL-3.0-only", "denied", ("AGPL-3.0-only",)),
    ("AGPL-3.0-only WITH", "denied", ("AGPL-3.0-only",)), ("GPL-2.0-or-later WITH Foo-exception", "unknown", ("GPL-2.0-or-later WITH Foo-exception",)),
])
def test_expressions_are_judged_with_the_licences_that_decided(expression: str, status: str, deciding: tuple[str, ...]) -> None:
    verdict = judge(expression, DENIED)
    assert verdict.status == status, verdict
    assert (verdict.denied if status == "denied" else verdict.unknown if status == "unknown" else ()) == deciding


def test_a_family_name_is_judged_over_every_member() -> None:
    """"BSD License" (a trove classifier) names no one licence: allowed while no BSD variant
    is denied, unknown when some are, denied when all are."""
    assert judge("BSD License", DENIED).status == "allowed"
    some = judge("BSD License", canonical_denylist({"BSD-4-Clause"}))
    assert some.status == "unknown" and "BSD-4-Clause denied" in some.unknown[0]
    every = judge("BSD License", canonical_denylist({"0BSD", "BSD-2-Clause", "BSD-3-Clause", "BSD-4-Clause"}))
    assert every.status == "denied"


def test_an_invalid_expression_says_why_it_does_not_parse() -> None:
    verdict = judge("MIT OR", DENIED)
    assert verdict.invalid is not None and "OR requires two or more licenses" in verdict.invalid


def test_a_denylist_in_free_text_denies_the_spdx_id() -> None:
    assert judge("AGPL-3.0-only", canonical_denylist({"AGPLv3"})).status == "denied"
    assert judge("GPL-3.0-only", canonical_denylist({"GPL-3.0"})).status == "denied"


def _sbom(*licences: str | None) -> Subject:
    components: list[dict[str, Any]] = []
    for n, licence in enumerate(licences):
        component: dict[str, Any] = {"type": "library", "name": f"c{n}", "version": "1", "purl": f"pkg:nix/c{n}@1"}
        if licence is not None:
            component["licenses"] = [{"expression": licence}]
        components.append(component)
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}
    return Subject(sbom=parse_sbom_document(doc, "test.cdx.json"))


def _policy(subject: Subject, **params: Any) -> tuple[Status, str, dict[str, Any]]:
    spec = registry.get(CheckKind.STATIC, "licence_policy")
    assert spec is not None
    outcome = spec.func(subject, spec.params.model_validate(params))
    return outcome.status, outcome.message, outcome.observed


def test_an_unknown_licence_fails_by_default_and_under_fail() -> None:
    for params in ({}, {"unknown": "fail"}):
        status, message, observed = _policy(_sbom("MIT", "LicenseRef-my-company"), **params)
        assert status is Status.FAIL and '1 licence(s) name no known licence (unknown = "fail")' in message
        assert observed["unknown_licence_examples"] == [{"component": "c1@1", "licence": "LicenseRef-my-company", "unknown": "LicenseRef-my-company"}]
        assert observed["denied"] == []


def test_an_unknown_licence_under_warn_passes_and_is_listed() -> None:
    status, message, observed = _policy(_sbom("MIT", "LicenseRef-my-company"), unknown="warn")
    assert status is Status.PASS and "warning: 1 licence(s) name no known licence" in message
    assert observed["unknown_licence"] == 1 and observed["unknown_policy"] == "warn"


def test_warn_does_not_let_a_denied_free_text_licence_through() -> None:
    status, message, observed = _policy(_sbom("MIT", "AGPLv3"), unknown="warn")
    assert status is Status.FAIL and "1 component(s) carry a denied licence" in message
    assert observed["denied"] == [{"component": "c1@1", "licence": "AGPLv3", "denied": "AGPL-3.0-only"}]


def test_an_invalid_expression_is_unknown_with_its_parse_error() -> None:
    status, _, observed = _policy(_sbom("MIT OR"))
    assert status is Status.FAIL
    assert "OR requires two or more licenses" in observed["unknown_licence_examples"][0]["invalid"]


def test_a_missing_licence_is_judged_by_max_unknown_alone() -> None:
    status, message, _ = _policy(_sbom("MIT", None), unknown="warn")
    assert status is Status.FAIL and "1 component(s) have no licence (at most 0 allowed)" in message
    assert _policy(_sbom("MIT", None), max_unknown=1)[0] is Status.PASS


def test_fail_is_the_stricter_unknown_policy() -> None:
    assert FAIL_FIRST.stricter("warn", "fail") == "fail"
    assert FAIL_FIRST.stricter("fail", "warn") == "fail"
    assert FAIL_FIRST.stricter("warn", "warn") == "warn"


ALLOWED_IDS = ["MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause", "ISC", "Zlib", "MPL-2.0", "GPL-2.0-only",
               "GPL-3.0-or-later", "LGPL-2.1-or-later", "curl", "PSF-2.0", "CC0-1.0", "0BSD"]
EXCEPTIONS = ["LLVM-exception", "Classpath-exception-2.0", "GCC-exception-3.1"]

_leaf = st.builds(lambda licence, exception: f"{licence} WITH {exception}" if exception else licence,
                  st.sampled_from(ALLOWED_IDS), st.none() | st.sampled_from(EXCEPTIONS))
_expressions = st.recursive(
    _leaf,
    lambda inner: st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(["AND", "OR", "and", "or"]), inner),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(_expressions)
def test_any_expression_of_allowed_licences_is_allowed(expression: str) -> None:
    assert judge(expression, DENIED).status == "allowed", expression


@settings(max_examples=200, deadline=None)
@given(_expressions, st.sampled_from(["AGPL-3.0-only", "AGPLv3", "LicenseRef-scancode-agpl-3.0-plus", "SSPL-1.0"]))
def test_a_denied_licence_joined_by_and_is_denied(expression: str, denied: str) -> None:
    assert judge(f"({expression}) AND {denied}", DENIED).status == "denied"
