"""Per-feature writes to any layer of a project that several sessions can share.

A planner's laptop and a coordinator's tablet may edit the same project at
once. Every `LayerStore` write takes the project lock (`project_lock`),
re-reads the layer from disk, applies only its own change (one feature) and
saves the layer atomically, so no session overwrites another's features.
Each feature carries a revision number ``rev``; an update or delete that
names a revision other than the one on disk (someone else changed or deleted
the feature meanwhile) raises `ConflictError` instead of silently winning.

Examples
--------
>>> import shutil, tempfile
>>> from shapely import box
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> paths = LayerStore(work, "paths")
>>> row = paths.add(box(104.0702, 30.6695, 104.0703, 30.6696), kind="footpath")
>>> row["path_id"], row["rev"]
('P21', 1)
>>> paths.update("P21", expected_rev=1, width_m=1.5)["rev"]
2
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from gridgis.core import io
from gridgis.core.crs import WGS84
from gridgis.core.schema import SCHEMAS
from gridgis.core.settings import Settings, default_settings
from gridgis.core.store import files
from gridgis.core.store.lock import project_lock
from gridgis.core.validate import errors_only, validate_layer
from gridgis.errors import ConflictError, ProjectError, ValidationError

__all__ = ["LayerStore", "as_geometry", "plain_value"]

_NOUNS = {"sites": "site", "buildings": "building", "spaces": "space", "paths": "path",
          "microgrids": "micro-grid", "compound": "compound"}  # fmt: skip
_PREFIXES = {"sites": "S", "buildings": "B", "spaces": "SP", "paths": "P", "microgrids": "G"}

# The layer last read from each file, with the file's (inode, mtime, size) then:
# a save replaces the file (new inode), so an unchanged stamp means an unchanged layer.
_READ: dict[tuple[str, str], tuple[tuple[int, int, int], gpd.GeoDataFrame]] = {}
_READ_LOCK = threading.Lock()


def as_geometry(geometry: BaseGeometry | Mapping[str, Any]) -> BaseGeometry:
    """A shapely geometry from a shapely object, a GeoJSON geometry or a Feature dict."""
    if isinstance(geometry, BaseGeometry):
        return geometry
    if isinstance(geometry, Mapping) and "geometry" in geometry:  # a whole Feature
        geometry = geometry["geometry"]
    try:
        return shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ProjectError(f"geometry={geometry!r} is not a GeoJSON geometry: {exc}") from exc


def _set(frame: pd.DataFrame, pos: int, key: str, value: Any) -> None:
    """``frame.at[pos, key] = value``; a value its column cannot hold (text in a number
    field) makes the column objects, so validation names the field instead of pandas failing."""
    try:
        frame.at[pos, key] = value
    except (TypeError, ValueError):
        frame[key] = frame[key].astype(object)
        frame.at[pos, key] = value


def plain_value(value: Any) -> Any:
    """A cell as a plain Python value (numpy scalars unwrapped, NaN as None)."""
    if isinstance(value, BaseGeometry):
        return value
    item = getattr(value, "item", None)
    if callable(item):
        value = item()
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


class LayerStore:
    """One layer of one project on disk, edited one feature at a time.

    Parameters
    ----------
    project_path
        A project folder (``<layer>.geojson`` is written) or a ``.gpkg`` file
        (its `layer` table is replaced, every other table kept).
    layer
        A layer name of the contract other than ``votes`` (see `VotesStore`).
    settings
        For validating site types; default: the shipped defaults.
    timeout
        Seconds a write waits for the project lock (default `LOCK_TIMEOUT_S`).
    key
        The column naming a feature; default: the layer's id column
        (``name`` for the compound).
    """

    editable: ClassVar[tuple[str, ...] | None] = None  # None: any column may change

    def __init__(
        self,
        project_path: str | os.PathLike[str],
        layer: str,
        *,
        settings: Settings | None = None,
        timeout: float | None = None,
        key: str | None = None,
    ):
        self.path = Path(project_path)
        if not self.path.exists():
            raise ProjectError(f"project path {str(self.path)!r} does not exist")
        if layer not in SCHEMAS or layer == "votes":
            known = ", ".join(n for n in SCHEMAS if n != "votes")
            raise ProjectError(
                f"layer={layer!r} has no feature store; expected one of {known} "
                "(the votes register has its own: VotesStore)"
            )
        self.layer = layer
        self.is_gpkg = files.is_gpkg(self.path)
        self.settings = settings or default_settings()
        self.timeout = timeout
        schema = SCHEMAS[layer]
        self.key = key or schema.id_field or "name"
        required = [f.name for f in schema.fields if f.required and f.name != self.key]
        self.columns: tuple[str, ...] = (self.key, *required, "rev")
        self.noun = _NOUNS.get(layer, layer)
        self._data_file = self.path if self.is_gpkg else files.layer_file(self.path, layer)

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Hold the project lock: no store anywhere saves meanwhile.

        For code that rewrites more than one feature (e.g. the settings): read,
        change and save inside ``with store.locked():``.
        """
        return project_lock(self.path, timeout=self.timeout)

    def _stamp(self) -> tuple[int, int, int] | None:
        found = self._read_file()
        try:
            st = found.stat() if found is not None else None
        except FileNotFoundError:
            return None
        if st is None:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size

    def _read_file(self) -> Path | None:
        if self.is_gpkg:
            return self.path
        return files.find_layer_file(self.path, self.layer)

    def version(self) -> int:
        """A number that changes whenever the layer on disk changes (0: none yet)."""
        stamp = self._stamp()
        if stamp is None:
            return 0
        ino, mtime_ns, size = stamp
        return mtime_ns ^ (size << 1) ^ ino

    def load(self) -> gpd.GeoDataFrame:
        """The layer on disk now, EPSG:4326, with ``rev`` filled in (1 if absent).

        A file unchanged since this process last read it is not read again
        (a copy of what was read then is returned).
        """
        key, stamp = (str(self._data_file), self.layer), self._stamp()
        with _READ_LOCK:
            hit = _READ.get(key)
        if stamp is not None and hit is not None and hit[0] == stamp:
            return hit[1].copy()
        frame = self._read()
        if stamp is not None and self._stamp() == stamp:  # not replaced while being read
            with _READ_LOCK:
                _READ[key] = (stamp, frame.copy())
        return frame

    def _read(self) -> gpd.GeoDataFrame:
        frame = None
        if self.is_gpkg:
            if self.layer in io.list_layers(self.path):
                frame = io.read_layer(self.path, layer=self.layer)
        elif (found := self._read_file()) is not None:
            frame = files.read_layer_file(found, self.layer)
        if frame is None:
            frame = gpd.GeoDataFrame(
                {c: pd.Series(dtype=object) for c in self.columns},
                geometry=gpd.GeoSeries([], crs=WGS84),
            )
        return self._normalised(frame)

    def _typed(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """`fields` with a blank number field (None, "") as NaN, so its column stays numeric."""
        numeric = {f.name for f in SCHEMAS[self.layer].fields if f.kind in ("int", "float")}
        return {
            k: (
                np.nan
                if k in numeric and (v is None or (isinstance(v, str) and not v.strip()))
                else v
            )
            for k, v in fields.items()
        }

    def _numeric(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The layer's number fields held as objects (numbers and blanks only) made numbers.

        GeoJSON has no type for a field that is blank in every feature (it reads back
        as text), and a field an update adds holds None beside its numbers: written
        as they are, both would be saved as text ("24"). Text stays text (validation
        reports it).
        """
        for field in SCHEMAS[self.layer].fields:
            if field.kind not in ("int", "float") or field.name not in frame:
                continue
            values = frame[field.name].to_numpy(dtype=object)
            present = pd.notna(values)
            if frame[field.name].dtype.kind in "if" or not all(
                isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                for v in values[present]
            ):
                continue
            numbers = pd.Series(np.where(present, values, np.nan).astype(float), index=frame.index)
            whole = present.all() and bool((numbers == numbers.round()).all())
            frame[field.name] = numbers.astype(int) if whole else numbers
        return frame

    def _normalised(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Every column of `columns` present, ``rev`` an int (1 if absent), a fresh index."""
        for column in self.columns:
            if column not in frame:
                frame[column] = None
        self._numeric(frame)
        frame["rev"] = pd.to_numeric(frame["rev"], errors="coerce").fillna(1).astype(int)
        frame[self.key] = frame[self.key].astype(str)
        return frame.reset_index(drop=True)

    def _as_read(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
        """`frame` as reading it back from `io.write_geojson`'s file gives it.

        Text columns come back as pandas strings (missing: NaN), numbers and
        booleans as they are, outlines as `io.as_geojson_stores` says. None when
        a column has another type: then the file is read back instead.
        ``tests/test_sitestore.py`` compares this with real reads.
        """
        if len(frame) == 0:
            return None
        geometry_name = frame.geometry.name
        columns: dict[str, Any] = {}
        for name, column in pd.DataFrame(frame).items():
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
        for name in self.columns:  # as `_normalised` makes them
            columns.setdefault(name, np.full(len(frame), None, dtype=object))
        rev = pd.to_numeric(pd.Series(columns["rev"]), errors="coerce").fillna(1)
        columns["rev"] = rev.to_numpy().astype(int)
        ids = np.asarray(columns[self.key], dtype=object).astype(str)
        columns[self.key] = pd.array(ids, "str")
        columns[geometry_name] = io.as_geojson_stores(frame.geometry.to_numpy())
        table = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), copy=False)
        return gpd.GeoDataFrame(table, geometry=geometry_name, crs=WGS84)

    def _save(self, frame: gpd.GeoDataFrame) -> None:
        frame = self._numeric(frame)
        if self.is_gpkg:
            io.update_gpkg({self.layer: frame}, self.path)
            return
        files.write_file(self._data_file, files.layer_bytes(self.layer, frame))
        # the app reads the layer right after each save: remember it as a read
        # would return it (the lock is held: nobody else wrote meanwhile)
        stamp, mirror = self._stamp(), self._as_read(frame)
        if stamp is not None and mirror is not None:
            with _READ_LOCK:
                _READ[(str(self._data_file), self.layer)] = (stamp, mirror)

    def _check(self, frame: gpd.GeoDataFrame) -> None:
        site_types = tuple(self.settings.site_types)
        if errors := errors_only(validate_layer(frame, self.layer, site_types=site_types)):
            raise ValidationError(errors)

    @staticmethod
    def _row(frame: gpd.GeoDataFrame, pos: int) -> dict[str, Any]:
        row = frame.iloc[pos]
        return {k: plain_value(row[k]) for k in frame.columns}

    def _locate(self, frame: gpd.GeoDataFrame, fid: str) -> int | None:
        hits = (frame[self.key] == fid).to_numpy().nonzero()[0]
        return int(hits[0]) if len(hits) else None

    def get(self, fid: str) -> dict[str, Any] | None:
        """The feature as it is on disk now, as a plain dict (None if it is gone)."""
        frame = self.load()
        pos = self._locate(frame, fid)
        return None if pos is None else self._row(frame, pos)

    def default_prefix(self) -> str:
        """The layer's id prefix: the project's naming convention for buildings and
        micro-grids (``settings.naming``), else ``S``, ``SP``, ``P``, ``F``."""
        naming = self.settings.naming
        chosen = {"buildings": naming.building_prefix, "microgrids": naming.grid_prefix}
        return chosen.get(self.layer) or _PREFIXES.get(self.layer, "F")

    def new_id(self, prefix: str | None = None) -> str:
        """`prefix` (default: `default_prefix`) + the next number not used on disk."""
        return self._next_id(self.load(), prefix)

    def _next_id(self, frame: gpd.GeoDataFrame, prefix: str | None = None) -> str:
        prefix = self.default_prefix() if prefix is None else prefix
        pattern = re.compile(rf"{re.escape(prefix)}(\d+)")
        numbers = [int(m.group(1)) for s in frame[self.key] if (m := pattern.fullmatch(s))]
        taken = set(frame[self.key])
        n = max(numbers, default=0) + 1
        while f"{prefix}{n}" in taken:
            n += 1
        return f"{prefix}{n}"

    def _changed_elsewhere(self, fid: str, rev: int, expected: int, what: str) -> ConflictError:
        return ConflictError(
            f"{self.noun} {fid!r} was changed by another session (revision {rev}, you "
            f"{what} revision {expected}); your change was not saved: reload",
            feature=fid, kind="changed", revision=rev, expected=expected,
        )  # fmt: skip

    def add(
        self, geometry: BaseGeometry | Mapping[str, Any], *, fid: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Store a new feature; return its row (with its id and ``rev`` 1).

        Raises
        ------
        ConflictError
            `fid` is already taken.
        ValidationError
            The feature breaks the layer contract.
        """
        geom = as_geometry(geometry)
        with self.locked():
            frame = self.load()
            new_id = fid or self._next_id(frame)
            if new_id in set(frame[self.key]):
                raise ConflictError(f"{self.key}={new_id!r} is already taken; reload the layer")
            row = {self.key: new_id, **self._typed(fields), "rev": 1}
            new = gpd.GeoDataFrame([row], geometry=[geom], crs=WGS84)
            self._check(new)
            out = pd.concat([frame, new], ignore_index=True)
            self._save(gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84))
        return {**row, "geometry": geom}

    def update(self, fid: str, *, expected_rev: int, **changes: Any) -> dict[str, Any]:
        """Change fields of one feature; return the stored row.

        Raises
        ------
        ConflictError
            The feature was deleted, or changed (another ``rev``), by another session.
        ProjectError
            A field that may not change (see `editable`).
        """
        if self.editable is not None and (unknown := set(changes) - set(self.editable)):
            raise ProjectError(
                f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(self.editable)}"
            )
        with self.locked():
            frame = self.load()
            pos = self._locate(frame, fid)
            if pos is None:
                raise ConflictError(
                    f"{self.noun} {fid!r} was deleted by another session",
                    feature=fid,
                    kind="deleted",
                )
            rev = int(frame.at[pos, "rev"])
            if rev != expected_rev:
                raise self._changed_elsewhere(fid, rev, expected_rev, "edited")
            for key, value in self._typed(changes).items():
                if key not in frame:
                    frame[key] = None
                _set(frame, pos, key, as_geometry(value) if key == "geometry" else value)
            frame.at[pos, "rev"] = rev + 1
            self._check(frame.iloc[[pos]])
            self._save(frame)
            return self._row(frame, pos)

    def update_many(
        self, changes: Mapping[str, Mapping[str, Any]], *, expected_revs: Mapping[str, int]
    ) -> list[dict[str, Any]]:
        """Change fields of several features in one save: all of them, or none.

        `changes` maps a feature id to its changed fields, `expected_revs` each id to the
        revision the caller saw. Raises as `update` does, before anything is written.
        """
        fields = {key for change in changes.values() for key in change}
        if self.editable is not None and (unknown := fields - set(self.editable)):
            raise ProjectError(
                f"cannot change {', '.join(sorted(unknown))}; editable: {', '.join(self.editable)}"
            )
        with self.locked():
            frame = self.load()
            where = {fid: pos for pos, fid in enumerate(frame[self.key])}
            for fid in changes:
                if fid not in where:
                    raise ConflictError(
                        f"{self.noun} {fid!r} was deleted by another session",
                        feature=fid,
                        kind="deleted",
                    )
                rev, expected = int(frame.at[where[fid], "rev"]), expected_revs.get(fid)
                if rev != expected:
                    raise self._changed_elsewhere(fid, rev, -1 if expected is None else expected,
                                                  "edited")  # fmt: skip
            for key in fields - set(frame.columns):
                frame[key] = None
            for fid, change in changes.items():
                pos = where[fid]
                for key, value in self._typed(change).items():
                    _set(frame, pos, key, as_geometry(value) if key == "geometry" else value)
                frame.at[pos, "rev"] = int(frame.at[pos, "rev"]) + 1
            positions = [where[fid] for fid in changes]
            self._check(frame.iloc[positions])
            self._save(frame)
            return [self._row(frame, pos) for pos in positions]

    def delete(self, fid: str, *, expected_rev: int | None = None) -> None:
        """Delete one feature; deleting one that is already gone is not an error.

        Raises
        ------
        ConflictError
            `expected_rev` is given and another session changed the feature meanwhile.
        """
        with self.locked():
            frame = self.load()
            pos = self._locate(frame, fid)
            if pos is None:
                return
            rev = int(frame.at[pos, "rev"])
            if expected_rev is not None and rev != expected_rev:
                raise ConflictError(
                    f"{self.noun} {fid!r} was changed by another session (revision {rev}, you "
                    f"saw {expected_rev}); not deleted: reload",
                    feature=fid, kind="changed", revision=rev, expected=expected_rev,
                )  # fmt: skip
            self._save(frame.drop(index=frame.index[pos]).reset_index(drop=True))

    def restore(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Put a feature back as `row` describes it (undo of a change or a delete).

        The restored feature gets a revision above any it had, so sessions that
        saw the undone state get a conflict rather than overwriting the undo.
        """
        geom = as_geometry(row["geometry"])
        fid = str(row[self.key])
        with self.locked():
            frame = self.load()
            pos = self._locate(frame, fid)
            rev = max(int(row.get("rev") or 1), int(frame.at[pos, "rev"]) if pos is not None else 0)
            values = {k: row.get(k) for k in self.columns if k != "rev"} | {"rev": rev + 1}
            extra = {k: v for k, v in row.items() if k not in (*self.columns, "geometry")}
            if pos is None:
                new = gpd.GeoDataFrame([values | extra], geometry=[geom], crs=WGS84)
                self._check(new)
                frame = gpd.GeoDataFrame(pd.concat([frame, new], ignore_index=True), crs=WGS84)
                pos = len(frame) - 1
            else:
                for key, value in (values | extra).items():
                    if key not in frame or key in extra:  # any type may come back
                        frame[key] = frame[key].astype(object) if key in frame else None
                    frame.at[pos, key] = value
                frame.at[pos, "geometry"] = geom
                self._check(frame.iloc[[pos]])
            self._save(frame)
            return self._row(frame, pos)
