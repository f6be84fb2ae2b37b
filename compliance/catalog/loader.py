"""The control catalog: controls, framework clause catalogs and profiles, loaded from
``controls/`` and validated as a whole.

Everything a control says is checked when the catalog loads, so that a mistake is a load
error naming the file and the field, never a silent default at assessment time: the
check functions exist, every parameter is declared by one of them and has the declared
type, every cited clause exists in its framework's catalog, every profile selects and
tunes existing controls.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

# Explicit registration: importing these two packages registers every check.
import compliance.predicates
import compliance.probes  # noqa: F401  (registers every runtime probe; imports no transport)
from compliance.checks import registry
from compliance.errors import CatalogError
from compliance.models.control import ALL_CHECKS, ATTESTATION, CheckKind, Control, Profile
from compliance.models.frameworks import AnssiCrosswalk, Framework, FrameworkId
from compliance.models.params import Params, own_values, strictness_of
from compliance.util.datafiles import data_dir
from compliance.util.validation import format_validation_error

CONTROLS_DIR = "library"
FRAMEWORKS_DIR = "frameworks"
PROFILES_DIR = "profiles"
ANSSI_CROSSWALK = f"{FRAMEWORKS_DIR}/crosswalks/anssi-v1-v2.toml"
ANSSI_V1_IDS = [f"R{n}" for n in range(1, 70)]  # ANSSI-BP-028 v1.2: R1 to R69

M = TypeVar("M", bound=BaseModel)


def default_catalog_dir() -> Path:
    """The bundled catalog (see :mod:`compliance.util.datafiles`)."""
    return data_dir("controls")


def read_catalog_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CatalogError(path, f"cannot read: {exc.strerror or exc}") from None


def parse_toml(data: bytes, path: Path) -> dict[str, Any]:
    """The document of a catalog file, from the bytes that went into the catalog digest."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CatalogError(path, f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(path, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise CatalogError(path, "invalid TOML: nested too deeply") from None


def _model(cls: type[M], data: dict[str, Any], path: Path) -> M:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(path, format_validation_error(exc)) from None


@dataclass(frozen=True)
class Catalog:
    root: Path
    controls: dict[str, Control]
    frameworks: dict[FrameworkId, Framework]
    profiles: dict[str, Profile]
    files: dict[str, Path]  # control or profile id → the file it came from
    digest: str

    def param_model(self, control: Control, name: str) -> type[Params] | None:
        """The parameter model of the first check of ``control`` that declares ``name``."""
        for check in control.checks:
            spec = registry.get(check.kind, check.function)
            if spec is not None and name in spec.params.model_fields:
                return spec.params
        return None


def load_catalog(root: Path | None = None) -> Catalog:
    root = root or default_catalog_dir()
    return _load_catalog(root.resolve())


@cache
def _load_catalog(root: Path) -> Catalog:
    if not (root / CONTROLS_DIR).is_dir():
        raise CatalogError(root, f"not a control catalog: no {CONTROLS_DIR}/ folder")
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*.toml") if p.is_file())
    raw: dict[Path, dict[str, Any]] = {}
    for path in files:
        data = read_catalog_file(path)
        rel = path.relative_to(root).as_posix()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
        raw[path] = parse_toml(data, path)

    frameworks: dict[FrameworkId, Framework] = {}
    for path in sorted(p for p in raw if p.parent == root / FRAMEWORKS_DIR):
        fw = _model(Framework, raw[path], path)
        if fw.id in frameworks:
            raise CatalogError(path, f"id: framework {fw.id.value} defined twice")
        seen: set[str] = set()
        for clause in fw.clauses:
            if clause.id in seen:
                raise CatalogError(path, f"clauses: clause {clause.id} listed twice")
            if (clause.level is None) == (fw.id is FrameworkId.ANSSI):
                need = "needs a level" if clause.level is None else "has a level, which only ANSSI BP-028 clauses have"
                raise CatalogError(path, f"clauses: clause {clause.id} {need}")
            seen.add(clause.id)
        _check_points(fw, path)
        frameworks[fw.id] = fw

    controls: dict[str, Control] = {}
    sources: dict[str, Path] = {}
    for path in sorted(p for p in raw if (root / CONTROLS_DIR) in p.parents):
        if "clauses" in raw[path]:
            raise CatalogError(path, "clauses: replaced by [[cites]] entries naming the checks, scope and sentence (docs/writing-controls.md)")
        control = _model(Control, raw[path], path)
        if control.id in controls:
            raise CatalogError(path, f"id: control {control.id} is also defined in {sources[control.id]}")
        _check_control(control, frameworks, path)
        controls[control.id] = control
        sources[control.id] = path

    profiles: dict[str, Profile] = {}
    for path in sorted(p for p in raw if p.parent == root / PROFILES_DIR):
        profile = _model(Profile, raw[path], path)
        if profile.id in profiles:
            raise CatalogError(path, f"id: profile {profile.id} defined twice")
        profiles[profile.id] = profile
        sources[profile.id] = path
    catalog = Catalog(root, controls, frameworks, profiles, sources, "sha256:" + digest.hexdigest())
    for profile in profiles.values():
        _check_profile(catalog, profile, sources[profile.id])
    _check_references(catalog)
    return catalog


def _check_points(fw: Framework, path: Path) -> None:
    """Every point is below its clause and listed once, so that a citation has one reading."""
    owner = {clause.id: clause.id for clause in fw.clauses}
    for index, clause in enumerate(fw.clauses):
        for point in clause.points:
            if not clause.is_below(point):
                raise CatalogError(path, f"clauses[{index}].points: {point!r} is not a point below clause {clause.id}")
            if point in owner:
                raise CatalogError(path, f"clauses[{index}].points: {point!r} is already listed under {owner[point]}")
            owner[point] = clause.id


def _check_control(control: Control, frameworks: dict[FrameworkId, Framework], path: Path) -> None:
    declared: dict[str, type[Params]] = {}
    for index, check in enumerate(control.checks):
        spec = registry.get(check.kind, check.function)
        if spec is None:
            noun = "predicate" if check.kind is CheckKind.STATIC else "probe"
            raise CatalogError(path, f"checks[{index}].function: unknown {noun} {check.function!r}")
        for name in spec.params.model_fields:
            declared.setdefault(name, spec.params)
        try:
            spec.params.model_validate(own_values(spec.params, control.params))
        except ValidationError as exc:
            raise CatalogError(path, format_validation_error(exc, "params.")) from None
    for name in control.params:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise CatalogError(path, f"params.{name}: no check of this control takes this parameter (known: {known})")
    _check_citations(control, frameworks, path)


def _check_citations(control: Control, frameworks: dict[FrameworkId, Framework], path: Path) -> None:
    """Every citation names checks the control has (or, for a control without checks, an
    attestation), and clauses its framework's catalog lists, each cited once."""
    functions = {check.function for check in control.checks}
    seen: dict[tuple[FrameworkId, str], tuple[int, set[str]]] = {}
    for index, cite in enumerate(control.cites):
        where = f"cites.{index}"
        if cite.checks == ATTESTATION:
            if functions:
                raise CatalogError(path, f"{where}.checks: \"attestation\" is for a control without checks; name the checks of {control.id} that evidence it, or \"all\"")
        elif not functions:
            raise CatalogError(path, f'{where}.checks: {control.id} has no check: its evidence is a signed attestation (checks = "attestation")')
        elif cite.checks != ALL_CHECKS:
            if not cite.checks:
                raise CatalogError(path, f'{where}.checks: name the checks that evidence the clauses, or "all"')
            for name in cite.checks:
                if name not in functions:
                    known = ", ".join(sorted(functions))
                    raise CatalogError(path, f"{where}.checks: {control.id} has no check {name!r} (its checks: {known})")
        framework = frameworks.get(cite.framework)
        named = set(cite.functions(control))
        for ref in cite.clauses:
            earlier, checks = seen.get((cite.framework, ref), (index, set()))
            if earlier != index and (checks & named or not named):
                # A clause may be cited twice only for different checks (each with its scope).
                raise CatalogError(path, f"{where}.clauses: {ref!r} is already cited for the same checks in cites.{earlier}")
            seen[(cite.framework, ref)] = (earlier, checks | named)
            if framework is not None and framework.resolve(ref) is None:
                raise CatalogError(path, f"{where}.clauses: {framework.unknown_reason(ref)}")


def _check_references(catalog: Catalog) -> None:
    """At most one profile holds a framework's own parameters (per ANSSI level)."""
    held: dict[tuple[FrameworkId, str], str] = {}
    for profile in catalog.profiles.values():
        path = catalog.files[profile.id]
        for fw in profile.reference_for:
            levels = [level.value for level in profile.select.anssi_levels] if fw is FrameworkId.ANSSI else [""]
            if fw is FrameworkId.ANSSI and not levels:
                raise CatalogError(path, "reference_for: an ANSSI reference profile selects by select.anssi_levels")
            for level in levels:
                other = held.setdefault((fw, level), profile.id)
                if other != profile.id:
                    what = f"{fw.value} {level}".strip()
                    raise CatalogError(path, f"reference_for: {other} already holds the parameters of {what}")


def _check_profile(catalog: Catalog, profile: Profile, path: Path) -> None:
    for parent in profile.extends:
        if parent not in catalog.profiles:
            raise CatalogError(path, f"extends: unknown profile {parent!r}")
    _expand(catalog, profile.id, path, ())
    for cid in [*profile.select.controls, *profile.select.exclude]:
        if cid not in catalog.controls:
            raise CatalogError(path, f"select: unknown control {cid!r}")
    if profile.select.anssi_levels and FrameworkId.ANSSI not in catalog.frameworks:
        raise CatalogError(path, f"select.anssi_levels: the catalog has no ANSSI clause list ({FRAMEWORKS_DIR}/anssi.toml) to read levels from")
    for cid, values in profile.params.items():
        control = catalog.controls.get(cid)
        if control is None:
            raise CatalogError(path, f"params.{cid}: unknown control")
        for name, value in values.items():
            model = catalog.param_model(control, name)
            if model is None:
                raise CatalogError(path, f"params.{cid}.{name}: control {cid} has no such parameter")
            strictness_of(model, name)
            try:
                model.model_validate({**own_values(model, control.params), name: value})
            except ValidationError as exc:
                raise CatalogError(path, format_validation_error(exc, f"params.{cid}.")) from None


def _expand(catalog: Catalog, profile_id: str, path: Path, stack: tuple[str, ...]) -> list[str]:
    """Profiles in application order: parents first, each once. Cycles are load errors."""
    if profile_id in stack:
        raise CatalogError(path, f"extends: cycle {' -> '.join((*stack, profile_id))}")
    order: list[str] = []
    for parent in catalog.profiles[profile_id].extends:
        for pid in _expand(catalog, parent, path, (*stack, profile_id)):
            if pid not in order:
                order.append(pid)
    order.append(profile_id)
    return order


def expand_profiles(catalog: Catalog, profile_ids: list[str]) -> list[str]:
    order: list[str] = []
    for pid in profile_ids:
        if pid not in catalog.profiles:
            raise CatalogError(catalog.root / PROFILES_DIR, f"unknown profile {pid!r} (see 'compliance controls profiles')")
        for expanded in _expand(catalog, pid, catalog.files[pid], ()):
            if expanded not in order:
                order.append(expanded)
    return order


def load_anssi_crosswalk(root: Path | None = None) -> AnssiCrosswalk:
    """The ANSSI-BP-028 v1.2 → v2.0 cross-reference of a catalog, checked against it.

    Every v1.2 id R1-R69 appears once, mapped or unmapped; every v2 id a mapping names is a
    clause of the catalog's ANSSI list, named once per mapping. A mistake is a load error
    naming the file and the entry.
    """
    catalog = load_catalog(root)
    path = catalog.root / ANSSI_CROSSWALK
    crosswalk = _model(AnssiCrosswalk, parse_toml(read_catalog_file(path), path), path)
    anssi = catalog.frameworks.get(FrameworkId.ANSSI)
    if anssi is None:
        raise CatalogError(path, f"the catalog has no ANSSI clause list ({FRAMEWORKS_DIR}/anssi.toml) to check v2 ids against")
    seen: set[str] = set()
    entries = [("mappings", i, m.v1) for i, m in enumerate(crosswalk.mappings)]
    entries += [("unmapped", i, u.v1) for i, u in enumerate(crosswalk.unmapped)]
    for table, index, v1 in entries:
        if v1 not in ANSSI_V1_IDS:
            raise CatalogError(path, f"{table}[{index}].v1: {v1} is not a recommendation of ANSSI-BP-028 v1.2 (R1-R69)")
        if v1 in seen:
            raise CatalogError(path, f"{table}[{index}].v1: {v1} listed twice")
        seen.add(v1)
    missing = [v1 for v1 in ANSSI_V1_IDS if v1 not in seen]
    if missing:
        raise CatalogError(path, f"mappings: v1 ids neither mapped nor unmapped: {', '.join(missing)}")
    for index, mapping in enumerate(crosswalk.mappings):
        for v2 in mapping.v2:
            if v2 not in anssi.clause_ids():
                raise CatalogError(path, f"mappings[{index}].v2: {v2} is not a clause of {anssi.title}")
        if len(set(mapping.v2)) != len(mapping.v2):
            raise CatalogError(path, f"mappings[{index}].v2: an id listed twice")
    return crosswalk

