"""Memos of the suggest-sites numbers: `suggest` (corners and survey) and `stall_layout`.

The suggest-sites page reruns on every click; finding the corners again costs
about a second, so both results are kept in a small memo keyed by what they
are made of. This is sound because of one invariant:

    `find_corners` and `compare_spaces` read only the project's
    `CORNER_LAYERS` (``compound``, ``buildings``, ``paths``, ``spaces``), its
    settings and, of the sites, each site's `SITE_COLUMNS` (``site_id``,
    ``status``) and outline, in order. `layout_site` of one site reads only
    the ``buildings`` (the metric CRS), the settings, the aisle and that
    site's ``site_id``, ``site_type`` and outline.

The keys hold those inputs by content (a digest of each layer's columns,
values, index, CRS and geometry WKB; the settings' JSON), never by object
identity, so a project opened again or a site moved and moved back finds its
entry, and any change to what is read is a miss. A function that ever reads
another layer or column must add it here (``tests/test_corners_memo.py``
checks hits against fresh computes and that a changed site invalidates).
Errors are never memoised. Results are copies; object cells (the id lists)
are shared: treat them as read-only.

Examples
--------
>>> from gridgis.core.project import open_project
>>> memo = CornerMemo(maxsize=4)
>>> found, compared = suggest(open_project("data/dongsi180"), memo=memo)
>>> again, _ = suggest(open_project("data/dongsi180"), memo=memo)
>>> (memo.misses, memo.hits, again.equals(found))
(1, 1, True)
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgis.analysis.corners.adopt import compare_spaces
from gridgis.analysis.corners.find import find_corners
from gridgis.analysis.memo import plain_value
from gridgis.analysis.stalls.site import layout_site
from gridgis.core.project import Project
from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = [
    "CORNER_LAYERS",
    "MEMO",
    "SITE_COLUMNS",
    "CornerMemo",
    "layer_digest",
    "stall_layout",
    "suggest",
    "with_sites",
]

CORNER_LAYERS = ("compound", "buildings", "paths", "spaces")
"""The layers `find_corners` and `compare_spaces` read besides ``sites``."""

SITE_COLUMNS = ("site_id", "status")
"""The site columns `find_corners` and `compare_spaces` read (with the outline)."""

_LAYOUT_COLUMNS = ("site_id", "site_type")

T = TypeVar("T")


class CornerMemo:
    """A thread-safe, bounded (LRU) map of input keys to results.

    Parameters
    ----------
    maxsize
        Results kept; the least recently used go first (0: keep none).
    """

    def __init__(self, maxsize: int = 16) -> None:
        if maxsize < 0:
            raise GridGISError(f"maxsize must be >= 0, got {maxsize!r}")
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._entries.clear()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The result held under `key`, or `compute()` held under it (errors are not held)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]  # type: ignore[return-value]
            self.misses += 1
        value = compute()  # outside the lock: a long compute does not block hits
        if self.maxsize:
            with self._lock:
                self._entries[key] = value
                self._entries.move_to_end(key)
                while len(self._entries) > self.maxsize:
                    self._entries.popitem(last=False)
        return value


MEMO = CornerMemo()
"""The memo `suggest` and `stall_layout` use by default (one per process)."""


def _hash_column(values: pd.Series) -> bytes:
    try:
        hashed = pd.util.hash_pandas_object(values, index=False)
    except TypeError:  # unhashable cells (lists): hash their text
        hashed = pd.util.hash_pandas_object(values.map(repr), index=False)
    return hashed.to_numpy().tobytes()


def layer_digest(frame: gpd.GeoDataFrame | None) -> bytes:
    """A digest of a layer's content: columns, dtypes, values, index, CRS and geometry WKB.

    Examples
    --------
    >>> from shapely import Point
    >>> a = gpd.GeoDataFrame({"x": [1]}, geometry=[Point(0, 0)], crs=4326)
    >>> layer_digest(a) == layer_digest(a.copy()), layer_digest(a) == layer_digest(a.iloc[:0])
    (True, False)
    """
    if frame is None:
        return b""
    h = hashlib.blake2b(digest_size=16)
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    crs = frame.crs if geometry is not None else None
    head = [list(map(str, frame.columns)), [str(d) for d in frame.dtypes], str(crs), len(frame)]
    h.update(repr(head).encode())
    h.update(pd.util.hash_pandas_object(frame.index).to_numpy().tobytes())
    for column in frame.columns:
        if column != geometry:
            h.update(_hash_column(frame[column]))
    if geometry is not None:
        for wkb in shapely.to_wkb(np.asarray(frame.geometry.array, dtype=object)):
            h.update(len(wkb).to_bytes(8, "little") + wkb if wkb is not None else b"\xff" * 8)
    return h.digest()


def _settings_key(settings: Settings) -> bytes:
    return hashlib.blake2b(settings.model_dump_json().encode(), digest_size=16).digest()


def _sites_key(sites: gpd.GeoDataFrame | None, columns: tuple[str, ...]) -> Hashable:
    """The sites' `columns` (and which of them exist), outlines (WKB) and CRS, in order."""
    if sites is None or len(sites) == 0:
        return ()
    present = tuple(c in sites for c in columns)
    values = [sites[c].to_numpy(dtype=object) for c in columns if c in sites]
    wkb = shapely.to_wkb(np.asarray(sites.geometry.array, dtype=object))
    rows = tuple(
        (*(plain_value(col[k]) for col in values), wkb[k] if wkb[k] is not None else None)
        for k in range(len(sites))
    )
    return (present, str(sites.crs), rows)


def with_sites(project: Project, sites: gpd.GeoDataFrame | None) -> Project:
    """`project` with `sites` as its sites layer (none when `sites` is None or empty).

    The project is not changed; the new one shares its other layers.
    """
    layers = dict(project.layers)
    if sites is not None and len(sites):
        layers["sites"] = sites
    else:
        layers.pop("sites", None)
    return dataclasses.replace(project, layers=layers)


def suggest(
    project: Project,
    sites: gpd.GeoDataFrame | None = None,
    *,
    settings: Settings | None = None,
    memo: CornerMemo | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``(find_corners, compare_spaces)`` of a project with `sites`, memoised.

    Parameters
    ----------
    project
        The project (see `find_corners`).
    sites
        The sites to keep clear, replacing the project's own (e.g. the sites
        stored now); default: the project's ``sites`` layer.
    settings
        Default: the project's settings.
    memo
        Default: `MEMO`.

    Returns
    -------
    tuple of GeoDataFrame
        The candidates and the surveyed spaces beside them, equal to
        ``find_corners(p)`` and ``compare_spaces(p, find_corners(p))`` for
        ``p = with_sites(project, sites)``.

    Raises
    ------
    GridGISError
        What `find_corners` raises (no compound).
    """
    if sites is not None:
        project = with_sites(project, sites)
    settings = settings or project.settings
    key = (
        "suggest",
        tuple(layer_digest(project.layers.get(name)) for name in CORNER_LAYERS),
        _settings_key(settings),
        _sites_key(project.layers.get("sites"), SITE_COLUMNS),
    )

    def compute() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        found = find_corners(project, settings=settings)
        return found, compare_spaces(project, found, settings=settings)

    found, compared = (MEMO if memo is None else memo).get_or_compute(key, compute)
    return found.copy(), compared.copy()


def stall_layout(
    project: Project,
    site_id: str,
    sites: gpd.GeoDataFrame | None = None,
    *,
    settings: Settings | None = None,
    aisle_m: float | None = None,
    memo: CornerMemo | None = None,
) -> gpd.GeoDataFrame:
    """`layout_site` of one site, memoised by what it reads.

    Parameters
    ----------
    project, site_id, settings, aisle_m
        As for `layout_site`.
    sites
        The sites to look `site_id` up in; default: the project's own.
    memo
        Default: `MEMO`.

    Raises
    ------
    GridGISError
        What `layout_site` raises (no such site, a type without stalls).
    """
    if sites is not None:
        project = with_sites(project, sites)
    settings = settings or project.settings
    layer = project.layers.get("sites")
    hit = None
    if layer is not None and "site_id" in layer:
        hit = layer[layer["site_id"].astype(str) == str(site_id)]
    if hit is None or len(hit) != 1:  # not one site: layout_site says why
        return layout_site(project, site_id, settings=settings, aisle_m=aisle_m)
    key = (
        "layout",
        layer_digest(project.layers.get("buildings")),
        _settings_key(settings),
        None if aisle_m is None else float(aisle_m),
        _sites_key(hit, _LAYOUT_COLUMNS),
    )

    def compute() -> gpd.GeoDataFrame:
        return layout_site(project, site_id, settings=settings, aisle_m=aisle_m)

    return (MEMO if memo is None else memo).get_or_compute(key, compute).copy()
