"""Probes of the running NixOS system: is it the approved closure, are its store paths
intact, can it roll back, does it run the kernel it ships, and was anything installed
beside it."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from compliance.checks.registry import Outcome, failed, probe, verdict
from compliance.errors import CheckError, NotApplicable
from compliance.hosts.host_api import Host
from compliance.hosts.requests import ListDir, Request, ResolvePath, RunCommand
from compliance.models.params import FALSE, HIGHER, UNION, NoParams, Params
from compliance.probes.planners import plans
from compliance.probes.sources import SYSTEM_PROFILE

CURRENT_SYSTEM = "/run/current-system"


def _system_link(host: Host) -> str:
    return CURRENT_SYSTEM if host.live else SYSTEM_PROFILE


@plans("running_closure")
def _plan_closure(host: Host, params: NoParams) -> list[Request]:
    return [ResolvePath(_system_link(host))]


@probe("running_closure", params=NoParams)
def running_closure(host: Host, params: NoParams) -> Outcome:
    """The running system (/run/current-system; offline, the system profile) is the approved closure given with --expect-closure."""
    expected = host.expected_closure
    if not expected:
        raise NotApplicable("no expected closure was given (--expect-closure)")
    link = _system_link(host)
    actual = host.resolve(link)
    if actual is None:
        return failed(f"{link} does not exist: the host does not run a NixOS system", expected=expected, actual=None)
    return verdict(actual == expected, f"{link} is the approved closure", f"{link} is {actual}, expected {expected}",
                   expected=expected, actual=actual)


class StoreParams(Params):
    store_sample_size: Annotated[int, HIGHER] = 32


QUERY = ("nix-store", "--query", "--requisites", CURRENT_SYSTEM)


@plans("store_paths_verified")
def _plan_store(host: Host, params: StoreParams) -> list[Request]:
    return [ResolvePath(CURRENT_SYSTEM), RunCommand(QUERY)] if host.live else []


def sample(paths: list[str], size: int, nonce: str) -> list[str]:
    """``size`` paths chosen by a hash keyed on the wave's nonce: the host cannot know in
    advance which paths will be checked, and an auditor can recompute the choice."""
    ranked = sorted(paths, key=lambda p: hashlib.sha256(f"{nonce}\0{p}".encode()).digest())
    return sorted(ranked[:size])


@probe("store_paths_verified", params=StoreParams)
def store_paths_verified(host: Host, params: StoreParams) -> Outcome:
    """A nonce-keyed sample of the running closure's store paths still has the content Nix registered (nix-store --verify-path)."""
    host.require_live("store verification")
    current = host.resolve(CURRENT_SYSTEM)
    if current is None:
        raise NotApplicable(f"{CURRENT_SYSTEM} does not exist: not a NixOS system")
    listed = host.run(*QUERY)
    if listed is None:
        raise CheckError("nix-store is not installed")
    if listed.exit_code != 0:
        raise CheckError(f"nix-store --query --requisites failed: {listed.stderr}")
    paths = [p for p in listed.stdout.split() if p.startswith("/")]
    if not paths:
        raise CheckError(f"nix-store listed no requisites of {current}")
    chosen = sample(paths, params.store_sample_size, host.nonce)
    result = host.run("nix-store", "--verify-path", *chosen)
    if result is None:
        raise CheckError("nix-store is not installed")
    modified = [ln for ln in result.stderr.splitlines() if "was modified" in ln or "path '" in ln]
    return verdict(
        result.exit_code == 0,
        f"{len(chosen)} of {len(paths)} store paths verified",
        f"store paths modified: {'; '.join(modified) or result.stderr or 'exit ' + str(result.exit_code)}",
        closure=current, requisites=len(paths), sampled=chosen,
    )


# ---------------------------------------------------------------------------- rollback

PROFILES_DIR = "/nix/var/nix/profiles"
BOOT_ENTRIES = ("/boot/loader/entries", "/efi/loader/entries", "/boot/efi/loader/entries")
_GENERATION = re.compile(r"^system-(\d+)-link$")


class GenerationParams(Params):
    min_generations: Annotated[int, HIGHER] = 2  # the current one and at least one to roll back to


@plans("rollback_generations")
def _plan_generations(host: Host, params: GenerationParams) -> list[Request]:
    return [ListDir(PROFILES_DIR), *(ListDir(d) for d in BOOT_ENTRIES)]


@probe("rollback_generations", params=GenerationParams)
def rollback_generations(host: Host, params: GenerationParams) -> Outcome:
    """Earlier system generations are kept, and the boot menu offers them, so that a bad release can be rolled back.

    NixOS keeps each activated system as a generation of the system profile; rolling back
    is switching to the previous one, or picking it at boot when the new one does not
    start. Garbage collection (nix.gc) and boot.loader.*.configurationLimit decide how
    many remain.
    """
    host.prefetch(_plan_generations(host, params))
    names = host.listdir(PROFILES_DIR)
    if names is None:
        raise CheckError(f"{PROFILES_DIR} does not exist: not a NixOS system")
    generations = sorted(int(m.group(1)) for n in names if (m := _GENERATION.match(n)))
    entries: dict[str, int] = {}
    for folder in BOOT_ENTRIES:
        listed = host.listdir(folder)
        if listed is not None:
            entries[folder] = sum(1 for n in listed if n.startswith("nixos-generation-") and n.endswith(".conf"))
    problems = []
    if len(generations) < params.min_generations:
        problems.append(f"{len(generations)} system generation(s) kept, at least {params.min_generations} required")
    problems += [f"{folder} offers {count} generation(s) at boot, at least {params.min_generations} required"
                 for folder, count in entries.items() if count < params.min_generations]
    return verdict(not problems, f"{len(generations)} system generations kept" + (f", {max(entries.values())} in the boot menu" if entries else ""),
                   "; ".join(problems), generations=generations, boot_entries=entries)


# ---------------------------------------------------------------------------- booted kernel

BOOTED_SYSTEM = "/run/booted-system"
KERNEL_PARTS = ("kernel", "initrd", "kernel-modules")


@plans("booted_kernel_current")
def _plan_booted(host: Host, params: NoParams) -> list[Request]:
    if not host.live:
        return []
    return [ResolvePath(f"{system}/{part}") for system in (BOOTED_SYSTEM, CURRENT_SYSTEM) for part in KERNEL_PARTS]


@probe("booted_kernel_current", params=NoParams)
def booted_kernel_current(host: Host, params: NoParams) -> Outcome:
    """The running kernel, initrd and modules are those of the current system: no kernel update is waiting for a reboot.

    nixos-rebuild switch activates a new system but keeps the kernel that booted: a kernel
    fix is deployed only after the reboot. Until then the host runs the vulnerable kernel
    while its closure says otherwise (CIR 6.6.1(a); DORA RTS 10(4)).
    """
    host.require_live("the booted kernel")
    host.prefetch(_plan_booted(host, params))
    booted = {part: host.resolve(f"{BOOTED_SYSTEM}/{part}") for part in KERNEL_PARTS}
    current = {part: host.resolve(f"{CURRENT_SYSTEM}/{part}") for part in KERNEL_PARTS}
    if booted["kernel"] is None or current["kernel"] is None:
        raise CheckError(f"{BOOTED_SYSTEM}/kernel or {CURRENT_SYSTEM}/kernel is missing: not a running NixOS system")
    stale = [part for part in KERNEL_PARTS if booted[part] != current[part]]
    return verdict(not stale, f"the booted kernel is the current one ({current['kernel']})",
                   f"reboot pending: the booted {', '.join(stale)} differ from the current system's (booted kernel {booted['kernel']}, current {current['kernel']})",
                   booted=booted, current=current)


# ---------------------------------------------------------------------------- imperative drift

DEFAULT_PROFILES = [
    "/nix/var/nix/profiles/default", "/nix/var/nix/profiles/per-user/root/profile", "/root/.nix-profile",
    "/root/.local/state/nix/profiles/profile",
]
CHANNEL_PROFILES = ["/nix/var/nix/profiles/per-user/root/channels", "/root/.local/state/nix/profiles/channels"]
MANIFESTS = {"manifest.nix", "manifest.json"}


class DriftParams(Params):
    imperative_profiles: Annotated[list[str], UNION] = DEFAULT_PROFILES
    allow_channels: Annotated[bool, FALSE] = True


@plans("no_imperative_packages")
def _plan_drift(host: Host, params: DriftParams) -> list[Request]:
    return [ListDir(PROFILES_DIR), *(ResolvePath(p) for p in (*params.imperative_profiles, *CHANNEL_PROFILES))]


def _profile_contents(host: Host, path: str) -> tuple[str, list[str]] | None:
    target = host.resolve(path)
    if target is None:
        return None
    names = host.listdir(target)
    if names is None:
        raise CheckError(f"{path} resolves to {target}, which is not a folder")
    return target, [n for n in names if n not in MANIFESTS]


@probe("no_imperative_packages", params=DriftParams)
def no_imperative_packages(host: Host, params: DriftParams) -> Outcome:
    """Nothing is installed imperatively for root (nix-env, nix profile), and, on flake-based hosts, root follows no channel.

    What runs on a NixOS host should come from its reviewed configuration; packages
    installed by hand into root's profiles live outside change control and outside the
    release's SBOM and vulnerability scan (CIR 6.3.2(b), 6.4.1; DORA RTS 11(2)(c)). A
    host built from a flake has no use for channels (nix.channel.enable = false).
    """
    host.prefetch(_plan_drift(host, params))
    if host.listdir(PROFILES_DIR) is None:
        raise CheckError(f"{PROFILES_DIR} does not exist: not a Nix system")
    targets = [t for p in (*params.imperative_profiles, *CHANNEL_PROFILES) if (t := host.resolve(p)) is not None]
    host.prefetch(ListDir(t) for t in targets)
    installed: dict[str, list[str]] = {}
    for path in params.imperative_profiles:
        contents = _profile_contents(host, path)
        if contents and contents[1]:
            installed[path] = contents[1]
    channels: dict[str, list[str]] = {}
    for path in CHANNEL_PROFILES:
        contents = _profile_contents(host, path)
        if contents and contents[1]:
            channels[path] = contents[1]
    problems = [f"{path} holds {', '.join(names[:8])}" for path, names in installed.items()]
    if channels and not params.allow_channels:
        problems += [f"root follows channels: {', '.join(names)} ({path})" for path, names in channels.items()]
    return verdict(not problems, "no package installed imperatively for root" + ("" if params.allow_channels else ", no channel"),
                   "imperative state outside the configuration: " + "; ".join(problems), installed=installed, channels=channels)
