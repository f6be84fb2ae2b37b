"""SBOMs written from a closure: the one entry point of the gate and of ``compliance sbom``.

Many Nix users have a closure but no SBOM (sbomnix needs a newer Nix than many machines
run; bombon and genealogos need flakes and nixpkgs). This writer needs nothing but the
closure: path-info JSON, a listing or a live store path (see compliance.sbomgen).
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.errors import UsageError
from compliance.models.subject import Closure
from compliance.sbomgen import cdx_writer as cyclonedx
from compliance.sbomgen import spdx_json_writer as spdx_json
from compliance.sbomgen import spdx_tag_writer as spdx_tag
from compliance.sbomgen.sbom_plan import SbomPlan, build_plan
from compliance.util.gcpause import cyclic_gc_paused

WRITERS: dict[str, Callable[[SbomPlan], bytes]] = {
    "cyclonedx": cyclonedx.render,
    "spdx": spdx_json.render,
    "spdx-tv": spdx_tag.render,
}
FORMATS = tuple(WRITERS)


def write_sbom(closure: Closure, fmt: str) -> bytes:
    """The SBOM of ``closure`` in ``fmt`` ("cyclonedx", "spdx" or "spdx-tv")."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise UsageError(f"unknown SBOM format {fmt!r} (known: {', '.join(FORMATS)})")
    with cyclic_gc_paused():  # tens of thousands of small acyclic dicts and lists
        return writer(build_plan(closure))
