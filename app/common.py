"""What every page needs: the workspace, the open project, its sites and their analysis.

The app works on *copies*: opening a sample copies it from ``data/`` into the
workspace (``$GRIDGIS_WORKSPACE``, default ``~/.gridgis/projects``), and every
edit is saved there; ``data/`` is never written. Loaded projects, sites,
analyses and rendered base maps are cached per server process (shared by
sessions, never mutated): projects by the files' stamps, sites and analyses
by `SiteStore.version`, which changes whenever any session saves a site.
"""

from __future__ import annotations

import cProfile
import functools
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st

from app import mapwidget, state
from gridgis.analysis.engine import PreparedProject, SiteAnalysis, analyze_sites, prepare
from gridgis.core.crs import WGS84
from gridgis.core.io import as_geojson_stores
from gridgis.core.project import Project, open_project
from gridgis.core.schema import resolve_households
from gridgis.core.settings import Settings, default_settings
from gridgis.core.store import SiteStore
from gridgis.errors import GridGISError
from gridgis.report.i18n import t, t_or
from gridgis.report.map.view import project_map

REPO = Path(__file__).resolve().parents[1]
SAMPLES = {"dongsi180": REPO / "data" / "dongsi180", "shaxi_f.gpkg": REPO / "data" / "shaxi_f.gpkg"}
DEFAULT_SAMPLE = "dongsi180"
_NAME = re.compile(r"[^\W][\w.\-]{0,63}")
_GENERATION: dict[str, int] = {}  # bumped when this server rewrites a project's layers/settings


_TTL_S = 2.0  # directory listings and file stamps are re-read at most this often
_RECENT: dict[tuple[Any, ...], tuple[float, Any]] = {}


def _recent(key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
    """`compute()`, re-run at most every `_TTL_S` seconds (stat calls are slow on some disks)."""
    now = time.monotonic()
    hit = _RECENT.get(key)
    if hit is not None and now - hit[0] < _TTL_S:
        return hit[1]
    value = compute()
    _RECENT[key] = (now, value)
    return value


def forget_files() -> None:
    """Drop remembered listings and stamps (after this server writes a project)."""
    _RECENT.clear()


@functools.cache
def _make_dir(root: str) -> Path:
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def workspace() -> Path:
    """The folder holding the working copies (created on demand)."""
    return _make_dir(
        os.environ.get("GRIDGIS_WORKSPACE") or str(Path.home() / ".gridgis" / "projects")
    )


def _is_project(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    if path.is_dir():
        return (path / "buildings.geojson").exists() or (path / "buildings.csv").exists()
    return path.suffix.lower() == ".gpkg" and path.is_file()


def list_projects() -> list[str]:
    """Names of the projects in the workspace."""
    root = workspace()
    return _recent(
        ("projects", str(root)), lambda: sorted(p.name for p in root.iterdir() if _is_project(p))
    )


def project_path(name: str) -> Path:
    """The working copy called `name` (a name from `list_projects`, never a path)."""
    if not _NAME.fullmatch(name) or name not in list_projects():
        raise GridGISError(f"no project {name!r} in the workspace {str(workspace())!r}")
    return workspace() / name


def open_sample(sample: str, *, fresh: bool = False) -> str:
    """Copy sample `sample` into the workspace (unless there already) and return its name.

    With `fresh`, make a new copy beside any existing one (``dongsi180-2``...).
    """
    source = SAMPLES[sample]
    target = workspace() / sample
    if fresh and target.exists():
        stem, suffix = (sample[:-5], ".gpkg") if sample.endswith(".gpkg") else (sample, "")
        n = 2
        while (target := workspace() / f"{stem}-{n}{suffix}").exists():
            n += 1
    if not target.exists():
        tmp = target.with_name(f".{target.name}.copying")
        shutil.rmtree(tmp, ignore_errors=True)
        if source.is_dir():
            shutil.copytree(source, tmp, ignore=shutil.ignore_patterns(".*"))
        else:
            shutil.copy2(source, tmp)
        os.replace(tmp, target)
        forget_files()
    return target.name


def bump(path: Path | str) -> None:
    """Tell the caches that a project's layers or settings were rewritten."""
    _GENERATION[str(path)] = _GENERATION.get(str(path), 0) + 1
    forget_files()


def _file_stamps(path: Path) -> tuple[Any, ...]:
    if not path.is_dir():
        return ()  # a GeoPackage: sites are saved into the same file
    with os.scandir(path) as entries:
        return tuple(
            sorted(
                (e.name, e.stat().st_mtime_ns, e.stat().st_size)
                for e in entries
                if e.is_file() and not e.name.startswith(".") and e.name != "sites.geojson"
            )
        )


def stamp(path: Path) -> tuple[Any, ...]:
    """Changes when the project's layers or settings change (not its sites).

    The app's own writes (settings) bump a generation at once; files changed
    by other programs are noticed within `_TTL_S` seconds.
    """
    generation = _GENERATION.get(str(path), 0)
    return (generation, *_recent(("stamp", str(path), generation), lambda: _file_stamps(path)))


# Process-wide caches (shared by sessions, never mutated). functools rather than
# st.cache_resource: their keys are plain tuples, and hashing them costs nothing.
@functools.lru_cache(maxsize=8)
def _project(path: str, stamp_: tuple[Any, ...]) -> Project:
    return open_project(path)


def load_project(path: Path) -> Project:
    """The project at `path` (cached until its files change). Raises GridGISError."""
    return _project(str(path), stamp(path))


@functools.cache
def _defaults() -> Settings:
    return default_settings()


def version_of(path: Path | str) -> int:
    """`SiteStore.version` of the project at `path` (a stat: cheap)."""
    return SiteStore(path, settings=_defaults()).version()


@functools.lru_cache(maxsize=32)
def _sites(path: str, version: int) -> gpd.GeoDataFrame:
    return SiteStore(path, settings=_defaults()).load()


def sites_at(path: Path) -> gpd.GeoDataFrame:
    """The sites on disk now (cached per `SiteStore.version`)."""
    return _sites(str(path), version_of(path))


@functools.lru_cache(maxsize=4)
def _prepared(path: str, stamp_: tuple[Any, ...]) -> PreparedProject:
    """The project's layers projected, indexed and networked once (analysis thread only)."""
    return prepare(_project(path, stamp_))


def _analyse_all(path: str, stamp_: tuple[Any, ...], version: int) -> SiteAnalysis:
    prepared = _prepared(path, stamp_)
    return analyze_sites(prepared.project, _sites(path, version), prepared=prepared)


@functools.lru_cache(maxsize=16)
def _analysis(path: str, stamp_: tuple[Any, ...], version: int) -> SiteAnalysis:
    return in_analysis_thread(_analyse_all, path, stamp_, version)


# Streamlit runs every rerun in a new thread, and PROJ (under pyproj) sets up a
# fresh context per thread: the first reprojection in a thread costs about
# 120 ms. All analysis runs in this one long-lived thread instead.
_ANALYST = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridgis-analysis")


def in_analysis_thread(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run `fn` in the analysis thread and return its result (or raise its error)."""
    return _ANALYST.submit(fn, *args, **kwargs).result()


_ROWS: OrderedDict[tuple[Any, ...], pd.Series] = OrderedDict()  # per-site metrics
_ROWS_LOCK = threading.RLock()
_MAX_ROWS = 4096
_OWN = ("site_id", "site_type", "geometry")  # what a site's metrics depend on


def _site_key(site_id: Any, kind: Any, geom: Any) -> str:
    wkb = b"" if geom is None else shapely.to_wkb(geom, hex=False)
    return hashlib.sha1(f"{site_id}|{kind}|".encode() + wkb).hexdigest()


_PENDING: dict[tuple[Any, ...], Future[None]] = {}  # analyses under way, by site key


def _analyse(
    path: str, stamp_: tuple[Any, ...], subset: gpd.GeoDataFrame, keys: list[tuple[Any, ...]]
) -> None:
    """Analyse `subset` and remember each site's metrics (runs in the analysis thread)."""
    try:
        prepared = _prepared(path, stamp_)
        rows = analyze_sites(prepared.project, subset, prepared=prepared).sites
        rows = rows.drop(columns=list(_OWN))
        with _ROWS_LOCK:
            for key, (_, row) in zip(keys, rows.iterrows(), strict=True):
                _ROWS[key] = row
            while len(_ROWS) > _MAX_ROWS:
                _ROWS.popitem(last=False)
    finally:
        with _ROWS_LOCK:
            for key in keys:
                _PENDING.pop(key, None)


def _start(path: Path, sites: gpd.GeoDataFrame) -> tuple[list[tuple[Any, ...]], set[Future[None]]]:
    """Keys of `sites`, and the analyses to wait for (started here for new sites)."""
    s = stamp(path)
    keys = [
        (str(path), s, _site_key(i, k, g))
        for i, k, g in zip(sites["site_id"], sites["site_type"], sites.geometry, strict=True)
    ]
    with _ROWS_LOCK:
        waits = {_PENDING[key] for key in keys if key in _PENDING}
        missing = [pos for pos, key in enumerate(keys) if key not in _ROWS and key not in _PENDING]
        if missing:
            subset = gpd.GeoDataFrame(
                sites.iloc[missing][list(_OWN)].reset_index(drop=True),
                geometry="geometry",
                crs=WGS84,
            )
            todo = [keys[pos] for pos in missing]
            future = _ANALYST.submit(_analyse, str(path), s, subset, todo)
            for key in todo:
                _PENDING[key] = future
            waits.add(future)
    return keys, waits


def prefetch_metrics(path: Path, stored: list[dict[str, Any]]) -> None:
    """Start analysing sites just saved; `site_metrics` will wait for the result.

    `stored` are the rows `SiteStore` returned; their outlines are taken as
    the file stores them (`gridgis.core.io.as_geojson_stores`), so the analysis
    starts without reading the file back, and `site_metrics` finds it by key.
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
    _start(path, frame)


def site_metrics(path: Path, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """`sites` with every metric column, analysing only sites not seen before.

    A site's metrics depend on its outline, type and id and on the project
    (layers and settings), not on the other sites: so after one drawing only
    the new site is analysed (one `analyze_sites` call for all new ones).
    Name, status and notes come from `sites` as they are now.
    """
    keys, waits = _start(path, sites)
    for future in waits:
        future.result()  # raises what the analysis raised
    with _ROWS_LOCK:
        found = [_ROWS[key] for key in keys]
    out = sites.reset_index(drop=True)
    if not found:
        return out
    metrics = pd.DataFrame(found).reset_index(drop=True)
    metrics = metrics.drop(columns=[c for c in metrics.columns if c in out.columns])
    return gpd.GeoDataFrame(pd.concat([out, metrics], axis=1), geometry="geometry", crs=WGS84)


@functools.lru_cache(maxsize=16)
def _summary(path: str, stamp_: tuple[Any, ...]) -> dict[str, Any]:
    return _project(path, stamp_).summary()


def summary(path: Path) -> dict[str, Any]:
    """`Project.summary` of the project at `path` (cached)."""
    return _summary(str(path), stamp(path))


@dataclass
class Context:
    """The open project as one page run sees it."""

    name: str
    path: Path
    project: Project
    store: SiteStore
    version: int

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """The sites on disk (EPSG:4326, with ``rev``)."""
        return _sites(str(self.path), self.version)

    def metrics(self) -> gpd.GeoDataFrame:
        """The sites with their metrics (only new or reshaped sites are analysed)."""
        return site_metrics(self.path, self.sites)

    def analysis(self) -> SiteAnalysis:
        """Every site's metrics (cached per sites version and project files)."""
        s = stamp(self.path)
        return _analysis(str(self.path), s, self.version)

    def refresh(self) -> None:
        """Pick up the sites saved since this context was made."""
        self.version = self.store.version()


def store_for(path: Path) -> SiteStore:
    """A SiteStore for the project at `path`, validating with its settings."""
    return SiteStore(path, settings=load_project(path).settings)


def context() -> Context:
    """The session's open project, or an error on the page and ``st.stop()``."""
    lang = state.lang()
    name = st.session_state.get(state.PROJECT) or ""
    try:
        path = project_path(name)
        project = load_project(path)
        store = SiteStore(path, settings=project.settings)
    except GridGISError as exc:
        st.error(f"{t('app.cannot_open', lang, name=plain(name))}\n\n{plain(exc)}")
        st.stop()
    return Context(name=name, path=path, project=project, store=store, version=store.version())


def plain(text: object) -> str:
    """Escape Markdown so user data (names, messages) shows as typed."""
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", str(text))
    return escaped.replace("\n", "  \n")


def type_label(kind: str, lang: str, project: Project) -> str:
    """A site type's name in `lang` (from settings for types added there)."""
    text = t_or(f"map.{kind}", lang, "")
    if text:
        return text
    site_type = project.settings.site_types.get(kind)
    if site_type is None:
        return kind
    return site_type.label_zh if lang == "zh" else site_type.label_en


def unit_label(unit: str, lang: str) -> str:
    """A unit (``bikes``, ``m2``, ``port``...) in `lang`."""
    return t_or(f"unit.{unit}", lang, unit)


def site_title(row: pd.Series | dict[str, Any], lang: str, project: Project) -> str:
    """``S4 · 东北角车棚`` (or the type's name when the site has no name)."""
    name = row.get("name")
    if lang == "en" and isinstance(row.get("name_en"), str) and row.get("name_en"):
        name = row.get("name_en")
    if not isinstance(name, str) or not name.strip():
        name = type_label(str(row.get("site_type")), lang, project)
    return f"{row.get('site_id')} · {name}"


@functools.lru_cache(maxsize=16)
def _building_names(path: str, stamp_: tuple[Any, ...], lang: str) -> dict[str, str]:
    buildings = _project(path, stamp_).layers["buildings"]
    names = {}
    for rec in pd.DataFrame(buildings.drop(columns="geometry")).to_dict("records"):
        name = rec.get("name_en") if lang == "en" else None
        if not isinstance(name, str) or not name.strip():
            name = rec.get("name")
        bid = str(rec["building_id"])
        names[bid] = f"{bid} {name}" if isinstance(name, str) and name.strip() else bid
    return names


def building_names(path: Path, lang: str) -> dict[str, str]:
    """``{building_id: "B1 1栋"}`` for the project at `path`."""
    return _building_names(str(path), stamp(path), lang)


def households_of(project: Project, building_ids: list[str]) -> float:
    """Households living in the given buildings, each building counted once."""
    buildings = project.layers["buildings"]
    per_floor = project.settings.general.households_per_floor_fallback.value
    counts = resolve_households(buildings, per_floor=per_floor)["households"]
    mask = buildings["building_id"].astype(str).isin({str(b) for b in building_ids})
    return float(counts[mask.to_numpy()].sum())


_TOAST_ICONS = {"success": ":material/check_circle:", "info": ":material/info:"}


def show_flash() -> None:
    """Show the messages queued by callbacks: news as toasts, problems on the page."""
    for kind, text in state.take_flash():
        if kind in _TOAST_ICONS:
            st.toast(text, icon=_TOAST_ICONS[kind])
        else:
            getattr(st, kind)(text)


@st.fragment(run_every=4)
def watch_sites(path: str, seen: int) -> None:
    """Rerun the page when another session saves a site (checked every 4 s)."""
    try:
        now = version_of(path)
    except GridGISError:
        return
    if now != seen and now != st.session_state.get(state.SEEN_VERSION):
        st.session_state[state.SEEN_VERSION] = now
        st.rerun(scope="app")


_PROFILE = os.environ.get("GRIDGIS_PROFILE")  # a folder: each run's cProfile stats go there
_RUN = threading.local()  # this thread's run: .marks (name, wall s, CPU s), .profiler


def mark(name: str) -> None:
    """Note the time at a point of this run (listed as ``phases`` in the timing log)."""
    marks = getattr(_RUN, "marks", None)
    if marks is not None:
        marks.append((name, time.perf_counter(), time.thread_time()))


def timer_start() -> tuple[float, float]:
    """Start timing (and with ``$GRIDGIS_PROFILE``, profiling) this run."""
    _RUN.marks = []
    _RUN.profiler = cProfile.Profile() if _PROFILE else None
    if _RUN.profiler is not None:
        _RUN.profiler.enable()
    return time.perf_counter(), time.thread_time()


def timer_stop(start: tuple[float, float], *, page: str, stored: int) -> None:
    """Record the run's server time (ms) in the session, and in ``$GRIDGIS_TIMING_LOG``.

    The log (JSON lines: page, wall-clock ms, CPU ms of the script thread,
    sites stored by the run) is what ``benchmarks/bench_app.py`` reads while
    it drives the app in a browser. CPU time does not grow when other
    programs share the machine; wall-clock time does.
    """
    ms = (time.perf_counter() - start[0]) * 1000.0
    cpu_ms = (time.thread_time() - start[1]) * 1000.0
    profiler, _RUN.profiler = getattr(_RUN, "profiler", None), None
    if profiler is not None:
        profiler.disable()
        name = f"{page}-{'stored' if stored else 'plain'}-{time.time_ns()}.pstats"
        profiler.dump_stats(str(Path(_PROFILE or ".") / name))
    st.session_state[state.RUN_MS] = ms
    log = os.environ.get("GRIDGIS_TIMING_LOG")
    if log:
        record = {
            "page": page,
            "project": st.session_state.get(state.PROJECT),
            "ms": round(ms, 1),
            "cpu_ms": round(cpu_ms, 1),
            "stored": stored,
            "phases": [
                [name, round((wall - start[0]) * 1000.0, 1), round((cpu - start[1]) * 1000.0, 1)]
                for name, wall, cpu in getattr(_RUN, "marks", None) or []
            ],
        }
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


@functools.lru_cache(maxsize=16)
def _base(
    path: str, stamp_: tuple[Any, ...], lang: str, basemap: str, key: str | None
) -> mapwidget.PreparedMap:
    project = _project(path, stamp_)
    m = project_map(project, lang=lang, basemap=basemap, sites=False, draw=True, tianditu_key=key,
                    asset_url=mapwidget.asset_url())  # fmt: skip
    # jQuery only serves folium's popups and objects_to_stay_in_front, which the app's
    # map never uses: one script fewer to load before the map appears
    m.default_js = [(name, url) for name, url in m.default_js if name != "jquery"]
    return mapwidget.prepare(m)


def base_map(
    ctx: Context, lang: str, basemap: str, tianditu_key: str | None
) -> mapwidget.PreparedMap:
    """The rendered base map (no sites; drawing toolbar), cached. Raises GridGISError."""
    key = (tianditu_key or "").strip() if basemap.startswith("tianditu") else None
    return _base(str(ctx.path), stamp(ctx.path), lang, basemap, key)
