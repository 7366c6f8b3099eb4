"""A project: the layers of one compound (EPSG:4326) plus its settings.

A project on disk is either one GeoPackage file (a layer each, settings in the
``gridgis_settings`` table) or a folder of ``<layer>.geojson`` files with an
optional ``settings.toml``. `open_project` reads both; `save_project` writes
both atomically: everything is serialised first, written beside the target,
then moved into place, so a crash never leaves a half-written project.

Examples
--------
>>> from gridgis.core.project import open_project
>>> p = open_project("data/dongsi180")
>>> p.summary()["households"]
308
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyproj

from gridgis.core import io
from gridgis.core.crs import local_metric_crs
from gridgis.core.schema import LAYER_NAMES, resolve_households, restore_shapefile_names
from gridgis.core.settings import Settings, default_settings, load_settings, settings_from_toml
from gridgis.core.settings import settings_to_toml as _settings_to_toml
from gridgis.core.validate import check_layers
from gridgis.errors import Problem, ProjectError, ReadError

__all__ = ["SETTINGS_TABLE", "Project", "open_project", "read_project_layer", "save_project"]

log = logging.getLogger(__name__)
SETTINGS_TABLE = "gridgis_settings"


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
        """The compound's name, else the file or folder name."""
        compound = self.layers.get("compound")
        if compound is not None and len(compound) and "name" in compound:
            return str(compound["name"].iloc[0])
        return self.path.stem if self.path else "untitled"

    def metric_crs(self) -> pyproj.CRS:
        """The local metric CRS for lengths and areas (settings may fix it)."""
        if self.settings.general.metric_crs:
            return pyproj.CRS.from_user_input(self.settings.general.metric_crs)
        return local_metric_crs(self.layers["buildings"])

    def summary(self) -> dict[str, Any]:
        """Counts per layer and household totals, for ``gridgis info``."""
        counts = {name: len(self.layers[name]) for name in LAYER_NAMES if name in self.layers}
        households = resolve_households(
            self.layers["buildings"],
            per_floor=self.settings.general.households_per_floor_fallback.value,
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
        buildings = self.layers["buildings"]
        if "units" in buildings:
            out["units"] = int(pd.to_numeric(buildings["units"], errors="coerce").sum())
        sites = self.layers.get("sites")
        if sites is not None and "site_type" in sites:
            out["sites_by_type"] = {
                str(k): int(v) for k, v in sites["site_type"].value_counts().items()
            }
        return out


def _site_types(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.site_types)


def _read_folder(path: Path) -> tuple[dict[str, gpd.GeoDataFrame], Settings]:
    settings_file = path / "settings.toml"
    settings = load_settings(settings_file) if settings_file.exists() else default_settings()
    layers: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYER_NAMES:
        for candidate in (path / f"{name}.geojson", path / f"{name}.csv"):
            if candidate.exists():
                layers[name] = read_project_layer(candidate, name)
                break
    others = sorted(p.name for p in path.glob("*.geojson") if p.stem not in LAYER_NAMES)
    if others:
        log.info("%s: ignored files that are not gridgis layers: %s", path, ", ".join(others))
    return layers, settings


def read_project_layer(path: str | os.PathLike[str], name: str, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read one layer file as layer `name`; a ``votes`` CSV is a plain table.

    Other keyword arguments go to `gridgis.core.io.read_layer`.
    """
    path = Path(path)
    if name == "votes" and path.suffix.lower() == ".csv":
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ReadError(f"{path}: cannot read the votes table: {exc}") from exc
        if "area_m2" in table:
            table["area_m2"] = table["area_m2"].where(table["area_m2"] != "", None)
        nulls = gpd.GeoSeries([None] * len(table), index=table.index, crs=4326)
        return gpd.GeoDataFrame(table, geometry=nulls)
    return restore_shapefile_names(io.read_layer(path, **kwargs), name)


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
        listing every error. Warnings go to ``Project.warnings``.

    Raises
    ------
    ProjectError
        The path is neither a GeoPackage nor a folder.
    ValidationError
        The layers break the contract.
    """
    path = Path(path)
    if path.is_dir():
        layers, settings = _read_folder(path)
    elif path.is_file() and path.suffix.lower() == ".gpkg":
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
        problems = check_layers(layers, source=str(path), site_types=_site_types(settings))
    return Project(layers=layers, settings=settings, path=path, warnings=problems)


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _save_folder(project: Project, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    payload: dict[str, bytes] = {}
    for name, frame in project.layers.items():
        payload[f"{name}.geojson"] = io.to_geojson(frame).encode("utf-8")
    payload["settings.toml"] = _settings_to_toml(project.settings).encode("utf-8")
    staged: list[tuple[Path, Path]] = []
    try:
        for fname, data in payload.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".tmp", dir=target)
            os.close(fd)
            _fsync_write(Path(tmp), data)
            staged.append((Path(tmp), target / fname))
        for tmp, final in staged:  # every file is complete before any is replaced
            os.replace(tmp, final)
        for name in LAYER_NAMES:
            stale = target / f"{name}.geojson"
            if name not in project.layers and stale.exists():
                stale.unlink()
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    dir_fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _save_gpkg(project: Project, target: Path) -> None:
    tables: dict[str, pd.DataFrame] = dict(project.layers)
    tables[SETTINGS_TABLE] = pd.DataFrame({"toml": [_settings_to_toml(project.settings)]})
    if target.is_file():  # keep tables that are not ours (e.g. QGIS layer_styles)
        for name, table in io.read_gpkg_layers(target).items():
            if name not in LAYER_NAMES and name != SETTINGS_TABLE:
                tables[name] = table
    io.write_gpkg(tables, target)


def save_project(project: Project, path: str | os.PathLike[str] | None = None) -> Path:
    """Save a project atomically as a GeoPackage (``.gpkg``) or a folder.

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
        if target.suffix.lower() == ".gpkg":
            _save_gpkg(project, target)
        else:
            _save_folder(project, target)
    except OSError as exc:
        raise ProjectError(f"could not save project to {str(target)!r}: {exc}") from exc
    project.path = target
    return target
