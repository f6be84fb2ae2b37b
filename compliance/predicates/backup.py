"""Predicates over the backup jobs a NixOS configuration declares (restic, BorgBackup)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, predicate, verdict
from compliance.errors import CheckError
from compliance.inputs.facts import lookup
from compliance.models.params import HIGHER, INTERSECTION, TRUE, UNION, Params

RESTIC = "services.restic.backups"
BORG = "services.borgbackup.jobs"
# restic backends that live on another machine (restic's repository URL schemes).
_RESTIC_REMOTE = re.compile(r"^(sftp|rest|s3|b2|azure|gs|swift|rclone):")
# borg: user@host:path, host:path or ssh://...
_BORG_REMOTE = re.compile(r"^(ssh://|[^/:]+@[^/:]+:|[A-Za-z0-9.-]+:)")
# borg modes that encrypt: repokey and keyfile, with any cipher suffix (borg 1: -blake2;
# borg 2: -aes-ocb, -chacha20-poly1305). "none" and "authenticated*" only authenticate.
_BORG_ENCRYPTING = ("repokey", "keyfile")


class BackupParams(Params):
    min_jobs: Annotated[int, HIGHER] = 1
    # paths some job must save (a job saving a parent folder covers them)
    required_paths: Annotated[list[str], UNION] = []
    # repository prefixes that are approved off-site targets; empty: any remote target
    approved_targets: Annotated[list[str], INTERSECTION] = []
    require_schedule: Annotated[bool, TRUE] = True
    require_retention: Annotated[bool, TRUE] = False


def _covers(saved: list[str], wanted: str) -> bool:
    want = wanted.rstrip("/") or "/"
    return any(want == s.rstrip("/") or want.startswith(s.rstrip("/") + "/") or s == "/" for s in saved)


def _paths(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise CheckError(f"backup paths {value!r} are not a list of paths")


def _borg_encrypts(mode: Any) -> bool:
    return isinstance(mode, str) and mode.startswith(_BORG_ENCRYPTING)


def _jobs(facts: Any, option: str) -> dict[str, dict[str, Any]]:
    jobs = lookup(facts, option)
    if not isinstance(jobs, dict) or not all(isinstance(j, dict) for j in jobs.values()):
        raise CheckError(f"{option} is not an attribute set of jobs")
    return jobs


@predicate("backup_jobs", params=BackupParams, reads=[RESTIC, BORG])
def backup_jobs(subject: Subject, params: BackupParams) -> Outcome:
    """Backup jobs exist, run on a schedule, encrypt, save the required paths and send them to another machine.

    A backup on the same disk or host dies with it (CIR 4.2.2(c): a safe location, not in
    the same network). restic always encrypts; a BorgBackup job must use an encrypting
    mode (repokey or keyfile): "none" and "authenticated" leave the data readable. A job
    whose repository sits in a file (repositoryFile) cannot be judged against
    approved_targets, and fails when they are set.
    """
    facts = subject.need_facts()
    jobs: dict[str, dict[str, Any]] = {}
    for name, job in _jobs(facts, RESTIC).items():
        repo = job.get("repository")
        jobs[f"restic.{name}"] = {
            "target": repo if isinstance(repo, str) else None,
            "remote": isinstance(repo, str) and bool(_RESTIC_REMOTE.match(repo)),
            "encrypted": True,
            "scheduled": job.get("timerConfig") is not None,
            "retention": bool(job.get("pruneOpts")),
            "paths": _paths(job.get("paths")),
        }
    for name, job in _jobs(facts, BORG).items():
        repo = job.get("repo")
        encryption: dict[str, Any] = job["encryption"] if isinstance(job.get("encryption"), dict) else {}
        start = job.get("startAt")
        keep = (job.get("prune") or {}).get("keep") if isinstance(job.get("prune"), dict) else None
        jobs[f"borgbackup.{name}"] = {
            "target": repo if isinstance(repo, str) else None,
            "remote": isinstance(repo, str) and bool(_BORG_REMOTE.match(repo)),
            "encrypted": _borg_encrypts(encryption.get("mode")),
            "scheduled": bool(start),
            "retention": bool(keep),
            "paths": _paths(job.get("paths")),
        }
    problems: list[str] = []
    if len(jobs) < params.min_jobs:
        problems.append(f"{len(jobs)} backup job(s), at least {params.min_jobs} required")
    for name, job in sorted(jobs.items()):
        target = job["target"]
        if target is None:
            if params.approved_targets:
                problems.append(f"{name}: the repository is not in the configuration (a file?): cannot check it is approved")
        elif not job["remote"]:
            problems.append(f"{name}: repository {target} is on this host")
        elif params.approved_targets and not any(target.startswith(t) for t in params.approved_targets):
            problems.append(f"{name}: repository {target} is not an approved target")
        if not job["encrypted"]:
            problems.append(f"{name}: not encrypted")
        if params.require_schedule and not job["scheduled"]:
            problems.append(f"{name}: no schedule")
        if params.require_retention and not job["retention"]:
            problems.append(f"{name}: no retention (prune) policy")
    saved = [p for job in jobs.values() for p in job["paths"]]
    if unsaved := [p for p in params.required_paths if not _covers(saved, p)]:
        problems.append(f"not saved by any job: {', '.join(unsaved)}")
    return verdict(not problems, f"{len(jobs)} backup job(s) to off-host, encrypted repositories", "; ".join(problems), jobs=jobs)
