"""Runtime control fixtures: a real host state a control's runtime checks pass, and one
they fail.

The ``runtime`` section of ``tests/fixtures/controls/<ID>/pass.json`` and ``fail.json``
says how to make that state for real, in one of two ways::

    "runtime": {
      "root": {                                   # an offline root laid out in tmp_path
        "files": {"/etc/passwd": "root:x:0:0::/root:/bin/sh\\n"},
        "modes": {"/etc/shadow": "0640"},         # chmod (octal) after writing
        "dirs": {"/tmp": "1777"},                 # directories to create, with their mode
        "links": {"/nix/var/nix/profiles/system": "/nix/store/...-nixos-system"}
      },
      "namespace": {                              # this machine, live, in new mount and
        "sysctl": {"net.ipv4.ip_forward": "0"},   # network namespaces (net.* only: they
        "nftables": "<ruleset for nft -f>",       # are per namespace)
        "listen": ["tcp:0.0.0.0:8080"],           # sockets to hold open
        "mounts": [{"target": "/run", "type": "tmpfs", "options": "nosuid"},
                   {"target": "/nix/store", "bind": true, "options": "ro"}],
        "links": {"/run/current-system": "{{nix:system}}"},  # after the mounts
        "commands": [["iptables", "-P", "INPUT", "DROP"]],    # run last
        "pid": true                               # also a new PID namespace: the probes see
      },                                          # only the processes the fixture starts
      "expect_closure": "/nix/store/..."          # what --expect-closure would say
    }

``{{store:NAME}}`` is a fixed fake store path (as in static fixtures); ``{{nix:NAME}}`` is
a real store path that the test builds with Nix (a tiny derivation named NAME), for
probes that ask the real store. An offline root judges configuration at rest: probes that
need a running system are not applicable there, so a control whose only checks are live
uses a namespace. Nothing outside tmp_path and the namespaces is changed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from compliance.assess import engine
from compliance.catalog.selection import SelectedControl
from compliance.checks import registry
from compliance.hosts.filesystem import OfflineRootHost
from compliance.models.common import Status
from compliance.models.control import CheckKind
from tests.support import nix

ROOT = Path(__file__).resolve().parents[2]
_NIX_PLACEHOLDER = re.compile(r"\{\{nix:([A-Za-z0-9._+-]+)\}\}")


def resolve_nix_placeholders(spec: Any, workdir: Path) -> Any:
    """Build each ``{{nix:NAME}}`` for real and put its store path in its place."""
    text = json.dumps(spec)
    names = sorted(set(_NIX_PLACEHOLDER.findall(text)))
    for name in names:
        path = nix.build(f'mk "{name}" \'\'mkdir -p $out/bin; echo {name} > $out/bin/{name}\'\'', workdir, name)
        text = text.replace(f"{{{{nix:{name}}}}}", path)
    return json.loads(text)


def lay_out_root(spec: dict[str, Any], root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for path, mode in (spec.get("dirs") or {}).items():
        target = root / path.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        os.chmod(target, int(mode, 8))
    for path, content in (spec.get("files") or {}).items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    for path, mode in (spec.get("modes") or {}).items():
        os.chmod(root / path.lstrip("/"), int(mode, 8))
    for path, dest in (spec.get("links") or {}).items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(dest)
    return root


def run_runtime_fixture(selected: SelectedControl, spec: dict[str, Any], workdir: Path) -> tuple[Status, str]:
    status, message, _ = run_runtime_fixture_checks(selected, spec, workdir)
    return status, message


def run_runtime_fixture_checks(selected: SelectedControl, spec: dict[str, Any], workdir: Path) -> tuple[Status, str, list[dict[str, Any]]]:
    """The control's status and message, and each check's result (function, status,
    message, observed) as JSON, so that a test can say which check decided and why."""
    spec = resolve_nix_placeholders(spec, workdir)
    expect = spec.get("expect_closure")
    if "root" in spec:
        host = OfflineRootHost(lay_out_root(spec["root"], workdir / "root"))
        host.expected_closure = expect
        result = engine.evaluate_control(selected, CheckKind.RUNTIME, host)
        return result.status, result.message, [c.model_dump(mode="json") for c in result.checks]
    if "namespace" in spec:
        answer = _namespace_answer({"control": selected.control.id, "setup": spec["namespace"], "expect_closure": expect}, workdir)
        return Status(answer["status"]), answer["message"], answer["checks"]
    raise AssertionError("a runtime fixture needs a 'root' or a 'namespace'")


def run_in_namespace(control_id: str, setup: dict[str, Any], expect: str | None, workdir: Path) -> tuple[Status, str]:
    """Evaluate a control on this machine inside fresh mount and network namespaces."""
    return _namespace({"control": control_id, "setup": setup, "expect_closure": expect}, workdir)


def run_probe_in_namespace(probe: str, params: dict[str, Any], setup: dict[str, Any], workdir: Path, expect: str | None = None) -> tuple[Status, str]:
    """Run one probe with explicit parameters on this machine inside fresh namespaces."""
    return _namespace({"probe": probe, "params": params, "setup": setup, "expect_closure": expect}, workdir)


def _namespace(doc: dict[str, Any], workdir: Path) -> tuple[Status, str]:
    answer = _namespace_answer(doc, workdir)
    return Status(answer["status"]), answer["message"]


def _namespace_answer(doc: dict[str, Any], workdir: Path) -> dict[str, Any]:
    request = workdir / "namespace.json"
    request.write_text(json.dumps(doc))
    # A PID namespace ends every process the fixture started when its first process exits.
    pid = ["--pid", "--fork", "--mount-proc"] if doc["setup"].get("pid") else []
    proc = subprocess.run(
        ["unshare", "--mount", "--net", "--propagation", "private", *pid, sys.executable, "-m", "tests.support.namespace", str(request)],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    assert proc.returncode == 0, f"namespace run failed: {proc.stderr[-2000:]}"
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def evaluate_probe_offline(probe: str, params: dict[str, Any], root: Path) -> tuple[Status, str]:
    """Run one probe, with explicit parameters, on an offline root (a missing input or a
    probe that does not apply raises, as it does in the engine)."""
    spec = registry.get(CheckKind.RUNTIME, probe)
    assert spec is not None, probe
    outcome = spec.func(OfflineRootHost(root), spec.params.model_validate(params))
    return outcome.status, outcome.message
