"""Which controls an assessment runs, with which parameter values, and why.

Profiles select controls (by id, tag or cited framework) and tune their parameters. When
several profiles are active, every parameter takes the strictest value any of them sets
(each parameter's model says what "stricter" means), and the selection records which
profile set each value, so the report can show it. A value no profile sets keeps the
catalog default. Union-like merges of two profiles are credited to both ("a+b").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import registry
from .catalog import Catalog, expand_profiles
from .errors import CatalogError
from .models.control import CheckKind, Control
from .models.frameworks import AnssiLevel, FrameworkId
from .models.params import Params, own_values, strictness_of

DEFAULT_SOURCE = "default"


@dataclass(frozen=True)
class SelectedControl:
    control: Control
    params: dict[str, Any]  # JSON-able merged values
    sources: dict[str, str]  # parameter → "default" or the profile that set it

    def params_for(self, kind: CheckKind, function: str) -> Params:
        spec = registry.get(kind, function)
        assert spec is not None
        return spec.params.model_validate(own_values(spec.params, self.params))


@dataclass(frozen=True)
class Selection:
    requested: list[str]
    profiles: list[str]  # requested profiles and their parents, in application order
    frameworks: list[FrameworkId]
    controls: list[SelectedControl]


def _param_models(control: Control) -> dict[str, type[Params]]:
    models: dict[str, type[Params]] = {}
    for check in control.checks:
        spec = registry.get(check.kind, check.function)
        if spec is None:
            continue
        for name in spec.params.model_fields:
            models.setdefault(name, spec.params)
    return models


def _defaults(control: Control, models: dict[str, type[Params]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    seen: set[type[Params]] = set()
    for model in models.values():
        if model in seen:
            continue
        seen.add(model)
        instance = model.model_validate(own_values(model, control.params))
        for name, value in instance.model_dump(mode="json").items():
            values.setdefault(name, value)
    return values


def anssi_levels_cited(catalog: Catalog, control: Control) -> set[AnssiLevel]:
    """The BP-028 levels of the recommendations ``control`` cites (empty without the ANSSI list)."""
    anssi = catalog.frameworks.get(FrameworkId.ANSSI)
    if anssi is None:
        return set()
    levels = {clause.id: clause.level for clause in anssi.clauses}
    cited = (levels.get(anssi.resolve(ref) or "") for ref in control.clauses.get(FrameworkId.ANSSI, []))
    return {level for level in cited if level is not None}


def _selected_ids(catalog: Catalog, profile_ids: list[str]) -> list[str]:
    chosen: list[str] = []
    for pid in profile_ids:
        select = catalog.profiles[pid].select
        ids = set(select.controls)
        for control in catalog.controls.values():
            by_level = bool(select.anssi_levels) and bool(anssi_levels_cited(catalog, control) & set(select.anssi_levels))
            if by_level or set(select.tags) & set(control.tags) or set(select.frameworks) & set(control.clauses):
                ids.add(control.id)
        ids -= set(select.exclude)
        chosen.extend(i for i in sorted(ids) if i not in chosen)
    return sorted(chosen)


def select(catalog: Catalog, requested: list[str], kind: CheckKind | None = None) -> Selection:
    """Resolve ``requested`` profiles (none: every control) for checks of ``kind``.

    Controls with no check at all stay selected (they need a manual attestation); controls
    whose checks are all of the other kind are left to the other mode.
    """
    profiles = expand_profiles(catalog, requested) if requested else []
    ids = _selected_ids(catalog, profiles) if profiles else sorted(catalog.controls)
    selected: list[SelectedControl] = []
    for cid in ids:
        control = catalog.controls[cid]
        if kind is not None and control.checks and not control.checks_of(kind):
            continue
        models = _param_models(control)
        values = _defaults(control, models)
        sources = {name: DEFAULT_SOURCE for name in values}
        for pid in profiles:
            overrides = catalog.profiles[pid].params.get(cid, {})
            for name, raw in overrides.items():
                model = models[name]
                candidate = model.model_validate({**own_values(model, values), name: raw}).model_dump(mode="json")[name]
                if sources[name] == DEFAULT_SOURCE:
                    # The first profile to set a value replaces the catalog default, even
                    # with a laxer one: defaults are a baseline, profiles are decisions.
                    values[name], sources[name] = candidate, pid
                    continue
                try:
                    merged = strictness_of(model, name).stricter(values[name], candidate)
                except ValueError as exc:
                    raise CatalogError(catalog.files[pid], f"params.{cid}.{name}: {exc}") from None
                if merged != values[name]:
                    sources[name] = pid if merged == candidate else f"{sources[name]}+{pid}"
                values[name] = merged
        selected.append(SelectedControl(control, values, sources))
    frameworks: list[FrameworkId] = []
    for pid in profiles:
        for fw in catalog.profiles[pid].frameworks:
            if fw not in frameworks:
                frameworks.append(fw)
    if not frameworks:
        frameworks = list(FrameworkId)
    return Selection(list(requested), profiles, frameworks, selected)
