"""The result of a site analysis: `SiteAnalysis` and the output contract it keeps.

`gridgis.analysis.engine` computes a `SiteAnalysis`; the CLI, the app and the
exports read it. `CONTRACT_PROPERTIES` are the properties of every exported
site Feature, `COUNT_COLUMNS` the per-site counts (int64, integers in every
output), `COUNT_BASES` the cost bases whose quantity is a count.

Examples
--------
>>> import pandas as pd
>>> line_quantities(pd.DataFrame({"quantity": [2.0, 2.5], "basis": ["capacity", "area"]}))
[2, 2.5]
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = [
    "CONTRACT_PROPERTIES",
    "COUNT_BASES",
    "COUNT_COLUMNS",
    "SiteAnalysis",
    "item_lists",
    "line_quantities",
]

CONTRACT_PROPERTIES = (
    "site_id",
    "site_type",
    "name",
    "area_m2",
    "perimeter_m",
    "capacity",
    "capacity_unit",
    "cost_cny",
    "cost_items",
    "households_served",
    "households_adjacent",
    "buildings_served",
    "microgrids",
    "checks",
    "funding",
)
"""Properties of every site Feature written by ``gridgis analyze`` (DESIGN.md)."""

COUNT_COLUMNS = (
    "capacity",
    "charging_ports",
    "circuits",
    "blocks",
    "households_served",
    "households_adjacent",
    "checks_failed",
    "checks_not_checked",
)
"""Per-site columns that are counts: int64 in the frame, integers in every output."""

COUNT_BASES = ("capacity", "ports", "circuits", "site", "count")
"""Cost bases whose quantity is a count (written as an integer when whole)."""

_ITEM_KEYS = (
    "item", "label_zh", "label_en", "quantity", "unit", "rate_cny", "amount_cny", "source"
)  # fmt: skip


@dataclass
class SiteAnalysis:
    """The analysis of a set of sites.

    Attributes
    ----------
    sites
        One row per site (the input's index), EPSG:4326 geometry, the input's
        columns plus every metric (see `CONTRACT_PROPERTIES`; also
        ``min_width_m``, ``charging_ports``, ``circuits``, ``distance_method``,
        ``buildings_adjacent``, ``buildings_unknown``, ``checks_failed``,
        ``checks_not_checked``). `COUNT_COLUMNS` are int64.
    lines
        Cost line items, one row per site and item.
    plan_funding
        The whole plan's funding split (one row).
    households_served
        Households the plan serves, each building counted once (not the sum
        of the sites' ``households_served``: two sheds may serve one building).
    """

    sites: gpd.GeoDataFrame
    lines: pd.DataFrame
    plan_funding: pd.DataFrame
    households_served: int = 0

    def features(self) -> gpd.GeoDataFrame:
        """The sites with exactly the contract properties, for GeoJSON export.

        Nested properties (lists and dicts: ``cost_items``, ``checks``, ...)
        are JSON text, which the GeoJSON writer stores as JSON (``null``,
        ``true``, integers as integers); counts are int64.
        """
        props = self.sites[list(CONTRACT_PROPERTIES)].copy()
        props["area_m2"] = props["area_m2"].round(2)
        props["perimeter_m"] = props["perimeter_m"].round(2)
        for name in _NESTED:
            props[name] = props[name].map(_json_text).astype(object)
        return gpd.GeoDataFrame(
            props,
            geometry=self.sites.geometry,
            crs=self.sites.crs,
        )

    def totals(self) -> dict[str, Any]:
        """Plan totals: cost, bikes, charging ports, households served (distinct)."""
        sites = self.sites
        bikes = sites.loc[sites["capacity_unit"] == "bikes", "capacity"].sum()
        served = {b for ids in sites["buildings_served"] for b in ids}
        return {
            "sites": len(sites),
            "cost_cny": round(float(sites["cost_cny"].sum()), 2),
            "bikes": int(bikes),
            "charging_ports": int(sites["charging_ports"].sum()),
            "buildings_served": len(served),
            "households_served": int(self.households_served),
            "checks_failed": int(sites["checks_failed"].sum()),
            "checks_not_checked": int(sites["checks_not_checked"].sum()),
        }


_NESTED = ("cost_items", "buildings_served", "microgrids", "checks", "funding")


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as JSON")


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_value, allow_nan=False)


def line_quantities(lines: pd.DataFrame) -> list[float | int]:
    """Each cost line's quantity: an int for a whole count (`COUNT_BASES`), else a float."""
    return [
        int(q) if b in COUNT_BASES and float(q).is_integer() else float(q)
        for q, b in zip(lines["quantity"].tolist(), lines["basis"].tolist(), strict=True)
    ]


def item_lists(lines: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Each site's cost items (JSON-ready dicts, Python scalars), by `index` (``site_index``)."""
    records: dict[Any, list[dict[str, Any]]] = {i: [] for i in index}
    columns = {k: lines[k].tolist() for k in _ITEM_KEYS}  # Python scalars
    columns["quantity"] = line_quantities(lines)
    values = zip(*(columns[k] for k in _ITEM_KEYS), strict=True)
    for site, row in zip(lines["site_index"].tolist(), values, strict=True):
        records[site].append(dict(zip(_ITEM_KEYS, row, strict=True)))
    return pd.Series([records[i] for i in index], index=index, dtype=object)
