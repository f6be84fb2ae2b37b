"""Predicates over the kernel a closure ships, read from its build configuration.

The kernel's ``.config`` is found in the closure: a ``linux-config-*`` store path (the
file nixpkgs' kernel build uses), or a ``config`` / ``.config`` file inside a ``linux-*``
store path. ``--kernel-config F`` gives it explicitly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from compliance.checks.predicate_subject import Subject
from compliance.checks.registry import Outcome, failed, passed, predicate
from compliance.errors import CheckError, InputError, NotApplicable
from compliance.inputs.kernelconfig import parse_kernel_config
from compliance.models.params import INTERSECTION, UNION, Params, merge
from compliance.models.subject import Closure, KernelConfig
from compliance.util.fsutil import read_bytes

_CANDIDATE_FILES = ("config", ".config", "lib/modules/config")
MAX_CONFIG_BYTES = 16 << 20


def find_kernel_config(closure: Closure) -> KernelConfig | None:
    """The kernel configuration in the closure; None when the closure ships no kernel.

    Raises :class:`CheckError` when there is a kernel but its configuration cannot be read.
    """
    config_paths = sorted(p for p, i in closure.paths.items() if i.name == "linux-config")
    kernels = sorted(p for p, i in closure.paths.items() if i.name == "linux" and i.version and i.version[:1].isdigit())
    if not config_paths and not kernels:
        return None
    if closure.real_store_dir is None:
        raise CheckError(f"the closure ships a kernel but {closure.source} gives no file contents: pass a live store path or --kernel-config")
    for store_path in config_paths:
        real = closure.real_path(store_path)
        if real is not None and real.is_file():
            return _read(real, store_path)
    for store_path in kernels:
        base = closure.real_path(store_path)
        for name in _CANDIDATE_FILES:
            if base is not None and (base / name).is_file():
                return _read(base / name, f"{store_path}/{name}")
    raise CheckError(f"no kernel configuration file found in {', '.join(config_paths + kernels)}")


def _read(path: Path, label: str) -> KernelConfig:
    try:
        data = read_bytes(path, what="kernel configuration", limit=MAX_CONFIG_BYTES)
    except InputError as exc:
        raise CheckError(f"{label}: {exc.problem}") from None
    return parse_kernel_config(data.decode("utf-8", "replace"), label)


class KernelConfigParams(Params):
    # CONFIG_X → allowed values ("y", "m", a number or string); listed options must be set so.
    required: Annotated[dict[str, list[str]], merge(INTERSECTION)] = {}
    # options that must be unset ("n" or absent)
    forbidden: Annotated[list[str], UNION] = []


@predicate("kernel_config_options", params=KernelConfigParams)
def kernel_config_options(subject: Subject, params: KernelConfigParams) -> Outcome:
    """The kernel in the closure was built with the hardening options required and without the forbidden ones."""
    config = subject.kernel_config
    if config is None:
        config = find_kernel_config(subject.need_closure())
        if config is None:
            raise NotApplicable("the closure ships no Linux kernel")
    missing: dict[str, dict[str, object]] = {}
    for option, allowed in sorted(params.required.items()):
        value = config.options.get(option, "n")
        if value not in allowed:
            missing[option] = {"value": value, "allowed": allowed}
    present = sorted(o for o in params.forbidden if config.options.get(o, "n") != "n")
    observed = {"config": config.source, "options_in_config": len(config.options), "not_as_required": missing, "forbidden_set": present}
    problems = []
    if missing:
        problems.append(f"{len(missing)} required option(s) not set: {', '.join(list(missing)[:8])}")
    if present:
        problems.append(f"forbidden option(s) set: {', '.join(present[:8])}")
    if problems:
        return failed("; ".join(problems), **observed)
    return passed(f"{len(params.required)} required and {len(params.forbidden)} forbidden options as expected in {config.source}", **observed)
