"""``compliance probe`` end to end: a signed report bound to the host, verifiable with the
host's public key (and with openssl), valid against the published schema; one SSH
connection for a whole profile; one-line errors with exit 2 and nothing written."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compliance.errors import VerificationError
from compliance.evidence.probe_report import verify_report
from compliance.models.probe import PROBE_REPORT_PAYLOAD_TYPE, ProbeReport
from compliance.signing.dsse import pae
from compliance.signing.keys import load_public_key
from tests.support.cli import one_line_error, run
from tests.support.sshd import SshServer, requires_sshd, sshd_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = {"COSIGN_PASSWORD": "probe-test"}
# Controls whose verdict on this machine cannot change between two runs a second apart.
STABLE = ["CR-01", "HK-01", "HK-02", "HK-03", "HK-04", "HK-05", "IA-01", "IA-02", "IA-03", "IA-05", "IA-10", "LG-02", "LG-04", "NW-01", "SC-07"]  # not LG-01: a test may run auditd meanwhile


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    result = run("keys", "generate", "--output-key-prefix", str(folder / "host"), env=PASSWORD)
    assert result.code == 0, result.stderr
    return folder / "host.key", folder / "host.pub"


def _probe(keys: tuple[Path, Path], out: Path, *args: str, nonce: str = "wave-42-7f3c9a2e5b") -> subprocess.CompletedProcess[str] | Any:
    return run("probe", "--key", str(keys[0]), "--nonce", nonce, "-o", str(out), *args, env=PASSWORD)


def _payload(path: Path) -> dict[str, Any]:
    envelope = json.loads(path.read_text())
    doc = json.loads(base64.b64decode(envelope["payload"]))
    assert isinstance(doc, dict)
    return doc


def _statuses(report: ProbeReport) -> dict[str, str]:
    return {r.control_id: r.status.value for r in report.assessment.results}


@pytest.mark.skipif(os.geteuid() != 0, reason="reads /etc/shadow: root")
def test_local_report_is_signed_and_bound_to_this_host(keys: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.dsse.json"
    result = _probe(keys, out)
    assert result.code == 0, result.stderr
    report = verify_report(out.read_bytes(), load_public_key(keys[1]), str(out))
    assert report.nonce == "wave-42-7f3c9a2e5b"
    assert report.host.transport == "local"
    assert report.host.machine_id == Path("/etc/machine-id").read_text().strip()
    assert report.host.boot_id == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert report.host.name == Path("/proc/sys/kernel/hostname").read_text().strip()
    assert report.created.isoformat().startswith("2026-11-01T00:00:00")  # the fixed test clock
    # Every raw answer is named with its digest; the identity's are those of the real files.
    by_target = {o.target: o for o in report.observations}
    assert by_target["/etc/machine-id"].sha256 == hashlib.sha256(Path("/etc/machine-id").read_bytes()).hexdigest()
    assert by_target["/etc/passwd"].sha256 == hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    ids = {o.id: o for o in report.observations}
    evidence = {e.control_id: [ids[i].target for i in e.observations] for e in report.evidence}
    assert "/proc/sys/kernel/kptr_restrict" in evidence["HK-01"]
    assert "sshd -T -f /etc/ssh/sshd_config" in evidence["IA-10"]
    assert all(o.kind != "file" or o.target != "/etc/shadow" or o.size > 0 for o in report.observations)
    assert "$6$" not in out.read_text() and "$y$" not in out.read_text()  # hashes never leave the host
    # No check of this container may pass what it cannot show.
    results = {r.control_id: r for r in report.assessment.results}
    assert results["CM-01"].status.value == "not_applicable"  # no --expect-closure
    assert results["CR-01"].status.value == "fail"
    assert results["NW-01"].status.value in ("fail", "error")


@pytest.mark.skipif(os.geteuid() != 0, reason="reads /etc/shadow: root")
def test_report_verifies_with_openssl_and_matches_the_published_schema(keys: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.dsse.json"
    assert _probe(keys, out).code == 0
    envelope = json.loads(out.read_text())
    assert envelope["payloadType"] == PROBE_REPORT_PAYLOAD_TYPE
    payload = base64.b64decode(envelope["payload"])
    (tmp_path / "pae").write_bytes(pae(envelope["payloadType"], payload))
    (tmp_path / "sig").write_bytes(base64.b64decode(envelope["signatures"][0]["sig"]))
    proc = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(keys[1]), "-signature", str(tmp_path / "sig"), str(tmp_path / "pae")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "Verified OK" in proc.stdout, proc.stderr
    schema = json.loads((ROOT / "evidence" / "probe-report.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(json.loads(payload))


@pytest.mark.skipif(os.geteuid() != 0, reason="reads /etc/shadow: root")
def test_tampered_replayed_or_foreign_reports_do_not_verify(keys: tuple[Path, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.dsse.json"
    assert _probe(keys, out).code == 0
    key = load_public_key(keys[1])
    envelope = json.loads(out.read_text())
    doc = _payload(out)
    doc["host"]["name"] = "another-host"
    forged = dict(envelope, payload=base64.b64encode(json.dumps(doc).encode()).decode())
    with pytest.raises(VerificationError, match="does not verify"):
        verify_report(json.dumps(forged).encode(), key, "forged")
    other = run("keys", "generate", "--output-key-prefix", str(tmp_path / "other"), env=PASSWORD)
    assert other.code == 0
    with pytest.raises(VerificationError, match="does not verify"):
        verify_report(out.read_bytes(), load_public_key(tmp_path / "other.pub"), "wrong key")
    report = verify_report(out.read_bytes(), key, "genuine")
    # What a replay would have to fake is signed (the wave gate holds reports to it: test_promote_forgery).
    assert (report.nonce, report.host.name) == ("wave-42-7f3c9a2e5b", Path("/proc/sys/kernel/hostname").read_text().strip())


@requires_sshd
def test_a_profile_over_ssh_costs_one_connection_and_agrees_with_local(keys: tuple[Path, Path], sshd_server: SshServer, tmp_path: Path) -> None:  # noqa: F811
    remote_out, local_out = tmp_path / "ssh.json", tmp_path / "local.json"
    result = _probe(keys, remote_out, *sshd_server.cli_args())
    assert result.code == 0, result.stderr
    assert sshd_server.accepted_connections() == 1
    assert _probe(keys, local_out).code == 0
    key = load_public_key(keys[1])
    remote, local = verify_report(remote_out.read_bytes(), key, "ssh"), verify_report(local_out.read_bytes(), key, "local")
    assert remote.host.transport == "ssh" and remote.host.address == sshd_server.url
    assert remote.round_trips <= 3, remote.round_trips
    assert (remote.host.machine_id, remote.host.boot_id) == (local.host.machine_id, local.host.boot_id)
    assert {c: _statuses(remote)[c] for c in STABLE} == {c: _statuses(local)[c] for c in STABLE}
    digests = {(o.kind, o.target): o.sha256 for o in local.observations}
    for key in [("file", "/etc/passwd"), ("file", "/proc/cmdline"), ("command", "sshd -T -f /etc/ssh/sshd_config"), ("stat", "/etc/shadow")]:
        assert next(o.sha256 for o in remote.observations if (o.kind, o.target) == key) == digests[key], key


@requires_sshd
def test_the_effective_sshd_configuration_is_read_over_ssh(sshd_server: SshServer, tmp_path: Path) -> None:  # noqa: F811
    """The server we are connected to says PermitRootLogin no in its main file, but a drop-in
    read first sets prohibit-password: sshd -T (and the probe) see what the server does."""
    from compliance.probes.sshd import SshdRuntimeParams, sshd_effective
    from compliance.runs.host_open import open_host

    with open_host(ssh_url=sshd_server.url, identity=str(sshd_server.identity), known_hosts=str(sshd_server.known_hosts)) as host:
        strict = sshd_effective(host, SshdRuntimeParams(expected={"PermitRootLogin": ["no"]}, sshd_config=str(sshd_server.config)))
        lax = sshd_effective(host, SshdRuntimeParams(expected={"PermitRootLogin": ["prohibit-password"]}, sshd_config=str(sshd_server.config)))
    assert strict.status.value == "fail" and "prohibit-password" in strict.message
    assert lax.status.value == "pass"


def test_offline_root_report_says_what_it_cannot_see(keys: tuple[Path, Path], tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("image-builder\n")
    (root / "etc" / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    out = tmp_path / "offline.json"
    assert _probe(keys, out, "--root", str(root)).code == 0
    report = verify_report(out.read_bytes(), load_public_key(keys[1]), "offline")
    assert report.host.transport == "offline-root" and report.host.name == "image-builder" and report.host.boot_id is None
    results = {r.control_id: r for r in report.assessment.results}
    assert results["NW-02"].status.value == "not_applicable" and "offline root" in results["NW-02"].message
    assert results["IA-01"].status.value == "error"  # no /etc/passwd: fail closed, not a pass
    assert results["HK-06"].status.value == "error"  # none of the sensitive files: nothing to judge
    passing = sorted(r.control_id for r in report.assessment.results if r.status.value == "pass")
    assert passing == ["HK-07"], passing  # only "no setuid file" holds of an empty tree


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "{tmp}/absent.key", "--nonce", "n" * 16], "absent.key: no such private key"),
        (["--key", "{key}", "--nonce", "two words"], "--nonce"),
        (["--key", "{key}", "--nonce", "n" * 16, "--root", "{tmp}/absent"], "--root must be a directory"),
        (["--key", "{key}", "--nonce", "n" * 16, "--root", "{tmp}", "--host", "ssh://h"], "mutually exclusive"),
        (["--key", "{key}", "--nonce", "n" * 16, "--host", "ssh://root@127.0.0.1:1"], "SSH connection failed"),
        (["--key", "{key}", "--nonce", "n" * 16, "--expect-closure", "/etc"], "not a store path"),
        (["--key", "{key}", "--nonce", "n" * 16, "--profile", "no-such-profile"], "unknown profile"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(keys: tuple[Path, Path], tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "report.json"
    argv = [a.format(tmp=tmp_path, key=keys[0]) for a in args]
    result = run("probe", *argv, "-o", str(out), env=PASSWORD)
    assert result.code == 2, result.stderr
    assert message in one_line_error(result)
    assert not out.exists() and not list(tmp_path.glob(".report.json*"))


def test_a_wrong_key_password_is_exit_2(keys: tuple[Path, Path], tmp_path: Path) -> None:
    result = run("probe", "--key", str(keys[0]), "--nonce", "n" * 16, "-o", str(tmp_path / "r.json"), env={"COSIGN_PASSWORD": "wrong"})
    assert result.code == 2 and "wrong password" in one_line_error(result)


@pytest.mark.skipif(os.geteuid() != 0, reason="reads /etc/shadow: root")
def test_a_report_must_be_canonical_and_of_the_probe_report_type(keys: tuple[Path, Path], tmp_path: Path) -> None:
    from compliance.signing.dsse import sign_envelope
    from compliance.signing.keys import NativeSigner

    out = tmp_path / "report.dsse.json"
    assert _probe(keys, out).code == 0
    signer = NativeSigner.from_file(keys[0], password=PASSWORD["COSIGN_PASSWORD"].encode())
    payload = base64.b64decode(json.loads(out.read_text())["payload"])
    pretty = json.dumps(json.loads(payload), indent=1).encode()  # same report, other bytes
    resigned = sign_envelope(signer, PROBE_REPORT_PAYLOAD_TYPE, pretty).to_json()
    with pytest.raises(VerificationError, match="not canonical"):
        verify_report(json.dumps(resigned).encode(), signer.public_key, "pretty")
    other_type = sign_envelope(signer, "application/vnd.in-toto+json", payload).to_json()
    with pytest.raises(VerificationError, match="payloadType"):
        verify_report(json.dumps(other_type).encode(), signer.public_key, "statement")
    with pytest.raises(VerificationError, match="not JSON"):
        verify_report(out.read_bytes()[:100], signer.public_key, "truncated")
