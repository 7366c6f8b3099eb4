"""Array helpers of the corner search: grouped unions, padding, first per group, ids."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["FloatArray", "ObjArray", "first_per_group", "grouped_union", "layer_ids", "padded"]


ObjArray = NDArray[np.object_]
"""An array of geometries (or other Python objects)."""
FloatArray = NDArray[np.float64]
"""An array of floats: lengths, areas, coordinates."""


def layer_ids(frame: gpd.GeoDataFrame, column: str) -> ObjArray:
    """The ids in `column` as strings, or ``row 1``, ``row 2``... when there is no such column."""
    if column in frame:
        return frame[column].astype(str).to_numpy(dtype=object)
    return np.array([f"row {i + 1}" for i in range(len(frame))], dtype=object)


def grouped_union(n: int, group: NDArray[np.intp], geoms: ObjArray) -> ObjArray:
    """Union of `geoms` per group 0..n-1 (empty collection for an empty group)."""
    if len(group) == 0:
        return np.array([shapely.GeometryCollection()] * n, dtype=object)
    counts = np.bincount(group, minlength=n)
    if counts.max() > 1 and (counts == 1).sum() > len(group) / 2:  # mostly singletons
        out = np.array([shapely.GeometryCollection()] * n, dtype=object)
        alone = counts[group] == 1
        out[group[alone]] = geoms[alone]
        many = np.flatnonzero(counts > 1)
        sub = grouped_union(len(many), np.searchsorted(many, group[~alone]), geoms[~alone])
        out[many] = sub
        return out
    if int(counts.max()) * n <= 4 * len(group) + 10_000:  # one vectorised call
        return shapely.union_all(padded(n, group, geoms), axis=1)
    order = np.argsort(group, kind="stable")  # very uneven groups: one call per group
    cuts = np.cumsum(counts)[:-1]
    return np.array(
        [shapely.union_all(part) for part in np.split(geoms[order], cuts)], dtype=object
    )


def padded(n: int, group: NDArray[np.intp], geoms: ObjArray) -> ObjArray:
    """`geoms` as an (n, widest group) array, one row per group, padded with None."""
    counts = np.bincount(group, minlength=n)
    order = np.argsort(group, kind="stable")
    pos = np.arange(len(group)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.full((n, max(int(counts.max(initial=0)), 1)), None, dtype=object)
    grid[group[order], pos] = geoms[order]
    return grid


def first_per_group(group: NDArray[np.intp], key: FloatArray) -> NDArray[np.intp]:
    """Positions of the largest `key` in each group (groups in sorted order)."""
    order = np.lexsort((-key, group))
    return order[np.r_[True, group[order][1:] != group[order][:-1]]]
