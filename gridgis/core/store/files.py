"""Where each layer of a folder project lives, and writing files so a kill never half-writes.

A folder project holds ``<layer>.geojson`` per layer, except the votes
register, which is ``votes.csv`` (a plain table: the areas stay the decimals
that were typed, and a spreadsheet opens it). A ``votes.geojson`` (written by
gridgis before 0.2) is read only when there is no ``votes.csv``; the next
write of the register writes ``votes.csv`` and moves the old file aside to
``.votes.geojson.bak``. A GeoPackage keeps every layer, the register too, as
a table of the one file.

One file is written atomically by `write_file` (a temporary file beside it,
fsynced, then `os.replace`). Several files at once (a whole-project save) are
written by `commit`: every new file is staged beside its target, then a
journal naming them is written atomically (the commit point), then the files
are moved into place and the journal removed. A save killed before the
journal leaves the old project (and temporary files that `leftovers` finds);
one killed after it is finished by `recover`, which whoever next takes the
project lock runs: the project is wholly old or wholly new.

Examples
--------
>>> from pathlib import Path
>>> layer_file(Path("p"), "votes").name, layer_file(Path("p"), "sites").name
('votes.csv', 'sites.geojson')
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridgis.core import io
from gridgis.core.schema import restore_shapefile_names, with_contract_columns
from gridgis.errors import ProjectError, ReadError

__all__ = [
    "JOURNAL",
    "LEGACY_VOTES_FILE",
    "SETTINGS_FILE",
    "SETTINGS_TABLE",
    "VOTES_FILE",
    "commit",
    "find_layer_file",
    "is_gpkg",
    "layer_bytes",
    "layer_file",
    "leftovers",
    "legacy_votes",
    "read_layer_file",
    "recover",
    "retire_legacy_votes",
    "write_file",
]

log = logging.getLogger(__name__)

VOTES_FILE = "votes.csv"
SETTINGS_FILE = "settings.toml"
SETTINGS_TABLE = "gridgis_settings"
LEGACY_VOTES_FILE = "votes.geojson"
JOURNAL = ".gridgis-commit.json"
# temporary files of gridgis writers: ".<name>.<8 chars>.tmp[.<ext>][-journal|-wal|-shm]"
_TEMP = re.compile(r"^\..+\.[0-9a-z_]{8}\.tmp(\.[A-Za-z0-9]+)?(-journal|-wal|-shm)?$")


def is_gpkg(path: str | os.PathLike[str]) -> bool:
    """True when `path` names a GeoPackage file (by its extension)."""
    return Path(path).suffix.lower() == ".gpkg"


def layer_file(folder: Path, name: str) -> Path:
    """The file layer `name` of a folder project is written to."""
    return folder / (VOTES_FILE if name == "votes" else f"{name}.geojson")


def find_layer_file(folder: Path, name: str) -> Path | None:
    """The file layer `name` of a folder project is read from (None: no such layer)."""
    canonical = layer_file(folder, name)
    other = folder / (LEGACY_VOTES_FILE if name == "votes" else f"{name}.csv")
    for candidate in (canonical, other):
        if candidate.is_file():
            if candidate == canonical and other.is_file() and name == "votes":
                log.warning("%s: %s is the register; %s beside it is ignored", folder,
                            VOTES_FILE, LEGACY_VOTES_FILE)  # fmt: skip
            return candidate
    return None


def read_layer_file(path: str | os.PathLike[str], name: str, **kwargs: Any) -> gpd.GeoDataFrame:
    """Read one layer file as layer `name`; a ``votes`` CSV is a table of text.

    Other keyword arguments go to `gridgis.core.io.read_layer`.
    """
    path = Path(path)
    if name == "votes" and path.suffix.lower() == ".csv":
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise ReadError(f"{path}: cannot read the votes table: {exc}") from exc
        except pd.errors.EmptyDataError:
            table = pd.DataFrame(columns=["site_id", "building_id", "household", "area_m2", "vote"])
        if "area_m2" in table:
            table["area_m2"] = table["area_m2"].where(table["area_m2"] != "", None)
        nulls = gpd.GeoSeries([None] * len(table), index=table.index, crs=4326)
        return gpd.GeoDataFrame(table, geometry=nulls)
    return with_contract_columns(restore_shapefile_names(io.read_layer(path, **kwargs), name), name)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    return repr(value) if isinstance(value, float) else str(value)


def layer_bytes(name: str, frame: pd.DataFrame) -> bytes:
    """Layer `name` as its folder file holds it: CSV text for votes, else RFC 7946 GeoJSON."""
    if name != "votes":
        return io.to_geojson(frame).encode("utf-8")
    table = pd.DataFrame(frame)
    geometry = getattr(frame, "_geometry_column_name", None)
    if geometry in table:
        table = table.drop(columns=geometry)
    text = table.map(_cell) if len(table.columns) else table
    return text.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _temp_beside(target: Path) -> Path:
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(target: Path, data: bytes) -> Path:
    tmp = _temp_beside(target)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_file(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically: readers see the old file or the new one.

    Raises
    ------
    ProjectError
        The file could not be written.
    """
    try:
        tmp = _stage(target, data)
        try:
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(target.parent)
    except OSError as exc:
        raise ProjectError(f"could not write {str(target)!r}: {exc}") from exc


def commit(folder: Path, writes: Mapping[str, bytes], deletes: Iterable[str] = ()) -> None:
    """Replace and delete several files of `folder` as one change (see the module notes).

    Parameters
    ----------
    folder
        The project folder (hold its lock).
    writes
        File name -> new content.
    deletes
        File names to remove (missing ones are fine).
    """
    staged: dict[str, str] = {}
    try:
        for name, data in writes.items():
            staged[name] = _stage(folder / name, data).name
        _fsync_dir(folder)
        plan = {"replace": staged, "delete": sorted(set(deletes) - set(writes))}
        write_file(folder / JOURNAL, json.dumps(plan, ensure_ascii=False).encode("utf-8"))
    except BaseException:
        for tmp in staged.values():
            (folder / tmp).unlink(missing_ok=True)
        raise
    recover(folder)


def recover(folder: Path) -> bool:
    """Finish the commit whose journal is in `folder`, if any; True if there was one."""
    journal = folder / JOURNAL
    try:
        plan = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:  # cannot happen (written atomically): say so, drop it
        log.warning("%s: unreadable save journal dropped: %s", journal, exc)
        journal.unlink(missing_ok=True)
        return False
    for name, tmp in plan.get("replace", {}).items():
        with contextlib.suppress(FileNotFoundError):  # gone: moved before a kill
            os.replace(folder / tmp, folder / name)
    for name in plan.get("delete", []):
        (folder / name).unlink(missing_ok=True)
    _fsync_dir(folder)
    journal.unlink(missing_ok=True)
    _fsync_dir(folder)
    return True


def leftovers(project_path: str | os.PathLike[str]) -> list[Path]:
    """Temporary files that killed writes left in (or, for a GeoPackage, beside) a project.

    Only call it holding the project lock: a live write's files look the same.
    """
    path = Path(project_path)
    if is_gpkg(path):
        folder = path.parent
        pattern = re.compile(rf"^\.{re.escape(path.stem)}\.[0-9a-z_]{{8}}\.tmp\.gpkg"
                             r"(-journal|-wal|-shm)?$")  # fmt: skip
    else:
        folder, pattern = path, _TEMP
    try:
        with os.scandir(folder) as entries:
            return sorted(folder / e.name for e in entries if pattern.match(e.name))
    except FileNotFoundError:
        return []


def legacy_votes(folder: Path) -> Path | None:
    """A ``votes.geojson`` to move aside when the register is next written, or None."""
    old = folder / LEGACY_VOTES_FILE
    return old if old.is_file() else None


def retire_legacy_votes(folder: Path) -> None:
    """Move ``votes.geojson`` aside to ``.votes.geojson.bak`` (the register is ``votes.csv``)."""
    old = legacy_votes(folder)
    if old is not None:
        os.replace(old, folder / f".{LEGACY_VOTES_FILE}.bak")
        log.info("%s: moved %s aside; the register is %s", folder, LEGACY_VOTES_FILE, VOTES_FILE)
