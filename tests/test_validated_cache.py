"""The digest-keyed cache of a validated catalog: a hit returns what the loader returned,
any change of the inputs is a miss, and no bad entry or folder ever becomes an answer."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.catalog.loader import Catalog, _load_catalog, default_catalog_dir
from compliance.util import validated_cache


class Tree:
    def __init__(self, files: int) -> None:
        self.files = files


def make_tree(root: Path) -> Path:
    (root / "library").mkdir(parents=True)
    (root / "library" / "a.toml").write_text('id = "a"\n')
    return root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(folder))
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    return folder


def counting_loader(calls: list[Path]) -> Callable[[Path], Tree]:
    def load(root: Path) -> Tree:
        calls.append(root)
        return Tree(len(list(root.rglob("*.toml"))))
    return load


def test_second_load_is_a_hit(tmp_path: Path, cache: Path) -> None:
    root, calls = make_tree(tmp_path / "tree"), list[Path]()
    load = counting_loader(calls)
    first = validated_cache.cached(root, load, Tree)
    second = validated_cache.cached(root, load, Tree)
    assert calls == [root]
    assert second.files == first.files == 1
    assert len(list(cache.glob("*.pickle"))) == 1


@pytest.mark.parametrize("change", ["edit", "add", "rename"])
def test_any_change_of_a_toml_file_is_a_miss(tmp_path: Path, cache: Path, change: str) -> None:
    root, calls = make_tree(tmp_path / "tree"), list[Path]()
    load = counting_loader(calls)
    before = validated_cache.tree_key(root)
    validated_cache.cached(root, load, Tree)
    if change == "edit":
        (root / "library" / "a.toml").write_text('id = "b"\n')
    elif change == "add":
        (root / "library" / "b.toml").write_text("")
    else:
        (root / "library" / "a.toml").rename(root / "library" / "c.toml")
    assert validated_cache.tree_key(root) != before
    validated_cache.cached(root, load, Tree)
    assert len(calls) == 2


def test_a_changed_module_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_tree(tmp_path / "tree")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(validated_cache, "PACKAGE", package)
    before = validated_cache.tree_key(root)
    (package / "m.py").write_text("x = 22\n")
    assert validated_cache.tree_key(root) != before


@pytest.mark.parametrize("entry", [b"", b"not a pickle", pickle.dumps(["a list, not a Tree"])])
def test_a_corrupt_or_foreign_entry_is_ignored_and_replaced(tmp_path: Path, cache: Path, entry: bytes) -> None:
    root, calls = make_tree(tmp_path / "tree"), list[Path]()
    path = cache / f"tree-{validated_cache.tree_key(root)}.pickle"
    path.parent.mkdir(parents=True)
    path.write_bytes(entry)
    assert validated_cache.cached(root, counting_loader(calls), Tree).files == 1
    assert calls == [root]
    assert isinstance(pickle.loads(path.read_bytes()), Tree)


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("COMPLIANCE_CACHE_DIR", str(blocker / "cache"))  # under a regular file
    root, calls = make_tree(tmp_path / "tree"), list[Path]()
    assert validated_cache.cached(root, counting_loader(calls), Tree).files == 1
    assert validated_cache.cached(root, counting_loader(calls), Tree).files == 1
    assert len(calls) == 2


def test_turned_off_by_the_environment(tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_NO_CACHE", "1")
    root, calls = make_tree(tmp_path / "tree"), list[Path]()
    validated_cache.cached(root, counting_loader(calls), Tree)
    validated_cache.cached(root, counting_loader(calls), Tree)
    assert len(calls) == 2
    assert not cache.exists()


def test_loader_errors_pass_through_uncached(tmp_path: Path, cache: Path) -> None:
    root = make_tree(tmp_path / "tree")

    def broken(_root: Path) -> Tree:
        raise ValueError("bad catalog")

    with pytest.raises(ValueError, match="bad catalog"):
        validated_cache.cached(root, broken, Tree)
    assert not cache.exists() or not list(cache.glob("*.pickle"))


def test_the_bundled_catalog_round_trips(cache: Path) -> None:
    root = default_catalog_dir().resolve()
    fresh = _load_catalog.__wrapped__(root)  # type: ignore[attr-defined]
    validated_cache.cached(root, _load_catalog.__wrapped__, Catalog)  # type: ignore[attr-defined]
    hit = validated_cache.cached(root, lambda _r: pytest.fail("loaded again"), Catalog)
    assert hit.digest == fresh.digest
    assert hit.controls == fresh.controls
    assert hit.frameworks == fresh.frameworks
    assert hit.profiles == fresh.profiles
