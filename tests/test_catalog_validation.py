"""The catalog is validated as a whole when it loads: a mistake names the file and the
field, and is never a silent default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliance.catalog.loader import default_catalog_dir, load_catalog
from compliance.errors import CatalogError
from tests.support.cli import one_line_error, run


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    root = tmp_path / "controls"
    shutil.copytree(default_catalog_dir(), root)
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_bundled_catalog_loads() -> None:
    catalog = load_catalog()
    assert len(catalog.controls) >= 12
    assert catalog.digest.startswith("sha256:")
    cited = {fw for c in catalog.controls.values() for fw in c.clauses}
    assert {"nis2", "dora", "iso27001", "anssi"} <= {fw.value for fw in cited}


@pytest.mark.parametrize(("file", "old", "new", "problem"), [
    ("library/sc-05.toml", "max_age_days = 30", "max_age_day = 30", "params.max_age_day: no check of this control takes this parameter"),
    ("library/sc-05.toml", "max_age_days = 30", 'max_age_days = "soon"', "params.max_age_days: Input should be a valid integer"),
    ("library/sc-05.toml", 'function = "nixpkgs_age"', 'function = "nixpkgs_agee"', "checks[0].function: unknown predicate 'nixpkgs_agee'"),
    ("library/sc-05.toml", 'severity = "medium"', 'severity = "severe"', "severity: Input should be"),
    ("library/sc-05.toml", 'title = "', 'titel = "', "titel: unknown field (misspelt?)"),
    ("library/sc-05.toml", 'id = "SC-05"', 'id = "SC-01"', "id: control SC-01 is also defined in"),
    ("library/sc-05.toml", 'id = "SC-05"', 'id = "sc5"', "id: String should match pattern"),
    ("library/sc-05.toml", "[[cites]]", "[[cites]\n", "invalid TOML"),
    ("library/sc-05.toml", 'scope = "partial"', 'scope = "complete"', "cites.0.scope: Input should be 'full' or 'partial'"),
    ("library/sc-05.toml", 'kind = "static"', 'kind = "sometimes"', "checks.0.kind: Input should be 'static' or 'runtime'"),
])
def test_a_mistake_names_the_file_and_the_field(catalog: Path, file: str, old: str, new: str, problem: str) -> None:
    _edit(catalog / file, old, new)
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog)
    assert str(err.value).startswith(f"{catalog / file}: "), str(err.value)
    assert problem in str(err.value)


def test_a_clause_that_does_not_exist_is_a_load_error(catalog: Path) -> None:
    assert (catalog / "frameworks" / "iso27001.toml").is_file()
    _edit(catalog / "library" / "sc-05.toml", 'clauses = ["A.8.8"]', 'clauses = ["A.9.99"]')
    with pytest.raises(CatalogError, match=r"sc-05.toml: cites.2.clauses: 'A.9.99' is not a clause of ISO"):
        load_catalog(catalog)


def test_profile_mistakes(catalog: Path) -> None:
    profile = catalog / "profiles" / "zz-test.toml"
    profile.parent.mkdir(exist_ok=True)
    profile.write_text('id = "zz-test"\ntitle = "t"\n[select]\ncontrols = ["SC-05"]\n[params.SC-05]\nmax_age_dayz = 3\n')
    with pytest.raises(CatalogError, match=r"zz-test.toml: params.SC-05.max_age_dayz: control SC-05 has no such parameter"):
        load_catalog(catalog)
    profile.write_text('id = "zz-test"\ntitle = "t"\nextends = ["zz-test"]\n')
    with pytest.raises(CatalogError, match="extends: cycle zz-test -> zz-test"):
        load_catalog(catalog)
    profile.write_text('id = "zz-test"\ntitle = "t"\n[select]\ncontrols = ["ZZ-01"]\n')
    with pytest.raises(CatalogError, match="select: unknown control 'ZZ-01'"):
        load_catalog(catalog)


def test_the_cli_reports_a_catalog_error_in_one_line(catalog: Path) -> None:
    _edit(catalog / "library" / "sc-05.toml", "max_age_days = 30", "max_age_day = 30")
    result = run("controls", "list", "--catalog", str(catalog))
    assert result.code == 2
    assert one_line_error(result).startswith(f"compliance: {catalog / 'library' / 'sc-05.toml'}: params.max_age_day:")


def test_unknown_profile_is_an_error() -> None:
    result = run("controls", "list", "--profile", "no-such-profile")
    assert result.code == 2
    assert "unknown profile 'no-such-profile'" in one_line_error(result)


def test_a_catalog_file_that_is_not_utf8_names_the_file(catalog: Path) -> None:
    path = catalog / "library" / "sc-05.toml"
    path.write_bytes(path.read_bytes().replace(b"patch currency", b"patch \xe9tat"))
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog)
    assert str(err.value).startswith(f"{path}: not UTF-8 text (byte "), str(err.value)
