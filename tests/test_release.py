"""scripts/release on a clean clone: byte-identical artefacts twice, signatures that openssl
and the tool verify, an SBOM that validates against CycloneDX 1.6 and lists every runtime
dependency with its installed version, and a release gate that refuses a vulnerable release.

The clone is of the committed tree (what a release is built from)."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.cli import run
from tests.support.sbom_schemas import errors, official_cyclonedx_1_6

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "release-test"

pytestmark = pytest.mark.slow


def _have_build_tools() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import build, hatchling"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    if not _have_build_tools():
        pytest.skip("build and hatchling are not installed (pip install -e '.[release]')")
    target = tmp_path_factory.mktemp("clone") / "compliance-gate"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=120)
    return target


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    result = run("keys", "generate", "--output-key-prefix", str(folder / "throwaway"), env={"COSIGN_PASSWORD": PASSWORD})
    assert result.code == 0, result.stderr
    return folder / "throwaway.key", folder / "throwaway.pub"


def release(clone: Path, key: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COSIGN_PASSWORD": PASSWORD}
    env.pop("PYTHONPATH", None)  # the release runs the tool from the clone's own tree
    return subprocess.run(
        [str(clone / "scripts" / "release"), "--key", str(key), "--python", sys.executable, "--out", str(out), *extra],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )


@pytest.fixture(scope="module")
def dist(clone: Path, keys: tuple[Path, Path]) -> tuple[Path, Path]:
    first, second = clone / "dist-1", clone / "dist-2"
    for out in (first, second):
        done = release(clone, keys[0], out)
        assert done.returncode == 0, done.stderr
    return first, second


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_two_releases_of_the_same_commit_are_byte_identical(dist: tuple[Path, Path]) -> None:
    first, second = _files(dist[0]), _files(dist[1])
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_the_release_holds_every_artefact_signed_both_ways(dist: tuple[Path, Path]) -> None:
    names = set(_files(dist[0]))
    version = importlib.metadata.version("compliance-gate")
    artefacts = {f"compliance_gate-{version}-py3-none-any.whl", f"compliance_gate-{version}.tar.gz",
                 f"compliance_gate-{version}.cdx.json", "release-gate.json", "release-gate.md", "SHA256SUMS"}
    assert names == artefacts | {a + ".sig" for a in artefacts} | {a + ".sigstore.json" for a in artefacts}
    sums = (dist[0] / "SHA256SUMS").read_text().splitlines()
    assert sorted(line.split("  ", 1)[1] for line in sums) == sorted(artefacts - {"SHA256SUMS"})
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist[0], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_signature_verifies_with_openssl(dist: tuple[Path, Path], keys: tuple[Path, Path], tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    signatures = sorted(dist[0].glob("*.sig"))
    assert len(signatures) == 6
    for signature in signatures:
        der = tmp_path / "sig.der"
        der.write_bytes(base64.b64decode(signature.read_bytes(), validate=True))
        signed = signature.with_suffix("")
        done = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(keys[1]), "-signature", str(der), str(signed)],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout.strip() == "Verified OK", (signed.name, done.stdout, done.stderr)


def test_the_tool_verifies_the_release_and_refuses_a_changed_artefact(dist: tuple[Path, Path], keys: tuple[Path, Path], tmp_path: Path) -> None:
    artefacts = sorted(str(p) for p in dist[0].iterdir() if not p.name.endswith((".sig", ".sigstore.json")))
    assert run("keys", "verify", *artefacts, "--key", str(keys[1])).code == 0
    copy = tmp_path / "dist"
    shutil.copytree(dist[0], copy)
    wheel = next(copy.glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    result = run("keys", "verify", str(wheel), "--key", str(keys[1]))
    assert result.code == 1
    assert f"{wheel}.sig: the signature does not verify" in result.stdout
    assert "messageDigest is not the SHA-256 of the signed file" in result.stdout


def _sbom(dist: tuple[Path, Path]) -> dict[str, object]:
    return json.loads(next(dist[0].glob("*.cdx.json")).read_text())  # type: ignore[no-any-return]


def test_the_sbom_validates_against_the_official_cyclonedx_schema(dist: tuple[Path, Path], shared_data: Path) -> None:
    assert errors(official_cyclonedx_1_6(shared_data), _sbom(dist)) == []


def _runtime(requires: list[str] | None) -> list[Requirement]:
    parsed = [Requirement(line) for line in requires or []]
    return [r for r in parsed if r.marker is None or r.marker.evaluate({"extra": ""})]


def test_the_sbom_lists_every_runtime_dependency_with_its_installed_version(dist: tuple[Path, Path]) -> None:
    sbom = _sbom(dist)
    components = {canonicalize_name(c["name"]): c["version"] for c in sbom["components"]}  # type: ignore[attr-defined]
    described = sbom["metadata"]["component"]  # type: ignore[index]
    assert (described["name"], described["version"]) == ("compliance-gate", importlib.metadata.version("compliance-gate"))
    wheel = next(dist[0].glob("*.whl"))
    assert described["hashes"] == [{"alg": "SHA-256", "content": __import__("hashlib").sha256(wheel.read_bytes()).hexdigest()}]
    # The direct requirements, as the installed distribution declares them, then their own.
    pending = _runtime(importlib.metadata.requires("compliance-gate"))
    seen: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        assert components.get(name) == importlib.metadata.version(requirement.name), name
        pending += _runtime(importlib.metadata.requires(requirement.name))
    assert {"pydantic", "cryptography", "cyclonedx-python-lib", "weasyprint"} <= seen
    refs = {d["ref"]: d.get("dependsOn", []) for d in sbom["dependencies"]}  # type: ignore[attr-defined]
    assert "pkg:pypi/cryptography@" + components["cryptography"] in refs[described["bom-ref"]]


def test_the_release_gate_judged_the_sbom(dist: tuple[Path, Path]) -> None:
    report = json.loads((dist[0] / "release-gate.json").read_text())
    statuses = {r["control_id"]: r["status"] for r in report["assessment"]["results"]}
    # Without --vulns, the licence policy decides and the vulnerability controls say they could not.
    assert statuses == {"SC-08": "pass", "SC-02": "error", "SC-03": "error", "SC-13": "error"}
    assert report["decision"]["passed"] is True


def test_a_known_vulnerability_stops_the_release(clone: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    jinja = importlib.metadata.version("jinja2")
    osv = {"results": [{"source": {"path": "sbom.cdx.json", "type": "sbom"}, "packages": [{
        "package": {"name": "jinja2", "version": jinja, "ecosystem": "PyPI"},
        "vulnerabilities": [{"id": "GHSA-test-0000-0000", "modified": "2026-01-01T00:00:00Z",
                             "affected": [{"package": {"ecosystem": "PyPI", "name": "jinja2"}, "versions": [jinja]}],
                             "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}],
        "groups": [{"ids": ["GHSA-test-0000-0000"], "max_severity": "9.8"}]}]}]}
    report = tmp_path / "osv.json"
    report.write_text(json.dumps(osv))
    out = tmp_path / "dist"
    done = release(clone, keys[0], out, "--vulns", str(report))
    assert done.returncode == 1, done.stderr
    assert f"GHSA-test-0000-0000 in pkg:pypi/jinja2@{jinja}" in done.stderr
    assert "the release gate failed" in done.stderr
    assert not out.exists()


def test_a_release_without_the_key_password_is_a_usage_error(clone: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COSIGN_PASSWORD"}
    done = subprocess.run([str(clone / "scripts" / "release"), "--key", str(keys[0]), "--out", str(tmp_path / "d")],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2
    assert "COSIGN_PASSWORD is not set" in done.stderr
