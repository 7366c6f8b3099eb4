"""Engine glue: the app's one path to the numbers, ``prepare(project).analyze(sites)``.

Every page and every export gets its numbers from
`gridgis.analysis.engine.prepare` and `PreparedProject.analyze`, the call
``gridgis analyze`` makes. The app keeps one prepared project per project
stamp (`app.workspace.stamp`) and runs the analyses in one long-lived worker
thread; the per-site memo that makes the rerun after one drawing cheap lives
in the library, not here: the app caches no numbers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd

from app import workspace
from gridgis.analysis.engine import PreparedProject, prepare
from gridgis.analysis.result import SiteAnalysis
from gridgis.core.crs import WGS84
from gridgis.core.io import as_geojson_stores

__all__ = ["analyze", "in_analysis_thread", "prefetch", "prepared"]

T = TypeVar("T")

# Streamlit runs every rerun in a new thread, and PROJ (under pyproj) sets up a
# fresh context per thread: the first reprojection in a thread costs about
# 120 ms. All analysis runs in this one long-lived thread instead.
_ANALYST = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridgis-analysis")


def in_analysis_thread(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn` in the analysis thread and return its result (or raise its error)."""
    return _ANALYST.submit(fn, *args, **kwargs).result()


@functools.lru_cache(maxsize=4)
def _prepared(path: str, stamp: workspace.Stamp) -> PreparedProject:
    """The project's layers projected, indexed and networked once (analysis thread only)."""
    return prepare(workspace.load_project(path, stamp))


def _analyze(path: str, stamp: workspace.Stamp, sites: gpd.GeoDataFrame) -> SiteAnalysis:
    return _prepared(path, stamp).analyze(sites)


def prepared(path: Path | str) -> PreparedProject:
    """`prepare(project)` of the project at `path` as its files are now (made once per stamp)."""
    return in_analysis_thread(_prepared, str(path), workspace.stamp(path))


def analyze(path: Path | str, sites: gpd.GeoDataFrame) -> SiteAnalysis:
    """`prepared(path).analyze(sites)`: the numbers of `sites` on the project at `path`.

    Raises what the analysis raises (`gridgis.errors.ValidationError` for
    sites breaking the layer contract).
    """
    return in_analysis_thread(_analyze, str(path), workspace.stamp(path), sites)


def prefetch(path: Path | str, stored: list[dict[str, Any]]) -> None:
    """Start analysing sites just saved, so the page's `analyze` finds them in the memo.

    `stored` are the rows `SiteStore` returned; their outlines are taken as
    the file stores them (`gridgis.core.io.as_geojson_stores`), so the numbers
    are those of the sites read back from disk. Errors are left to the page's
    own `analyze` call, which meets them again.
    """
    if not stored:
        return
    frame = gpd.GeoDataFrame(
        {
            "site_id": [str(row["site_id"]) for row in stored],
            "site_type": [row["site_type"] for row in stored],
        },
        geometry=[as_geojson_stores(row["geometry"]) for row in stored],
        crs=WGS84,
    )
    _ANALYST.submit(_analyze, str(path), workspace.stamp(path), frame)
