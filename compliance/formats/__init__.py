"""Writers that render one gate report into a format: text, json, junit, sarif, markdown.

Each format is a function ``render(report) -> bytes`` registered under its name; the
evidence packet and the CLI use the same registry. Output is deterministic: the same
report always renders to the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable

from compliance.models.results import GateReport

Renderer = Callable[[GateReport], bytes]

_FORMATS: dict[str, tuple[str, Renderer]] = {}
_loaded = False


def register(name: str, extension: str) -> Callable[[Renderer], Renderer]:
    def decorate(func: Renderer) -> Renderer:
        _FORMATS[name] = (extension, func)
        return func

    return decorate


def _load() -> None:
    """Import every module of this package once: each registers its formats."""
    import importlib
    import pkgutil

    global _loaded
    if _loaded:  # not "if _FORMATS": importing one format module registers only its own
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _loaded = True


def names() -> list[str]:
    _load()
    return sorted(_FORMATS)


def renderer(name: str) -> Renderer:
    _load()
    return _FORMATS[name][1]


def extension(name: str) -> str:
    _load()
    return _FORMATS[name][0]


def render(name: str, report: GateReport) -> bytes:
    return renderer(name)(report)
