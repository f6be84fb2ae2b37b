"""The framework clause catalogs under controls/frameworks: complete, and consistent with
what the controls cite."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from compliance.catalog.loader import default_catalog_dir, load_catalog
from compliance.errors import CatalogError
from compliance.models.frameworks import AnssiLevel, FrameworkId
from tests.support.cli import one_line_error, run

CATALOG = load_catalog()


def _ids(framework: FrameworkId) -> list[str]:
    return [c.id for c in CATALOG.frameworks[framework].clauses]


def test_every_framework_has_a_clause_catalog() -> None:
    assert set(CATALOG.frameworks) == set(FrameworkId)


def test_every_clause_a_control_cites_exists_in_its_framework_catalog() -> None:
    missing = [
        f"{control.id}: {fw.value} {ref}"
        for control in CATALOG.controls.values()
        for fw, refs in control.clauses.items()
        for ref in refs
        if CATALOG.frameworks[fw].resolve(ref) is None
    ]
    assert not missing, missing


def test_anssi_has_r1_to_r80_with_the_levels_of_the_guide() -> None:
    anssi = CATALOG.frameworks[FrameworkId.ANSSI]
    assert _ids(FrameworkId.ANSSI) == [f"R{n}" for n in range(1, 81)]
    counts = Counter(c.level for c in anssi.clauses)
    assert counts == {AnssiLevel.MINIMAL: 11, AnssiLevel.INTERMEDIARY: 29, AnssiLevel.ENHANCED: 18, AnssiLevel.HIGH: 22}
    level = {c.id: c.level for c in anssi.clauses}
    minimal = ["R30", "R31", "R53", "R54", "R56", "R58", "R59", "R61", "R62", "R68", "R80"]
    assert sorted(i for i, lv in level.items() if lv is AnssiLevel.MINIMAL) == sorted(minimal)
    spot = {
        "R1": AnssiLevel.ENHANCED, "R2": AnssiLevel.INTERMEDIARY, "R3": AnssiLevel.INTERMEDIARY, "R4": AnssiLevel.HIGH,
        "R7": AnssiLevel.ENHANCED, "R9": AnssiLevel.INTERMEDIARY, "R10": AnssiLevel.ENHANCED, "R15": AnssiLevel.HIGH,
        "R28": AnssiLevel.INTERMEDIARY, "R29": AnssiLevel.ENHANCED, "R38": AnssiLevel.ENHANCED, "R39": AnssiLevel.INTERMEDIARY,
        "R46": AnssiLevel.HIGH, "R60": AnssiLevel.ENHANCED, "R66": AnssiLevel.HIGH, "R73": AnssiLevel.ENHANCED,
        "R76": AnssiLevel.HIGH, "R77": AnssiLevel.HIGH, "R79": AnssiLevel.INTERMEDIARY,
    }
    assert {i: level[i] for i in spot} == spot


def test_iso27001_has_all_93_annex_a_ids_with_titles() -> None:
    expected = [f"A.{theme}.{n}" for theme, count in ((5, 37), (6, 8), (7, 14), (8, 34)) for n in range(1, count + 1)]
    assert _ids(FrameworkId.ISO27001) == expected
    assert all(c.title and c.part for c in CATALOG.frameworks[FrameworkId.ISO27001].clauses)


@pytest.mark.parametrize(("clause", "title"), [
    ("A.5.1", "Policies for information security"),
    ("A.5.2", "Information security roles and responsibilities"),
    ("A.5.23", "Information security for use of cloud services"),
    ("A.6.3", "Information security awareness, education and training"),
    ("A.8.8", "Management of technical vulnerabilities"),
    ("A.8.20", "Networks security"),
    ("A.8.34", "Protection of information systems during audit testing"),
])
def test_iso27001_titles_are_the_standards(clause: str, title: str) -> None:
    titles = {c.id: c.title for c in CATALOG.frameworks[FrameworkId.ISO27001].clauses}
    assert titles[clause] == title


REGULATION_CATALOG = Path(__file__).resolve().parents[2] / "shared" / "reference" / "regulation-catalog.md"


def test_iso27001_titles_match_the_reference_list() -> None:
    if not REGULATION_CATALOG.is_file():
        pytest.skip("../shared/reference is not present")
    text = REGULATION_CATALOG.read_text()
    section = text[text.index("## 3. ISO/IEC 27001:2022"):text.index("## 4. ANSSI")]
    reference = dict(re.findall(r"^\| (A\.\d+\.\d+) \| ([^|]+?) \|", section, re.MULTILINE))
    titles = {c.id: c.title for c in CATALOG.frameworks[FrameworkId.ISO27001].clauses}
    assert len(reference) == 93
    assert {i: t for i, t in titles.items() if reference.get(i) != t} == {}


def test_nis2_has_article_21_points_article_23_and_every_annex_subsection() -> None:
    ids = set(_ids(FrameworkId.NIS2))
    paragraphs = {"Art.21(1)", "Art.21(3)", "Art.21(4)", "Art.21(5)", "Art.23"}
    assert {f"Art.21(2)({p})" for p in "abcdefghij"} | paragraphs <= ids
    sections = {1: 2, 2: 3, 3: 6, 4: 3, 5: 2, 6: 10, 7: 3, 8: 2, 9: 3, 10: 4, 11: 7, 12: 5, 13: 3}
    annex = {f"CIR {s}.{n}" for s, count in sections.items() for n in range(1, count + 1)}
    assert {i for i in ids if i.startswith("CIR ")} == annex
    titles = {c.id: c.title for c in CATALOG.frameworks[FrameworkId.NIS2].clauses}
    assert titles["CIR 10.2"] == "Verification of background"
    assert titles["CIR 6.10"] == "Vulnerability handling and disclosure"


def test_dora_has_articles_5_to_30_and_every_rts_article() -> None:
    ids = set(_ids(FrameworkId.DORA))
    assert {i for i in ids if i.startswith("Art.")} == {f"Art.{n}" for n in range(5, 31)}
    assert {i for i in ids if i.startswith("RTS ")} == {f"RTS {n}" for n in range(1, 43)}
    titles = {c.id: c.title for c in CATALOG.frameworks[FrameworkId.DORA].clauses}
    assert titles["RTS 10"] == "Vulnerability and patch management"
    assert titles["Art.9"] == "Protection and prevention"


@pytest.mark.parametrize(("framework", "ref", "clause"), [
    (FrameworkId.NIS2, "CIR 6.7.2(c)", "CIR 6.7"),
    (FrameworkId.NIS2, "CIR 6.10.2(c)", "CIR 6.10"),
    (FrameworkId.NIS2, "CIR 9.2(c)(ii)", "CIR 9.2"),
    (FrameworkId.NIS2, "Art.23(4)(a)", "Art.23"),
    (FrameworkId.NIS2, "Art.21(2)(e)", "Art.21(2)(e)"),
    (FrameworkId.NIS2, "Art.21(2)(k)", None),
    (FrameworkId.NIS2, "CIR 14.1", None),
    (FrameworkId.DORA, "Art.9(4)(e)", "Art.9"),
    (FrameworkId.DORA, "RTS 10(2)(b)", "RTS 10"),
    (FrameworkId.DORA, "RTS 42", "RTS 42"),
    (FrameworkId.DORA, "RTS 43", None),
    (FrameworkId.ISO27001, "A.8.9", "A.8.9"),
    (FrameworkId.ISO27001, "A.8.35", None),
    (FrameworkId.ANSSI, "R81", None),
    # Finer citations than the catalog, in the forms the texts number them.
    (FrameworkId.NIS2, "Art.21(2)(a)(i)", None),  # the Directive has no point below 21(2)(a)
    (FrameworkId.DORA, "RTS 21(f)(ii)", "RTS 21"),
    (FrameworkId.DORA, "RTS 24(1)(b)(ii)(2)", "RTS 24"),
    (FrameworkId.DORA, "Art.12(7)", "Art.12"),
    # Forms no text of the framework has below the clause: mistyped ids, not finer points.
    (FrameworkId.ISO27001, "A.8.8.42", None),
    (FrameworkId.ISO27001, "A.8.8(a)", None),
    (FrameworkId.ANSSI, "R61.5", None),
    (FrameworkId.ANSSI, "R61(a)", None),
    (FrameworkId.DORA, "Art.9(99)(q)", None),
    (FrameworkId.DORA, "Art.9(0)", None),
    (FrameworkId.DORA, "Art.9.4", None),
    (FrameworkId.DORA, "Art.9(4)(E)", None),
    (FrameworkId.NIS2, "CIR 6.7.2.5", None),
    (FrameworkId.NIS2, "CIR 6.7(99)", None),
])
def test_fine_points_resolve_to_their_catalog_clause(framework: FrameworkId, ref: str, clause: str | None) -> None:
    assert CATALOG.frameworks[framework].resolve(ref) == clause


def _copy_catalog(tmp_path: Path) -> Path:
    root = tmp_path / "controls"
    shutil.copytree(default_catalog_dir(), root)
    return root


def test_a_control_citing_an_unknown_clause_is_a_load_error_naming_the_file(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "library" / "sc-05.toml"
    path.write_text(path.read_text().replace('"CIR 6.6.1(a)"', '"CIR 14.1"'))
    result = run("controls", "list", "--catalog", str(root))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {path}: cites.0.clauses: 'CIR 14.1' is not a clause of {CATALOG.frameworks[FrameworkId.NIS2].title}"


def test_a_control_citing_a_sub_clause_iso_does_not_have_is_a_load_error(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "library" / "sc-05.toml"
    path.write_text(path.read_text().replace('clauses = ["A.8.8"]', 'clauses = ["A.8.8.42"]'))
    with pytest.raises(CatalogError, match=r"sc-05\.toml: cites\.2\.clauses: 'A\.8\.8\.42' is not a clause of"):
        load_catalog(root)


def test_every_citation_of_the_catalog_resolves() -> None:
    for control in CATALOG.controls.values():
        for framework, refs in control.clauses.items():
            assert all(CATALOG.frameworks[framework].resolve(ref) for ref in refs), (control.id, refs)


def test_an_anssi_clause_without_a_level_is_a_load_error(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "frameworks" / "anssi.toml"
    path.write_text(path.read_text().replace('id = "R61"\ntitle = "Regular updates"\nsource = "ANSSI-BP-028 v2.0"\nlevel = "minimal"\n', 'id = "R61"\ntitle = "Regular updates"\nsource = "ANSSI-BP-028 v2.0"\n'))
    with pytest.raises(CatalogError, match=r"anssi\.toml: clauses: clause R61 needs a level"):
        load_catalog(root)


def test_a_clause_listed_twice_is_a_load_error(tmp_path: Path) -> None:
    root = _copy_catalog(tmp_path)
    path = root / "frameworks" / "iso27001.toml"
    path.write_text(path.read_text().replace('id = "A.8.10"', 'id = "A.8.9"'))
    with pytest.raises(CatalogError, match=r"iso27001\.toml: clauses: clause A\.8\.9 listed twice"):
        load_catalog(root)
