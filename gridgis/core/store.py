"""Per-site autosave that several sessions can share without losing work.

A planner's laptop and a coordinator's tablet may edit the same project at
once. Every `SiteStore` call takes an exclusive file lock, re-reads the sites
from disk, applies only its own change (one site) and saves atomically, so
no session overwrites another's sites. Each site carries a revision number
``rev``; an update or delete that names a revision other than the one on disk
(someone else changed or deleted the site meanwhile) raises `ConflictError`
instead of silently winning.

Examples
--------
>>> import shutil, tempfile
>>> from shapely import box
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> store = SiteStore(work)
>>> row = store.add(box(104.0702, 30.6695, 104.0703, 30.6696), site_type="parking_shed")
>>> row["site_id"], row["rev"]
('S1', 1)
>>> store.update("S1", expected_rev=1, name="新车棚")["rev"]
2
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gridgis.core import io
from gridgis.core.crs import WGS84
from gridgis.core.settings import Settings, default_settings
from gridgis.core.validate import errors_only, validate_layer
from gridgis.errors import ConflictError, ProjectError, ValidationError

__all__ = ["EDITABLE", "SiteStore"]

EDITABLE = ("name", "site_type", "notes", "status", "geometry")
"""Fields `SiteStore.update` may change."""

_COLUMNS = ("site_id", "site_type", "name", "status", "notes", "rev")

# The sites last read from each file, with the file's (inode, mtime, size) then:
# a save replaces the file (new inode), so an unchanged stamp means unchanged sites.
_READ: dict[str, tuple[tuple[int, int, int], gpd.GeoDataFrame]] = {}
_READ_LOCK = threading.Lock()


def _as_geometry(geometry: BaseGeometry | Mapping[str, Any]) -> BaseGeometry:
    """A shapely geometry from a shapely object or a GeoJSON geometry dict."""
    if isinstance(geometry, BaseGeometry):
        return geometry
    if isinstance(geometry, Mapping) and "geometry" in geometry:  # a whole Feature
        geometry = geometry["geometry"]
    try:
        return shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ProjectError(f"geometry={geometry!r} is not a GeoJSON geometry: {exc}") from exc


def _as_read(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """`sites` as reading them back from `io.write_geojson`'s file gives them.

    Text columns come back as pandas strings (missing: NaN), numbers and
    booleans as they are, outlines as `io.as_geojson_stores` says. None when
    a column has another type: then the file is read back instead.
    ``tests/test_sitestore.py`` compares this with real reads.
    """
    if len(sites) == 0:
        return None
    geometry_name = sites.geometry.name
    columns: dict[str, Any] = {}
    for name, column in pd.DataFrame(sites).items():
        if name == geometry_name:
            continue
        if column.dtype.kind in "ifb":
            columns[name] = column.to_numpy(copy=True)
            continue
        values = column.to_numpy(dtype=object)
        present = pd.notna(values)
        if not all(isinstance(v, str) for v in values[present]):
            return None
        columns[name] = pd.array(values, dtype="str")
    for name in _COLUMNS:  # as `_normalised` makes them, without a GeoDataFrame's overhead
        columns.setdefault(name, np.full(len(sites), None, dtype=object))
    rev = pd.to_numeric(pd.Series(columns["rev"]), errors="coerce").fillna(1)
    columns["rev"] = rev.to_numpy().astype(int)
    columns["site_id"] = pd.array(np.asarray(columns["site_id"], dtype=object).astype(str), "str")
    columns[geometry_name] = io.as_geojson_stores(sites.geometry.to_numpy())
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(sites)), copy=False)
    return gpd.GeoDataFrame(frame, geometry=geometry_name, crs=WGS84)


def _normalised(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every column of the contract present, ``rev`` an int (1 if absent), a fresh index."""
    for column in _COLUMNS:
        if column not in sites:
            sites[column] = None
    sites["rev"] = pd.to_numeric(sites["rev"], errors="coerce").fillna(1).astype(int)
    sites["site_id"] = sites["site_id"].astype(str)
    return sites.reset_index(drop=True)


def _plain(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


class SiteStore:
    """The sites layer of one project on disk, edited one site at a time.

    Parameters
    ----------
    project_path
        A project folder (``sites.geojson`` is written) or a ``.gpkg`` file
        (its ``sites`` layer is replaced, every other table kept).
    settings
        For validating site types; default: the shipped defaults.
    """

    def __init__(self, project_path: str | os.PathLike[str], *, settings: Settings | None = None):
        self.path = Path(project_path)
        if not self.path.exists():
            raise ProjectError(f"project path {str(self.path)!r} does not exist")
        self.is_gpkg = self.path.suffix.lower() == ".gpkg"
        self.settings = settings or default_settings()
        if self.is_gpkg:
            self._data_file = self.path
            self._lock_file = self.path.with_name(f".{self.path.name}.lock")
        else:
            self._data_file = self.path / "sites.geojson"
            self._lock_file = self.path / ".sites.lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the project's site lock: no `SiteStore` call anywhere saves meanwhile.

        For code that rewrites the whole project (e.g. its settings): read it,
        change it and save it inside ``with store.locked():``, and no site
        saved by another session in between is lost.
        """
        with open(self._lock_file, "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            st = self._data_file.stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def version(self) -> int:
        """A number that changes whenever the sites on disk change (0: none yet)."""
        stamp = self._stamp()
        if stamp is None:
            return 0
        ino, mtime_ns, size = stamp
        return mtime_ns ^ (size << 1) ^ ino

    def load(self) -> gpd.GeoDataFrame:
        """The sites on disk now, EPSG:4326, with ``rev`` filled in (1 if absent).

        A file unchanged since this process last read it is not read again
        (a copy of what was read then is returned).
        """
        key, stamp = str(self._data_file), self._stamp()
        with _READ_LOCK:
            hit = _READ.get(key)
        if stamp is not None and hit is not None and hit[0] == stamp:
            return hit[1].copy()
        sites = self._read()
        if stamp is not None and self._stamp() == stamp:  # not replaced while being read
            with _READ_LOCK:
                _READ[key] = (stamp, sites.copy())
        return sites

    def _read(self) -> gpd.GeoDataFrame:
        sites = None
        if self.is_gpkg:
            if "sites" in io.list_layers(self.path):
                sites = io.read_layer(self.path, layer="sites")
        elif self._data_file.exists():
            sites = io.read_layer(self._data_file)
        if sites is None:
            sites = gpd.GeoDataFrame(
                {c: pd.Series(dtype=object) for c in _COLUMNS},
                geometry=gpd.GeoSeries([], crs=WGS84),
            )
        return _normalised(sites)

    def _save(self, sites: gpd.GeoDataFrame) -> None:
        if self.is_gpkg:
            io.update_gpkg({"sites": sites}, self.path)
            return
        io.write_geojson(sites, self._data_file)
        # the app reads the sites right after each save: remember them as a read
        # would return them (the lock is held: nobody else wrote meanwhile)
        stamp, mirror = self._stamp(), _as_read(sites)
        if stamp is not None and mirror is not None:
            with _READ_LOCK:
                _READ[str(self._data_file)] = (stamp, mirror)

    def _check(self, sites: gpd.GeoDataFrame) -> None:
        problems = validate_layer(sites, "sites", site_types=tuple(self.settings.site_types))
        if errors := errors_only(problems):
            raise ValidationError(errors)

    @staticmethod
    def _row(sites: gpd.GeoDataFrame, pos: int) -> dict[str, Any]:
        row = sites.iloc[pos]
        return {k: _plain(row[k]) for k in sites.columns}

    def get(self, site_id: str) -> dict[str, Any] | None:
        """The site as it is on disk now, as a plain dict (None if it is gone)."""
        sites = self.load()
        pos = self._locate(sites, site_id)
        return None if pos is None else self._row(sites, pos)

    def new_site_id(self) -> str:
        """``S`` + the next number not used by any site on disk."""
        return self._next_id(self.load())

    @staticmethod
    def _next_id(sites: gpd.GeoDataFrame) -> str:
        numbers = [int(m.group(1)) for s in sites["site_id"] if (m := re.fullmatch(r"S(\d+)", s))]
        taken = set(sites["site_id"])
        n = max(numbers, default=0) + 1
        while f"S{n}" in taken:
            n += 1
        return f"S{n}"

    def add(
        self,
        geometry: BaseGeometry | Mapping[str, Any],
        *,
        site_type: str,
        name: str = "",
        notes: str = "",
        status: str = "proposed",
        site_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a new site; return its row (with ``site_id`` and ``rev`` 1).

        Raises
        ------
        ConflictError
            `site_id` is already taken.
        ValidationError
            The site breaks the layer contract (bad type, invalid polygon...).
        """
        geom = _as_geometry(geometry)
        with self.locked():
            sites = self.load()
            sid = site_id or self._next_id(sites)
            if sid in set(sites["site_id"]):
                raise ConflictError(f"site_id={sid!r} is already taken; reload the sites")
            row = {"site_id": sid, "site_type": site_type, "name": name, "status": status,
                   "notes": notes, "rev": 1}  # fmt: skip
            new = gpd.GeoDataFrame([row], geometry=[geom], crs=WGS84)
            self._check(new)
            out = pd.concat([sites, new], ignore_index=True)
            self._save(gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84))
        return {**row, "geometry": geom}

    def _locate(self, sites: gpd.GeoDataFrame, site_id: str) -> int | None:
        hits = (sites["site_id"] == site_id).to_numpy().nonzero()[0]
        return int(hits[0]) if len(hits) else None

    def update(self, site_id: str, *, expected_rev: int, **changes: Any) -> dict[str, Any]:
        """Change fields of one site (see `EDITABLE`); return the stored row.

        Raises
        ------
        ConflictError
            The site was deleted, or changed (another ``rev``), by another session.
        """
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise ProjectError(
                f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}"
            )
        with self.locked():
            sites = self.load()
            pos = self._locate(sites, site_id)
            if pos is None:
                raise ConflictError(f"site {site_id!r} was deleted by another session")
            rev = int(sites.at[pos, "rev"])
            if rev != expected_rev:
                raise ConflictError(
                    f"site {site_id!r} was changed by another session (revision {rev}, you "
                    f"edited revision {expected_rev}); your change was not saved: reload"
                )
            for key, value in changes.items():
                value = _as_geometry(value) if key == "geometry" else value
                sites.at[pos, key] = value
            sites.at[pos, "rev"] = rev + 1
            self._check(sites.iloc[[pos]])
            self._save(sites)
            return self._row(sites, pos)

    def delete(self, site_id: str, *, expected_rev: int | None = None) -> None:
        """Delete one site; deleting a site that is already gone is not an error.

        Raises
        ------
        ConflictError
            `expected_rev` is given and another session changed the site meanwhile.
        """
        with self.locked():
            sites = self.load()
            pos = self._locate(sites, site_id)
            if pos is None:
                return
            rev = int(sites.at[pos, "rev"])
            if expected_rev is not None and rev != expected_rev:
                raise ConflictError(
                    f"site {site_id!r} was changed by another session (revision {rev}, you saw "
                    f"{expected_rev}); not deleted: reload"
                )
            self._save(sites.drop(index=sites.index[pos]).reset_index(drop=True))

    def restore(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Put a site back as `row` describes it (undo of a change or a delete).

        The restored site gets a revision above any it had, so sessions that
        saw the undone state get a conflict rather than overwriting the undo.
        """
        geom = _as_geometry(row["geometry"])
        with self.locked():
            sites = self.load()
            pos = self._locate(sites, str(row["site_id"]))
            rev = max(int(row.get("rev") or 1), int(sites.at[pos, "rev"]) if pos is not None else 0)
            values = {k: row.get(k) for k in _COLUMNS if k != "rev"} | {"rev": rev + 1}
            extra = {k: v for k, v in row.items() if k not in (*_COLUMNS, "geometry")}
            if pos is None:
                new = gpd.GeoDataFrame([values | extra], geometry=[geom], crs=WGS84)
                self._check(new)
                sites = gpd.GeoDataFrame(pd.concat([sites, new], ignore_index=True), crs=WGS84)
                pos = len(sites) - 1
            else:
                for key, value in (values | extra).items():
                    if key not in sites or key in extra:  # any type may come back
                        sites[key] = sites[key].astype(object) if key in sites else None
                    sites.at[pos, key] = value
                sites.at[pos, "geometry"] = geom
                self._check(sites.iloc[[pos]])
            self._save(sites)
            return self._row(sites, pos)
