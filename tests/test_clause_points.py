"""Clause catalogs list every citable point: a citation of a point the texts do not number
is a load error naming the control file and the field; the DORA catalog covers Articles
5 to 30 and RTS 1 to 42; the ANSSI-BP-028 v1.2 → v2.0 cross-reference is checked data."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.catalog.loader import (
    ANSSI_CROSSWALK,
    default_catalog_dir,
    load_anssi_crosswalk,
    load_catalog,
)
from compliance.errors import CatalogError
from compliance.models.frameworks import FrameworkId
from tests.support.cli import one_line_error, run

CATALOG = load_catalog()
DORA = CATALOG.frameworks[FrameworkId.DORA]
NIS2 = CATALOG.frameworks[FrameworkId.NIS2]


def _copy_catalog(tmp_path: Path) -> Path:
    root = tmp_path / "controls"
    shutil.copytree(default_catalog_dir(), root)
    return root


def _points(framework: FrameworkId, clause: str) -> list[str]:
    return next(c.points for c in CATALOG.frameworks[framework].clauses if c.id == clause)


# One case per shape of citation: a NIS2 Article 21 point, a point of the Implementing
# Regulation's Annex, a DORA article point, an RTS point. Each replaces a valid citation
# of SC-05 so that only the unknown point can fail the load.
@pytest.mark.parametrize(("valid", "unknown", "field", "reason"), [
    ('"Art.21(2)(e)"', "Art.21(2)(k)", "cites.0",
     f"'Art.21(2)(k)' is not a clause of {NIS2.title}"),
    ('"CIR 6.6.1(a)"', "CIR 6.7.2(m)", "cites.0",
     f"unknown point CIR 6.7.2(m): not one of the 15 points of CIR 6.7 in the clause list of {NIS2.title}"),
    ('"Art.9(4)(f)"', "Art.9(4)(g)", "cites.1",
     f"unknown point Art.9(4)(g): not one of the 14 points of Art.9 in the clause list of {DORA.title}"),
    ('"RTS 10(4)"', "RTS 13(1)(z)", "cites.1",
     f"unknown point RTS 13(1)(z): not one of the 19 points of RTS 13 in the clause list of {DORA.title}"),
])
def test_a_citation_of_an_unlisted_point_is_refused_naming_the_file(
    tmp_path: Path, valid: str, unknown: str, field: str, reason: str,
) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "library" / "sc-05.toml"
    text = path.read_text()
    assert valid in text
    path.write_text(text.replace(valid, f'"{unknown}"'))
    result = run("controls", "list", "--catalog", str(root))
    assert result.code == 2
    # The field is the citation of SC-05 that names the point (cites.0: NIS2, cites.1: DORA).
    assert one_line_error(result) == f"compliance: {path}: {field}.clauses: {reason}"


def test_the_valid_citation_each_case_replaces_loads(tmp_path: Path) -> None:
    """The cases above fail for the point alone: the untouched copy loads and lists SC-05."""
    result = run("controls", "list", "--catalog", str(_copy_catalog(tmp_path)))
    assert result.code == 0, result.stderr
    assert "SC-05" in result.stdout


def test_an_attestation_citing_an_unlisted_point_is_not_placed() -> None:
    assert DORA.resolve("RTS 13(1)(z)") is None
    assert NIS2.resolve("Art.21(2)(a)(i)") is None  # the Directive numbers nothing below (a)
    assert CATALOG.frameworks[FrameworkId.ANSSI].resolve("R61.5") is None


def test_a_point_not_below_its_clause_is_a_load_error(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "frameworks" / "dora.toml"
    text = path.read_text()
    assert 'points = [\n  "Art.7(a)", ' in text
    path.write_text(text.replace('points = [\n  "Art.7(a)", ', 'points = [\n  "Art.8(9)", ', 1))
    with pytest.raises(CatalogError, match=r"dora\.toml: clauses\[2\]\.points: 'Art\.8\(9\)' is not a point below clause Art\.7$"):
        load_catalog(root)


def test_a_point_listed_twice_is_a_load_error(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "frameworks" / "nis2.toml"
    text = path.read_text()
    assert '"CIR 6.7.2(a)", "CIR 6.7.2(b)", ' in text
    path.write_text(text.replace('"CIR 6.7.2(a)", "CIR 6.7.2(b)", ', '"CIR 6.7.2(a)", "CIR 6.7.2(a)", ', 1))
    with pytest.raises(CatalogError, match=r"nis2\.toml: clauses\[\d+\]\.points: 'CIR 6\.7\.2\(a\)' is already listed under CIR 6\.7$"):
        load_catalog(root)


def test_dora_lists_articles_5_to_30_and_rts_1_to_42_in_order() -> None:
    ids = [c.id for c in DORA.clauses]
    assert ids == [f"Art.{n}" for n in range(5, 31)] + [f"RTS {n}" for n in range(1, 43)]
    assert all(c.title and c.part and c.source for c in DORA.clauses)


def test_every_dora_article_with_numbered_paragraphs_lists_them_from_1() -> None:
    for clause in DORA.clauses:
        numbers = [int(m.group(1)) for p in clause.points if (m := re.fullmatch(re.escape(clause.id) + r"\((\d+)\)", p))]
        assert numbers == list(range(1, len(numbers) + 1)), clause.id


@pytest.mark.parametrize(("clause", "present", "absent"), [
    ("Art.9", ["Art.9(4)(e)", "Art.9(3)(d)"], ["Art.9(5)", "Art.9(4)(g)"]),
    ("Art.18", ["Art.18(1)(f)", "Art.18(3)(c)", "Art.18(4)"], ["Art.18(5)"]),
    ("Art.20", ["Art.20(a)(iii)", "Art.20(b)"], ["Art.20(1)", "Art.20(c)"]),  # no numbered paragraphs
    ("Art.23", [], ["Art.23(1)"]),  # a single paragraph
    ("Art.26", ["Art.26(8)(c)", "Art.26(11)(c)(iii)"], ["Art.26(12)"]),
    ("Art.28", ["Art.28(1)(b)(ii)", "Art.28(8)(c)", "Art.28(10)"], ["Art.28(11)"]),
    ("Art.30", ["Art.30(2)(i)", "Art.30(3)(f)(ii)", "Art.30(5)"], ["Art.30(6)"]),
    ("RTS 2", ["RTS 2(2)(c)(ii)", "RTS 2(2)(k)"], ["RTS 2(c)(ii)"]),
    ("RTS 13", ["RTS 13(1)(h)", "RTS 13(1)(m)(ii)"], ["RTS 13(1)(n)", "RTS 13(2)"]),
    ("RTS 21", ["RTS 21(a)", "RTS 21(g)(iv)"], ["RTS 21(1)"]),
    ("RTS 24", ["RTS 24(1)(b)(ii)(2)", "RTS 24(4)(b)"], ["RTS 24(b)(ii)"]),
    ("RTS 42", [], ["RTS 42(1)"]),
])
def test_dora_points_are_the_texts(clause: str, present: list[str], absent: list[str]) -> None:
    points = _points(FrameworkId.DORA, clause)
    assert [p for p in present if p not in points] == []
    assert [p for p in absent if p in points] == []


@pytest.mark.parametrize(("clause", "present", "absent"), [
    ("CIR 3.2", ["CIR 3.2.3(a)", "CIR 3.2.3(l)", "CIR 3.2.7"], ["CIR 3.2.3(m)", "CIR 3.2.8"]),
    ("CIR 5.2", ["CIR 5.2(a)", "CIR 5.2(b)"], ["CIR 5.2(c)", "CIR 5.2.1"]),
    ("CIR 6.7", ["CIR 6.7.1", "CIR 6.7.2(c)", "CIR 6.7.2(l)", "CIR 6.7.3"], ["CIR 6.7.2(m)"]),
    ("CIR 7.2", ["CIR 7.2(f)"], ["CIR 7.2.1"]),
    ("CIR 9.2", ["CIR 9.2(c)(i)", "CIR 9.2(c)(xii)"], ["CIR 9.2(c)(xiii)", "CIR 9.2(d)"]),
    ("CIR 11.6", ["CIR 11.6.2(b)", "CIR 11.6.2(f)", "CIR 11.6.4"], ["CIR 11.6.2(g)"]),
    ("Art.23", ["Art.23(3)(b)", "Art.23(4)(e)", "Art.23(11)"], ["Art.23(4)(f)", "Art.23(12)"]),
    ("Art.21(2)(j)", [], ["Art.21(2)(j)(i)"]),
])
def test_nis2_points_are_the_texts(clause: str, present: list[str], absent: list[str]) -> None:
    points = _points(FrameworkId.NIS2, clause)
    assert [p for p in present if p not in points] == []
    assert [p for p in absent if p in points] == []


def test_every_annex_point_quoted_in_the_reference_is_listed() -> None:
    """The points regulation-catalog.md quotes (e.g. "6.7.2 (b)", "11.6.2 (f)") exist."""
    reference = Path(__file__).resolve().parents[2] / "shared" / "reference" / "regulation-catalog.md"
    if not reference.is_file():
        pytest.skip("../shared/reference is not present")
    text = reference.read_text()
    section = text[text.index("### 1.4 Commission Implementing Regulation"):text.index("## 2. DORA")]
    quoted = {f"CIR {n}" for n in re.findall(r"\b(\d{1,2}\.\d{1,2}\.\d)\b", section)}
    quoted |= {f"CIR {n}({p})" for n, p in re.findall(r"\b(\d{1,2}\.\d{1,2}\.\d)\(([a-z])\)", section)}
    assert len(quoted) > 40
    assert sorted(q for q in quoted if NIS2.resolve(q) is None) == []


FRAMEWORKS = list(CATALOG.frameworks.values())
LISTED = [(fw.id, clause.id, ref) for fw in FRAMEWORKS for clause in fw.clauses for ref in (clause.id, *clause.points)]
ALL_REFS = {fw.id: {ref for f, _, ref in LISTED if f == fw.id} for fw in FRAMEWORKS}


@given(st.sampled_from(LISTED))
def test_a_listed_point_resolves_to_its_clause(entry: tuple[FrameworkId, str, str]) -> None:
    framework, clause, ref = entry
    assert CATALOG.frameworks[framework].resolve(ref) == clause
    assert CATALOG.frameworks[framework].resolve(f" {ref} ") == clause


@given(st.sampled_from(LISTED), st.text(alphabet="().0123456789abcdefghijklmnopqrstuvwxyzIVX", min_size=1, max_size=8))
def test_a_listed_point_with_a_suffix_not_listed_resolves_to_nothing(entry: tuple[FrameworkId, str, str], suffix: str) -> None:
    framework, _, ref = entry
    cited = ref + suffix
    if cited.strip() in ALL_REFS[framework]:
        return  # the suffix made another listed point ("Art.9(4)" + "(e)")
    assert CATALOG.frameworks[framework].resolve(cited) is None


# --- ANSSI-BP-028 v1.2 → v2.0 -------------------------------------------------------------

CROSSWALK = load_anssi_crosswalk()


def test_the_crosswalk_names_only_v2_ids_of_the_anssi_catalog() -> None:
    anssi = CATALOG.frameworks[FrameworkId.ANSSI].clause_ids()
    assert sorted({v2 for m in CROSSWALK.mappings for v2 in m.v2} - anssi) == []


def test_every_v1_id_is_mapped_or_unmapped_once() -> None:
    v1 = [m.v1 for m in CROSSWALK.mappings] + [u.v1 for u in CROSSWALK.unmapped]
    assert sorted(v1, key=lambda r: int(r[1:])) == [f"R{n}" for n in range(1, 70)]
    assert all(u.reason for u in CROSSWALK.unmapped)


@pytest.mark.parametrize(("v1", "v2"), [
    ("R1", ["R62"]),   # minimisation of installed services
    ("R8", ["R61"]),   # regular updates
    ("R12", ["R28"]),  # partitioning
    ("R17", ["R5"]),   # boot loader password
    ("R22", ["R12", "R13"]),  # network sysctl: split into IPv4 options and disabling IPv6
    ("R24", ["R10"]),  # disabling the loading of kernel modules
    ("R57", ["R38"]),  # group dedicated to sudo
    ("R60", ["R40"]),  # privileges of target sudo users
    ("R68", ["R49"]),  # SELinux policy debugging tools
])
def test_known_pairs(v1: str, v2: list[str]) -> None:
    assert CROSSWALK.v2_of(v1) == v2
    assert all(v1 in CROSSWALK.v1_of(r) for r in v2)


def test_a_v1_id_with_no_established_successor_maps_to_nothing() -> None:
    unmapped = {u.v1 for u in CROSSWALK.unmapped}
    assert {"R3", "R5", "R30", "R59"} <= unmapped
    assert CROSSWALK.v2_of("R59") is None
    assert CROSSWALK.v1_of("R3") == []  # UEFI Secure Boot is new in v2.0


@pytest.mark.parametrize(("old", "new", "error"), [
    ('v2 = ["R28"]', 'v2 = ["R81"]', r"mappings\[\d+\]\.v2: R81 is not a clause of"),
    ('v2 = ["R28"]', 'v2 = ["R28", "R28"]', r"mappings\[\d+\]\.v2: an id listed twice"),
    ('v1 = "R59"', 'v1 = "R12"', r"unmapped\[\d+\]\.v1: R12 listed twice"),
    ('v1 = "R59"', 'v1 = "R70"', r"unmapped\[\d+\]\.v1: R70 is not a recommendation of ANSSI-BP-028 v1\.2"),
])
def test_a_wrong_crosswalk_entry_is_a_load_error_naming_the_file(tmp_path: Path, old: str, new: str, error: str) -> None:
    root = _copy_catalog(tmp_path)
    path = root / ANSSI_CROSSWALK
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CatalogError, match=r"anssi-v1-v2\.toml: " + error):
        load_anssi_crosswalk(root)


def test_a_v1_id_left_out_is_a_load_error(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / ANSSI_CROSSWALK
    text = path.read_text()
    start = text.index('[[unmapped]]\nv1 = "R59"')
    path.write_text(text[:start])
    with pytest.raises(CatalogError, match=r"anssi-v1-v2\.toml: mappings: v1 ids neither mapped nor unmapped: R59$"):
        load_anssi_crosswalk(root)
