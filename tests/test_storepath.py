"""Store path names are parsed the way Nix parses them (``DrvName`` in libexpr/names.cc)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compliance.errors import StorePathError
from compliance.nix.hashes import NIX32
from compliance.nix.storepath import parse_basename, parse_store_path, split_name
from tests.support import nix

# (full name, name, version) as Nix's builtins.parseDrvName returns them.
NIX_CASES = [
    ("openssl-3.0.13", "openssl", "3.0.13"),
    ("xz-5.4.6-bin", "xz", "5.4.6-bin"),
    ("source", "source", None),
    ("python3.11-pyyaml-6.0.1", "python3.11-pyyaml", "6.0.1"),
    ("nixos-system-web-24.05.20240612.abc1234", "nixos-system-web", "24.05.20240612.abc1234"),
    ("linux-6.6.30-modules-shrunk", "linux", "6.6.30-modules-shrunk"),
    ("glibc-2.39-52", "glibc", "2.39-52"),
    ("hello-2.12.1", "hello", "2.12.1"),
    ("x-", "x-", None),
    ("-1", "", "1"),
    ("foo-bar-baz", "foo-bar-baz", None),
    ("foo-_bar", "foo", "_bar"),
    ("unstable-2024-01-01", "unstable", "2024-01-01"),
]


@pytest.mark.parametrize(("full", "name", "version"), NIX_CASES)
def test_split_name_matches_nix(full: str, name: str, version: str | None) -> None:
    assert tuple(split_name(full)) == (name, version)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789+-._?=", min_size=1, max_size=60))
def test_split_name_partitions_the_name(full: str) -> None:
    name, version = split_name(full)
    if version is None:
        assert name == full
    else:
        assert f"{name}-{version}" == full
        # the split is at the first dash followed by a non-letter
        assert not version[:1].isalpha() or not version[:1].isascii()
        for i, char in enumerate(name):
            if char == "-" and i + 1 < len(full):
                assert full[i + 1].isascii() and full[i + 1].isalpha()


hashes = st.text(alphabet=NIX32, min_size=32, max_size=32)
names = st.from_regex(r"[A-Za-z0-9+_?=][A-Za-z0-9+\-._?=]{0,80}", fullmatch=True)


@given(hashes, names)
def test_valid_store_paths_parse(digest: str, name: str) -> None:
    assert parse_store_path(f"/nix/store/{digest}-{name}") == (digest, name)


@pytest.mark.parametrize(
    "path",
    [
        "/nix/store/short-name",
        "/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-name",  # 'e' is not nix-base32
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-.",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-..",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-.-config",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-..-config",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-bad name",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-ok/inner/file",
        "/usr/lib/0123456789abcdfghijklmnpqrsvwxyz-ok",
        "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-" + "a" * 212,
    ],
)
def test_invalid_store_paths_are_rejected(path: str) -> None:
    with pytest.raises(StorePathError):
        parse_store_path(path)


@pytest.mark.parametrize("name", [".hidden", "...", ".config-1.0", "..x"])
def test_a_leading_period_is_a_valid_name(name: str) -> None:
    """Nix allows it (officially since 2.20, by accident since 2.4): only ".", ".." and
    names starting with ".-" or "..-" are refused."""
    digest = "0123456789abcdfghijklmnpqrsvwxyz"
    assert parse_store_path(f"/nix/store/{digest}-{name}") == (digest, name)


@pytest.mark.parametrize("name", [".", "..", ".-x", "..-x", ".hidden", "ok"])
def test_every_reader_agrees_on_what_a_store_path_is(name: str) -> None:
    from compliance.inputs.sbom.sbom_common import is_store_path
    from compliance.inputs.scanners.scanner_common import store_object

    path = f"/nix/store/0123456789abcdfghijklmnpqrsvwxyz-{name}"
    try:
        parse_store_path(path)
        valid = True
    except StorePathError:
        valid = False
    assert is_store_path(path) is valid
    assert (store_object(f"{path}/bin/x") == path) is valid


@nix.requires_nix
def test_nix_makes_store_paths_with_a_leading_period() -> None:
    import subprocess

    out = subprocess.run(["nix", "eval", "--raw", "--expr", 'builtins.toFile ".hidden" "x"'],
                         capture_output=True, text=True, env=nix.nix_env(), check=True).stdout
    assert parse_store_path(out)[1] == ".hidden"


def test_basename_requires_the_dash() -> None:
    with pytest.raises(StorePathError):
        parse_basename("0123456789abcdfghijklmnpqrsvwxyzname")


@nix.requires_nix
def test_split_name_agrees_with_nix_parse_drv_name() -> None:
    """The real Nix decides: one ``nix eval`` over the table and a few hundred random names."""
    import json
    import random
    import subprocess

    rng = random.Random(7)
    alphabet = "abcXYZ0123456789-._+"
    extra = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16))) for _ in range(300)]
    candidates = [full for full, _, _ in NIX_CASES] + extra
    out = subprocess.run(
        ["nix", "eval", "--json", "--expr", f"map builtins.parseDrvName (builtins.fromJSON {json.dumps(json.dumps(candidates))})"],
        capture_output=True, text=True, env=nix.nix_env(), check=True,
    ).stdout
    for full, parsed in zip(candidates, json.loads(out), strict=True):
        name, version = split_name(full)
        assert (name, version or "") == (parsed["name"], parsed["version"]), full
