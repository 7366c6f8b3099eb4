"""Itemised cost of sites from the cost items in settings.

Each site type names its cost items; each item has a basis that says what it
is multiplied by: ``area`` (m2), ``perimeter`` (m), ``capacity`` (bikes,
plots, persons), ``ports`` (charging ports), ``circuits``, ``site`` (1 per
site) or ``count`` (the item's own ``quantity``). Quantities and rates are
rounded to 0.01 and amounts to 0.01 CNY (half up, in integer arithmetic), so every line
can be recomputed by hand from the table, and a site's cost is the plain
left-to-right sum of its rounded amounts: ``sum(amounts) == cost`` holds
exactly in floating point, line order as in `cost_lines`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from gridgis.capacity import site_capacity
>>> from gridgis.metrics import geometry_metrics
>>> from gridgis.settings import default_settings
>>> s = gpd.GeoDataFrame({"site_id": ["S1"], "site_type": ["parking_shed"]},
...                      geometry=[box(0, 0, 10, 6)], crs=4544)
>>> m = geometry_metrics(s)
>>> c = site_capacity(s, metrics=m, settings=default_settings())
>>> lines = cost_lines(s, metrics=m, capacity=c, settings=default_settings())
>>> lines[["item", "quantity", "unit", "amount_cny"]].to_dict("split")["data"]
[['shed_structure', 60.0, 'm2', 21000.0], ['ground_hardening', 60.0, 'm2', 6600.0], \
['charging_port', 8.0, 'port', 2000.0], ['power_feed', 1.0, 'site', 10000.0]]
>>> site_costs(lines, s.index).tolist()
[39600.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridgis._errors import GridGISError
from gridgis.capacity import check_metrics_index, site_ids, site_types
from gridgis.settings import Settings

__all__ = ["COST_LINE_COLUMNS", "cost_lines", "site_costs"]

COST_LINE_COLUMNS = (
    "site_index",
    "site_id",
    "item",
    "label_zh",
    "label_en",
    "basis",
    "quantity",
    "unit",
    "rate_cny",
    "amount_cny",
    "source",
    "ref",
)

_UNITS = {
    "area": "m2",
    "perimeter": "m",
    "ports": "port",
    "circuits": "circuit",
    "site": "site",
    "count": "each",
}


def _cents(values: np.ndarray) -> np.ndarray:
    """Round to whole hundredths, half away from zero, as int64."""
    scaled = np.asarray(values, dtype=float) * 100.0
    return (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + 1e-9)).astype(np.int64)


def _capacity_unit(unit: str) -> str:
    """Per-unit name of a capacity unit: ``bikes`` -> ``bike``."""
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def cost_lines(
    sites: pd.DataFrame,
    *,
    metrics: pd.DataFrame,
    capacity: pd.DataFrame,
    settings: Settings,
) -> pd.DataFrame:
    """One budget line per site and cost item of its type.

    Parameters
    ----------
    sites
        The sites layer (``site_type``; ``site_id`` used when present), with a
        unique index.
    metrics
        `gridgis.metrics.geometry_metrics` of `sites` (``area_m2``, ``perimeter_m``).
    capacity
        `gridgis.capacity.site_capacity` of `sites` (``capacity``,
        ``capacity_unit``, ``charging_ports``, ``circuits``).
    settings
        Project settings: ``site_types`` and ``cost_items``.

    Returns
    -------
    DataFrame
        Long form, a fresh RangeIndex, sites in their order and items in the
        type's order; columns `COST_LINE_COLUMNS`: ``site_index`` (the site's
        index label), ``site_id``, ``item``, ``label_zh``, ``label_en``,
        ``basis``, ``quantity`` (float, 0.01), ``unit`` (``m2``, ``m``,
        ``bike``/``plot``/``person``, ``port``, ``circuit``, ``site``,
        ``each``), ``rate_cny``, ``amount_cny`` (float, 0.01 CNY), ``source``
        (S/D/E) and ``ref``. A site without geometry has area and perimeter 0.

    Raises
    ------
    GridGISError
        A site type is unknown, or `metrics` / `capacity` are not aligned
        with `sites`, or the sites' index is not unique.
    """
    if not sites.index.is_unique:
        dup = sites.index[sites.index.duplicated()][:5].tolist()
        raise GridGISError(f"sites must have a unique index for cost lines; repeated: {dup!r}")
    check_metrics_index(metrics, sites, "metrics")
    check_metrics_index(capacity, sites, "capacity")
    types = site_types(sites, settings=settings)
    ids = site_ids(sites)
    per_basis = {
        "area": np.nan_to_num(metrics["area_m2"].to_numpy(dtype=float)),
        "perimeter": np.nan_to_num(metrics["perimeter_m"].to_numpy(dtype=float)),
        "capacity": capacity["capacity"].to_numpy(dtype=float),
        "ports": capacity["charging_ports"].to_numpy(dtype=float),
        "circuits": capacity["circuits"].to_numpy(dtype=float),
        "site": np.ones(len(sites)),
    }
    cap_units = capacity["capacity_unit"].astype(str).map(_capacity_unit).to_numpy()
    parts: list[pd.DataFrame] = []
    for key in pd.unique(types):
        pos = np.flatnonzero((types == key).to_numpy())
        for order, name in enumerate(settings.site_types[key].cost_items):
            item = settings.cost_items[name]
            if item.basis == "count":
                quantity = np.full(len(pos), float(item.quantity))
            else:
                quantity = per_basis[item.basis][pos]
            unit = cap_units[pos] if item.basis == "capacity" else _UNITS[item.basis]
            parts.append(
                pd.DataFrame(
                    {
                        "_pos": pos,
                        "_order": order,
                        "site_index": sites.index[pos],
                        "site_id": ids.to_numpy()[pos],
                        "item": name,
                        "label_zh": item.label_zh,
                        "label_en": item.label_en,
                        "basis": item.basis,
                        "quantity": quantity,
                        "unit": unit,
                        "rate_cny": item.rate_cny.value,
                        "source": item.rate_cny.source,
                        "ref": item.rate_cny.ref,
                    }
                )
            )
    if not parts:
        numeric = {"quantity", "rate_cny", "amount_cny"}
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c in numeric else object) for c in COST_LINE_COLUMNS}
        )
    lines = pd.concat(parts, ignore_index=True).sort_values(["_pos", "_order"], kind="stable")
    q_cents = _cents(lines["quantity"].to_numpy())
    r_cents = _cents(lines["rate_cny"].to_numpy())
    product = q_cents * r_cents  # in 1e-4 CNY; exact in int64 below 9e14 CNY
    amount_cents = (product + 50) // 100
    lines["quantity"] = q_cents / 100.0
    lines["rate_cny"] = r_cents / 100.0
    lines["amount_cny"] = amount_cents / 100.0
    return lines.loc[:, list(COST_LINE_COLUMNS)].reset_index(drop=True)


def site_costs(lines: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Total cost per site: the left-to-right sum of its lines' ``amount_cny``.

    Parameters
    ----------
    lines
        `cost_lines` output.
    index
        The sites' index; sites without lines cost 0.

    Returns
    -------
    Series
        ``cost_cny`` (float) on `index`, equal bit for bit to ``sum()`` of the
        site's amounts in line order.
    """
    if not index.is_unique:
        dup = index[index.duplicated()][:5].tolist()
        raise GridGISError(f"index must be unique to total cost lines; repeated: {dup!r}")
    pos = index.get_indexer(lines["site_index"])
    total = np.zeros(len(index))
    if len(lines):
        if (pos < 0).any():
            missing = pd.unique(lines["site_index"][pos < 0])[:5].tolist()
            raise GridGISError(f"cost lines name sites not in the index: {missing!r}")
        amounts = lines["amount_cny"].to_numpy(dtype=float)
        rank = pd.Series(pos).groupby(pos).cumcount().to_numpy()
        table = np.zeros((len(index), rank.max() + 1))
        table[pos, rank] = amounts
        for column in table.T:  # sequential, like Python's sum(): 0.0 + a == a exactly
            total = total + column
    return pd.Series(total, index=index, name="cost_cny")
