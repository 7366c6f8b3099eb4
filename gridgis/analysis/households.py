"""Households per building: the number every per-household figure rests on.

Households are data (a ``households`` value per building). Only when that is
missing are they derived as units x floors x households per floor, and the
derivation is flagged; a building with neither is reported as unknown, never
counted as 0.

`served_households` and `adjacent_households` count the households a site
serves (within its service distance: walking along the paths when there are
any, see `gridgis.analysis.network`) and the neighbours to consult first (straight
line, edge to edge). Layers must already be in a metric CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from geopandas.array import GeometryArray
from numpy.typing import NDArray

from gridgis.analysis.network import PathNetwork, build_network, pair_arrays
from gridgis.core.crs import require_metric
from gridgis.core.schema import household_counts, resolve_households
from gridgis.errors import GridGISError

# resolve_households lives in gridgis.core.schema (the layer contract derives households
# from units x floors); it stays importable from here
__all__ = ["adjacent_households", "resolve_households", "served_households"]


def _per_site(value: pd.Series | float, sites: pd.DataFrame, name: str) -> NDArray[np.float64]:
    """A distance per site, positional; raise naming `name` on a gap or a bad value."""
    if isinstance(value, pd.Series):
        dtype = value.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf" and value.index.equals(sites.index):
            arr = value.to_numpy(dtype=float)  # already aligned: no reindex, no to_numeric
        else:
            missing = sites.index.difference(value.index)
            if len(missing):
                raise GridGISError(
                    f"{name} has no value for site index {list(missing[:5])!r}; pass a Series "
                    "aligned with the sites (one distance per site)"
                )
            value = value.reindex(sites.index)
            arr = pd.to_numeric(value, errors="coerce").to_numpy(dtype=float)
    else:
        arr = np.full(len(sites), value, dtype=float)
    bad = ~(arr >= 0) | ~np.isfinite(arr)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        shown = value.iloc[pos] if isinstance(value, pd.Series) else value
        shown = shown.item() if isinstance(shown, np.generic) else shown
        raise GridGISError(
            f"{name} must be a finite number >= 0 (metres) for every site, got {shown!r} "
            f"for site index {sites.index[pos]!r}"
        )
    return arr


def _building_ids(buildings: pd.DataFrame) -> NDArray[np.object_]:
    if "building_id" not in buildings:
        raise GridGISError(
            "buildings has no 'building_id' column; the layer contract needs one id per building"
        )
    return buildings["building_id"].to_numpy(dtype=object)


def _group_lists(n: int, source: NDArray[np.intp], values: NDArray) -> list[list[object]]:
    """`values` split by `source` (sorted positions 0..n-1) into n lists."""
    out: list[list[object]] = [[] for _ in range(n)]
    if len(source):
        cuts = np.flatnonzero(np.diff(source)) + 1
        for s, chunk in zip(source[np.r_[0, cuts]], np.split(values, cuts), strict=True):
            out[int(s)] = chunk.tolist()
    return out


def _summarise(
    n: int, source: NDArray[np.intp], target: NDArray[np.intp], households: NDArray, ids: NDArray
) -> tuple[NDArray[np.float64], list[list[object]], list[list[object]]]:
    hh = households[target]
    known = ~np.isnan(hh)
    total = np.bincount(source[known], weights=hh[known], minlength=n).astype(float)
    listed = _group_lists(n, source, ids[target])
    unknown = _group_lists(n, source[~known], ids[target[~known]])
    return total, listed, unknown


def _object_column(values: list[list[object]]) -> NDArray[np.object_]:
    """A 1-d object array of lists (``np.array`` would make equal-length lists 2-d)."""
    out = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        out[k] = v
    return out


def _geometry(layer: gpd.GeoDataFrame | None) -> GeometryArray | None:
    """The layer's geometries with their CRS: one column lookup (``gdf.crs`` costs one each)."""
    return None if layer is None else layer.geometry.array


def served_households(
    sites: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    radius_m: pd.Series | float,
    paths: gpd.GeoDataFrame | PathNetwork | None = None,
    per_floor: float,
) -> pd.DataFrame:
    """Households in the buildings within each site's service distance.

    Parameters
    ----------
    sites, buildings
        The layers, in one metric CRS.
    radius_m
        Service distance in metres: one number, or a Series aligned with the
        sites (usually ``service_radius_m`` of each site's type).
    paths
        The paths layer (or a network built from it with
        `gridgis.analysis.network.build_network`). When given and non-empty, distance
        is walked along it: access leg + path + access leg. Without it,
        straight line, edge to edge.
    per_floor
        Households per floor per unit, for buildings without ``households``
        (see `resolve_households`).

    Returns
    -------
    DataFrame
        Index of `sites`: ``households_served`` (float, known households only,
        never NaN), ``buildings_served`` (ids of every building within reach,
        nearest first), ``buildings_unknown`` (those of them whose households
        are unknown and so not counted) and ``distance_method``:
        ``"network"``, ``"straight_line"`` or ``"network+straight_line"``
        (some buildings are on a part of the network the site's part does not
        reach, and were measured in a straight line).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> sites = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 6)], crs=4544)
    >>> b = gpd.GeoDataFrame({"building_id": ["B1", "B2", "B3"], "households": [28, None, 56]},
    ...                      geometry=[box(20, 0, 60, 11), box(0, 30, 40, 41),
    ...                                box(0, 90, 40, 101)], crs=4544)
    >>> out = served_households(sites, b, radius_m=50.0, per_floor=2).iloc[0]
    >>> float(out.households_served), out.buildings_served, out.buildings_unknown
    (28.0, ['B1', 'B2'], ['B2'])
    """
    site_geoms, building_geoms = _geometry(sites), _geometry(buildings)
    require_metric({"sites": site_geoms, "buildings": building_geoms, "paths": paths})
    radius = _per_site(radius_m, sites, "radius_m")
    ids = _building_ids(buildings)
    households, _ = household_counts(buildings, per_floor=per_floor)
    network = None
    if isinstance(paths, PathNetwork):
        network = paths if len(paths) else None
    elif paths is not None and len(paths):
        network = build_network(paths)
        network = network if len(network) else None
    sites_g = np.asarray(site_geoms, dtype=object)
    pairs = pair_arrays(
        sites_g, np.asarray(building_geoms, dtype=object), radius, network, site_geoms
    )
    n = len(sites_g)
    if network is None:
        method = np.full(n, "straight_line", dtype=object)
    else:
        method = np.full(n, "network", dtype=object)
        method[pairs["source"][pairs["method"] == "straight_line"]] = "network+straight_line"
    within = pairs["within"]
    total, listed, unknown = _summarise(
        n, pairs["source"][within], pairs["target"][within], households, ids
    )
    return pd.DataFrame(
        {
            "households_served": total,
            "buildings_served": _object_column(listed),
            "buildings_unknown": _object_column(unknown),
            "distance_method": method,
        },
        index=sites.index,
    )


def adjacent_households(
    sites: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    distance_m: pd.Series | float,
    per_floor: float,
) -> pd.DataFrame:
    """Households in the buildings within consultation distance of each site.

    Straight line, edge to edge: a building touching or overlapping the site
    is at distance 0.

    Parameters
    ----------
    sites, buildings
        The layers, in one metric CRS.
    distance_m
        Consultation distance in metres: one number, or a Series aligned with
        the sites (usually ``consultation_distance_m`` of each site's type).
    per_floor
        Households per floor per unit, for buildings without ``households``.

    Returns
    -------
    DataFrame
        Index of `sites`: ``households_adjacent`` (float, known households
        only), ``buildings_adjacent`` (ids, nearest first) and
        ``buildings_adjacent_unknown`` (those whose households are unknown).
    """
    site_geoms, building_geoms = _geometry(sites), _geometry(buildings)
    require_metric({"sites": site_geoms, "buildings": building_geoms})
    reach = _per_site(distance_m, sites, "distance_m")
    ids = _building_ids(buildings)
    households, _ = household_counts(buildings, per_floor=per_floor)
    sites_g = np.asarray(site_geoms, dtype=object)
    pairs = pair_arrays(sites_g, np.asarray(building_geoms, dtype=object), reach, None, site_geoms)
    within = pairs["within"]
    total, listed, unknown = _summarise(
        len(sites_g), pairs["source"][within], pairs["target"][within], households, ids
    )
    return pd.DataFrame(
        {
            "households_adjacent": total,
            "buildings_adjacent": _object_column(listed),
            "buildings_adjacent_unknown": _object_column(unknown),
        },
        index=sites.index,
    )
