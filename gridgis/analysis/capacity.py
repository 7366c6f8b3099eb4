"""What a site holds: bikes in a shed, plots in a garden, persons in a room.

The rule is the site type's ``capacity_rule`` in settings:

- ``bike_stalls`` (``parking_shed``): the number of stalls `gridgis.analysis.stalls.layout`
  lays out in the site: ``bike_space_length_m`` x ``bike_space_width_m``
  spaces in rows with aisles, cut into blocks of at most
  ``shed_block_max_length_m`` and ``shed_block_max_bikes`` with
  ``shed_block_gap_m`` between blocks, trying both axes of the site. Rectangles
  (the usual site) are counted in closed form for all sites at once
  (`gridgis.analysis.stalls.layout.rectangle_stalls`); other shapes get a full layout each
  (a few ms a site). Lengths within 1 cm of a fit count as fitting
  (digitising). Charging ports are ``ceil(bikes / bikes_per_charging_port)``,
  circuits ``ceil(ports / sockets_per_circuit_max)``.
- ``per_area``: ``floor(area / area_per_capacity_m2)``; no ports or circuits.

The stall polygons themselves (for the map) come from `gridgis.analysis.stalls.layout.layout_site`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridgis.analysis.stalls.layout import charging, stall_arrays
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError, SettingsError

__all__ = [
    "check_metrics_index",
    "site_capacity",
    "site_id_array",
    "site_ids",
    "site_type_array",
    "site_types",
]

_F = NDArray[np.float64]


def site_ids(sites: pd.DataFrame) -> pd.Series:
    """Each site's ``site_id`` as text, else its index label."""
    if "site_id" in sites:
        ids = sites["site_id"].astype(object)
        return ids.where(ids.notna(), pd.Series(sites.index, index=sites.index)).astype(str)
    return pd.Series(sites.index, index=sites.index).astype(str)


def site_id_array(sites: pd.DataFrame) -> NDArray[np.object_]:
    """`site_ids` as an object array; quick when every ``site_id`` is already text."""
    if "site_id" in sites:
        ids = sites["site_id"].to_numpy(dtype=object)
        if all(type(v) is str for v in ids):  # nothing to fill in or convert
            return ids
    return site_ids(sites).to_numpy(dtype=object)


def _known(types: NDArray[np.object_], settings: Settings) -> bool:
    """True when every value of `types` is a site type in `settings`."""
    return all(isinstance(v, str) and v in settings.site_types for v in pd.unique(types))


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
    if not _known(types.to_numpy(dtype=object), settings):
        bad = ~types.isin(list(known))
        if bad.any():
            ids = site_ids(sites)
            wrong = "; ".join(f"site {ids[k]!r}: site_type={types[k]!r}" for k in types.index[bad])
            msg = f"unknown site type ({wrong}); known types: {', '.join(known)}"
            raise GridGISError(msg)
    return types.astype(str)


def site_type_array(sites: pd.DataFrame, *, settings: Settings) -> NDArray[np.object_]:
    """`site_types` as an object array (the vectorised metrics index with it)."""
    if "site_type" in sites:
        types = sites["site_type"].to_numpy(dtype=object)
        if _known(types, settings):
            return types
    return site_types(sites, settings=settings).to_numpy(dtype=object)  # raises


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


def site_capacity(
    sites: gpd.GeoDataFrame, *, metrics: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """Capacity of each site by its type's rule, with charging ports and circuits.

    Parameters
    ----------
    sites
        Site polygons in a metric CRS with a ``site_type`` column.
    metrics
        `gridgis.analysis.metrics.geometry_metrics` of `sites` (same index).
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
    >>> from gridgis.analysis.metrics import geometry_metrics
    >>> from gridgis.core.settings import default_settings
    >>> s = gpd.GeoDataFrame({"site_type": ["parking_shed"]}, geometry=[box(0, 0, 20, 6.2)])
    >>> c = site_capacity(s, metrics=geometry_metrics(s), settings=default_settings())
    >>> c.to_dict("records")
    [{'capacity': 50, 'capacity_unit': 'bikes', 'charging_ports': 17, 'circuits': 2, 'blocks': 2}]
    """
    check_metrics_index(metrics, sites, "metrics")
    # object arrays rather than Series, and stall counts as arrays rather than a frame:
    # pandas' per-call overhead dominated for a few sites
    types = site_type_array(sites, settings=settings)
    n = len(sites)
    area = np.nan_to_num(metrics["area_m2"].to_numpy(dtype=float))
    geoms = np.asarray(sites.geometry.to_numpy(), dtype=object)
    capacity = np.zeros(n)
    blocks = np.zeros(n)
    ports = np.zeros(n, dtype=np.int64)
    circuits = np.zeros(n, dtype=np.int64)
    units = np.empty(n, dtype=object)
    for key in pd.unique(types):
        st = settings.site_types[key]
        at = types == key
        units[at] = st.capacity_unit
        if st.capacity_rule == "bike_stalls":
            has = at & (area > 0)
            capacity[has], blocks[has], _ = stall_arrays(geoms[has], settings=settings)
            ports[at], circuits[at] = charging(capacity[at], settings=settings)
        else:
            apc = _positive(st.area_per_capacity_m2.value, f"site_types.{key}.area_per_capacity_m2")
            capacity[at] = _floor(area[at] / apc)
    return pd.DataFrame(
        {
            "capacity": capacity.astype(np.int64),
            "capacity_unit": units,
            "charging_ports": ports,
            "circuits": circuits,
            "blocks": blocks.astype(np.int64),
        },
        index=sites.index,
        copy=False,
    )
