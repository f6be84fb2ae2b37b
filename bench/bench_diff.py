"""Benchmark: ``compliance evidence diff`` of two 5,000-path packets.

Target (2-core machine): at most 1.0 s wall for the whole command in a fresh process
(start-up, opening both packets, verifying both with the key, reading their results and
inputs, comparing, writing JSON), as directories and as .tar.gz.

The two releases come from the benchmark generator (``bench.generate``): the second has
50 packages upgraded, 10 store paths removed, 10 added and one NixOS option changed, so
the diff has real work to do. The packets are built without their PDF (the diff never
reads it). The in-process time of the comparison alone is printed too, for information.

    .venv/bin/python -m bench.bench_diff [--paths 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import write

PASSWORD = "bench"
EPOCH = "1793491200"
TARGET_SECONDS = 1.0


def env() -> dict[str, str]:
    """The command's environment, bytecode caching on (as installed): a run that compiles
    every module first measures the compiler, not the command."""
    out = {**os.environ, "COSIGN_PASSWORD": PASSWORD, "SOURCE_DATE_EPOCH": EPOCH}
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def changed_release(files: dict[str, Path]) -> None:
    """The second release: 50 packages upgraded, 10 paths removed, 10 added, one option changed."""
    entries = json.loads(files["closure"].read_text())
    upgraded = 0
    renames: dict[str, str] = {}
    for entry in entries:
        base = entry["path"].rsplit("/", 1)[1]
        digest, _, rest = base.partition("-")
        name, _, version = rest.rpartition("-")
        if upgraded < 50 and version[:1].isdigit():
            renames[entry["path"]] = f"/nix/store/{digest[::-1]}-{name}-9{version}"
            upgraded += 1
    removed = {e["path"] for e in entries[-10:] if e["path"] not in renames}
    kept = [e for e in entries if e["path"] not in removed]
    for entry in kept:
        entry["path"] = renames.get(entry["path"], entry["path"])
        entry["references"] = [renames.get(r, r) for r in entry["references"] if r not in removed]
    for i in range(10):
        kept.append({"path": f"/nix/store/{i:032d}-added-{i}-1.0", "narHash": entries[0]["narHash"], "narSize": 1,
                     "references": [], "deriver": None, "signatures": entries[0].get("signatures", [])})
    files["closure"].write_text(json.dumps(kept))
    facts = json.loads(files["facts"].read_text())
    facts["options"]["networking"]["firewall"]["allowedTCPPorts"] = [22, 443, 8443]
    files["facts"].write_text(json.dumps(facts, indent=2))


def build(files: dict[str, Path], key: Path, out: Path) -> None:
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    from compliance.runs.evidence_run import build_packet
    from compliance.runs.gate_run import GateOptions, run_gate

    run = run_gate(GateOptions(closure=str(files["closure"]), facts=str(files["facts"]), flake_lock=str(files["flake_lock"]),
                               vulns=[str(files["vulns"])], generate_sbom=True))
    build_packet(run, str(out), key_path=str(key), include_pdf=False)


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env(), check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[:5])}... exited {proc.returncode}: {proc.stderr.decode()[-2000:]}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paths", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ["COSIGN_PASSWORD"] = PASSWORD
    from compliance.signing.keys import load_public_key, write_key_pair

    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        work = Path(tmp)
        private, public, _ = write_key_pair(work / "cosign", PASSWORD.encode())
        old_files = write(work / "old", args.paths)
        new_files = write(work / "new", args.paths)
        changed_release(new_files)
        packets = {}
        for form, suffix in (("directory", ""), ("tar.gz", ".tar.gz")):
            packets[form] = (work / f"old{suffix or '-dir'}", work / f"new{suffix or '-dir'}")
            build(old_files, private, packets[form][0])
            build(new_files, private, packets[form][1])

        from compliance.runs.diff_run import Trust, diff_packets

        trust = Trust(load_public_key(public))
        start = time.perf_counter()
        diff = diff_packets(str(packets["directory"][0]), str(packets["directory"][1]), trust)
        library = time.perf_counter() - start
        closure = diff.closure
        assert closure is not None
        print(f"diff of two {args.paths}-path packets: {len(closure.packages)} packages changed, "
              f"+{len(closure.added)} -{len(closure.removed)} paths, {len(diff.options)} option(s), "
              f"{len(diff.observed)} observed value(s)")
        print(f"in process (verify both, read, compare): {library:.3f} s")
        worst = 0.0
        for form, (old, new) in packets.items():
            command = [sys.executable, "-m", "compliance", "evidence", "diff", str(old), str(new), "--key", str(public), "--format", "json"]
            timed(command)  # warm: the bytecode cache and the page cache
            walls = [timed(command) for _ in range(args.runs)]
            best, median = min(walls), statistics.median(walls)
            worst = max(worst, best)
            print(f"compliance evidence diff ({form}), fresh process: best {best:.3f} s, median {median:.3f} s, "
                  f"target {TARGET_SECONDS:.1f} s: ratio {best / TARGET_SECONDS:.2f}")
        print(f"{'MET' if worst <= TARGET_SECONDS else 'MISSED'}: worst best-of-{args.runs} {worst:.3f} s against {TARGET_SECONDS:.1f} s")


if __name__ == "__main__":
    main()
