"""Property-based fuzzing of every reader, kept short for CI (``scripts/fuzz`` runs the
same targets for longer): a value or an error the tool raises on purpose, never a crash;
a duplicate key is always refused and named; nesting past the limit is always refused."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import fuzzing as f

CI = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@CI
@given(f.json_values, st.booleans())
def test_json_reads_what_the_standard_library_reads(value: Any, ascii_only: bool) -> None:
    f.json_roundtrip(value, ascii_only)


@CI
@given(f.duplicated_documents())
def test_json_refuses_every_duplicate_key(document: tuple[str, str]) -> None:
    f.json_duplicate(document)


@CI
@given(st.integers(1, 4000), st.sampled_from(["array", "object"]))
def test_json_nesting_is_read_or_refused(depth: int, kind: str) -> None:
    f.json_depth(depth, kind)


@CI
@given(st.binary(max_size=300))
def test_json_bytes_never_crash(data: bytes) -> None:
    f.json_bytes(data)


@CI
@given(f.json_values, st.sampled_from(f.ENCODINGS))
def test_sboms_in_odd_encodings(value: Any, encoding: str) -> None:
    f.sbom_encoded(value, encoding)


@CI
@given(st.text(max_size=200) | st.builds(lambda n: "a = " + "[" * n + "]" * n, st.integers(1, 3000)))
def test_toml_never_crashes(text: str) -> None:
    f.toml_text(text)


@CI
@given(f.tag_lines)
def test_tag_value_never_crashes(lines: list[tuple[str, str]]) -> None:
    f.tag_value(lines)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(f.tarballs())
def test_tarballs_never_crash(data: bytes) -> None:
    f.tarball(data)
