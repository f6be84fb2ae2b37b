"""The CycloneDX SBOM of a Python distribution and its runtime dependencies.

Written for the tool's own releases: the subject is a built wheel (its ``METADATA``), and
every requirement it declares, followed recursively through the requirements of what is
installed, is resolved to the distribution installed in this environment, the one the
release was built and tested with. A requirement that is not installed, or whose installed
version is outside the declared range, is an error: an SBOM that silently leaves a
dependency out would be a false claim about what ships. The document is made with
cyclonedx-python-lib (its model and its 1.6 JSON serialiser), with the serial number
derived from the content and the time from ``SOURCE_DATE_EPOCH``, so that the same wheel in
the same environment gives the same bytes.
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.metadata
import io
import uuid
import zipfile
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

from cyclonedx.model import HashAlgorithm, HashType
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, License, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import NormalizedName, canonicalize_name

from compliance import TOOL_NAME, __version__
from compliance.errors import InputError
from compliance.util import clock
from compliance.util.fsutil import read_bytes


@dataclass(frozen=True)
class PythonPackage:
    """One distribution of the SBOM: its name, version, licence and what it requires."""

    name: str
    version: str
    license: tuple[str, tuple[str, ...]] | None  # ("expression", (SPDX,)) or ("name", names)
    requires: tuple[NormalizedName, ...]  # canonical names of the runtime requirements


def wheel_metadata(data: bytes, wheel: Path) -> Message:
    """The ``METADATA`` of a wheel (the single ``*.dist-info/METADATA`` entry); ``wheel``
    names it in errors."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                raise InputError(wheel, f"expected one *.dist-info/METADATA, found {len(names)}")
            text = archive.read(names[0]).decode("utf-8")
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise InputError(wheel, f"not a readable wheel ({exc})") from None
    return email.parser.Parser().parsestr(text)


def _runtime_requirements(requires: list[str], source: str | Path) -> list[Requirement]:
    """The requirements that apply to a plain install (no extra) on this platform."""
    kept = []
    for line in requires:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise InputError(source, f"bad requirement {line!r}: {exc}") from None
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            kept.append(requirement)
    return kept


def _license(metadata: Message) -> tuple[str, tuple[str, ...]] | None:
    """What the metadata states of the licence, most precise first: ``License-Expression``
    (an SPDX expression), else a one-line ``License`` field, else the names of the
    ``License ::`` classifiers; free text is kept as licence names, never passed off as SPDX
    ids. Nothing stated, nothing claimed."""
    expression = str(metadata.get("License-Expression") or "").strip()
    if expression:
        return "expression", (expression,)
    text = str(metadata.get("License") or "").strip()
    if text and len(text) <= 100 and "\n" not in text:
        return "name", (text,)
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in metadata.get_all("Classifier") or [] if c.startswith("License ::")]
    return ("name", tuple(classifiers)) if classifiers else None


def _licenses(package: PythonPackage) -> list[License] | None:
    if package.license is None:
        return None
    kind, values = package.license
    if kind == "expression":
        return [LicenseExpression(values[0])]
    return [DisjunctiveLicense(name=value) for value in values]


def resolve(metadata: Message, source: str | Path) -> tuple[PythonPackage, list[PythonPackage]]:
    """The distribution ``metadata`` describes and the installed closure of its runtime
    requirements, sorted by name. Raises :class:`InputError` for a requirement that is not
    installed or whose installed version does not satisfy it."""
    root = _package(metadata, source)
    found: dict[NormalizedName, PythonPackage] = {}
    pending = list(_runtime_requirements(metadata.get_all("Requires-Dist") or [], source))
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            _check_version(requirement, found[name].version, source)
            continue
        try:
            installed = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            raise InputError(source, f"requirement {requirement} is not installed: the SBOM would leave it out") from None
        _check_version(requirement, installed.version, source)
        package = _package(installed.metadata, f"{requirement.name} (installed)")  # type: ignore[arg-type]
        found[name] = package
        pending += _runtime_requirements(installed.requires or [], f"{requirement.name} (installed)")
    return root, [found[name] for name in sorted(found)]


def _check_version(requirement: Requirement, version: str, source: str | Path) -> None:
    if not requirement.specifier.contains(version, prereleases=True):
        raise InputError(source, f"requirement {requirement}: installed version {version} does not satisfy it")


def _package(metadata: Message, source: str | Path) -> PythonPackage:
    name, version = metadata.get("Name"), metadata.get("Version")
    if not name or not version:
        raise InputError(source, "metadata without Name or Version")
    requires = _runtime_requirements(metadata.get_all("Requires-Dist") or [], source)
    return PythonPackage(
        name=str(name), version=str(version), license=_license(metadata),
        requires=tuple(sorted({canonicalize_name(r.name) for r in requires})),
    )


def _purl(package: PythonPackage) -> PackageURL:
    return PackageURL(type="pypi", name=canonicalize_name(package.name), version=package.version)


def _component(package: PythonPackage, kind: ComponentType, sha256: str | None = None) -> Component:
    purl = _purl(package)
    return Component(
        type=kind, name=package.name, version=package.version, purl=purl, bom_ref=purl.to_string(),
        licenses=_licenses(package),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256)] if sha256 else None,
    )


def wheel_sbom(wheel: Path) -> bytes:
    """CycloneDX 1.6 JSON of ``wheel`` (``metadata.component``, with the wheel's SHA-256) and
    the installed runtime dependencies it requires, with the dependency graph."""
    data = read_bytes(wheel, what="wheel")
    root, packages = resolve(wheel_metadata(data, wheel), wheel)
    digest = hashlib.sha256(data).hexdigest()
    bom = Bom()
    described = _component(root, ComponentType.APPLICATION, digest)
    bom.metadata.component = described
    bom.metadata.timestamp = clock.now()
    bom.metadata.tools.components.add(Component(type=ComponentType.APPLICATION, name=TOOL_NAME, version=__version__))
    components = {canonicalize_name(p.name): _component(p, ComponentType.LIBRARY) for p in packages}
    for component in components.values():
        bom.components.add(component)
    bom.register_dependency(described, [components[n] for n in root.requires])
    for package in packages:
        bom.register_dependency(components[canonicalize_name(package.name)], [components[n] for n in package.requires])
    inventory = "\n".join([digest, *(f"{p.name}=={p.version}" for p in packages)])
    bom.serial_number = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:{TOOL_NAME}:pydist-sbom:{inventory}")
    return JsonV1Dot6(bom).output_as_string(indent=2).encode("utf-8") + b"\n"
