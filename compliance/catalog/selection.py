"""Which controls an assessment runs, with which parameter values, and why.

Profiles select controls (by id, tag or cited framework) and tune their parameters. Each
requested profile, with the profiles it extends, has its own value for every parameter
of a control it selects: the strictest value it or its parents set, or else the catalog
default. When several profiles are requested, every parameter takes the strictest of
those values (each parameter's model says what "stricter" means), so that adding a
profile can never make the assessment laxer than any one of them alone would be. The
selection records which profile set each value, so the report can show it: a profile id,
"default" when no profile sets it, "default (p)" when the catalog default held by
profile p is stricter than what another profile set, and "a+b" for union-like merges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compliance.catalog.loader import Catalog, expand_profiles
from compliance.checks import registry
from compliance.errors import CatalogError
from compliance.models.control import CheckKind, Control
from compliance.models.frameworks import AnssiLevel, FrameworkId
from compliance.models.params import Params, own_values, strictness_of

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


@dataclass(frozen=True)
class _Merge:
    """Folds the values of one parameter of one control, keeping who set the winner."""

    catalog: Catalog
    cid: str
    models: dict[str, type[Params]]

    def fold(self, values: dict[str, Any], sources: dict[str, str], name: str, candidate: Any, source: str, pid: str) -> None:
        """Keep the stricter of ``values[name]`` and ``candidate`` (the current one wins ties);
        ``pid`` is the profile whose file is blamed when the two cannot be reconciled."""
        try:
            merged = strictness_of(self.models[name], name).stricter(values[name], candidate)
        except ValueError as exc:
            raise CatalogError(self.catalog.files[pid], f"params.{self.cid}.{name}: {exc}") from None
        if merged != values[name]:
            sources[name] = source if merged == candidate else f"{sources[name]}+{source}"
        values[name] = merged

    def chain(self, chain: list[str], defaults: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The values one requested profile and the profiles it extends give the control."""
        values = dict(defaults)
        sources = {name: DEFAULT_SOURCE for name in values}
        for pid in chain:
            for name, raw in self.catalog.profiles[pid].params.get(self.cid, {}).items():
                model = self.models[name]
                candidate = model.model_validate({**own_values(model, values), name: raw}).model_dump(mode="json")[name]
                if sources[name] == DEFAULT_SOURCE:
                    # Within one profile's own line the first value set replaces the catalog
                    # default, even a laxer one: that profile decided it for itself.
                    values[name], sources[name] = candidate, pid
                else:
                    self.fold(values, sources, name, candidate, pid, pid)
        return values, sources

    def profiles(self, chains: dict[str, list[str]], defaults: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The strictest of the values each requested profile gives the control."""
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        overridden: set[str] = set()
        for rid, chain in chains.items():
            own, own_sources = self.chain(chain, defaults)
            for name, candidate in own.items():
                source = own_sources[name]
                if source == DEFAULT_SOURCE:
                    source = f"{DEFAULT_SOURCE} ({rid})"
                else:
                    overridden.add(name)
                if name in values:
                    self.fold(values, sources, name, candidate, source, rid)
                else:
                    values[name], sources[name] = candidate, source
        # A default no profile departs from is simply the default.
        return values, {name: source if name in overridden else DEFAULT_SOURCE for name, source in sources.items()}


def select(catalog: Catalog, requested: list[str], kind: CheckKind | None = None) -> Selection:
    """Resolve ``requested`` profiles (none: every control) for checks of ``kind``.

    Controls with no check at all stay selected (they need a manual attestation); controls
    whose checks are all of the other kind are left to the other mode.
    """
    profiles = expand_profiles(catalog, requested) if requested else []
    chains = {rid: expand_profiles(catalog, [rid]) for rid in dict.fromkeys(requested)}
    selects = {rid: set(_selected_ids(catalog, chain)) for rid, chain in chains.items()}
    ids = _selected_ids(catalog, profiles) if profiles else sorted(catalog.controls)
    selected: list[SelectedControl] = []
    for cid in ids:
        control = catalog.controls[cid]
        if kind is not None and control.checks and not control.checks_of(kind):
            continue
        models = _param_models(control)
        defaults = _defaults(control, models)
        selecting = {rid: chain for rid, chain in chains.items() if cid in selects[rid]}
        if selecting:
            values, sources = _Merge(catalog, cid, models).profiles(selecting, defaults)
        else:
            values, sources = defaults, {name: DEFAULT_SOURCE for name in defaults}
        selected.append(SelectedControl(control, values, sources))
    frameworks: list[FrameworkId] = []
    for pid in profiles:
        for fw in catalog.profiles[pid].frameworks:
            if fw not in frameworks:
                frameworks.append(fw)
    if not frameworks:
        frameworks = list(FrameworkId)
    return Selection(list(requested), profiles, frameworks, selected)


def reference_profile(catalog: Catalog, framework: FrameworkId, level: AnssiLevel | None) -> str | None:
    """The profile holding ``framework``'s own parameters (for ANSSI, those of ``level``),
    None when the catalog names none: a clause is judged against its values."""
    for profile in catalog.profiles.values():
        if framework not in profile.reference_for:
            continue
        if framework is not FrameworkId.ANSSI or level in profile.select.anssi_levels:
            return profile.id
    return None


def reference_values(catalog: Catalog, control: Control, profile_id: str) -> dict[str, Any]:
    """The parameter values ``profile_id`` (with the profiles it extends) gives ``control``."""
    models = _param_models(control)
    values, _ = _Merge(catalog, control.id, models).chain(expand_profiles(catalog, [profile_id]), _defaults(control, models))
    return values
