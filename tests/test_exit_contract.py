"""The exit contract at its edges: deep nesting is a plain exit 2 (never an internal error or
a native abort), a format the command does not write is named, a nonce too short for any
wave is refused by ``probe`` itself, an empty folder is not a packet."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from compliance.models.probe import MIN_NONCE_LENGTH
from compliance.promote.promotion_policy import PromotionPolicy
from tests.support.cli import one_line_error, run
from tests.support.evidence import cli_env, make_key_pair
from tests.support.inputs import gate_args, write_release

DEPTH = 100_000


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_release(tmp_path_factory.mktemp("release"))


@pytest.mark.parametrize(("name", "text"), [
    ("deep-object.json", '{"a":' * DEPTH + "1" + "}" * DEPTH),
    ("deep-array.json", "[" * DEPTH + "]" * DEPTH),
])
@pytest.mark.parametrize("option", ["--sbom", "--closure", "--facts", "--policy"])
def test_deep_json_is_a_plain_exit_2(files: dict[str, Path], tmp_path: Path, name: str, text: str, option: str) -> None:
    deep = tmp_path / name
    deep.write_text(text)
    args = gate_args(files)
    if option in args:
        args[args.index(option) + 1] = str(deep)
    else:
        args += [option, str(deep)]
    result = run(*args)
    assert result.code == 2
    line = one_line_error(result)
    assert line.startswith(f"compliance: {deep}: invalid JSON: ") and "depth" in line, line


@pytest.mark.parametrize("text", [
    "a = " + "[" * DEPTH + "]" * DEPTH + "\n",
    "a = " + "{b = " * 20_000 + "1" + "}" * 20_000 + "\n",
])
@pytest.mark.parametrize("option", ["--policy", "--waivers"])
def test_deep_toml_is_a_plain_exit_2(files: dict[str, Path], tmp_path: Path, text: str, option: str) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text(text)
    result = run(*gate_args(files), option, str(deep))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {deep}: invalid TOML: nested too deeply"


def test_a_gate_error_waits_for_the_key_being_opened(files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is decrypted in a thread while the gate runs; an input error must not end the
    process while that thread is still inside the crypto library (a native abort at exit)."""
    from compliance.cli import main
    from compliance.runs import evidence_run

    keys = make_key_pair(tmp_path / "keys")
    opened = threading.Event()

    def slow_open(kind: str, key_path: str) -> object:
        time.sleep(1.0)
        opened.set()
        return None

    monkeypatch.setattr(evidence_run, "open_signer", slow_open)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * DEPTH + "]" * DEPTH)
    args = gate_args(files)
    args[args.index("--sbom") + 1] = str(deep)
    for name, value in cli_env().items():
        monkeypatch.setenv(name, value)
    assert main([*args, "--evidence", str(tmp_path / "packet"), "--key", str(keys.private)]) == 2
    assert opened.is_set(), "the command returned while the key was still being opened"
    assert not [t for t in threading.enumerate() if t.name == "open-signer"]


def test_pdf_is_not_a_gate_format(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = run(*gate_args(files), "-o", f"pdf={out}")
    assert result.code == 2
    assert one_line_error(result).startswith("compliance: -o pdf=: pdf is not a format of this command (known: ")
    assert "compliance evidence report --pdf" in result.stderr
    assert not out.exists()


def test_an_unknown_format_before_equals_is_named(files: dict[str, Path], tmp_path: Path) -> None:
    result = run(*gate_args(files), "-o", f"yaml={tmp_path / 'r.yaml'}")
    assert result.code == 2
    assert one_line_error(result).startswith("compliance: -o yaml=: yaml is not a format of this command (known: json, junit, junit-strict, markdown, oscal, sarif, text)")


def test_probe_refuses_a_nonce_shorter_than_any_wave_accepts(tmp_path: Path) -> None:
    keys = make_key_pair(tmp_path / "keys")
    short = "n" * (MIN_NONCE_LENGTH - 1)
    result = run("probe", "--key", str(keys.private), "--nonce", short, "-o", str(tmp_path / "r.json"), env=cli_env())
    assert result.code == 2
    assert one_line_error(result) == (f"compliance: --nonce: {len(short)} characters; a wave needs at least {MIN_NONCE_LENGTH}"
                                      " (a guessable nonce lets a report be made before the wave)")
    assert not (tmp_path / "r.json").exists()


def test_the_promotion_policy_shares_the_minimum() -> None:
    assert PromotionPolicy().min_nonce_length == MIN_NONCE_LENGTH
    with pytest.raises(ValueError, match="min_nonce_length"):
        PromotionPolicy.model_validate({"min_nonce_length": MIN_NONCE_LENGTH - 1})


@pytest.mark.parametrize("command", ["verify", "export", "report"])
def test_an_empty_directory_is_not_a_packet(tmp_path: Path, command: str) -> None:
    keys = make_key_pair(tmp_path / "keys")
    empty = tmp_path / "empty"
    empty.mkdir()
    extra = {"verify": ["--key", str(keys.public)], "export": ["--format", "json"], "report": ["--pdf", str(tmp_path / "r.pdf")]}[command]
    result = run("evidence", command, str(empty), *extra)
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {empty}: an empty directory, no manifest.json: not an evidence packet"
