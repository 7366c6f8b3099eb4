"""E-bike shed stall layout: 2.0 x 0.8 m spaces in rows, with aisles and fire blocks.

`layout_stalls` fills one polygon (metric CRS) with spaces of
``rules.bike_space_length_m`` deep and ``rules.bike_space_width_m`` wide, the
bikes side by side in rows. Across the rows the pattern is a *bay*: row |
aisle | row, bays back to back (their outer rows touch), then one more row with
its own aisle if the rest allows; a polygon too narrow for a row and an aisle
takes a single row reached from outside. Along the rows, spaces are cut into
*blocks* of at most ``shed_block_max_length_m`` and ``shed_block_max_bikes``
with ``shed_block_gap_m`` between blocks (Sichuan 2024). Rows closer than the
block gap (back-to-back rows, or rows across an aisle narrower than the gap)
belong to the same blocks; an aisle at least as wide as the gap separates blocks.

Orientations tried: both axes of the minimum rotated rectangle and, for
non-rectangles, both axes of the longest edge; each with the pattern flush to
either side. The most stalls wins (ties: the first, rows along the rectangle's
long side). Lengths within ``TOLERANCE_M`` (1 cm) of a fit count as fitting,
as in `gridgis.analysis.capacity`: digitising noise (a 20 x 6.2 m shed stored at 7
decimals of a degree) must not lose a row. So a polygon within 5 mm of its
bounding rectangle is laid out as that rectangle, and a stall crosses the drawn
edge only where the site is within 1 cm of holding it, by at most 5 mm; runs
that fit with room to spare sit flush inside the edge.

`rectangle_stalls` gives the same count for rectangles in closed form, for
many sites at once (the analysis engine uses it; see `gridgis.analysis.capacity`). It
and `charging` live in `gridgis.analysis.stalls.closedform` and are re-exported here;
the orientation search and the packing of rows into blocks live in
`gridgis.analysis.stalls.packing`.

Examples
--------
>>> from shapely import box
>>> from gridgis.core.settings import default_settings
>>> lay = layout_stalls(box(0, 0, 20, 6.2), settings=default_settings())
>>> lay.count, lay.charging_ports, lay.circuits, lay.blocks
(50, 17, 2, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from gridgis.analysis.stalls.closedform import (
    TOLERANCE_M,
    StallRules,
    charging,
    rectangle_arrays,
    rectangle_stalls,
    stall_rules,
)
from gridgis.analysis.stalls.packing import (
    SLIVER_M2,
    edge_frames,
    part_layouts,
    rectangular,
    rotate,
)
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = [
    "TOLERANCE_M",
    "StallLayout",
    "charging",
    "layout_stalls",
    "rectangle_stalls",
    "stall_arrays",
    "stall_counts",
]


@dataclass(frozen=True)
class StallLayout:
    """Stalls laid out in one shed site (metric CRS of the input).

    Attributes
    ----------
    stalls
        One rectangle per space (``bike_space_length_m`` x ``bike_space_width_m``).
    block
        Block number of each stall (1, 2, ...), aligned with `stalls`.
    count
        Number of stalls (bikes).
    charging_ports
        ``ceil(count / rules.bikes_per_charging_port)``.
    circuits
        ``ceil(charging_ports / rules.sockets_per_circuit_max)``.
    blocks
        Number of blocks.
    orientation_deg
        Direction of the rows, degrees counter-clockwise from the x axis (0-180).
    aisles
        The aisle strips, clipped to the site.
    """

    stalls: gpd.GeoSeries
    block: NDArray[np.int64]
    count: int
    charging_ports: int
    circuits: int
    blocks: int
    orientation_deg: float
    aisles: gpd.GeoSeries


def _empty_layout(angle: float = 0.0) -> StallLayout:
    empty = gpd.GeoSeries([], dtype="geometry")
    return StallLayout(empty, np.empty(0, dtype=np.int64), 0, 0, 0, 0, angle, empty)


def _polygon(site: Any) -> BaseGeometry | None:
    if isinstance(site, gpd.GeoSeries | gpd.GeoDataFrame):
        if len(site) != 1:
            raise GridGISError(
                f"layout_stalls lays out one site: pass one polygon, got {len(site)} geometries"
            )
        site = site.geometry.iloc[0]
    if site is None:
        return None
    if not isinstance(site, BaseGeometry):
        raise GridGISError(
            f"site_geometry_metric must be a shapely Polygon in metres, got {type(site).__name__}"
        )
    if site.is_empty:
        return None
    if shapely.get_type_id(site) not in (3, 6):
        raise GridGISError(
            f"site_geometry_metric must be a Polygon or MultiPolygon, got a {site.geom_type}"
        )
    if not site.is_valid:
        site = shapely.make_valid(site)
    return site


def _count_stalls(site: Any, ru: StallRules) -> tuple[int, int]:
    """Stalls and blocks `layout_stalls` lays out in `site`, without building their shapes."""
    polygon = _polygon(site)
    blocks: list[int] = []
    for part in [] if polygon is None else part_layouts(polygon, ru):
        offset = max(blocks, default=0)
        blocks += [offset + b for _, _, b in part.trial.stalls]
    return len(blocks), len(set(blocks))


def layout_stalls(
    site_geometry_metric: BaseGeometry, *, settings: Settings, aisle_m: float | None = None
) -> StallLayout:
    """Fill a shed site with e-bike spaces, aisles and blocks.

    Parameters
    ----------
    site_geometry_metric
        The site polygon in a metric CRS (metres); a one-row GeoSeries works too.
        Parts of a MultiPolygon are laid out one after the other (blocks in
        different parts are not kept 2 m apart: draw one polygon per shed).
    settings
        Project settings: space size, block limits and gap, aisle width,
        charging ratios (``rules``).
    aisle_m
        Aisle width in metres; default ``rules.shed_aisle_width_m``.

    Returns
    -------
    StallLayout
        Stall rectangles (each fully inside the site, up to `TOLERANCE_M` / 2 of
        digitising noise, none overlapping), their blocks, count, charging
        ports, circuits, row direction and aisles.

    Raises
    ------
    GridGISError
        Not a polygon, or `aisle_m` negative.
    SettingsError
        A space size or block limit that is not > 0.

    Examples
    --------
    >>> from shapely import box
    >>> from gridgis.core.settings import default_settings
    >>> lay = layout_stalls(box(0, 0, 10, 6), settings=default_settings(), aisle_m=1.5)
    >>> lay.count, lay.blocks, round(lay.orientation_deg)  # 1.5 m aisle < 2 m gap: one block
    (24, 1, 0)
    """
    ru = stall_rules(settings, aisle_m)
    site = _polygon(site_geometry_metric)
    if site is None:
        return _empty_layout()
    parts = part_layouts(site, ru)
    stalls: list[NDArray[np.object_]] = []
    aisles: list[BaseGeometry] = []
    blocks: list[int] = []
    for part in parts:
        best = part.trial
        offset = max(blocks, default=0)
        xs = np.array([s[0] for s in best.stalls])
        ys = np.array([s[1] for s in best.stalls])
        boxes = shapely.box(xs, ys, xs + ru.width, ys + ru.depth)
        stalls.append(rotate(boxes, best.angle, part.origin))
        blocks += [offset + s[2] for s in best.stalls]
        if len(best.aisles):
            xmin, _, xmax, _ = part.turned.bounds
            strips = shapely.box(xmin, best.aisles, xmax, best.aisles + ru.aisle)
            clipped = shapely.intersection(rotate(strips, best.angle, part.origin), part.part)
            aisles += [g for g in clipped if not g.is_empty and g.area > SLIVER_M2]
    if not stalls:
        return _empty_layout()
    count = len(blocks)  # one block number per stall
    ports, circuits = charging(count, settings=settings)
    return StallLayout(
        stalls=gpd.GeoSeries(np.concatenate(stalls)),
        block=np.asarray(blocks, dtype=np.int64),
        count=count,
        charging_ports=ports,
        circuits=circuits,
        blocks=len(set(blocks)),
        orientation_deg=round(float(parts[0].trial.angle), 6),
        aisles=gpd.GeoSeries(aisles, dtype="geometry"),
    )


def stall_counts(
    geoms: ArrayLike, *, settings: Settings, aisle_m: float | None = None
) -> pd.DataFrame:
    """Stalls and blocks of many sites: what `layout_stalls` gives for each.

    Rectangles (within 5 mm) are counted in closed form (`rectangle_stalls`),
    all at once; any other shape is laid out as by `layout_stalls` (counted
    without building the stall shapes).

    Parameters
    ----------
    geoms
        Site polygons in a metric CRS (array-like of shapely geometries).
    settings, aisle_m
        As in `layout_stalls`.

    Returns
    -------
    DataFrame
        Positional (0..n-1): ``count`` and ``blocks`` (int), ``rectangle`` (bool).

    Examples
    --------
    >>> from shapely import box, union_all
    >>> from gridgis.core.settings import default_settings
    >>> ell = union_all([box(0, 0, 10, 3), box(0, 0, 3, 10)])
    >>> stall_counts([box(0, 0, 20, 6.2), ell], settings=default_settings())["count"].tolist()
    [50, 18]
    """
    count, blocks, rect = stall_arrays(geoms, settings=settings, aisle_m=aisle_m)
    return pd.DataFrame({"count": count, "blocks": blocks, "rectangle": rect}, copy=False)


def stall_arrays(
    geoms: ArrayLike, *, settings: Settings, aisle_m: float | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """`stall_counts` as arrays (count, blocks, rectangle), without a frame."""
    g = np.asarray(geoms, dtype=object).reshape(-1)
    n = len(g)
    count = np.zeros(n, dtype=np.int64)
    blocks = np.zeros(n, dtype=np.int64)
    present = ~(shapely.is_missing(g) | shapely.is_empty(g))
    present[present] = shapely.area(g[present]) > 0
    if not present.any():  # nothing to lay out: the rules are not even read
        return count, blocks, present
    ru = stall_rules(settings, aisle_m)
    shown = g.copy()
    shown[~present] = None
    _, along, across, rects = edge_frames(shown)
    rect = present & rectangular(shown, rects)
    if rect.any():
        count[rect], blocks[rect], _ = rectangle_arrays(along[rect], across[rect], ru)
    for pos in np.flatnonzero(present & ~rect):
        count[pos], blocks[pos] = _count_stalls(g[pos], ru)
    return count, blocks, rect
