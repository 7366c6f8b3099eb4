"""What a site holds: bikes in a shed, plots in a garden, persons in a room.

The rule is the site type's ``capacity_rule`` in settings:

- ``bike_stalls`` (``parking_shed``): rows of ``bike_space_length_m`` deep,
  ``bike_space_width_m`` wide spaces along the long side of the site's minimum
  rotated rectangle. Across its width ``W`` the rectangle takes as many
  double-loaded bays (space | aisle | space) as fit, then one more row with its
  own aisle if the rest allows; a site too narrow for a row and an aisle holds
  a single row reached from outside. Along the length, rows are cut into blocks
  of at most ``shed_block_max_length_m`` and ``shed_block_max_bikes`` (over all
  rows of the block), with ``shed_block_gap_m`` between blocks. The count is
  then scaled by area / rectangle area (for non-rectangles; sites filling
  99 % of their rectangle count as rectangles), capped by
  area / ``area_per_capacity_m2``, and is 0 where the site's minimum clear width
  is below one space length. Charging ports are ``ceil(bikes /
  bikes_per_charging_port)``, circuits ``ceil(ports / sockets_per_circuit_max)``.
- ``per_area``: ``floor(area / area_per_capacity_m2)``; no ports or circuits.

This is an estimate from the rectangle, not a stall layout; a shed's exact
layout belongs to `gridgis.layout` (later).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridgis._errors import GridGISError, SettingsError
from gridgis.settings import Settings

__all__ = ["check_metrics_index", "site_capacity", "site_ids", "site_types"]

_EPS = 0.01  # 1 cm: lengths within this of a multiple count as the multiple (digitising)
_NEAR_RECT = 0.99  # sites filling this much of their rectangle count as rectangles

_F = NDArray[np.float64]


def site_ids(sites: pd.DataFrame) -> pd.Series:
    """Each site's ``site_id`` as text, else its index label."""
    if "site_id" in sites:
        ids = sites["site_id"].astype(object)
        return ids.where(ids.notna(), pd.Series(sites.index, index=sites.index)).astype(str)
    return pd.Series(sites.index, index=sites.index).astype(str)


def site_types(sites: pd.DataFrame, *, settings: Settings) -> pd.Series:
    """Each site's ``site_type``, checked against the site types in `settings`.

    Raises
    ------
    GridGISError
        A site has no ``site_type`` or one not in ``settings.site_types``;
        the message names every such site and value.
    """
    known = settings.site_types
    if "site_type" not in sites:
        msg = f"sites have no 'site_type' column; use one of {', '.join(known)}"
        raise GridGISError(msg)
    types = sites["site_type"]
    bad = ~types.isin(list(known))
    if bad.any():
        ids = site_ids(sites)
        wrong = "; ".join(f"site {ids[k]!r}: site_type={types[k]!r}" for k in types.index[bad])
        msg = f"unknown site type ({wrong}); known types: {', '.join(known)}"
        raise GridGISError(msg)
    return types.astype(str)


def check_metrics_index(frame: pd.DataFrame, sites: pd.DataFrame, name: str) -> None:
    """Raise `GridGISError` unless `frame` has exactly the index of `sites`."""
    if not frame.index.equals(sites.index):
        msg = (
            f"{name} must have the sites' index (len {len(sites)}), got an index of "
            f"len {len(frame)}: {frame.index[:5].tolist()!r}"
        )
        raise GridGISError(msg)


def _positive(value: float, key: str) -> float:
    if not value > 0:
        raise SettingsError(f"setting {key!r} must be > 0 for capacity, got {value!r}")
    return float(value)


def _floor(x: _F) -> _F:
    """Whole count below `x` (>= 0), forgiving float noise."""
    return np.floor(np.maximum(x, 0.0) + 1e-9)


def _fits(length: _F | float, unit: _F | float) -> _F:
    """How many `unit` lengths fit in `length`, forgiving `_EPS` of digitising error."""
    return _floor((np.asarray(length, dtype=float) + _EPS) / unit)


def _rect_sides(geoms: NDArray[np.object_]) -> tuple[_F, _F]:
    """Long and short side of each polygon's minimum rotated rectangle."""
    rect = shapely.oriented_envelope(geoms)
    ring = shapely.get_coordinates(shapely.get_exterior_ring(rect)).reshape(-1, 5, 2)
    sides = np.hypot(*np.moveaxis(np.diff(ring[:, :3], axis=1), 2, 0))
    return sides.max(axis=1), sides.min(axis=1)


def _bike_stalls(
    geoms: NDArray[np.object_], area: _F, min_width: _F, apc: float, settings: Settings
) -> tuple[_F, _F]:
    """Bikes and blocks for shed sites (arrays aligned with `geoms`)."""
    r = settings.rules
    depth = _positive(r.bike_space_length_m.value, "rules.bike_space_length_m")
    width = _positive(r.bike_space_width_m.value, "rules.bike_space_width_m")
    block_len = _positive(r.shed_block_max_length_m.value, "rules.shed_block_max_length_m")
    block_bikes = _positive(r.shed_block_max_bikes.value, "rules.shed_block_max_bikes")
    gap = r.shed_block_gap_m.value
    aisle = r.shed_aisle_width_m.value
    length, across = _rect_sides(geoms)
    # rows across the width: double-loaded bays, then a row with aisle, else one row alone
    bay = 2 * depth + aisle
    bays = _fits(across, bay)
    rest = across - bays * bay
    extra = (rest + _EPS >= depth + aisle) | ((bays == 0) & (rest + _EPS >= depth))
    rows = 2 * bays + extra
    # spaces per row in one full block: by block length and by bikes per block
    per_row = np.minimum(
        _fits(np.full_like(rows, block_len), width), _floor(block_bikes / np.maximum(rows, 1.0))
    )
    per_row = np.maximum(per_row, 1.0)
    full_len = per_row * width
    full = _fits(length + gap, full_len + gap)
    partial = np.minimum(_fits(length - full * (full_len + gap), width), per_row)
    stalls = rows * (full * per_row + partial)
    fill = np.clip(area / np.maximum(length * across, 1e-12), 0.0, 1.0)
    fill = np.where(fill >= _NEAR_RECT, 1.0, fill)
    bikes = np.minimum(_floor(stalls * fill), _floor(area / apc))
    bikes = np.where(np.nan_to_num(min_width) + _EPS >= depth, bikes, 0.0)
    block_size = rows * per_row
    blocks = np.where(bikes > 0, np.ceil(bikes / np.maximum(block_size, 1.0) - 1e-9), 0.0)
    return bikes, blocks


def site_capacity(
    sites: gpd.GeoDataFrame, *, metrics: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Capacity of each site by its type's rule, with charging ports and circuits.

    Parameters
    ----------
    sites
        Site polygons in a metric CRS with a ``site_type`` column.
    metrics
        `gridgis.metrics.geometry_metrics` of `sites` (same index).
    settings
        Project settings: ``site_types`` and ``rules``.

    Returns
    -------
    DataFrame
        Index of `sites`; ``capacity`` (int), ``capacity_unit`` (str, from the
        site type), ``charging_ports``, ``circuits`` and ``blocks`` (int; 0 for
        types without the ``bike_stalls`` rule).

    Raises
    ------
    GridGISError
        A site's ``site_type`` is not a site type in `settings`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> from gridgis.metrics import geometry_metrics
    >>> from gridgis.settings import default_settings
    >>> s = gpd.GeoDataFrame({"site_type": ["parking_shed"]}, geometry=[box(0, 0, 20, 6.2)])
    >>> c = site_capacity(s, metrics=geometry_metrics(s), settings=default_settings())
    >>> c.to_dict("records")
    [{'capacity': 50, 'capacity_unit': 'bikes', 'charging_ports': 17, 'circuits': 2, 'blocks': 1}]
    """
    check_metrics_index(metrics, sites, "metrics")
    types = site_types(sites, settings=settings)
    n = len(sites)
    area = np.nan_to_num(metrics["area_m2"].to_numpy(dtype=float))
    min_width = metrics["min_width_m"].to_numpy(dtype=float)
    geoms = np.asarray(sites.geometry.to_numpy(), dtype=object)
    capacity = np.zeros(n)
    blocks = np.zeros(n)
    ports = np.zeros(n)
    units = np.empty(n, dtype=object)
    for key in pd.unique(types):
        st = settings.site_types[key]
        at = (types == key).to_numpy()
        units[at] = st.capacity_unit
        apc = _positive(st.area_per_capacity_m2.value, f"site_types.{key}.area_per_capacity_m2")
        if st.capacity_rule == "bike_stalls":
            has = at & (area > 0)
            capacity[has], blocks[has] = _bike_stalls(
                geoms[has], area[has], min_width[has], apc, settings
            )
            per_port = _positive(
                settings.rules.bikes_per_charging_port.value, "rules.bikes_per_charging_port"
            )
            ports[at] = np.ceil(capacity[at] / per_port - 1e-9)
        else:
            capacity[at] = _floor(area[at] / apc)
    per_circuit = settings.rules.sockets_per_circuit_max.value
    circuits = np.zeros(n)
    if (ports > 0).any():
        per_circuit = _positive(per_circuit, "rules.sockets_per_circuit_max")
        circuits = np.ceil(ports / per_circuit - 1e-9)
    return pd.DataFrame(
        {
            "capacity": capacity.astype(np.int64),
            "capacity_unit": units,
            "charging_ports": ports.astype(np.int64),
            "circuits": circuits.astype(np.int64),
            "blocks": blocks.astype(np.int64),
        },
        index=sites.index,
    )
