"""A project: the layers of one compound (EPSG:4326) plus its settings.

A project on disk is either one GeoPackage file (a layer each, settings in the
``gridgis_settings`` table) or a folder of ``<layer>.geojson`` files with an
optional ``settings.toml`` (``votes.csv`` for the register: see
`gridgis.core.store.files`). `open_project` reads both; `save_project` writes
both atomically, holding the project lock: a crash never leaves a
half-written project.

Examples
--------
>>> from gridgis.core.project import open_project
>>> p = open_project("data/dongsi180")
>>> p.summary()["households"]
308

A project may start empty (`new_project`): a *draft* holding only its place
(``[place]`` in its settings) opens like any other, with a warning for each
required layer not drawn yet.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj
import shapely

from gridgis.core import io
from gridgis.core.crs import local_metric_crs
from gridgis.core.schema import LAYER_NAMES, resolve_households
from gridgis.core.settings import (
    ID_PREFIX,
    Naming,
    Place,
    Settings,
    default_settings,
    load_settings,
    settings_from_toml,
    settings_to_toml,
)
from gridgis.core.store import files
from gridgis.core.store.files import SETTINGS_TABLE
from gridgis.core.store.files import read_layer_file as read_project_layer
from gridgis.core.store.lock import project_lock
from gridgis.core.validate import check_layers
from gridgis.errors import GridGISError, Problem, ProjectError

__all__ = [
    "SETTINGS_TABLE",
    "Project",
    "check_project_name",
    "new_project",
    "open_project",
    "read_project_layer",
    "save_project",
]

log = logging.getLogger(__name__)


@dataclass
class Project:
    """Layers of one compound in EPSG:4326, with its settings.

    Parameters
    ----------
    layers
        Layer name -> GeoDataFrame (``votes``: no geometry). Absent layers
        are simply missing from the dict.
    settings
        Typed settings (defaults if the project has none).
    path
        Where it was opened from, if anywhere.
    warnings
        Problems of severity ``warning`` found when opening.
    """

    layers: dict[str, gpd.GeoDataFrame]
    settings: Settings = field(default_factory=default_settings)
    path: Path | None = None
    warnings: list[Problem] = field(default_factory=list)

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Return layer `name`, or None when the project has none."""
        return self.layers.get(name)

    @property
    def name(self) -> str:
        """The compound's name, else the settings' ``place.name``, else the file or folder name."""
        compound = self.layers.get("compound")
        if compound is not None and len(compound) and "name" in compound:
            return str(compound["name"].iloc[0])
        if self.settings.place.name:
            return self.settings.place.name
        return self.path.stem if self.path else "untitled"

    def _drawn(self) -> list[gpd.GeoDataFrame]:
        """The layers with geometry, buildings and compound first (an empty list: a draft)."""
        order = ("buildings", "compound", *(n for n in LAYER_NAMES if n not in _FIRST))
        return [
            frame
            for name in order
            if isinstance(frame := self.layers.get(name), gpd.GeoDataFrame)
            and len(frame)
            and frame.geometry.notna().any()
        ]

    def metric_crs(self) -> pyproj.CRS:
        """The local metric CRS for lengths and areas.

        The settings' ``general.metric_crs`` if given, else that of the
        buildings (else of any drawn layer, else of the settings' place).
        """
        if self.settings.general.metric_crs:
            return pyproj.CRS.from_user_input(self.settings.general.metric_crs)
        drawn = self._drawn()
        if drawn:
            return local_metric_crs(drawn[0])
        return local_metric_crs((self.settings.place.lon, self.settings.place.lat))

    def footprint(self) -> gpd.GeoDataFrame:
        """What a map of the project fits (EPSG:4326).

        The compound, else the buildings, else every drawn feature, else a
        box of about 300 m round the settings' place (a draft).
        """
        for name in ("compound", "buildings"):
            frame = self.layers.get(name)
            if frame is not None and len(frame) and frame.geometry.notna().any():
                return gpd.GeoDataFrame(geometry=frame.geometry.to_numpy(), crs=4326)
        drawn = [g for frame in self._drawn() for g in frame.geometry.dropna()]
        if drawn:
            return gpd.GeoDataFrame(geometry=drawn, crs=4326)
        lon, lat = self.settings.place.lon, self.settings.place.lat
        half_lat = _HALF_BOX_M / 111_320.0
        half_lon = half_lat / max(math.cos(math.radians(lat)), 0.01)
        box = shapely.box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
        return gpd.GeoDataFrame(geometry=[box], crs=4326)

    def summary(self) -> dict[str, Any]:
        """Counts per layer and household totals, for ``gridgis info`` (a draft: zeros)."""
        counts = {name: len(self.layers[name]) for name in LAYER_NAMES if name in self.layers}
        buildings = self.layers.get("buildings")
        if buildings is None:
            buildings = gpd.GeoDataFrame({"households": pd.Series(dtype=float)},
                                         geometry=gpd.GeoSeries([], crs=4326))  # fmt: skip
        households = resolve_households(
            buildings, per_floor=self.settings.general.households_per_floor_fallback.value
        )
        out: dict[str, Any] = {
            "name": self.name,
            "path": str(self.path) if self.path else None,
            "layers": counts,
            "households": int(households["households"].sum()),
            "households_derived_buildings": int(households["derived"].sum()),
            "households_unknown_buildings": int(households["households"].isna().sum()),
            "metric_crs": self.metric_crs().to_string(),
        }
        if "units" in buildings:
            out["units"] = int(pd.to_numeric(buildings["units"], errors="coerce").sum())
        sites = self.layers.get("sites")
        if sites is not None and "site_type" in sites:
            out["sites_by_type"] = {
                str(k): int(v) for k, v in sites["site_type"].value_counts().items()
            }
        return out


_FIRST = ("buildings", "compound")
_HALF_BOX_M = 150.0  # half the side of the box a draft's map fits


def _site_types(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.site_types)


def _read_folder(path: Path) -> tuple[dict[str, gpd.GeoDataFrame], Settings]:
    settings_file = path / files.SETTINGS_FILE
    settings = load_settings(settings_file) if settings_file.exists() else default_settings()
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYER_NAMES:
        if (found := files.find_layer_file(path, name)) is not None:
            layers[name] = read_project_layer(found, name)
    others = sorted(p.name for p in path.glob("*.geojson") if p.stem not in LAYER_NAMES)
    if others:
        log.info("%s: ignored files that are not gridgis layers: %s", path, ", ".join(others))
    return layers, settings


def _folder_stamp(path: Path) -> tuple[Any, ...]:
    """Changes when any file of the folder is replaced, or a save journal appears."""
    with os.scandir(path) as entries:
        found = sorted(
            (e.name, e.inode(), e.stat().st_mtime_ns, e.stat().st_size)
            for e in entries
            if e.is_file() and (not e.name.startswith(".") or e.name == files.JOURNAL)
        )
    return tuple(found)


def _tidy_if_needed(path: Path) -> None:
    """Finish a killed save (waiting for the lock); drop leftover temp files if the lock is free."""
    pending = not files.is_gpkg(path) and (path / files.JOURNAL).exists()
    if pending:
        with project_lock(path):
            return
    if files.leftovers(path):
        # someone writing now holds the lock: those are their files, not leftovers
        with contextlib.suppress(ProjectError), project_lock(path, timeout=0):
            pass


def _read_gpkg(path: Path) -> tuple[dict[str, gpd.GeoDataFrame], Settings]:
    tables = io.read_gpkg_layers(path)
    settings = default_settings()
    if SETTINGS_TABLE in tables:
        table = tables.pop(SETTINGS_TABLE)
        if len(table) and "toml" in table:
            settings = settings_from_toml(
                str(table["toml"].iloc[0]), source=f"{path}:{SETTINGS_TABLE}"
            )
    layers = {k: v for k, v in tables.items() if k in LAYER_NAMES}
    extra = sorted(set(tables) - set(layers))
    if extra:
        log.info("%s: ignored layers that are not gridgis layers: %s", path, ", ".join(extra))
    return layers, settings


def open_project(path: str | os.PathLike[str], *, validate: bool = True) -> Project:
    """Open a project from a GeoPackage file or a folder of GeoJSON layers.

    Parameters
    ----------
    path
        A ``.gpkg`` file, or a folder holding ``<layer>.geojson`` files and
        an optional ``settings.toml``.
    validate
        Check every layer against the contract; raise `ValidationError`
        listing every error. Warnings go to ``Project.warnings``; a missing
        required layer is one of them (the project is a draft, see
        `new_project`): ``gridgis validate`` reports it as an error.

    Raises
    ------
    ProjectError
        The path is neither a GeoPackage nor a folder.
    ValidationError
        The layers break the contract.

    Notes
    -----
    A folder save that a killed process left half done is finished first
    (see `gridgis.core.store.files`), so the project read is wholly the old
    or wholly the new one.
    """
    path = Path(path)
    if path.is_dir():
        _tidy_if_needed(path)
        before = _folder_stamp(path)
        layers, settings = _read_folder(path)
        if _folder_stamp(path) != before:  # a save ran meanwhile: read again, holding the lock
            with project_lock(path):
                layers, settings = _read_folder(path)
    elif path.is_file() and path.suffix.lower() == ".gpkg":
        _tidy_if_needed(path)
        layers, settings = _read_gpkg(path)
    elif not path.exists():
        raise ProjectError(f"project path {str(path)!r} does not exist")
    else:
        raise ProjectError(
            f"project path {str(path)!r} is neither a folder of <layer>.geojson files nor a "
            ".gpkg file; to check a single layer file use 'gridgis validate'"
        )
    problems: list[Problem] = []
    if validate:
        problems = check_layers(
            layers, source=str(path), site_types=_site_types(settings), draft=True
        )
    return Project(layers=layers, settings=settings, path=path, warnings=problems)


def _save_folder(project: Project, target: Path) -> None:
    """Every layer and the settings as one journalled change (see `files.commit`)."""
    writes = {files.layer_file(target, name).name: files.layer_bytes(name, frame)
              for name, frame in project.layers.items()}  # fmt: skip
    writes[files.SETTINGS_FILE] = settings_to_toml(project.settings, only_changed=True).encode()
    deletes = [
        p.name
        for name in LAYER_NAMES
        if name not in project.layers
        for p in (files.layer_file(target, name), target / f"{name}.csv",
                  target / f"{name}.geojson")
    ]  # fmt: skip
    files.commit(target, writes, deletes)
    if "votes" in project.layers:
        files.retire_legacy_votes(target)


def _save_gpkg(project: Project, target: Path) -> None:
    tables: dict[str, pd.DataFrame] = dict(project.layers)
    settings = settings_to_toml(project.settings, only_changed=True)
    tables[SETTINGS_TABLE] = pd.DataFrame({"toml": [settings]})
    if target.is_file():  # keep tables that are not ours (e.g. QGIS layer_styles)
        for name, table in io.read_gpkg_layers(target).items():
            if name not in LAYER_NAMES and name != SETTINGS_TABLE:
                tables[name] = table
    io.write_gpkg(tables, target)


def save_project(project: Project, path: str | os.PathLike[str] | None = None) -> Path:
    """Save a project atomically as a GeoPackage (``.gpkg``) or a folder, holding its lock.

    A folder is saved as one change (every layer file staged, then a journal,
    then moved into place): a kill at any point leaves the old project or,
    once the next `open_project` has finished the journal, the new one. A
    layer absent from `project` is removed from the folder. Settings are
    written as the keys that differ from the shipped defaults.

    Parameters
    ----------
    project
        The project to save.
    path
        Target; defaults to where the project was opened from. A name ending
        in ``.gpkg`` is written as a GeoPackage, anything else as a folder.

    Returns
    -------
    Path
        Where it was saved; ``project.path`` is updated.
    """
    target = Path(path) if path is not None else project.path
    if target is None:
        raise ProjectError("save_project needs a path: this project was never saved")
    try:
        if files.is_gpkg(target):
            with project_lock(target):
                _save_gpkg(project, target)
        else:
            target.mkdir(parents=True, exist_ok=True)
            with project_lock(target):
                _save_folder(project, target)
    except OSError as exc:
        raise ProjectError(f"could not save project to {str(target)!r}: {exc}") from exc
    project.path = target
    return target


_BAD_NAME_CHARS = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
MAX_NAME = 64


def check_project_name(name: str) -> str:
    """Return `name` if it can name a project folder, else raise `GridGISError`.

    At most 64 characters, any script (``东四180号院``), spaces inside; no
    path separator, no ``: * ? " < > |`` or control character, not starting
    with ``-`` or ``.``, no space at either end.

    Examples
    --------
    >>> check_project_name("东四180号院")
    '东四180号院'
    """
    problem = None
    if not isinstance(name, str) or not name:
        problem = "is empty"
    elif len(name) > MAX_NAME:
        problem = f"has {len(name)} characters; at most {MAX_NAME}"
    elif found := _BAD_NAME_CHARS.search(name):
        problem = f'holds {found.group()!r}: no path separators or : * ? " < > |'
    elif name[0] in "-.":
        problem = f"starts with {name[0]!r}"
    elif name != name.strip():
        problem = "starts or ends with a space"
    if problem:
        raise GridGISError(f"project name={name!r} {problem}")
    return name


def _draft_settings(
    name: str, lon: float, lat: float, grid_prefix: str, building_prefix: str
) -> Settings:
    for key, value, low, high in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        if (
            not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise GridGISError(f"{key}={value!r} is not a WGS84 {key} in [{low}, {high}]")
    for key, prefix in (("grid_prefix", grid_prefix), ("building_prefix", building_prefix)):
        if not isinstance(prefix, str) or not ID_PREFIX.fullmatch(prefix):
            raise GridGISError(
                f"{key}={prefix!r} is not an id prefix: use 1-8 letters, digits, '_' or '-', "
                "starting with a letter and not ending in a digit (e.g. 'B', 'WG')"
            )
    base = default_settings()
    return base.model_copy(
        update={
            "place": Place(name=name, lon=float(lon), lat=float(lat)),
            "naming": Naming(grid_prefix=grid_prefix, building_prefix=building_prefix),
        }
    )


def new_project(
    folder: str | os.PathLike[str],
    *,
    name: str,
    lon: float = 104.066,
    lat: float = 30.657,
    grid_prefix: str = "G",
    building_prefix: str = "B",
) -> Path:
    """Create an empty folder project (a draft): its place and naming, no layers yet.

    Parameters
    ----------
    folder
        The project folder to create (or an existing empty folder).
    name
        The compound's name (`check_project_name`); shown until a boundary
        with a name is drawn.
    lon, lat
        Where the compound is, WGS84 (default: the centre of Chengdu). The
        map opens there; lengths use its metric CRS until buildings exist.
    grid_prefix, building_prefix
        Prefixes of the ids of new micro-grids (``G1``...) and buildings (``B1``...).

    Returns
    -------
    Path
        The folder. Its ``settings.toml`` holds the keys unlike the defaults.

    Raises
    ------
    GridGISError
        A bad name, place or prefix, or `folder` exists and is not an empty folder.

    Examples
    --------
    >>> import tempfile
    >>> folder = new_project(Path(tempfile.mkdtemp()) / "东四", name="东四", lon=116.42, lat=39.93)
    >>> open_project(folder).summary()["households"]
    0
    """
    check_project_name(name)
    settings = _draft_settings(name, lon, lat, grid_prefix, building_prefix)
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        kind = "folder" if folder.is_dir() else "file"
        raise GridGISError(
            f"folder={str(folder)!r} already exists and is a non-empty {kind}; "
            "choose another name or an empty folder"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ProjectError(f"could not create folder={str(folder)!r}: {exc}") from exc
    save_project(Project(layers={}, settings=settings, path=folder))
    return folder
