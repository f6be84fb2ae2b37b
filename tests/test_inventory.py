"""The inventory of ``probe --inventory``: this tool's TOML/JSON, the wave file, an Ansible
YAML inventory; each problem names the file and the host, and fails alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.errors import InputError
from compliance.inputs.host_inventory import InventoryHost, load_inventory
from tests.support.fixtures import fake_store_path

CLOSURE = fake_store_path("nixos-system-web-1-1")


def test_native_toml_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(f"""
[defaults]
user = "deploy"
identity = "ids/fleet"
key = "keys/{{name}}.key"
ssh_options = ["ServerAliveInterval=5"]

[[hosts]]
name = "web-1"
address = "10.0.0.11"
port = 2201
expected_closure = "{CLOSURE}"

[[hosts]]
name = "db-1"
user = "root"
key = "/etc/db.key"
""")
    inventory = load_inventory(path)
    assert inventory.kind == "inventory" and inventory.nonce is None
    web, db = inventory.hosts
    assert web == InventoryHost(name="web-1", address="10.0.0.11", port=2201, user="deploy",
                                identity=str(tmp_path / "ids/fleet"), key=str(tmp_path / "keys/web-1.key"),
                                expected_closure=CLOSURE, ssh_options=("ServerAliveInterval=5",))
    assert db.address == "db-1" and db.user == "root" and db.key == "/etc/db.key" and db.port is None


def test_a_bare_json_list(tmp_path: Path) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps([{"name": "a"}, {"name": "b", "address": "::1", "port": 22}]))
    assert [(h.name, h.address, h.port) for h in load_inventory(path).hosts] == [("a", "a", None), ("b", "::1", 22)]


def test_the_wave_file(tmp_path: Path) -> None:
    path = tmp_path / "wave.json"
    path.write_text(json.dumps({"id": "web@1/1", "nonce": "n-123", "hosts": [
        {"name": "web-1", "expected_closure": CLOSURE, "public_key": "PEM", "canary": True}]}))
    inventory = load_inventory(path)
    assert inventory.kind == "wave" and inventory.nonce == "n-123"
    assert inventory.hosts == [InventoryHost(name="web-1", address="web-1", expected_closure=CLOSURE)]


def test_an_ansible_inventory_with_groups_and_inherited_vars(tmp_path: Path) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_user": "root", "ansible_ssh_private_key_file": "~/.ssh/fleet", "unrelated_var": 1},
        "hosts": {"bastion": {"ansible_host": "192.0.2.1"}},
        "children": {
            "web": {"vars": {"ansible_port": "2222"}, "hosts": {
                "web-1": {"ansible_host": "10.0.0.11", "compliance_expected_closure": CLOSURE},
                "web-2": {"ansible_user": "deploy", "compliance_key": "keys/web-2.key"}}},
            "db": {"hosts": {"db-1": None, "web-1": None}},
        }}}, sort_keys=False))
    hosts = {h.name: h for h in load_inventory(path).hosts}
    assert list(hosts) == ["bastion", "web-1", "web-2", "db-1"]
    assert hosts["bastion"].user == "root" and hosts["bastion"].port is None and hosts["bastion"].address == "192.0.2.1"
    assert hosts["web-1"].port == 2222 and hosts["web-1"].expected_closure == CLOSURE  # first group's vars stay
    assert hosts["web-2"].user == "deploy" and hosts["web-2"].key == str(tmp_path / "keys/web-2.key")
    assert hosts["db-1"].address == "db-1" and hosts["db-1"].identity is not None
    assert hosts["db-1"].identity.endswith("/.ssh/fleet")


@pytest.mark.parametrize(("doc", "message"), [
    ([{"name": "a"}, {"name": "a"}], "host a is listed twice"),
    ([{"name": "a", "port": 70000}], "hosts.0 (a): port: expected a number from 1 to 65535, got 70000"),
    ([{"name": "a", "port": True}], "hosts.0 (a): port: expected a number"),
    ([{"name": "a", "colour": "red"}], "hosts.0 (a): unknown field 'colour'"),
    ([{"address": "x"}], "hosts.0: name is missing"),
    ([{"name": "a b"}], "name 'a b': letters, digits"),
    ([{"name": "a", "address": "-oProxyCommand=x"}], "address '-oProxyCommand=x' is not a host name"),
    ([{"name": "a", "user": "-x"}], "user '-x' is not a user name"),
    ([{"name": "a", "expected_closure": "/nix/store/short"}], "expected_closure '/nix/store/short' is not"),
    ([{"name": "a", "ssh_options": "X=1"}], "ssh_options: expected a list"),
    ([{"name": "a", "key": ""}], "key: expected non-empty text"),
    ([], "hosts: expected a non-empty list"),
    ({"hosts": [{"name": "a"}], "extra": 1}, "unknown key 'extra'"),
    ({"defaults": {"name": "x"}, "hosts": [{"name": "a"}]}, "defaults: unknown or per-host field 'name'"),
    ({"id": "w", "nonce": "n", "hosts": {}}, "hosts: expected a list of the wave's hosts"),
    ("text", "expected an object with hosts"),
])
def test_each_problem_names_the_file_and_the_host(tmp_path: Path, doc: Any, message: str) -> None:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "message"), [
    ("all: [1, 2", "invalid YAML"),
    ("all:\n  hosts: [a, b]\n", "group all: hosts: expected a mapping"),
    ("all:\n  hostz: {}\n", "group all: unknown key 'hostz'"),
    ("all:\n  hosts:\n    a: {ansible_port: many}\n", "hosts.0 (a): port: expected a number"),
    ("", "expected an Ansible inventory"),
])
def test_ansible_problems(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hosts.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match="^" + str(path)) as caught:
        load_inventory(path)
    assert message in str(caught.value)


def test_bad_toml_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("[[hosts]\nname = 1\n")
    with pytest.raises(InputError, match="invalid TOML"):
        load_inventory(path)


names = st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
hosts = st.dictionaries(names, st.fixed_dictionaries({}, optional={
    "address": st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True),
    "port": st.integers(1, 65535),
    "user": st.from_regex(r"[a-z_][a-z0-9_-]{0,8}", fullmatch=True),
}), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(hosts)
def test_the_three_shapes_agree_on_the_same_hosts(tmp_path_factory: pytest.TempPathFactory, listed: dict[str, dict[str, Any]]) -> None:
    """The same hosts written as JSON, TOML-free JSON list and Ansible YAML read the same."""
    folder = tmp_path_factory.mktemp("inv")
    native = [{"name": name, **fields} for name, fields in listed.items()]
    (folder / "a.json").write_text(json.dumps({"hosts": native}))
    (folder / "b.json").write_text(json.dumps(native))
    ansible_hosts = {name: {{"address": "ansible_host", "port": "ansible_port", "user": "ansible_user"}[k]: v
                            for k, v in fields.items()} for name, fields in listed.items()}
    (folder / "c.yml").write_text(yaml.safe_dump({"all": {"hosts": ansible_hosts}}, sort_keys=False))
    read = [load_inventory(folder / f).hosts for f in ("a.json", "b.json", "c.yml")]
    assert read[0] == read[1] == read[2]
    assert [(h.name, h.address, h.port, h.user) for h in read[0]] == [
        (n, f.get("address", n), f.get("port"), f.get("user")) for n, f in listed.items()]
