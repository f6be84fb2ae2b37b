"""The release gate fails closed on inputs that look like a pass but are not one: option
values that throw, values that are not a configuration, licence ids in older spellings,
policy entries that name no control, nix.conf includes, empty SBOMs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.inputs.facts_eval import evaluate_facts
from tests.support import nix
from tests.support.cli import one_line_error, run

SC04 = "nixpkgs.config.permittedInsecurePackages"


def _gate_results(facts: Path, *controls: str) -> dict[str, dict[str, object]]:
    result = run("gate", "--facts", str(facts), "--format", "json", env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert result.code in (0, 1), result.stderr
    results = {r["control_id"]: r for r in json.loads(result.stdout)["assessment"]["results"]}
    return {c: results[c] for c in controls}


@nix.requires_nix
@pytest.mark.parametrize(("config", "control", "absent"), [
    # the attribute set an option lives in throws
    ('{ config = { nixpkgs.config = throw "config broken"; }; }', "SC-04", False),
    # one element of the option's value throws
    ('{ config = { nixpkgs.config.permittedInsecurePackages = [ "openssl-1.1.1w" (throw "x") ]; }; }', "SC-04", False),
    # an extra-* setting throws: not the same as not being set
    ('{ nix.settings = { substituters = [ "https://cache.nixos.org" ]; trusted-substituters = [ ]; require-sigs = true;'
     ' trusted-public-keys = [ "cache.nixos.org-1:6NCHdD59X431o0gWypbMrAURkbJ16ZPMQFGspcDShjY=" ];'
     ' trusted-users = [ "root" ]; extra-trusted-users = throw "x"; extra-substituters = [ (throw "y") ]; };'
     ' nix.extraOptions = ""; }', "SC-06", False),
    # not set at all: the documented default (nothing permitted) applies
    ("{ config = { nixpkgs.config = { }; }; }", "SC-04", True),
])
def test_an_option_that_throws_is_an_error_not_a_default(tmp_path: Path, config: str, control: str, absent: bool) -> None:
    source = tmp_path / "machine.nix"
    source.write_text(config)
    facts = tmp_path / "facts.json"
    made = run("facts", "--file", str(source), "-o", str(facts), env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert made.code == 0, made.stderr
    results = _gate_results(facts, control, "IA-08")
    if absent:
        assert results[control]["status"] == "pass", results[control]
        assert SC04 in json.loads(facts.read_text())["origin"]["absent"]
        return
    assert results[control]["status"] == "error", results[control]
    assert "evaluating it failed" in str(results[control]["message"])
    if control == "SC-06":
        assert results["IA-08"]["status"] == "error" and "extra-trusted-users" in str(results["IA-08"]["message"])


@nix.requires_nix
def test_a_step_into_a_value_that_is_not_an_attribute_set_is_not_absence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIX_CONFIG", nix.NIX_CONFIG)
    source = tmp_path / "machine.nix"
    source.write_text("{ nixpkgs.config = 3; nix.settings = { }; }")
    doc = evaluate_facts([SC04, "nix.settings.extra-substituters"], nix_file=str(source))
    assert doc["origin"]["unavailable"] == [SC04]
    assert doc["origin"]["absent"] == ["nix.settings.extra-substituters"]


@nix.requires_nix
@pytest.mark.parametrize(("value", "kind"), [("42", "an int"), ('"web"', "a string"), ("[ ]", "a list"),
                                             ("{ config, ... }: { }", "a lambda")])
def test_a_value_that_is_not_a_configuration_is_bad_input(tmp_path: Path, value: str, kind: str) -> None:
    source = tmp_path / "num.nix"
    source.write_text(value)
    out = tmp_path / "facts.json"
    result = run("facts", "--file", str(source), "-o", str(out), env={"NIX_CONFIG": nix.NIX_CONFIG})
    assert result.code == 2
    assert one_line_error(result).endswith(f"{source}: the value is {kind}, not a NixOS configuration "
                                           "(an attribute set of options, or one with 'config')")
    assert not out.exists()


AGPL_DENIED = {"agpl-3.0-only", "agpl-3.0-or-later"}


@pytest.mark.parametrize(("expression", "denied", "allowed"), [
    ("AGPL-3.0", AGPL_DENIED, False), ("AGPL-3.0+", AGPL_DENIED, False), ("MIT AND AGPL-3.0", AGPL_DENIED, False),
    ("agpl3Only", AGPL_DENIED, False), ("agpl3Plus", AGPL_DENIED, False),
    ("GNU Affero General Public License v3.0 only", AGPL_DENIED, False),
    ("GNU Affero General Public License v3.0 or later", {"agpl-3.0-or-later"}, False),
    ("GPL-2.0", {"gpl-2.0-only"}, False), ("GPL-3.0+", {"gpl-3.0-or-later"}, False), ("LGPL-2.1", {"lgpl-2.1-only"}, False),
    ("LGPL-2.1+", {"lgpl-2.1-or-later"}, False), ("GPL-2.0-with-classpath-exception", {"gpl-2.0-only"}, False),
    ("lgpl21Plus", {"lgpl-2.1-or-later"}, False), ("GNU Library General Public License v2 only", {"lgpl-2.0-only"}, False),
    # a denylist in the older spelling denies the current one
    ("GPL-3.0-only", {"gpl-3.0"}, False),
    # other versions and families stay allowed
    ("GPL-2.0", {"gpl-3.0-only", "gpl-3.0-or-later"}, True), ("LGPL-3.0", AGPL_DENIED, True), ("GPL-3.0", AGPL_DENIED, True),
    ("MIT OR AGPL-3.0", AGPL_DENIED, True),
])
def test_deprecated_gnu_licence_ids_meet_the_denylist(expression: str, denied: set[str], allowed: bool) -> None:
    from compliance.predicates.sbom_checks import licence_allowed

    assert licence_allowed(expression, denied) is allowed


def _sbom(tmp_path: Path, components: list[dict[str, object]]) -> Path:
    path = tmp_path / "bom.cdx.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}))
    return path


def test_the_gate_denies_agpl_under_its_deprecated_id(tmp_path: Path) -> None:
    components = [{"type": "library", "bom-ref": f"c{i}", "name": f"p{i}", "version": "1.0", "purl": f"pkg:nix/p{i}@1.0",
                   "licenses": [{"license": {"id": licence}}]} for i, licence in enumerate(["AGPL-3.0", "AGPL-3.0+", "MIT"])]
    result = run("gate", "--sbom", str(_sbom(tmp_path, components)), "--format", "json")
    sc08 = next(r for r in json.loads(result.stdout)["assessment"]["results"] if r["control_id"] == "SC-08")
    assert sc08["status"] == "fail" and sc08["message"].startswith("2 component(s) carry a denied licence"), sc08


@pytest.mark.parametrize("field", ["block_controls", "never_block"])
def test_a_policy_naming_an_unknown_control_is_bad_input(tmp_path: Path, field: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'{field} = ["SC-08", "SC-99"]\n')
    out = tmp_path / "results.json"
    sbom = _sbom(tmp_path, [{"type": "library", "name": "p", "version": "1", "licenses": [{"license": {"id": "MIT"}}]}])
    result = run("gate", "--sbom", str(sbom), "--policy", str(policy), "-o", f"json={out}")
    assert result.code == 2
    assert one_line_error(result).endswith(f"{policy}: {field} names unknown control 'SC-99'")
    assert not out.exists()


@pytest.mark.parametrize("line", ["include /etc/nix/extra.conf", "!include /etc/nix/secret.conf", "  include\t/x # lab"])
@pytest.mark.parametrize("function", ["substituters_trusted", "nix_trusted_users"])
def test_a_nix_conf_include_cannot_be_judged(line: str, function: str) -> None:
    from compliance.models.common import Status
    from tests.test_predicates import _nix, _run

    status, message = _run(function, _nix(f"experimental-features = nix-command\n{line}\n"))
    assert status is Status.ERROR and "includes a file outside the configuration" in message, message
    # a setting merely named like the keyword is no include
    assert _run(function, _nix("include-foo = 1\n"))[0] is Status.PASS


def _licensed_sbom(tmp_path: Path) -> Path:
    return _sbom(tmp_path, [{"type": "library", "name": "p", "version": "1", "licenses": [{"license": {"id": "MIT"}}]}])


def test_outputs_are_written_all_or_none(tmp_path: Path) -> None:
    sbom = _licensed_sbom(tmp_path)
    written = tmp_path / "ok.json"
    result = run("gate", "--sbom", str(sbom), "-o", f"json={written}", "-o", "sarif=/proc/self/x.sarif",
                 "-o", f"junit={tmp_path / 'ok.xml'}")
    assert result.code == 2
    assert "/proc/self/x.sarif" in one_line_error(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bom.cdx.json"]
    # the same outputs to writable places are all there
    result = run("gate", "--sbom", str(sbom), "-o", f"json={written}", "-o", f"sarif={tmp_path / 'ok.sarif'}")
    assert result.code in (0, 1) and written.is_file() and (tmp_path / "ok.sarif").is_file()


def test_a_failed_commit_removes_what_was_already_renamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.errors import UsageError
    from compliance.util import fsutil

    real = fsutil._commit
    calls: list[Path] = []

    def second_fails(tmp: str, target: Path) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise UsageError(f"{target}: cannot write: simulated")
        real(tmp, target)

    monkeypatch.setattr(fsutil, "_commit", second_fails)
    with pytest.raises(UsageError, match="simulated"):
        fsutil.atomic_write_all([(tmp_path / "a.json", b"a"), (tmp_path / "b.json", b"b")])
    assert list(tmp_path.iterdir()) == []


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    import os
    import stat
    import threading

    from compliance.util import fsutil

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def drain() -> None:
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    # One reader per write: a reader that has not yet seen the end of the first write
    # would read the second one with it.
    for write in (lambda: fsutil.atomic_write(fifo, b"one"), lambda: fsutil.atomic_write_all([(fifo, b"two")])):
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        write()
        reader.join(timeout=10)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert received == [b"one", b"two"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.parametrize("all_at_once", [False, True])
def test_a_symlink_keeps_pointing_at_the_file_it_names(tmp_path: Path, all_at_once: bool) -> None:
    from compliance.util import fsutil

    (tmp_path / "reports").mkdir()
    real = tmp_path / "reports" / "gate.json"
    real.write_bytes(b"old")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    dangling = tmp_path / "next.json"
    dangling.symlink_to(tmp_path / "reports" / "next.json")
    if all_at_once:
        fsutil.atomic_write_all([(link, b"new"), (dangling, b"first")])
    else:
        fsutil.atomic_write(link, b"new")
        fsutil.atomic_write(dangling, b"first")
    assert link.is_symlink() and link.readlink() == real and real.read_bytes() == b"new"
    assert dangling.is_symlink() and (tmp_path / "reports" / "next.json").read_bytes() == b"first"
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["gate.json", "next.json"]


def test_an_empty_sbom_passes_no_sbom_control(tmp_path: Path) -> None:
    from tests.test_vulns_matching import grype

    sbom = tmp_path / "empty.cdx.json"
    sbom.write_text('{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}')
    scan = tmp_path / "grype.json"
    scan.write_text(json.dumps(grype(("CVE-2099-0001", "openssl", "3.0.13", 9.8))))
    result = run("gate", "--sbom", str(sbom), "--vulns", str(scan), "--format", "json")
    assert result.code == 1, result.stderr
    results = {r["control_id"]: r for r in json.loads(result.stdout)["assessment"]["results"]}
    assert results["SC-08"]["status"] == "fail" and "lists no component" in results["SC-08"]["message"]
    assert results["SC-02"]["status"] == "error" and "lists no component" in results["SC-02"]["message"]


def test_junit_and_sarif_say_the_gate_wrote_the_sbom(tmp_path: Path, shared_data: Path) -> None:
    from xml.etree import ElementTree

    from tests.support.inputs import write_release
    from tests.test_gate_cli import _validate_junit, _validate_sarif

    release = write_release(tmp_path / "release")
    junit, sarif = tmp_path / "gate.xml", tmp_path / "gate.sarif"
    result = run("gate", "--closure", str(release["closure"]), "-o", f"junit={junit}", "-o", f"sarif={sarif}")
    assert result.code in (0, 1), result.stderr
    _validate_junit(junit, shared_data)
    _validate_sarif(sarif, shared_data)
    note = "no SBOM was given: the SBOM was generated from the closure"
    suite = ElementTree.parse(junit).getroot()
    assert note in [p.get("value") for p in suite.iter("property") if p.get("name") == "note"]
    assert f"note: {note}" in (suite.findtext("system-out") or "")
    run_doc = json.loads(sarif.read_text())["runs"][0]
    assert run_doc["properties"]["notes"] == [note]
    assert [n["message"]["text"] for n in run_doc["invocations"][0]["toolExecutionNotifications"]] == [note]


HASH = "g1w7hy3qg1w7hy3qg1w7hy3qg1w7hy3q"


@pytest.mark.parametrize(("deriver", "problem"), [
    ("notapath", "deriver 'notapath' is not <hash>-<name>"),
    ("/tmp/x.drv", "is not in /nix/store"),
    (f"/nix/store/{HASH}-app-1.0.drv/sub", "is a path inside a store object"),
    (f"/nix/store/{HASH}-app-1.0", "is not a derivation (.drv)"),
    (3, "'deriver' must be a string"),
])
def test_a_deriver_that_is_not_a_derivation_path_is_bad_input(tmp_path: Path, deriver: object, problem: str) -> None:
    closure = tmp_path / "closure.json"
    closure.write_text(json.dumps([{"path": f"/nix/store/{HASH}-app-1.0", "narHash": "sha256-FePFYIlMuycIXPZbWi7LGEiMmZSX9FMbaQenWBzm1Sc=",
                                    "narSize": 10, "references": [], "deriver": deriver}]))
    result = run("gate", "--closure", str(closure))
    assert result.code == 2
    line = one_line_error(result)
    assert f"{closure}: /nix/store/{HASH}-app-1.0: " in line and problem in line, line


def test_a_deriver_in_nix_s_own_spellings_is_read(tmp_path: Path) -> None:
    from compliance.inputs.closure import parse_closure

    entries = [{"path": f"{HASH}-app-1.0", "references": [], "deriver": f"{HASH}-app-1.0.drv"},
               {"path": f"{HASH[::-1]}-lib-2.0", "references": [], "deriver": None}]
    closure = parse_closure(json.dumps(entries).encode(), "pi.json")
    assert closure.paths[f"/nix/store/{HASH}-app-1.0"].deriver == f"/nix/store/{HASH}-app-1.0.drv"
    assert closure.paths[f"/nix/store/{HASH[::-1]}-lib-2.0"].deriver is None


@pytest.mark.parametrize(("args", "words"), [
    (["--key", "cosign.key"], "--key signs the evidence packet: give --evidence OUT too"),
    (["--signer", "cosign"], "--signer signs the evidence packet"),
])
def test_signing_options_without_a_packet_are_usage_errors(tmp_path: Path, args: list[str], words: str) -> None:
    out = tmp_path / "results.json"
    result = run("gate", "--sbom", str(_licensed_sbom(tmp_path)), *args, "-o", f"json={out}")
    assert result.code == 2
    assert words in one_line_error(result)
    assert not out.exists()


@pytest.mark.parametrize(("epoch", "words"), [
    ("-1", "SOURCE_DATE_EPOCH: -1 is before 1970-01-01T00:00:00Z: it must not be negative"),
    ("-" + "9" * 5000, "must not be negative"),
    ("8589934592", "SOURCE_DATE_EPOCH: 8589934592 is out of range: it must be at most 8589934591"),
    ("9" * 5000, "is out of range"),
    ("1_000", "SOURCE_DATE_EPOCH: not an integer number of seconds: '1_000'"),
    ("+5", "not an integer number of seconds"),
])
def test_source_date_epoch_out_of_range_is_a_usage_error(tmp_path: Path, epoch: str, words: str) -> None:
    out = tmp_path / "results.json"
    result = run("gate", "--sbom", str(_licensed_sbom(tmp_path)), "-o", f"json={out}", env={"SOURCE_DATE_EPOCH": epoch})
    assert result.code == 2
    assert words in one_line_error(result)
    assert not out.exists()


@pytest.mark.parametrize(("epoch", "iso"), [("0", "1970-01-01T00:00:00Z"), (" 8589934591 ", "2242-03-16T12:56:31Z")])
def test_source_date_epoch_at_the_ends_of_its_range(monkeypatch: pytest.MonkeyPatch, epoch: str, iso: str) -> None:
    from compliance.util import clock

    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
    assert clock.isoformat(clock.now()) == iso
