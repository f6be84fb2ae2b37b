"""Control fixtures: for each control, a subject it passes and one it fails.

``tests/fixtures/controls/<ID>/pass.json`` and ``fail.json`` hold, per check kind, the
input the check judges::

    {"description": "...",
     "static": {"closure": {"myapp-1.0": ["curl-8.6.0"], "curl-8.6.0": []},
                "sbom": {<CycloneDX or SPDX JSON>}, "facts": {<option tree>},
                "flake_lock": {...}, "kernel_config": "CONFIG_X=y\\n",
                "files": {"linux-config-6.6.30": "<file content>"},
                "vulnerabilities": [<a report: JSON value, or text for text formats>, ...]},
     "runtime": {...}}

The ``runtime`` section describes a real host state to probe (an offline root laid out
in tmp_path, or this machine in fresh namespaces): its format is documented in
:mod:`tests.support.runtime_fixtures`.

Anywhere in a fixture, ``{{store:NAME}}`` stands for the store path of NAME (a fixed
fake hash derived from NAME), so SBOMs can point at closure paths. In the ``closure``
graph the first key is the top-level path. A graph value is either the list of
references, or the full path-info of that path: ``{"references": [...], "signatures":
[...], "ca": ..., "narSize": ..., "registrationTime": ..., "ultimate": ...}`` — any field
``nix path-info --json`` prints, so a control over signatures or content addresses gets
a fixture as real as a closure. ``files`` gives contents to store paths (a key
``NAME`` is a file store path, ``NAME/rel/path`` a file inside one); the closure then has
a real store directory, as a live store would.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from compliance.checks.predicate_subject import Subject
from compliance.inputs.closure import parse_closure
from compliance.inputs.facts import parse_facts
from compliance.inputs.flakelock import parse_flake_lock
from compliance.inputs.kernelconfig import parse_kernel_config
from compliance.inputs.sbom import parse_sbom_document
from compliance.inputs.scanners import load_vulnerability_reports
from compliance.nix.hashes import NIX32, nix32_encode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "controls"
_PLACEHOLDER = re.compile(r"\{\{store:([^}]+)\}\}")


def fake_store_path(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()[:20]
    text = nix32_encode(digest)
    assert all(c in NIX32 for c in text) and len(text) == 32
    return f"/nix/store/{text}-{name}"


def fake_nar_hash(name: str) -> str:
    return "sha256:" + nix32_encode(hashlib.sha256(b"nar:" + name.encode()).digest())


def load_fixture(path: Path) -> dict[str, Any]:
    text = path.read_text()
    text = _PLACEHOLDER.sub(lambda m: fake_store_path(m.group(1)), text)
    doc = json.loads(text)
    assert isinstance(doc, dict)
    return doc


def closure_from_graph(graph: dict[str, Any], source: str = "fixture") -> bytes:
    """A path-info JSON document (Nix 2.8 list shape) for a graph of package names.

    A value is a list of reference names, or a dict of path-info fields whose
    ``references`` (and ``deriver``) are names; other fields are passed through as given.
    """
    entries = []
    for name, value in graph.items():
        info: dict[str, Any] = dict(value) if isinstance(value, dict) else {"references": value}
        refs = info.pop("references", [])
        entry: dict[str, Any] = {
            "path": fake_store_path(name),
            "narHash": fake_nar_hash(name),
            "narSize": 1024,
            "deriver": fake_store_path(name) + ".drv",
        }
        if "deriver" in info:
            deriver = info.pop("deriver")
            entry["deriver"] = None if deriver is None else fake_store_path(deriver)
        entry.update(info)
        entry["references"] = sorted(fake_store_path(ref) for ref in refs)
        entries.append(entry)
    return json.dumps(entries).encode()


def build_subject(spec: dict[str, Any], workdir: Path) -> Subject:
    subject = Subject()
    graph = spec.get("closure")
    if graph is not None:
        root = fake_store_path(next(iter(graph)))
        closure = parse_closure(closure_from_graph(graph), "fixture closure", roots=(root,))
        files = spec.get("files") or {}
        if files:
            store = workdir / "store"
            for key, content in files.items():
                name, _, rel = key.partition("/")
                base = store / fake_store_path(name).rsplit("/", 1)[1]
                target = base / rel if rel else base
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content)
            closure = closure.model_copy(update={"real_store_dir": store})
        subject.closure = closure
    if "sbom" in spec:
        subject.sbom = parse_sbom_document(spec["sbom"], "fixture sbom")
    if "facts" in spec:
        subject.facts = parse_facts(spec["facts"], "fixture facts")
    if "flake_lock" in spec:
        subject.flake_lock = parse_flake_lock(spec["flake_lock"], "fixture flake.lock")
    if "kernel_config" in spec:
        subject.kernel_config = parse_kernel_config(spec["kernel_config"], "fixture kernel config")
    if "vulnerabilities" in spec:
        subject.vulnerabilities = load_vulnerability_reports([
            (f"fixture report {i}", doc.encode() if isinstance(doc, str) else json.dumps(doc).encode())
            for i, doc in enumerate(spec["vulnerabilities"])
        ])
    return subject
