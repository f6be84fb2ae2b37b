"""A JSON object with the same key twice is refused wherever JSON is read: the parser keeps
one of the two values silently (orjson the last), so a second, laxer ``block_severities``
in a policy would decide the gate. Gate inputs exit 2 naming the file and the key; signed
documents with a duplicate key are invalid evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.errors import InputError, MalformedJSON
from compliance.util.fsutil import parse_json
from compliance.util.jsonparse import loads_json
from tests.support.cli import one_line_error, run
from tests.support.inputs import gate_args, write_release


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_release(tmp_path_factory.mktemp("release"))


@pytest.mark.parametrize(("text", "key"), [
    ('{"a": 1, "a": 2}', "a"),
    ('{"x": {"b": [1, {"c": 1, "c": 1}]}}', "c"),
    ('{"a": 1, "\\u0061": 2}', "a"),  # the same key, spelt with an escape
    ('{"k\\u003a": 1, "k\\u003a": 2}', "k:"),  # an escaped colon cannot hide one either
    ('{"k:": "v:", "k:": "w"}', "k:"),
    ('[{"q": "\\"", "q": "\\\\"}]', "q"),
    ('{"a" : 1 ,\n "a"\t: 1}', "a"),
])
def test_duplicate_keys_are_refused_naming_the_key(text: str, key: str) -> None:
    with pytest.raises(MalformedJSON) as caught:
        loads_json(text.encode())
    assert caught.value.problem == f"duplicate key {json.dumps(key)}"
    with pytest.raises(InputError) as wrapped:
        parse_json(text.encode(), "doc.json")
    assert str(wrapped.value) == f"doc.json: invalid JSON: duplicate key {json.dumps(key)}"


@pytest.mark.parametrize("text", [
    '{"a": 1, "b": {"a": 2}}',  # the same key in two objects is not a duplicate
    '{"a": "\\"a\\": 1", "b": "x:y", "c": ":::"}',
    '{"a\\u003ab": 1, "a:c": 2}',
    '[{"a": 1}, {"a": 1}]',
    "{}",
])
def test_distinct_keys_are_read(text: str) -> None:
    assert loads_json(text.encode()) == json.loads(text)


def _with_duplicate(data: bytes, key: str) -> bytes:
    """``data`` (a JSON object or a list of them) with ``key`` written twice in its first object."""
    text = data.decode()
    start = text.index("{") + 1
    return (text[:start] + f'"{key}": null, ' + text[start:]).encode()


@pytest.mark.parametrize(("option", "name", "key"), [
    ("--closure", "closure", "narHash"),
    ("--sbom", "sbom", "bomFormat"),
    ("--facts", "facts", "options"),
    ("--flake-lock", "lock", "nodes"),
    ("--vulns", "vulns", "matches"),
])
def test_a_gate_input_with_a_duplicate_key_is_exit_2(files: dict[str, Path], tmp_path: Path, option: str, name: str, key: str) -> None:
    bad = tmp_path / files[name].name
    bad.write_bytes(_with_duplicate(files[name].read_bytes(), key))
    args = gate_args(files)
    args[args.index(option) + 1] = str(bad)
    out = tmp_path / "results.json"
    result = run(*args, "-o", f"json={out}")
    assert result.code == 2, result.stdout
    assert one_line_error(result) == f"compliance: {bad}: invalid JSON: duplicate key {json.dumps(key)}"
    assert not out.exists()


def test_a_second_laxer_block_severities_does_not_pass_the_gate(files: dict[str, Path], tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text('{"block_severities": ["critical", "high", "medium"], "block_severities": []}')
    result = run(*gate_args(files), "--policy", str(policy))
    assert result.code == 2
    assert one_line_error(result) == f'compliance: {policy}: invalid JSON: duplicate key "block_severities"'


def test_a_duplicate_waiver_field_is_exit_2(files: dict[str, Path], tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.json"
    waivers.write_text('{"waivers": [{"id": "W1", "control": "IA-02", "control": "SC-04", "reason": "x", "risk": "low",'
                       ' "created": "2026-01-01", "expires": "2027-01-01"}]}')
    result = run(*gate_args(files), "--waivers", str(waivers))
    assert result.code == 2
    assert one_line_error(result) == f'compliance: {waivers}: invalid JSON: duplicate key "control"'


def test_toml_already_refuses_a_duplicate_key(files: dict[str, Path], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('block_severities = ["critical"]\nblock_severities = []\n')
    result = run(*gate_args(files), "--policy", str(policy))
    assert result.code == 2
    assert one_line_error(result) == f"compliance: {policy}: invalid TOML: Cannot overwrite a value (at line 2, column 22)"


def test_a_signed_payload_with_a_duplicate_key_is_invalid_evidence() -> None:
    from pydantic import BaseModel

    from compliance.errors import VerificationError
    from compliance.signing.signed_docs import load_document

    class Payload(BaseModel):
        a: int

    with pytest.raises(VerificationError) as caught:
        load_document(Payload, b'{"a": 1, "a": 2}', "report.dsse", "a probe report")
    assert str(caught.value) == 'report.dsse: not JSON (duplicate key "a")'


def test_a_wave_with_a_duplicate_key_is_refused(tmp_path: Path) -> None:
    from compliance.promote.wave import read_wave

    wave = tmp_path / "wave.json"
    wave.write_text('{"wave": "w1", "nonce": "n", "nonce": "m", "hosts": []}')
    with pytest.raises(InputError) as caught:
        read_wave(wave)
    assert str(caught.value) == f'{wave}: invalid JSON: duplicate key "nonce"'


def test_a_packet_manifest_with_a_duplicate_key_is_invalid_evidence() -> None:
    from compliance.errors import VerificationError
    from compliance.evidence.manifest import parse_manifest

    with pytest.raises(VerificationError) as caught:
        parse_manifest(b'{"files": [], "files": []}', "manifest.json")
    assert str(caught.value) == 'manifest.json: not JSON (duplicate key "files")'


def test_nesting_orjson_cannot_write_back_is_still_checked() -> None:
    """orjson reads 1024 levels but writes 255: between the two, the count falls back to
    the exact parse (found by tests/test_fuzz_readers.py)."""
    deep = "[" * 300 + '{"a": 1}' + "]" * 300
    assert loads_json(deep.encode()) is not None
    with pytest.raises(MalformedJSON) as caught:
        loads_json(("[" * 300 + '{"a": 1, "a": 2}' + "]" * 300).encode())
    assert caught.value.problem == 'duplicate key "a"'
