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
>>> from gridgis.analysis.capacity import site_capacity
>>> from gridgis.analysis.metrics import geometry_metrics
>>> from gridgis.core.settings import default_settings
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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridgis.analysis.capacity import check_metrics_index, site_id_array, site_type_array
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

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


_BASES = ("area", "perimeter", "capacity", "ports", "circuits", "site", "count")


@dataclass(frozen=True)
class _Items:
    """The cost items of `settings` as arrays, one entry per item (see `_items`)."""

    type_code: dict[str, int]  # site type -> row of `table`
    table: NDArray[np.intp]  # (type, k) -> the type's k-th item (position below); -1 pads
    n_items: NDArray[np.intp]  # items per type
    name: NDArray[np.object_]
    label_zh: NDArray[np.object_]
    label_en: NDArray[np.object_]
    basis: NDArray[np.object_]
    basis_code: NDArray[np.intp]  # position in _BASES
    unit: NDArray[np.object_]  # None for the capacity basis (the site's own unit)
    quantity: NDArray[np.float64]  # the item's own quantity (used by the count basis)
    rate: NDArray[np.float64]
    source: NDArray[np.object_]
    ref: NDArray[np.object_]


def _objects(values: list[Any]) -> NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _items(settings: Settings) -> _Items:
    """Tabulate the cost items (once per call), so lines are built by indexing."""
    position = {name: k for k, name in enumerate(settings.cost_items)}
    items = list(settings.cost_items.values())
    per_type = [[position[name] for name in st.cost_items] for st in settings.site_types.values()]
    n_items = np.array([len(k) for k in per_type], dtype=np.intp)
    table = np.full((len(per_type), max(n_items, default=0)), -1, dtype=np.intp)
    for row, ks in enumerate(per_type):
        table[row, : len(ks)] = ks
    return _Items(
        type_code={key: row for row, key in enumerate(settings.site_types)},
        table=table,
        n_items=n_items,
        name=_objects(list(settings.cost_items)),
        label_zh=_objects([i.label_zh for i in items]),
        label_en=_objects([i.label_en for i in items]),
        basis=_objects([i.basis for i in items]),
        basis_code=np.array([_BASES.index(i.basis) for i in items], dtype=np.intp),
        unit=_objects([_UNITS.get(i.basis) for i in items]),
        quantity=np.array([float(i.quantity) for i in items]),
        rate=np.array([float(i.rate_cny.value) for i in items]),
        source=_objects([i.rate_cny.source for i in items]),
        ref=_objects([i.rate_cny.ref for i in items]),
    )


def _empty_lines() -> pd.DataFrame:
    numeric = {"quantity", "rate_cny", "amount_cny"}
    return pd.DataFrame(
        {c: pd.Series(dtype=float if c in numeric else object) for c in COST_LINE_COLUMNS}
    )


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
        `gridgis.analysis.metrics.geometry_metrics` of `sites` (``area_m2``, ``perimeter_m``).
    capacity
        `gridgis.analysis.capacity.site_capacity` of `sites` (``capacity``,
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
    types = site_type_array(sites, settings=settings)
    items = _items(settings)
    # The lines are built by numpy indexing (line -> site, line -> item), not as one small
    # frame per item and type: pandas' per-frame overhead dominated for a few sites.
    code = np.fromiter((items.type_code[t] for t in types), dtype=np.intp, count=len(types))
    n_lines = items.n_items[code]
    site = np.repeat(np.arange(len(sites)), n_lines)
    if not len(site):
        return _empty_lines()
    first = np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
    item = items.table[code[site], np.arange(len(site)) - first]
    per_basis = np.stack(
        [
            np.nan_to_num(metrics["area_m2"].to_numpy(dtype=float)),
            np.nan_to_num(metrics["perimeter_m"].to_numpy(dtype=float)),
            capacity["capacity"].to_numpy(dtype=float),
            capacity["charging_ports"].to_numpy(dtype=float),
            capacity["circuits"].to_numpy(dtype=float),
            np.ones(len(sites)),
            np.zeros(len(sites)),  # count: the item's own quantity, below
        ]
    )
    basis = items.basis_code[item]
    quantity = per_basis[basis, site]
    count = basis == _BASES.index("count")
    quantity[count] = items.quantity[item[count]]
    unit = items.unit[item]
    by_capacity = basis == _BASES.index("capacity")
    if by_capacity.any():
        cap_units = capacity["capacity_unit"].astype(str).to_numpy(dtype=object)
        unit[by_capacity] = [_capacity_unit(u) for u in cap_units[site[by_capacity]]]
    q_cents = _cents(quantity)
    r_cents = _cents(items.rate[item])
    product = q_cents * r_cents  # in 1e-4 CNY; exact in int64 below 9e14 CNY
    amount_cents = (product + 50) // 100
    text = _text_columns(
        {
            "site_id": site_id_array(sites)[site],
            "item": items.name[item],
            "label_zh": items.label_zh[item],
            "label_en": items.label_en[item],
            "basis": items.basis[item],
            "unit": unit,
            "source": items.source[item],
            "ref": items.ref[item],
        }
    )
    columns = {
        "site_index": sites.index.take(site),
        **text,
        "quantity": q_cents / 100.0,
        "rate_cny": r_cents / 100.0,
        "amount_cny": amount_cents / 100.0,
    }
    return pd.DataFrame({c: columns[c] for c in COST_LINE_COLUMNS}, copy=False)


def _text_columns(columns: dict[str, NDArray[np.object_]]) -> dict[str, Any]:
    """The text columns as pandas' ``str`` arrays, as `pd.DataFrame` would infer them.

    One conversion of all the values, then a zero-copy slice per column: converting
    each column on its own costs about 0.07 ms, which dominated for a few lines.
    """
    values = pd.array(np.concatenate(list(columns.values())), dtype="str")
    n = len(values) // len(columns)
    return {name: values[k * n : (k + 1) * n] for k, name in enumerate(columns)}


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
        # rank of each line among its site's lines, in line order (numpy: a groupby's
        # cumcount costs more than the sums for a few sites)
        order = np.argsort(pos, kind="stable")
        sorted_pos = pos[order]
        group_start = np.flatnonzero(np.r_[True, sorted_pos[1:] != sorted_pos[:-1]])
        sizes = np.diff(np.r_[group_start, len(pos)])
        rank = np.empty(len(pos), dtype=np.intp)
        rank[order] = np.arange(len(pos)) - np.repeat(group_start, sizes)
        table = np.zeros((len(index), rank.max() + 1))
        table[pos, rank] = amounts
        for column in table.T:  # sequential, like Python's sum(): 0.0 + a == a exactly
            total = total + column
    return pd.Series(total, index=index, name="cost_cny", copy=False)
