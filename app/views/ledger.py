"""The ledger page's work: apply a household ledger to the buildings, make micro-grids.

Both write only through the project store (`gridgis.core.store`). A ledger is
applied with one `LayerStore.update_many`: every changed building's revision
is checked (another session may have changed it since the preview) and every
changed row validated before the layer is saved once, so nothing is
half-applied. A micro-grid is one `LayerStore.add`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from app import workspace
from app.mapwidget import asset_url
from gridgis.analysis.microgrids import building_cells, microgrid_from_buildings
from gridgis.core.store import ProjectStore
from gridgis.report.i18n import t
from gridgis.report.map.view import project_map

__all__ = [
    "LEDGER_FIELDS",
    "apply_ledger",
    "cells_map",
    "cells_of",
    "ledger_changes",
    "make_microgrid",
    "revisions",
]

LEDGER_FIELDS = ("households", "units", "floors", "floor_area_m2")
"""The building fields a ledger may change."""


def _value(value: Any, field: str) -> Any:
    """A cell as the store writes it: None when missing, int for counts."""
    if value is None or pd.isna(value):
        return None
    return float(value) if field == "floor_area_m2" else int(value)


def ledger_changes(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``{building_id: {field: new value}}`` for the fields `after` changes.

    `before` is the buildings layer as loaded (``building_id`` and the
    `LEDGER_FIELDS` it has), `after` the same rows with the ledger applied
    (`gridgis.core.ledger.LedgerJoin.buildings`).

    Examples
    --------
    >>> b = pd.DataFrame({"building_id": ["B1", "B2"], "households": [10, 20]})
    >>> a = b.assign(households=[10, 28], units=[None, 2])
    >>> ledger_changes(b, a)
    {'B2': {'households': 28, 'units': 2}}
    """
    changes: dict[str, dict[str, Any]] = {}
    ids = before["building_id"].astype(str).tolist()
    for field in LEDGER_FIELDS:
        if field not in after:
            continue
        old = before[field].tolist() if field in before else [None] * len(ids)
        for bid, was, now in zip(ids, old, after[field].tolist(), strict=True):
            was, now = _value(was, field), _value(now, field)
            if was != now:
                changes.setdefault(bid, {})[field] = now
    return changes


def revisions(frame: pd.DataFrame) -> dict[str, int]:
    """``{building_id: rev}`` of a layer as `LayerStore.load` gives it."""
    return dict(zip(frame["building_id"].astype(str), frame["rev"].astype(int), strict=True))


def apply_ledger(
    path: Path, changes: dict[str, dict[str, Any]], seen: dict[str, int]
) -> list[dict[str, Any]]:
    """Write `changes` to the buildings at `path`: all of them, or none (one save).

    Parameters
    ----------
    path
        The project.
    changes
        As `ledger_changes` gives them.
    seen
        The revision of each building when the preview was made; a building
        changed since is a `ConflictError`.

    Returns
    -------
    list of dict
        The stored rows.

    Raises
    ------
    ConflictError, ValidationError, ProjectError
        Nothing was changed.
    """
    store = ProjectStore(path).layer("buildings")
    stored = store.update_many(changes, expected_revs=seen)  # one check, one save
    workspace.bump(path)
    return stored


@functools.lru_cache(maxsize=8)
def _cells(path: str, stamp: workspace.Stamp) -> gpd.GeoSeries:
    project = workspace.load_project(path, stamp)
    compound = project.layer("compound")
    return building_cells(compound, project.layers["buildings"], crs=project.metric_crs())


def cells_of(path: Path) -> gpd.GeoSeries:
    """Each building's share of the compound (`building_cells`; cached per project stamp)."""
    return _cells(str(path), workspace.stamp(path))


def make_microgrid(
    path: Path, building_ids: list[str], *, name: str, leader: str | None
) -> dict[str, Any]:
    """Make and store a micro-grid of `building_ids`; return its stored row.

    Its id is the next free ``G<n>`` of the layer; an empty `name` becomes the id.

    Raises
    ------
    GridGISError
        No compound, no buildings chosen, or the store refused it.
    """
    project = workspace.load_project(path)
    store = ProjectStore(path).layer("microgrids")
    grid_id = store.new_id()
    grid = microgrid_from_buildings(
        project.layer("compound"),
        project.layers["buildings"],
        building_ids,
        grid_id=grid_id,
        name=name.strip() or grid_id,
        leader=leader.strip() if leader and leader.strip() else None,
        per_floor=project.settings.general.households_per_floor_fallback.value,
        crs=project.metric_crs(),
        cells=cells_of(path),
    )
    row = grid.iloc[0]
    households = None if pd.isna(row["households"]) else int(row["households"])
    stored = store.add(
        row.geometry,
        fid=grid_id,
        name=row["name"],
        leader=row["leader"],
        households=households,
        building_ids=row["building_ids"],
    )
    workspace.bump(path)
    return stored


@functools.lru_cache(maxsize=16)
def _cells_map(path: str, stamp: workspace.Stamp, lang: str, chosen: tuple[str, ...]) -> str:
    project = workspace.load_project(path, stamp)
    m = project_map(project, lang=lang, sites=False, asset_url=asset_url())
    cells = _cells(path, stamp)
    ids = project.layers["buildings"]["building_id"].astype(str)
    layer = gpd.GeoDataFrame(
        {"building_id": ids.to_numpy(), "on": ids.isin(chosen).to_numpy()},
        geometry=cells.to_numpy(),
        crs=cells.crs,
    )

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        on = bool(feature["properties"]["on"])
        return {
            "color": "#c0392b" if on else "#555555",
            "weight": 2 if on else 1,
            "dashArray": None if on else "4 3",
            "fillColor": "#e67e22",
            "fillOpacity": 0.35 if on else 0.0,
        }

    folium.GeoJson(
        layer.__geo_interface__,
        name=t("ledger.cells", lang),
        style_function=style,
        tooltip=folium.GeoJsonTooltip(["building_id"], labels=False),
    ).add_to(m)
    return m.get_root().render()


def cells_map(path: Path, lang: str, chosen: list[str]) -> str:
    """The project map (HTML) with each building's cell outlined, the chosen ones filled."""
    return _cells_map(str(path), workspace.stamp(path), lang, tuple(chosen))
