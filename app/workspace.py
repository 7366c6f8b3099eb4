"""The workspace: the projects folder, the samples, and the projects and sites loaded from it.

The app works on *copies*: opening a sample copies it from ``data/`` into the
workspace (``$GRIDGIS_WORKSPACE``, default ``~/.gridgis/projects``), and every
edit is saved there; ``data/`` is never written. A new project from nothing
(`create_project`) is a draft folder there too.

Which project a new session opens: a workspace folder this server had to
create (a first start, ``./dev app``) gets a copy of the sample; a workspace
folder that already existed and holds no project opens on the new-project
form instead (`wants_sample`). Loaded projects and sites are
cached per server process (shared by sessions, never mutated): projects by
their files' stamps, sites by `SiteStore.version`, which changes whenever any
session saves a site.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

from gridgis.core.project import Project, check_project_name, new_project, open_project
from gridgis.core.settings import Settings, default_settings
from gridgis.core.store import SiteStore
from gridgis.errors import GridGISError

__all__ = [
    "DEFAULT_SAMPLE",
    "REPO",
    "SAMPLES",
    "Stamp",
    "bump",
    "create_project",
    "forget_files",
    "list_projects",
    "load_project",
    "open_sample",
    "project_path",
    "sites_at",
    "stamp",
    "stamp_without",
    "store_for",
    "summary",
    "version_of",
    "wants_sample",
    "workspace",
]

REPO = Path(__file__).resolve().parents[1]
SAMPLES = {"dongsi180": REPO / "data" / "dongsi180", "shaxi_f.gpkg": REPO / "data" / "shaxi_f.gpkg"}
DEFAULT_SAMPLE = "dongsi180"
_GENERATION: dict[str, int] = {}  # bumped when this server rewrites a project's layers/settings

Stamp = tuple[Any, ...]
"""What changes when a project's layers or settings change (see `stamp`)."""

_TTL_S = 2.0  # directory listings and file stamps are re-read at most this often
_RECENT: dict[tuple[Any, ...], tuple[float, Any]] = {}


def _recent(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """`compute()`, re-run at most every `_TTL_S` seconds (stat calls are slow on some disks)."""
    now = time.monotonic()
    hit = _RECENT.get(key)
    if hit is not None and now - hit[0] < _TTL_S:
        return hit[1]
    value = compute()
    _RECENT[key] = (now, value)
    return value


def forget_files() -> None:
    """Drop remembered listings and stamps (after this server writes a project)."""
    _RECENT.clear()


_EXISTED: dict[str, bool] = {}  # root -> did it exist before this server first used it


@functools.cache
def _make_dir(root: str) -> Path:
    path = Path(root)
    _EXISTED[root] = path.is_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path


def workspace() -> Path:
    """The folder holding the working copies (created on demand)."""
    return _make_dir(
        os.environ.get("GRIDGIS_WORKSPACE") or str(Path.home() / ".gridgis" / "projects")
    )


def wants_sample() -> bool:
    """Whether a session without a project gets a sample copy (else: the new-project form).

    True while the workspace holds no project and this server created its
    folder; False once it holds one, or when its folder was there, empty.
    """
    root = workspace()
    return not list_projects() and not _EXISTED.get(str(root), True)


def _is_project(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    if path.is_dir():  # a draft (`create_project`) has only its settings
        return any((path / f).exists() for f in ("buildings.geojson", "buildings.csv",
                                                 "compound.geojson", "settings.toml"))  # fmt: skip
    return path.suffix.lower() == ".gpkg" and path.is_file()


def list_projects() -> list[str]:
    """Names of the projects in the workspace."""
    root = workspace()
    return _recent(
        ("projects", str(root)), lambda: sorted(p.name for p in root.iterdir() if _is_project(p))
    )


def project_path(name: str) -> Path:
    """The working copy called `name` (a name from `list_projects`, never a path)."""
    try:
        check_project_name(name)
    except GridGISError:
        name_ok = False
    else:
        name_ok = name in list_projects()
    if not name_ok:
        raise GridGISError(f"no project {name!r} in the workspace {str(workspace())!r}")
    return workspace() / name


def open_sample(sample: str, *, fresh: bool = False) -> str:
    """Copy sample `sample` into the workspace (unless there already) and return its name.

    With `fresh`, make a new copy beside any existing one (``dongsi180-2``...).
    """
    if sample not in SAMPLES:
        raise GridGISError(f"sample={sample!r} is not one of {sorted(SAMPLES)}")
    source = SAMPLES[sample]
    target = workspace() / sample
    if fresh and target.exists():
        stem, suffix = (sample[:-5], ".gpkg") if sample.endswith(".gpkg") else (sample, "")
        n = 2
        while (target := workspace() / f"{stem}-{n}{suffix}").exists():
            n += 1
    if not target.exists():
        tmp = target.with_name(f".{target.name}.copying")
        shutil.rmtree(tmp, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(".*"))
        else:
            shutil.copy2(source, tmp)
        os.replace(tmp, target)
        forget_files()
    return target.name


def create_project(name: str, **place_and_naming: Any) -> str:
    """Make the empty project ``<workspace>/<name>``.

    `place_and_naming` (``lon``, ``lat``, ``grid_prefix``, ``building_prefix``)
    go to `gridgis.core.project.new_project`, which holds their defaults.
    Returns its name; raises GridGISError (a bad name or place, or the name is taken).
    """
    new_project(workspace() / name, name=name, **place_and_naming)
    forget_files()
    return name


def bump(path: Path | str) -> None:
    """Tell the caches that a project's layers or settings were rewritten."""
    _GENERATION[str(path)] = _GENERATION.get(str(path), 0) + 1
    forget_files()


def _file_stamps(path: Path) -> Stamp:
    if not path.is_dir():
        return ()  # a GeoPackage: sites are saved into the same file
    with os.scandir(path) as entries:
        return tuple(
            sorted(
                (e.name, e.stat().st_mtime_ns, e.stat().st_size)
                for e in entries
                if e.is_file() and not e.name.startswith(".") and e.name != "sites.geojson"
            )
        )


def stamp_without(path: Path | str, layer: str) -> Stamp:
    """Like `stamp`, but blind to changes of one layer's file (a folder project's).

    The map page's base map leaves out the layer being edited, so it keys on
    this: saving a building does not rebuild a base map drawn without them.
    A GeoPackage keeps every layer in one file: there it is `stamp`.
    """
    full = stamp(path)
    if not Path(path).is_dir():
        return full
    return tuple(e for e in full[1:] if Path(e[0]).stem != layer)


def stamp(path: Path | str) -> Stamp:
    """Changes when the project's layers or settings change (not its sites).

    The app's own writes (settings) bump a generation at once; files changed
    by other programs are noticed within `_TTL_S` seconds.
    """
    generation = _GENERATION.get(str(path), 0)
    return (
        generation,
        *_recent(("stamp", str(path), generation), lambda: _file_stamps(Path(path))),
    )


# Process-wide caches (shared by sessions, never mutated). functools rather than
# st.cache_resource: their keys are plain tuples, and hashing them costs nothing.
@functools.lru_cache(maxsize=8)
def _project(path: str, stamp_: Stamp) -> Project:
    return open_project(path)


def load_project(path: Path | str, stamp_: Stamp | None = None) -> Project:
    """The project at `path` (cached until its files change). Raises GridGISError.

    `stamp_` (default: the project's `stamp` now) names the version wanted,
    so caches keyed by a stamp get the project of that stamp.
    """
    return _project(str(path), stamp(path) if stamp_ is None else stamp_)


@functools.lru_cache(maxsize=16)
def _summary(path: str, stamp_: Stamp) -> dict[str, Any]:
    return _project(path, stamp_).summary()


def summary(path: Path) -> dict[str, Any]:
    """`Project.summary` of the project at `path` (cached)."""
    return _summary(str(path), stamp(path))


@functools.cache
def _defaults() -> Settings:
    return default_settings()


def version_of(path: Path | str) -> int:
    """`SiteStore.version` of the project at `path` (a stat: cheap)."""
    return SiteStore(path, settings=_defaults()).version()


@functools.lru_cache(maxsize=32)
def _sites(path: str, version: int) -> gpd.GeoDataFrame:
    return SiteStore(path, settings=_defaults()).load()


def sites_at(path: Path | str, version: int | None = None) -> gpd.GeoDataFrame:
    """The sites on disk (EPSG:4326, with ``rev``; cached per `SiteStore.version`)."""
    return _sites(str(path), version_of(path) if version is None else version)


def store_for(path: Path) -> SiteStore:
    """A SiteStore for the project at `path`, validating with its settings."""
    return SiteStore(path, settings=load_project(path).settings)
