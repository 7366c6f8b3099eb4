"""Data page: start a new project, open a sample, import layers, download the plan.

With no project in the workspace it shows only the new-project form.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pandas as pd
import streamlit as st

from app import exports, imports, state, workspace
from app.context import context, plain, show_flash
from app.views import new_project
from gridgis.analysis.result import SiteAnalysis
from gridgis.core.crs import DATUMS
from gridgis.core.schema import LAYER_NAMES, SCHEMAS
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.labels import name_in

lang = state.lang()
new_project.follow()  # a project was just made: show it on the map
if not workspace.list_projects():
    show_flash()
    new_project.render(lang, first=True)
    st.stop()
ctx = context()
project = ctx.project
show_flash()


def layer_label(name: str) -> str:
    return name_in(SCHEMAS[name], lang, name)


# --- the open project ------------------------------------------------------------------
st.subheader(t("data.current", lang))
counts = project.summary()["layers"] | {"sites": len(ctx.sites)}
st.dataframe(
    pd.DataFrame(
        {
            t("data.layer", lang): [
                n if layer_label(n) == n else f"{layer_label(n)} ({n})" for n in counts
            ],
            t("data.features", lang): list(counts.values()),
        }
    ),
    hide_index=True,
)
st.caption(t("data.working_copy", lang, path=str(ctx.path)))
if project.warnings:
    with st.expander(t("data.warnings", lang, n=len(project.warnings))):
        for problem in project.warnings:
            st.warning(plain(problem))

# --- new project from nothing --------------------------------------------------------
new_project.render(lang)

# --- downloads -----------------------------------------------------------------------------
st.subheader(t("data.downloads", lang))
stem = exports.file_stem(ctx.name)
analysis: SiteAnalysis | None
try:
    analysis = ctx.analysis()
except GridGISError as exc:
    st.error(f"{t('site.analysis_failed', lang)}\n\n{plain(exc)}")
    analysis = None
DOWNLOADS = {  # kind: (file name after the stem, mime type)
    "geojson": ("-sites.geojson", "application/geo+json"),
    "xlsx": ("-budget.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
}
path = ctx.path
makers: dict[str, Callable[[], bytes]] = {"gpkg": lambda: exports.project_gpkg(path)}
if analysis is not None:
    makers["geojson"] = functools.partial(exports.site_plan_geojson, analysis, lang)
    makers["xlsx"] = functools.partial(exports.budget_xlsx, analysis, lang)
for column, (kind, (suffix, mime)) in zip(st.columns(3), DOWNLOADS.items(), strict=True):
    if kind in makers:
        column.download_button(
            t(f"data.download_{kind}", lang),
            data=makers[kind],
            file_name=f"{stem}{suffix}",
            mime=mime,
            icon=":material/download:",
            on_click="ignore",
            key=f"download_{kind}",
        )
st.caption(t("data.downloads_help", lang))

# --- samples ---------------------------------------------------------------------------
st.subheader(t("data.samples", lang))
for column, sample in zip(st.columns(2), workspace.SAMPLES, strict=True):
    with column.container(border=True):
        st.markdown(f"**{t(f'data.sample_{exports.file_stem(sample)}', lang)}**")
        buttons = (("open", "data.open_sample", False), ("fresh", "data.fresh_copy", True))
        for where, (prefix, label, fresh) in zip(st.columns(2), buttons, strict=True):
            where.button(t(label, lang), key=f"{prefix}_{sample}", on_click=imports.open_sample,
                         args=(sample, fresh, lang), width="stretch")  # fmt: skip
st.caption(t("data.samples_help", lang, folder=str(workspace.workspace())))

# --- import ----------------------------------------------------------------------------
st.subheader(t("data.import", lang))
st.markdown(t("data.import_help", lang))
files = st.file_uploader(
    t("data.files", lang),
    type=["geojson", "json", "gpkg", "zip", "kml", "csv"],
    accept_multiple_files=True,
    key=state.UPLOADS,
)
for upload in files or []:
    guess = imports.guess_layer(upload.name)
    st.selectbox(
        t("data.file_layer", lang, file=upload.name),
        [imports.WHOLE_PROJECT, *LAYER_NAMES],
        index=([imports.WHOLE_PROJECT, *LAYER_NAMES]).index(guess),
        key=state.bind(imports.layer_key(upload.name), state.variant(lang), guess),
        format_func=lambda n: (
            t("data.whole_gpkg", lang) if n == imports.WHOLE_PROJECT else f"{layer_label(n)} ({n})"
        ),
    )
c1, c2, c3 = st.columns(3)
c1.text_input(t("data.project_name", lang), key=state.UPLOAD_NAME, placeholder="my_compound")
c2.text_input(
    t("data.crs", lang),
    key=state.UPLOAD_CRS,
    placeholder="EPSG:4544",
    help=t("data.crs_help", lang),
)
c3.selectbox(
    t("data.datum", lang),
    DATUMS,
    key=state.bind(state.UPLOAD_DATUM, state.variant(lang), "wgs84"),
    format_func=lambda d: t(f"data.datum_{d}", lang),
    help=t("data.datum_help", lang),
)
st.button(
    t("data.check_import", lang),
    type="primary",
    on_click=imports.import_uploads,
    args=(lang,),
    disabled=not files,
)
for kind, text in imports.take_report():
    getattr(st, kind)(text)
