"""Bad input: exit 2, one line on stderr naming the file and the problem, no traceback,
and nothing written under the requested output name."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import one_line_error, run
from tests.support.inputs import write_release

OPTIONS = {
    "--closure": "closure",
    "--sbom": "sbom",
    "--facts": "facts",
    "--flake-lock": "lock",
}

BAD = {
    "truncated JSON": (b'[{"path": "/nix/store/0123', ("invalid JSON", "neither path-info JSON")),
    "wrong types": (b'{"bomFormat": 7, "specVersion": [], "options": 3, "nodes": "x"}', ("",)),
    "empty file": (b"", ("empty",)),
    "binary garbage": (b"\x00\xff\xfe\x89PNG\r\n\x1a\n" * 8, ("",)),
}


def _args(files: dict[str, Path], option: str, replacement: str) -> list[str]:
    args = ["gate"]
    for opt, key in OPTIONS.items():
        args += [opt, replacement if opt == option else str(files[key])]
    return args


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_release(tmp_path_factory.mktemp("release"))


@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_file_contents(files: dict[str, Path], tmp_path: Path, option: str, kind: str) -> None:
    data, expected = BAD[kind]
    bad = tmp_path / f"bad-{kind.replace(' ', '-')}"
    bad.write_bytes(data)
    out = tmp_path / "results.json"
    result = run(*_args(files, option, str(bad)), "-o", f"json={out}")
    line = one_line_error(result)
    assert result.code == 2, result.stdout
    assert line.startswith(f"compliance: {bad}: "), line
    assert any(word in line for word in expected), line
    assert not out.exists()
    assert not list(tmp_path.glob(".results.json.*")), "a temporary output was left behind"


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_a_directory_where_a_file_is_expected(files: dict[str, Path], tmp_path: Path, option: str) -> None:
    result = run(*_args(files, option, str(tmp_path)))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {tmp_path}: is a directory, expected a {_what(option)}"


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_a_missing_file(files: dict[str, Path], tmp_path: Path, option: str) -> None:
    missing = tmp_path / "nope.json"
    result = run(*_args(files, option, str(missing)))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {missing}: no such {_what(option)}"


def _what(option: str) -> str:
    return {"--closure": "closure file", "--sbom": "SBOM file", "--facts": "facts file", "--flake-lock": "flake.lock"}[option]


def test_an_sbom_of_an_unknown_format(files: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "scan.json"
    other.write_text('{"matches": [], "source": {"type": "image"}}')
    result = run(*_args(files, "--sbom", str(other)))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {other}: unknown SBOM format: JSON without 'bomFormat: CycloneDX' or 'spdxVersion'"


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("policy.toml", 'block_severity = ["high"]\n', "block_severity: unknown field (misspelt?)"),
    ("policy.toml", "block_severities = [\n", "invalid TOML"),
    ("policy.json", '{"block_severities": ["urgent"]}', "block_severities.0: Input should be"),
    ("waivers.toml", '[[waivers]]\nid = "W1"\ncontrol = "IA-02"\nreason = "x"\nrisk = "low"\ncreated = 2026-01-01\nexpires = 2025-01-01\n', "expires must be after created"),
    ("waivers.toml", '[[waivers]]\nid = "W1"\ncontrol = "ZZ-99"\nreason = "x"\nrisk = "low"\ncreated = 2026-01-01\nexpires = 2027-01-01\n', "names unknown control 'ZZ-99'"),
    ("waivers.json", '{"waivers": [{"id": "W1"}]}', "waivers.0.control: Field required"),
])
def test_bad_policy_and_waivers(files: dict[str, Path], tmp_path: Path, name: str, content: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    option = "--policy" if name.startswith("policy") else "--waivers"
    result = run(*_args(files, "", ""), option, str(path))
    line = one_line_error(result)
    assert result.code == 2
    assert line.startswith(f"compliance: {path}: ") and problem in line, line
