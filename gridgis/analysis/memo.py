"""The per-site memo of `gridgis.analysis.engine.PreparedProject.analyze`.

The app analyses the site being drawn after every edit and the whole plan for
the exports; both go through one `SiteMemo`, so a site already analysed costs
a dictionary look-up. This is sound because of one invariant:

    A site's numbers (every per-site column and cost line) depend only on
    the prepared project (its layers and settings) and on the site's own
    `site_key`: ``site_id``, ``site_type`` and geometry (WKB, EPSG:4326).
    They do not depend on the other sites in the batch.

Batch-level numbers (plan totals, the plan's funding split, distinct
households) are computed from the rows each time and never memoised. A rule
that ever reads another site or another column must add it to `site_key`
(``tests/test_engine_memo.py`` checks the invariant on both samples).

A `Block` is the output of one computation (several sites); the memo maps a
key to (block, row). Entries are shared between results: treat the lists and
dicts in a result as read-only.

Examples
--------
>>> memo = SiteMemo(maxsize=2)
>>> memo.put([("a",), ("b",), ("c",)], Block.empty_for_doctest(3))
>>> [k for k in memo.keys()]
[('b',), ('c',)]
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pandas.api.extensions import ExtensionArray

from gridgis.errors import GridGISError

__all__ = [
    "KEY_COLUMNS",
    "MEMO_SIZE",
    "Block",
    "SiteMemo",
    "assemble",
    "plain_value",
    "site_keys",
]

KEY_COLUMNS = ("site_id", "site_type")
"""The site columns the engine reads (with the geometry); every other column is passed through."""

MEMO_SIZE = 4096
"""Sites a `SiteMemo` keeps by default (least recently used dropped first)."""


def plain_value(value: object) -> Hashable:
    """`value` as a plain hashable key part: None for missing, numpy scalars as Python ones."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) else value  # type: ignore[no-any-return]


def site_keys(sites: gpd.GeoDataFrame) -> list[tuple[Hashable, ...]]:
    """One memo key per site: its `KEY_COLUMNS` values and its geometry's WKB.

    Parameters
    ----------
    sites
        Sites in EPSG:4326 (as validated by the engine).
    """
    geoms = np.asarray(sites.geometry.array, dtype=object)
    wkb = shapely.to_wkb(geoms, hex=False, include_srid=False)
    columns = [
        sites[c].to_numpy(dtype=object) if c in sites else np.full(len(sites), None, dtype=object)
        for c in KEY_COLUMNS
    ]
    return [(*(plain_value(col[k]) for col in columns), wkb[k]) for k in range(len(sites))]


@dataclass(frozen=True, eq=False)
class Block:
    """The per-site output of one computation.

    Attributes
    ----------
    columns
        Computed column name -> its values (a pandas array), one per site in
        the order computed.
    lines
        Cost lines; ``site_index`` holds the site's position in `columns`.
    starts, stops
        Each site's lines are ``lines.iloc[starts[k]:stops[k]]``.
    """

    columns: dict[str, ExtensionArray]
    lines: pd.DataFrame
    starts: NDArray[np.intp]
    stops: NDArray[np.intp]

    @classmethod
    def from_frames(cls, columns: Mapping[str, pd.Series], lines: pd.DataFrame) -> Block:
        """A block from computed columns (one entry per site) and their lines (in site order)."""
        arrays = {name: values.array for name, values in columns.items()}
        n = len(next(iter(arrays.values()))) if arrays else 0
        pos = lines["site_index"].to_numpy()
        if len(pos) and np.any(np.diff(pos) < 0):
            raise GridGISError("cost lines must list the sites in their order")
        sites = np.arange(n)
        starts = np.searchsorted(pos, sites, side="left")
        stops = np.searchsorted(pos, sites, side="right")
        return cls(arrays, lines, starts, stops)

    @classmethod
    def empty_for_doctest(cls, n: int) -> Block:
        """A block of `n` sites with one column and no lines (for examples)."""
        lines = pd.DataFrame({"site_index": pd.Series([], dtype=np.int64)})
        return cls.from_frames({"x": pd.Series(np.zeros(n))}, lines)


Entry = tuple[Block, int]


class SiteMemo:
    """A thread-safe, bounded (LRU) map of `site_keys` to computed rows.

    Parameters
    ----------
    maxsize
        Sites kept; the least recently used go first.
    """

    def __init__(self, maxsize: int = MEMO_SIZE) -> None:
        if maxsize < 0:
            raise GridGISError(f"maxsize must be >= 0, got {maxsize!r}")
        self.maxsize = maxsize
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[Hashable]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every site."""
        with self._lock:
            self._entries.clear()

    def get_many(self, keys: Sequence[Hashable]) -> list[Entry | None]:
        """The entry of each key (None when not held), marking hits as recently used."""
        out: list[Entry | None] = []
        with self._lock:
            for key in keys:
                entry = self._entries.get(key)
                if entry is not None:
                    self._entries.move_to_end(key)
                    self.hits += 1
                else:
                    self.misses += 1
                out.append(entry)
        return out

    def put(self, keys: Iterable[Hashable], block: Block) -> None:
        """Hold row k of `block` under the k-th key."""
        if self.maxsize == 0:
            return
        with self._lock:
            for row, key in enumerate(keys):
                self._entries[key] = (block, row)
                self._entries.move_to_end(key)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)


def assemble(
    entries: Sequence[Entry], index: pd.Index
) -> tuple[dict[str, pd.Series], pd.DataFrame]:
    """The computed columns (Series on `index`) and cost lines of `entries`, in their order.

    Values are copies (the memo's arrays are never handed out); rows from
    several blocks are concatenated column by column. The lines'
    ``site_index`` becomes the label in `index` of the site they belong to.
    """
    blocks: dict[int, Block] = {}
    rows: dict[int, list[int]] = {}
    wanted: dict[int, list[int]] = {}
    for k, (block, row) in enumerate(entries):
        blocks.setdefault(id(block), block)
        rows.setdefault(id(block), []).append(row)
        wanted.setdefault(id(block), []).append(k)
    column_parts: list[dict[str, ExtensionArray]] = []
    line_parts, order, line_owner = [], [], []
    for key, block in blocks.items():
        take = np.asarray(rows[key], dtype=np.intp)
        column_parts.append({c: v.take(take) for c, v in block.columns.items()})
        order.extend(wanted[key])
        spans = [np.arange(block.starts[r], block.stops[r]) for r in take]
        line_parts.append(block.lines.take(np.concatenate(spans) if spans else take[:0]))
        for k, span in zip(wanted[key], spans, strict=True):
            line_owner.extend([k] * len(span))
    if len(column_parts) == 1:  # rows of one block come out in the order asked
        columns = {c: pd.Series(v, index=index, name=c) for c, v in column_parts[0].items()}
        lines = line_parts[0]
    else:
        back = np.argsort(np.asarray(order, dtype=np.intp), kind="stable")
        columns = {
            c: pd.concat([pd.Series(part[c]) for part in column_parts], ignore_index=True)
            .take(back)
            .set_axis(index)
            .rename(c)
            for c in column_parts[0]
        }
        lines = pd.concat(line_parts, ignore_index=True)
        lines = lines.take(np.argsort(np.asarray(line_owner, dtype=np.intp), kind="stable"))
        line_owner = sorted(line_owner)
    lines = lines.reset_index(drop=True)
    owner = np.asarray(line_owner, dtype=np.intp)
    lines["site_index"] = index.take(owner) if len(owner) else index[:0]
    return columns, lines
