"""Plan-image page (描图底图): a photo or scan of the paper site plan, lined up on the map.

Upload a PNG or JPEG: it is laid over the compound's bounds (or the draft's place),
north up, keeping its shape. Then pick control points on the map: a click on a feature
of the image, a click on its true place; two pairs give a similarity, three or more an
affine, with each point's residual in metres. The opacity and every pick are saved at
once (`app.views.trace`, `gridgis.core.plan_image`); the map page shows the image too,
under the layers, to trace over.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import context, mapwidget, state, workspace
from app.views import trace as work
from gridgis.core.plan_image import PlanImageStore
from gridgis.errors import ConflictError, GridGISError, ImageError, ProjectError
from gridgis.report.i18n import t

lang = state.lang()
ctx = context.context()
project = ctx.project
st.subheader(t("trace.title", lang))
st.caption(t("trace.help", lang))
store = PlanImageStore(ctx.path)
if not store.supported:
    st.info(t("trace.gpkg", lang))
    st.stop()
basemap = st.session_state.get(state.BASEMAP, "none")
key = str(ctx.path)


def _failed(exc: GridGISError) -> None:
    """Say why a write failed; after a conflict, forget what this session had picked."""
    if isinstance(exc, ConflictError):
        state.flash("warning", t("trace.conflict", lang))
        st.session_state.pop(work.PENDING, None)
    elif isinstance(exc, ProjectError):
        state.flash("error", f"{t('trace.locked', lang)}\n\n{context.plain(exc)}")
    else:
        state.flash("error", f"{t('trace.fit_failed', lang)}: {context.plain(exc)}")


def _saved() -> None:
    workspace.forget_files()  # the map page's base map sees the new record at once


def _save_opacity(rev: int) -> None:
    try:
        store.update(expected_rev=rev, opacity=float(st.session_state[work.OPACITY]))
    except GridGISError as exc:
        _failed(exc)
    else:
        _saved()


def _seen() -> int:
    return int((st.session_state.get(work.SEEN_REV) or {}).get(key, store.revision()))


plan = store.load()
controls, map_col = st.columns([1, 2.1], gap="medium")
with controls:
    upload = st.file_uploader(t("trace.upload", lang), type=["png", "jpg", "jpeg"],
                              key=work.UPLOAD)  # fmt: skip
    if upload is not None:
        signature = [upload.name, upload.size, upload.file_id]
        if st.session_state.get(work.SEEN_UPLOAD) != signature:
            st.session_state[work.SEEN_UPLOAD] = signature
            try:
                plan = store.upload(upload.getvalue(), name=upload.name, expected_rev=_seen(),
                                    bounds=project.footprint().total_bounds,
                                    crs=project.metric_crs())  # fmt: skip
            except ImageError as exc:
                st.error(f"{t('trace.upload_failed', lang)}: {context.plain(exc)}")
            except GridGISError as exc:
                _failed(exc)
                plan = store.load()
            else:
                _saved()
                st.session_state.pop(work.PENDING, None)
                st.success(t("trace.uploaded", lang, name=plan.name, width=plan.width,
                             height=plan.height))  # fmt: skip

# a click on the map: first on the image, then on that point's true place
click = (st.session_state.get(work.MAP) or {}).get("last_clicked")
if plan is not None and click and click != st.session_state.get(work.SEEN_CLICK):
    st.session_state[work.SEEN_CLICK] = click
    lonlat = work.click_lonlat(click, basemap)
    pending = st.session_state.get(work.PENDING)
    if pending is None:
        col, row = (float(v) for v in plan.placement.to_image([lonlat])[0])
        if 0 <= col <= plan.width and 0 <= row <= plan.height:
            st.session_state[work.PENDING] = [col, row]
        else:
            state.flash("warning", t("trace.off_image", lang))
    else:
        st.session_state.pop(work.PENDING, None)
        try:
            plan = work.add_pair(store, project, plan, (pending[0], pending[1]), lonlat)
        except GridGISError as exc:
            _failed(exc)
            plan = store.load()
        else:
            _saved()
context.show_flash()

if plan is None:
    st.session_state[work.SEEN_REV] = {key: store.revision()}
    with controls:
        st.info(t("trace.none_yet", lang))
    st.stop()

with controls:
    st.session_state[work.OPACITY] = plan.opacity  # what is on disk (a failed save reverts)
    st.slider(t("trace.opacity", lang), 0.0, 1.0, step=0.05, key=work.OPACITY,
              help=t("trace.opacity_help", lang), on_change=_save_opacity,
              args=(plan.rev,))  # fmt: skip
    st.markdown(f"**{context.plain(t('trace.points', lang))}**")
    st.caption(t("trace.points_help", lang))
    n = len(plan.image_points)
    pending = st.session_state.get(work.PENDING)
    if pending is not None:
        st.info(t("trace.pick_map", lang, n=n + 1, col=pending[0], row=pending[1]))
    else:
        st.info(t("trace.pick_image", lang, n=n + 1))
    if n == 1:
        st.caption(t("trace.one_more", lang))
    elif n >= 2:
        kind = "fitted_similarity" if n == 2 else "fitted_affine"
        rms = t("trace.residuals", lang, rms=plan.placement.rms_m)
        st.caption(f"{t(f'trace.{kind}', lang, n=n)} {rms}")
        residuals = list(plan.placement.residuals_m) or [0.0] * n
        table = pd.DataFrame({
            t("trace.col_point", lang): range(1, n + 1),
            t("trace.col_pixel", lang): [f"{c:.0f}, {r:.0f}" for c, r in plan.image_points],
            t("trace.col_lonlat", lang): [f"{x:.6f}, {y:.6f}" for x, y in plan.map_points],
            t("trace.col_residual", lang): [round(float(v), 2) for v in residuals],
        })  # fmt: skip
        st.dataframe(table, hide_index=True, width="stretch")
    cols = st.columns(2)
    undo = cols[0].button(t("trace.point_undo", lang), key=work.POINT_UNDO, disabled=n == 0,
                          icon=":material/undo:", width="stretch")  # fmt: skip
    reset = cols[1].button(t("trace.points_reset", lang), key=work.POINTS_RESET,
                           disabled=n == 0 and pending is None, width="stretch")  # fmt: skip
    remove = st.button(t("trace.remove", lang), key=work.REMOVE, icon=":material/delete:")
    if undo or reset or remove:
        st.session_state.pop(work.PENDING, None)
        try:
            if remove:
                store.remove(expected_rev=plan.rev)
                state.flash("success", t("trace.removed", lang))
            else:
                keep = n - 1 if undo else 0
                pixels, places = list(plan.image_points[:keep]), list(plan.map_points[:keep])
                store.update(expected_rev=plan.rev, image_points=pixels, map_points=places,
                             placement=work.refit(project, plan, pixels, places))  # fmt: skip
                if reset:
                    state.flash("success", t("trace.points_reset_done", lang))
        except GridGISError as exc:
            _failed(exc)
        else:
            _saved()
        st.rerun()

st.session_state[work.SEEN_REV] = {key: plan.rev}
with map_col:
    try:
        prepared = work.trace_map(ctx.path, lang, basemap)
    except GridGISError as exc:
        st.error(f"{t('map.basemap_failed', lang)}\n\n{context.plain(exc)}")
        basemap = "none"
        prepared = work.trace_map(ctx.path, lang, basemap)
    group = work.points_group(plan, lang=lang, basemap=basemap, opacity=plan.opacity,
                              pending=st.session_state.get(work.PENDING))  # fmt: skip
    mapwidget.show(prepared, key=work.MAP, feature_group=group, height=600,
                   returned_objects=["last_clicked"])  # fmt: skip
    st.caption(t("trace.map_help", lang))
