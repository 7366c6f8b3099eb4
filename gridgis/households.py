"""Households per building: the number every per-household figure rests on.

Households are data (a ``households`` value per building). Only when that is
missing are they derived as units x floors x households per floor, and the
derivation is flagged; a building with neither is reported as unknown, never
counted as 0.

`served_households` and `adjacent_households` count the households a site
serves (within its service distance: walking along the paths when there are
any, see `gridgis.network`) and the neighbours to consult first (straight
line, edge to edge). Layers must already be in a metric CRS.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgis._errors import GridGISError
from gridgis.crs import require_metric
from gridgis.network import PathNetwork, build_network, pair_distances

__all__ = ["adjacent_households", "resolve_households", "served_households"]


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def resolve_households(buildings: pd.DataFrame, *, per_floor: float) -> pd.DataFrame:
    """Return each building's households and whether they were derived.

    Parameters
    ----------
    buildings
        The buildings layer (``households``; optionally ``units``, ``floors``).
    per_floor
        Households per floor per unit, used only where ``households`` is missing.

    Returns
    -------
    DataFrame
        Index of `buildings`; ``households`` (float, NaN when unknown) and
        ``derived`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"households": [28, None, None], "units": [1, 2, None],
    ...                   "floors": [7, 6, None]})
    >>> resolve_households(b, per_floor=2).to_dict("list")
    {'households': [28.0, 24.0, nan], 'derived': [False, True, False]}
    """
    given = _numeric(buildings, "households")
    fallback = _numeric(buildings, "units") * _numeric(buildings, "floors") * per_floor
    derived = given.isna() & fallback.notna()
    households = given.where(~derived, fallback)
    return pd.DataFrame({"households": households, "derived": derived}, index=buildings.index)


def _per_site(value: pd.Series | float, sites: pd.DataFrame, name: str) -> np.ndarray:
    """A distance per site, positional; raise naming `name` on a gap or a bad value."""
    if isinstance(value, pd.Series):
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


def _building_ids(buildings: pd.DataFrame) -> np.ndarray:
    if "building_id" not in buildings:
        raise GridGISError(
            "buildings has no 'building_id' column; the layer contract needs one id per building"
        )
    return buildings["building_id"].to_numpy(dtype=object)


def _group_lists(n: int, source: np.ndarray, values: np.ndarray) -> list[list[object]]:
    """`values` split by `source` (sorted positions 0..n-1) into n lists."""
    out: list[list[object]] = [[] for _ in range(n)]
    if len(source):
        cuts = np.flatnonzero(np.diff(source)) + 1
        for s, chunk in zip(source[np.r_[0, cuts]], np.split(values, cuts), strict=True):
            out[int(s)] = chunk.tolist()
    return out


def _summarise(
    sites: pd.DataFrame, pairs: pd.DataFrame, households: np.ndarray, ids: np.ndarray
) -> tuple[np.ndarray, list[list[object]], list[list[object]]]:
    n = len(sites)
    src = pairs["source"].to_numpy()
    hh = households[pairs["target"].to_numpy()]
    known = ~np.isnan(hh)
    total = np.bincount(src[known], weights=hh[known], minlength=n).astype(float)
    listed = _group_lists(n, src, ids[pairs["target"].to_numpy()])
    unknown = _group_lists(n, src[~known], ids[pairs["target"].to_numpy()[~known]])
    return total, listed, unknown


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
        `gridgis.network.build_network`). When given and non-empty, distance
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
    require_metric({"sites": sites, "buildings": buildings, "paths": paths})
    radius = _per_site(radius_m, sites, "radius_m")
    ids = _building_ids(buildings)
    households = resolve_households(buildings, per_floor=per_floor)["households"].to_numpy()
    network = None
    if isinstance(paths, PathNetwork):
        network = paths if len(paths) else None
    elif paths is not None and len(paths):
        network = build_network(paths)
        network = network if len(network) else None
    pairs = pair_distances(sites, buildings, max_distance_m=radius, network=network)
    if network is None:
        method = np.full(len(sites), "straight_line", dtype=object)
    else:
        method = np.full(len(sites), "network", dtype=object)
        fell_back = pairs.loc[pairs["method"] == "straight_line", "source"].unique()
        method[fell_back] = "network+straight_line"
    total, listed, unknown = _summarise(sites, pairs[pairs["within"]], households, ids)
    return pd.DataFrame(
        {
            "households_served": total,
            "buildings_served": listed,
            "buildings_unknown": unknown,
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
    require_metric({"sites": sites, "buildings": buildings})
    reach = _per_site(distance_m, sites, "distance_m")
    ids = _building_ids(buildings)
    households = resolve_households(buildings, per_floor=per_floor)["households"].to_numpy()
    pairs = pair_distances(sites, buildings, max_distance_m=reach)
    total, listed, unknown = _summarise(sites, pairs[pairs["within"]], households, ids)
    return pd.DataFrame(
        {
            "households_adjacent": total,
            "buildings_adjacent": listed,
            "buildings_adjacent_unknown": unknown,
        },
        index=sites.index,
    )
