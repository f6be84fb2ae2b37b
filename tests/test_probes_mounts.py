"""Special-mode walks (HK-06, HK-07) cover every local file system mounted below the scan
roots, not only the one each root is on; pseudo and network file systems are left out and
named. A walk that runs out of time is an ``error`` for the checks that needed it, and the
rest of the run is still judged. Real mounts (a private mount namespace, or a tmpfs under
the test's folder), real ``find``, real sshd."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from compliance.catalog.loader import load_catalog
from compliance.catalog.selection import select
from compliance.checks import registry
from compliance.errors import CheckError
from compliance.hosts.filesystem import LocalHost, OfflineRootHost
from compliance.models.common import Status
from compliance.models.control import CheckKind
from compliance.probes.files import StickyParams, world_writable_sticky
from compliance.runs.host_open import open_host
from compliance.runs.probe_run import run_probes
from tests.support.sshd import SshServer, requires_sshd, sshd_server  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
as_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                             reason="needs root and unshare (a private mount namespace)")

IN_NAMESPACE = """
import json, os, shutil, subprocess, sys
from compliance.hosts.filesystem import LocalHost
from compliance.probes.files import SetuidParams, setuid_allowlist
base = sys.argv[1]
if sys.argv[2] == "mount":
    os.makedirs(f"{base}/tmp", exist_ok=True)
    os.makedirs(f"{base}/kernel", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", f"{base}/tmp"], check=True)
    subprocess.run(["mount", "-t", "proc", "proc", f"{base}/kernel"], check=True)
    shutil.copy("/bin/true", f"{base}/tmp/rootme")
    os.chmod(f"{base}/tmp/rootme", 0o4755)
outcome = setuid_allowlist(LocalHost(), SetuidParams(scan_roots=[base], setuid_allowlist=[]))
json.dump({"status": outcome.status.value, "message": outcome.message, "observed": outcome.observed}, sys.stdout)
"""


def _in_namespace(base: Path, mode: str) -> dict[str, object]:
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c", IN_NAMESPACE, str(base), mode],
                          capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


@as_root
def test_a_setuid_file_on_a_separately_mounted_file_system_is_found(tmp_path: Path) -> None:
    base = tmp_path / "fs"
    base.mkdir()
    (base / "etc").mkdir()
    clean = _in_namespace(base, "none")
    assert clean["status"] == "pass", clean
    mounted = _in_namespace(base, "mount")
    assert mounted["status"] == "fail", mounted
    assert f"{base}/tmp/rootme" in str(mounted["message"])
    observed = mounted["observed"]
    assert isinstance(observed, dict)
    assert observed["scanned"] == [str(base), f"{base}/tmp"]
    assert observed["skipped_mounts"] == {f"{base}/kernel": "proc"}  # a pseudo file system: named, not walked
    # Nothing of it leaks out of the namespace.
    assert not (base / "tmp" / "rootme").exists()


@requires_sshd
def test_the_walk_over_ssh_covers_mounted_file_systems_too(sshd_server: SshServer, tmp_path: Path) -> None:  # noqa: F811
    base = tmp_path / "fs"
    (base / "tmp").mkdir(parents=True)
    params = StickyParams(scan_roots=[str(base)])
    with open_host(ssh_url=sshd_server.url, identity=str(sshd_server.identity), known_hosts=str(sshd_server.known_hosts)) as host:
        assert world_writable_sticky(host, params).status is Status.PASS
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,size=1m", "tmpfs", str(base / "tmp")], check=True)
    try:
        (base / "tmp" / "open").write_text("anyone may write\n")
        os.chmod(base / "tmp" / "open", 0o666)
        with open_host(ssh_url=sshd_server.url, identity=str(sshd_server.identity), known_hosts=str(sshd_server.known_hosts)) as host:
            remote = world_writable_sticky(host, params)
        local = world_writable_sticky(LocalHost(), params)
    finally:
        subprocess.run(["umount", str(base / "tmp")], check=True)
    for outcome in (remote, local):
        assert outcome.status is Status.FAIL and f"{base}/tmp/open" in outcome.message, outcome.message
        assert outcome.observed["scanned"] == [str(base), f"{base}/tmp"]


def test_the_mount_table_is_read_on_a_live_host_and_fails_closed_without_it(tmp_path: Path) -> None:
    """An offline root is walked as the folder tree it is; a live host's mounts come from its
    mount table, and an unreadable one is an error, never a walk of the root alone."""
    root = tmp_path / "image"
    (root / "srv").mkdir(parents=True)
    (root / "srv" / "open").write_text("x")
    os.chmod(root / "srv" / "open", 0o666)
    offline = world_writable_sticky(OfflineRootHost(root), StickyParams())
    assert offline.status is Status.FAIL and offline.observed["scanned"] == ["/"]

    class NoMountTable(LocalHost):
        def read_text(self, path: str) -> str | None:
            return None if path == "/proc/self/mountinfo" else super().read_text(path)

    with pytest.raises(CheckError, match="mountinfo is missing"):
        world_writable_sticky(NoMountTable(), StickyParams(scan_roots=[str(tmp_path)]))


# ---------------------------------------------------------------------------- time limits


def test_a_walk_that_runs_out_of_time_is_an_error_for_the_checks_that_needed_it() -> None:
    """The whole real file system cannot be walked in 10 ms: the walk is stopped, HK-07 is
    an error naming the time limit, and the run still ends with a report of every control."""
    catalog = load_catalog()
    selection = select(catalog, [], CheckKind.RUNTIME)
    wanted = {"HK-07", "IA-01"}
    selection = type(selection)(selection.requested, selection.profiles, selection.frameworks,
                                [sc for sc in selection.controls if sc.control.id in wanted])
    host = LocalHost()
    started = time.monotonic()
    report = run_probes(host, selection, catalog_digest=catalog.digest, nonce="n", signer_fingerprint="",
                        created=datetime.now(UTC), timeout=0.01)
    assert time.monotonic() - started < 30
    results = {r.control_id: r for r in report.assessment.results}
    assert results["HK-07"].status is Status.ERROR and "timed out after 0.01 s" in results["HK-07"].message, results["HK-07"].message
    walk = next(o for o in report.observations if o.kind == "find-special")
    assert walk.status == "error"


def test_the_timeout_bounds_each_walk_of_a_batch_on_an_offline_root(tmp_path: Path) -> None:
    root = tmp_path / "image"
    for i in range(200):
        (root / f"d{i}").mkdir(parents=True)
        for j in range(50):
            (root / f"d{i}" / f"f{j}").touch()
    host = OfflineRootHost(root)
    host.timeout = 0.001
    spec = registry.get(CheckKind.RUNTIME, "setuid_allowlist")
    assert spec is not None
    with pytest.raises(CheckError, match=r"timed out after 0\.001 s"):
        spec.func(host, spec.params.model_validate({}))
    # With time enough, the same walk answers.
    host = OfflineRootHost(root)
    assert spec.func(host, spec.params.model_validate({})).status is Status.PASS


@requires_sshd
def test_the_timeout_bounds_each_walk_over_ssh(sshd_server: SshServer) -> None:  # noqa: F811
    with open_host(ssh_url=sshd_server.url, identity=str(sshd_server.identity), known_hosts=str(sshd_server.known_hosts)) as host:
        host.timeout = 0.01
        spec = registry.get(CheckKind.RUNTIME, "setuid_allowlist")
        assert spec is not None
        with pytest.raises(CheckError, match=r"timed out after 0\.01 s"):
            spec.func(host, spec.params.model_validate({}))
