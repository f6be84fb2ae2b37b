"""Benchmark of ``compliance probe`` as whole processes: locally against the bare ``find``
of the same permission tests, over SSH on loopback, and on an offline Debian 11 root
side by side with OpenSCAP's ANSSI profile.

    .venv/bin/python -m bench.bench_probe [--runs 5] [--root /srv/deb11root] [--no-openscap]

Every row is a fresh process (interpreter start-up, catalog, signing key, probes,
signing, writing the report), run in alternating rounds with the rows it is compared
with. Targets, printed with a verdict:

* local probe end to end at most 1.15× the bare ``find`` over the same roots, with the
  same prunes and the same ``-perm`` tests the probe's walk runs;
* everything but the walk (round by round: probe minus find) under 0.5 s;
* SSH on loopback at most 1.3× local.

Needs root (it reads /etc/shadow and starts an sshd on 127.0.0.1). The OpenSCAP rows need
Debian's openscap-scanner and ssg-debian, and an offline Debian 11 root:

    debootstrap --variant=minbase --include=openssh-server,systemd,procps bullseye /srv/deb11root "$DEBIAN_MIRROR"
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.alternation import Command, Series, Verdicts, alternate, load_line, paired_differences
from compliance.catalog.loader import load_anssi_crosswalk, load_catalog
from compliance.hosts.filesystem import LocalHost, find_argv
from compliance.models.control import CheckKind
from compliance.models.frameworks import FrameworkId
from compliance.probes.files import ScanParams, scan_plan
from compliance.signing.keys import write_key_pair
from tests.support.sshd import start_sshd

ROOT = Path(__file__).resolve().parents[1]
SSG = "/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml"
OSCAP_PROFILE = "anssi_np_nt28_high"
PASSWORD = "bench"


def local_find() -> Command:
    """The walk the probe runs on this machine: the same roots (every mounted local file
    system under /), the same prunes, the same permission tests and output format."""
    with LocalHost() as host:
        plan = scan_plan(host, ScanParams())
    return Command(find_argv(list(plan.walk.roots), list(plan.walk.prune)), env={"LC_ALL": "C"}, ok=(0, 1))


def oscap_command(root: str, results: Path) -> Command:
    env = {"OSCAP_PROBE_ROOT": root, "OSCAP_PROBE_OS_NAME": "Linux", "OSCAP_PROBE_ARCHITECTURE": "x86_64",
           "OSCAP_EVALUATION_TARGET": f"chroot://{root}"}
    return Command(["oscap", "xccdf", "eval", "--profile", f"xccdf_org.ssgproject.content_profile_{OSCAP_PROFILE}",
                    "--results", str(results), SSG], env=env, ok=(0, 2))


def shared_topics(results: Path) -> tuple[str, list[str]]:
    """OpenSCAP's rule results, and the ANSSI BP-028 v2 recommendations that both it (rules
    evaluated, references mapped from v1.2 by the catalog's crosswalk) and the runtime
    controls of the catalog judge."""
    text = results.read_text(encoding="utf-8")
    outcome = dict(re.findall(r'<rule-result[^>]*idref="([^"]+)"[^>]*>.*?<result>(\w+)</result>', text, re.S))
    judged = {rule for rule, result in outcome.items() if result in ("pass", "fail")}
    ds = Path(SSG).read_text(encoding="utf-8")
    crosswalk = load_anssi_crosswalk()
    theirs: set[str] = set()
    for rule, body in re.findall(r'<xccdf-1.2:Rule[^>]*id="([^"]+)"(.*?)</xccdf-1.2:Rule>', ds, re.S):
        if rule in judged:
            for v1 in re.findall(r">BP28\((R\d+)\)<", body):
                theirs.update(crosswalk.v2_of(v1) or [])
    ours = {clause for c in load_catalog().controls.values() if c.checks_of(CheckKind.RUNTIME)
            for clause in c.clauses.get(FrameworkId.ANSSI, [])}
    summary = ", ".join(f"{list(outcome.values()).count(k)} {k}" for k in sorted(set(outcome.values())))
    return f"{len(outcome)} rules: {summary}", sorted(theirs & ours, key=lambda r: int(r[1:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", default="/srv/deb11root", help="offline Debian 11 root (debootstrap)")
    parser.add_argument("--no-openscap", action="store_true")
    args = parser.parse_args()
    verdicts = Verdicts()
    print(load_line(args.runs))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        key, _public, _ = write_key_pair(work / "cosign", PASSWORD.encode())
        env = {"COSIGN_PASSWORD": PASSWORD}
        probe = [sys.executable, "-m", "compliance", "probe", "--key", str(key), "--nonce", "bench-nonce-0123456"]
        rows: dict[str, Command] = {
            "probe": Command([*probe, "-o", str(work / "local.json")], env=env, cwd=str(ROOT)),
            "find": local_find(),
        }
        with start_sshd(work / "sshd") as server:
            rows["ssh"] = Command([*probe, "-o", str(work / "ssh.json"), *server.cli_args()], env=env, cwd=str(ROOT))
            offline = os.path.isdir(args.root)
            if offline:
                rows["offline"] = Command([*probe, "-o", str(work / "offline.json"), "--root", args.root], env=env, cwd=str(ROOT))
            openscap = offline and not args.no_openscap and shutil.which("oscap") is not None and os.path.exists(SSG)
            if openscap:
                rows["oscap"] = oscap_command(args.root, work / "oscap.xml")
            s = alternate(rows, args.runs)
        labels = {
            "probe": "`compliance probe`, local, every runtime control",
            "find": "bare `find` of the same roots, prunes and permission tests",
            "ssh": "`compliance probe --host ssh://…@127.0.0.1` (sshd on loopback)",
            "offline": f"`compliance probe --root {args.root}`",
            "oscap": f"`oscap xccdf eval --profile {OSCAP_PROFILE}`, same root",
        }
        print("\n| whole process | wall, median (min–max) | CPU, median | peak RSS |\n|---|---|---:|---:|")
        for name, series in s.items():
            print(f"| {labels[name]} | {series.spread()} | {series.cpu:.3f} s | {series.peak_mb:.0f} MB |")
        print(f"\nthe walk: {' '.join(rows['find'].argv)}\n")
        verdicts.ratio("probe end to end / bare find, local", s["probe"], s["find"], 1.15)
        rest = paired_differences(s["probe"], s["find"])
        verdicts.check("everything but the walk (probe − find, paired)", statistics.median(rest), 0.5, "s",
                       f"{min(rest):.3f}–{max(rest):.3f}")
        verdicts.ratio("SSH on loopback / local", s["ssh"], s["probe"], 1.3)
        if openscap:
            counted, topics = shared_topics(work / "oscap.xml")
            ours: Series = s["offline"]
            print(f"\nOpenSCAP {OSCAP_PROFILE} on {args.root}: {counted}; probe / oscap {ours.median / s['oscap'].median:.2f}×")
            print(f"ANSSI BP-028 v2 recommendations both judge ({len(topics)}): {', '.join(topics)}")
    return verdicts.summary()


if __name__ == "__main__":
    sys.exit(main())
