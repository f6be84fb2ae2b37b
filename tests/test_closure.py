"""Closures from path-info JSON (every shape Nix prints), listings and the live store."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import InputError
from compliance.inputs.closure import parse_closure, read_closure
from compliance.nix.hashes import NIX32, sha256_hex
from tests.support import nix

H = "0123456789abcdfghijklmnpqrsvwxyz"


def p(name: str, h: str = H) -> str:
    return f"/nix/store/{h}-{name}"


def test_list_shape_of_nix_2_8() -> None:
    doc = [
        {"path": p("app-1.0"), "narHash": "sha256-FePFYIlMuycIXPZbWi7LGEiMmZSX9FMbaQenWBzm1Sc=", "narSize": 10,
         "references": [p("lib-2.0", H[::-1])], "deriver": p("app-1.0.drv")},
        {"path": p("lib-2.0", H[::-1]), "narHash": "sha256:1lr187v6dck1rjh2j6svpikcfz53wyl3qrlcbb405zlh13x0khhh", "narSize": 5, "references": []},
    ]
    closure = parse_closure(json.dumps(doc).encode(), "pi.json")
    assert closure.roots == (p("app-1.0"),)
    app = closure.paths[p("app-1.0")]
    assert (app.name, app.version, app.references) == ("app", "1.0", (p("lib-2.0", H[::-1]),))
    assert sha256_hex(app.nar_hash or "") == "15e3c560894cbb27085cf65b5a2ecb18488c999497f4531b6907a7581ce6d527"


def test_object_shape_and_store_dir_less_paths() -> None:
    """Newer Nix keys the object by store path; the newest prints paths without /nix/store."""
    doc = {
        f"{H}-app-1.0": {"narHash": "sha256-FePFYIlMuycIXPZbWi7LGEiMmZSX9FMbaQenWBzm1Sc=", "narSize": 1,
                         "references": [f"{H[::-1]}-lib-2.0"], "storeDir": "/nix/store",
                         "signatures": [{"keyName": "cache.example-1", "sig": "AAAA"}], "ca": {"method": "nar", "hash": "sha256-x"}},
        f"{H[::-1]}-lib-2.0": {"narHash": "sha256-FePFYIlMuycIXPZbWi7LGEiMmZSX9FMbaQenWBzm1Sc=", "narSize": 1, "references": [], "storeDir": "/nix/store"},
    }
    closure = parse_closure(json.dumps(doc).encode(), "pi.json")
    assert closure.roots == (p("app-1.0"),)
    assert closure.paths[p("app-1.0")].signatures == ("cache.example-1:AAAA",)
    assert closure.paths[p("app-1.0")].references == (p("lib-2.0", H[::-1]),)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_upstream_path_info_vectors(shared_data: Path, version: int) -> None:
    """NixOS/nix's own test vectors for store-object-info JSON formats 1-3, keyed by path."""
    info = json.loads((shared_data / "nix" / f"nix-path-info.json-v{version}.impure.json").read_text())
    refs = [r if r.startswith("/") else f"/nix/store/{r}" for r in info["references"]]
    doc = {refs[0]: info, refs[1]: {"narHash": info["narHash"], "references": []}}
    closure = parse_closure(json.dumps(doc).encode(), "vector")
    bar = closure.paths["/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar"]
    assert bar.nar_size == 34878
    assert len(bar.signatures) == 2 and bar.signatures[0].startswith("asdf:")
    assert bar.deriver == "/nix/store/g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q-bar.drv"


def test_a_bare_path_info_object_is_explained() -> None:
    with pytest.raises(InputError, match="without its store path"):
        parse_closure(b'{"narHash": "sha256-x", "references": []}', "one.json")


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ([{"narHash": "x"}], "no 'path' string"),
        ([{"path": "/nix/store/bad"}], "is not <hash>-<name>"),
        ([{"path": p("a-1"), "references": "nope"}], "'references' must be a list"),
        ([{"path": p("a-1"), "references": [p("missing-1", H[::-1])]}], "not in the closure"),
        ([{"path": p("a-1"), "narSize": -1}], "non-negative"),
        ({p("a-1"): None}, "not valid in the store"),
        ("text", "expected a list or an object"),
        ([], "holds no store paths"),
    ],
)
def test_malformed_path_info_names_the_problem(doc: object, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as err:
        parse_closure(json.dumps(doc).encode(), "bad.json")
    assert str(err.value).startswith("bad.json: ")


def test_listing_takes_the_last_path_as_top_level() -> None:
    text = f"# nix-store -qR\n{p('lib-2.0', H[::-1])}\n\n{p('app-1.0')}\n"
    closure = parse_closure(text.encode(), "closure.txt")
    assert closure.roots == (p("app-1.0"),)
    assert set(closure.paths) == {p("app-1.0"), p("lib-2.0", H[::-1])}
    with pytest.raises(InputError, match="line 2"):
        parse_closure(f"{p('a-1')}\n/tmp/x\n".encode(), "closure.txt")


# ---------------------------------------------------------------------------- properties

names = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[0-9][0-9.]{0,6})?", fullmatch=True)


@st.composite
def closures(draw: st.DrawFn) -> list[dict[str, object]]:
    count = draw(st.integers(min_value=1, max_value=25))
    paths = [f"/nix/store/{draw(st.text(alphabet=NIX32, min_size=32, max_size=32))}-{draw(names)}" for _ in range(count)]
    paths = list(dict.fromkeys(paths))
    entries = []
    for index, path in enumerate(paths):
        refs = draw(st.lists(st.sampled_from(paths[: index + 1]), max_size=4)) if index else []
        entries.append({"path": path, "narHash": "sha256-" + "A" * 43 + "=", "narSize": draw(st.integers(0, 10**9)), "references": sorted(set(refs))})
    return entries


@given(closures())
@settings(max_examples=60)
def test_every_shape_reads_into_the_same_closure(entries: list[dict[str, object]]) -> None:
    as_list = parse_closure(json.dumps(entries).encode(), "list")
    as_object = parse_closure(json.dumps({e["path"]: {k: v for k, v in e.items() if k != "path"} for e in entries}).encode(), "object")
    stripped = {
        str(e["path"])[len("/nix/store/"):]: {**{k: v for k, v in e.items() if k != "path"},
                                               "references": [str(r)[len("/nix/store/"):] for r in e["references"]]}  # type: ignore[attr-defined]
        for e in entries
    }
    as_new = parse_closure(json.dumps(stripped).encode(), "new")
    listing = "\n".join(str(e["path"]) for e in entries).encode()
    as_listing = parse_closure(listing, "listing")
    assert as_list.paths == as_object.paths == as_new.paths
    assert as_list.roots == as_object.roots == as_new.roots
    assert set(as_listing.paths) == set(as_list.paths)
    referenced = {r for info in as_list.paths.values() for r in info.references if r != info.path}
    assert set(as_list.roots) == set(as_list.paths) - referenced or not set(as_list.paths) - referenced


@given(st.binary(max_size=200))
def test_garbage_is_an_input_error_never_a_crash(data: bytes) -> None:
    try:
        parse_closure(data, "garbage")
    except InputError as exc:
        assert str(exc).startswith("garbage: ")


# ---------------------------------------------------------------------------- real Nix


@nix.requires_nix
def test_real_closure_from_path_info_file_and_live_store_agree(tmp_path: Path) -> None:
    top = nix.build_release(tmp_path)
    pi = tmp_path / "pi.json"
    pi.write_bytes(subprocess.run(["nix", "path-info", "--json", "--recursive", top], capture_output=True, check=True, env=nix.nix_env()).stdout)
    from_file, _ = read_closure(str(pi))
    live, live_bytes = read_closure(top)
    listing = tmp_path / "closure.txt"
    listing.write_text("\n".join(nix.requisites(top)) + "\n")
    from_listing, _ = read_closure(str(listing))
    assert set(from_file.paths) == set(live.paths) == set(from_listing.paths) == set(nix.requisites(top))
    assert from_file.roots == live.roots == from_listing.roots == (top,)
    assert live_bytes == pi.read_bytes()
    assert from_file.paths == live.paths
    assert live.real_store_dir == Path("/nix/store") and from_file.real_store_dir is None
    by_name = {i.name: i for i in live.paths.values()}
    assert by_name["curl"].version == "8.6.0"
    assert by_name["source"].version is None
    assert by_name["python3.11-pyyaml"].version == "6.0.1"
    assert by_name["openssl"].path in by_name["curl"].references
    # the NAR hash is the sha256 of nix-store --dump
    dump = subprocess.run(["nix-store", "--dump", top], capture_output=True, check=True, env=nix.nix_env()).stdout
    import hashlib

    assert sha256_hex(live.paths[top].nar_hash or "") == hashlib.sha256(dump).hexdigest()


@nix.requires_nix
def test_result_symlink_is_a_live_closure(tmp_path: Path) -> None:
    top = nix.build_release(tmp_path)
    closure, _ = read_closure(str(tmp_path / "release-result"))
    assert closure.roots == (top,)


@nix.requires_nix
def test_a_closure_file_inside_a_store_object_is_read_as_a_file(tmp_path: Path) -> None:
    """path-info JSON kept in the store (a CI artefact, closureInfo's store-paths) describes
    the release; the store object holding it is not the release."""
    top = nix.build_release(tmp_path)
    info = subprocess.run(["nix", "path-info", "--json", "--recursive", top], capture_output=True, text=True, check=True, env=nix.nix_env()).stdout
    listing = "\n".join(nix.requisites(top)) + "\n"
    holder = nix.build(
        "derivation { name = \"closure-info\"; system = builtins.currentSystem; builder = \"/bin/sh\";"
        f" info = {json.dumps(info)}; listing = {json.dumps(listing)}; passAsFile = [ \"info\" \"listing\" ];"
        " args = [ \"-c\" \"/bin/mkdir $out && /bin/cp $infoPath $out/closure.json && /bin/cp $listingPath $out/store-paths\" ]; }",
        tmp_path, "holder",
    )
    (tmp_path / "info-link").symlink_to(f"{holder}/closure.json")
    for spec in (f"{holder}/closure.json", f"{holder}/store-paths", str(tmp_path / "info-link")):
        closure, _ = read_closure(spec)
        assert closure.roots == (top,), spec
        assert holder not in closure.paths
    closure, _ = read_closure(holder)  # the store path itself: what Nix says about it
    assert closure.roots == (holder,)


@pytest.mark.parametrize("nar_hash", ["sha256-AAAA", "sha256:zzzz", "md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:" + "e" * 52])
def test_the_top_level_nar_hash_must_read_as_sha256(nar_hash: str) -> None:
    """It is the digest the signed statement binds the assessment to."""
    from compliance.assess.assessment import closure_subject
    from compliance.checks.predicate_subject import Subject

    closure = parse_closure(json.dumps([{"path": p("app-1.0"), "narHash": nar_hash, "references": []}]).encode(), "pi.json")
    with pytest.raises(InputError, match=rf"^pi.json: {p('app-1.0')}: narHash "):
        closure_subject(Subject(closure=closure))


@pytest.mark.parametrize("notation", ["sri", "nix32", "hex", "base64"])
def test_every_nix_notation_of_a_nar_hash_gives_the_same_digest(notation: str) -> None:
    import base64

    from compliance.assess.assessment import closure_subject
    from compliance.checks.predicate_subject import Subject
    from compliance.nix.hashes import nix32_encode

    digest = bytes(range(32))
    b64 = base64.b64encode(digest).decode()
    nar_hash = {"sri": f"sha256-{b64}", "nix32": f"sha256:{nix32_encode(digest)}", "hex": f"sha256:{digest.hex()}", "base64": f"sha256:{b64}"}[notation]
    closure = parse_closure(json.dumps([{"path": p("app-1.0"), "narHash": nar_hash, "references": []}]).encode(), "pi.json")
    assert closure_subject(Subject(closure=closure)).nar_sha256 == digest.hex()
