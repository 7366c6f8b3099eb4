"""The one sidebar: language, project, basemap, and the project's key figures.

The language and the project are mirrored in the URL (``?lang=zh&project=
dongsi180``), so a reload or a shared link opens the same view. A new session
takes the language from the URL, else from the project's settings. With no
project in the workspace the session's project is ``""``: a sample copy is
made only when `workspace.wants_sample` says so, else the pages show the
new-project form (see `app.views.new_project`).
"""

from __future__ import annotations

import streamlit as st

from app import state, workspace
from app.context import plain
from gridgis.core.project import Project
from gridgis.errors import GridGISError
from gridgis.report.i18n import LANG_NAMES, LANGS, t
from gridgis.report.labels import name_in
from gridgis.report.map.view import BASEMAPS


def init() -> None:
    """Start a session from the URL: project (a sample copy by default), then language."""
    if state.PROJECT not in st.session_state:
        wanted = st.query_params.get("project", "")
        if wanted not in workspace.list_projects():
            wanted = _first_project()
        st.session_state[state.PROJECT] = wanted
    if state.LANG not in st.session_state:
        lang = st.query_params.get("lang", "")
        if lang not in LANGS:
            try:
                path = workspace.project_path(st.session_state[state.PROJECT])
                lang = workspace.load_project(path).settings.general.language
            except GridGISError:
                lang = "zh"
        st.session_state[state.LANG] = lang
    st.session_state.setdefault(state.BASEMAP, "none")


def _first_project() -> str:
    """The sample's copy; ``""`` (the new-project form) in a workspace found empty."""
    if workspace.list_projects() or workspace.wants_sample():
        return workspace.open_sample(workspace.DEFAULT_SAMPLE)
    return ""


def forget_view() -> None:
    """After switching projects: nothing selected, no undo across projects."""
    for key in (state.MAP, state.REDRAW):
        st.session_state.pop(key, None)
    state.set_value(state.SELECTED, None)
    state.set_value(state.COMPARE, [])
    st.session_state[state.UNDO] = []


def _project_label(name: str) -> str:
    try:
        return f"{workspace.load_project(workspace.project_path(name)).name} ({name})"
    except GridGISError:
        return name


def _basemap_label(lang: str):
    return lambda key: t(f"basemap.{key}", lang)


def render() -> str:
    """Draw the sidebar; return the language."""
    with st.sidebar:
        lang = st.radio(
            "语言 / Language",
            LANGS,
            key=state.LANG,
            format_func=LANG_NAMES.__getitem__,
            horizontal=True,
        )
        projects = workspace.list_projects()
        if st.session_state.get(state.PROJECT) not in projects:
            st.session_state[state.PROJECT] = _first_project()
            projects = workspace.list_projects()
        if projects:
            st.selectbox(
                t("sidebar.project", lang),
                projects,
                key=state.PROJECT,
                format_func=_project_label,
                on_change=forget_view,
                help=t("sidebar.project_help", lang, folder=str(workspace.workspace())),
            )
        else:
            st.caption(t("newproject.none_yet", lang, folder=str(workspace.workspace())))
        basemap = st.selectbox(
            t("sidebar.basemap", lang),
            BASEMAPS,
            key=state.bind(state.BASEMAP, state.variant(lang), "none"),
            format_func=_basemap_label(lang),
        )
        st.session_state[state.BASEMAP] = basemap
        if basemap.startswith("tianditu"):
            st.text_input(
                t("sidebar.tianditu_key", lang),
                key=state.TIANDITU_KEY,
                type="password",
                help=t("sidebar.tianditu_help", lang),
            )
        if basemap != "none":
            st.caption(t("sidebar.tiles_online", lang))
        _summary(lang)
    st.query_params["lang"] = lang
    if st.session_state[state.PROJECT]:
        st.query_params["project"] = st.session_state[state.PROJECT]
    return lang


def _summary(lang: str) -> None:
    try:
        path = workspace.project_path(st.session_state[state.PROJECT])
        project = workspace.load_project(path)
    except GridGISError:
        return  # the page shows the error
    summary = workspace.summary(path)
    counts = summary["layers"]
    st.divider()
    # one markdown and one caption: every element is a message to the browser
    st.markdown(
        f"**{plain(display_name(project, lang))}**  \n"
        + t(
            "sidebar.summary",
            lang,
            households=summary["households"],
            buildings=counts.get("buildings", 0),
            grids=counts.get("microgrids", 0),
        )
    )
    notes = []
    if "units" in summary:
        notes.append(t("sidebar.units", lang, n=summary["units"]))
    if summary["households_unknown_buildings"]:
        notes.append(t("sidebar.unknown", lang, n=summary["households_unknown_buildings"]))
    compound = project.layer("compound")
    if compound is not None and len(compound) and "note" in compound:
        notes.append(plain(compound["note"].iloc[0]))
    if notes:
        st.caption("  \n".join(notes))


def display_name(project: Project, lang: str) -> str:
    """The compound's name in `lang` (``name_en`` in English, when present)."""
    compound = project.layer("compound")
    if compound is None or not len(compound):
        return project.name
    return name_in(compound.iloc[0], lang, project.name)
