"""What a page run sees: the open project (`Context`), its messages, its sites' titles.

Every page starts with ``ctx = context()``: the session's open project, its
site store and the sites' version, or an error on the page. Numbers come from
``ctx.analysis()`` (`app.engine.analyze`: the library's one analysis path);
names and words from `gridgis.report.labels`; user text is escaped for
Markdown with `plain`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from app import engine, state, workspace
from gridgis.analysis.result import SiteAnalysis
from gridgis.core.project import Project
from gridgis.core.store import SiteStore
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.labels import name_in, type_label

__all__ = [
    "DATA_PAGE",
    "Context",
    "building_names",
    "context",
    "open_context",
    "plain",
    "show_flash",
    "site_title",
    "watch_sites",
]


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
        return workspace.sites_at(self.path, self.version)

    def analysis(self) -> SiteAnalysis:
        """The numbers of the sites on disk: `app.engine.analyze` (the library's memo)."""
        return engine.analyze(self.path, self.sites)

    def refresh(self) -> None:
        """Pick up the sites saved since this context was made."""
        self.version = self.store.version()


def open_context(name: str) -> Context:
    """The project `name` of the workspace as a `Context`. Raises GridGISError."""
    path = workspace.project_path(name)
    project = workspace.load_project(path)
    store = SiteStore(path, settings=project.settings)
    return Context(name=name, path=path, project=project, store=store, version=store.version())


DATA_PAGE = "app/pages/data.py"  # where a session without a project is sent


def context() -> Context:
    """The session's open project, or an error on the page and ``st.stop()``.

    A session without a project (an empty workspace) goes to the Data page,
    which shows the new-project form.
    """
    name = st.session_state.get(state.PROJECT) or ""
    if not name and not workspace.list_projects():
        st.switch_page(DATA_PAGE)
    try:
        return open_context(name)
    except GridGISError as exc:
        st.error(f"{t('app.cannot_open', state.lang(), name=plain(name))}\n\n{plain(exc)}")
        st.stop()


def plain(text: object) -> str:
    """Escape Markdown so user data (names, messages) shows as typed."""
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", str(text))
    return escaped.replace("\n", "  \n")


def site_title(row: pd.Series | dict[str, Any], lang: str, project: Project) -> str:
    """``S4 · 东北角车棚`` (or the type's name when the site has no name)."""
    kind = type_label(str(row.get("site_type")), lang, project.settings)
    fields = row.to_dict() if isinstance(row, pd.Series) else row  # a Series' .name is its label
    return f"{row.get('site_id')} · {name_in(fields, lang, kind)}"


@functools.lru_cache(maxsize=16)
def _building_names(path: str, stamp: workspace.Stamp, lang: str) -> dict[str, str]:
    buildings = workspace.load_project(path, stamp).layers["buildings"]
    names = {}
    for rec in pd.DataFrame(buildings.drop(columns="geometry")).to_dict("records"):
        bid, name = str(rec["building_id"]), name_in(rec, lang)
        names[bid] = f"{bid} {name}" if name else bid
    return names


def building_names(path: Path, lang: str) -> dict[str, str]:
    """``{building_id: "B1 1栋"}`` for the project at `path`."""
    return _building_names(str(path), workspace.stamp(path), lang)


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
        now = workspace.version_of(path)
    except GridGISError:
        return
    if now != seen and now != st.session_state.get(state.SEEN_VERSION):
        st.session_state[state.SEEN_VERSION] = now
        st.rerun(scope="app")
