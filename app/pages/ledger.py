"""Ledger page: the household ledger (楼栋台账) joined to the buildings, micro-grids from buildings.

A ledger is uploaded (CSV/XLSX) or pasted; the preview shows which rows match
which building, what matched nothing and every problem (row and column);
applying writes the changed buildings through the store, all or nothing
(`app.views.ledger.apply_ledger`). Below, buildings are chosen and made into
a micro-grid: the union of their shares of the compound, households summed.
"""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from app import context, state
from app.views import ledger as work
from gridgis.core.ledger import join_ledger, read_ledger
from gridgis.core.schema import resolve_households
from gridgis.core.store import ProjectStore
from gridgis.errors import ConflictError, GridGISError, ProjectError, ValidationError
from gridgis.report.i18n import t
from gridgis.report.problems import field_label, problem_reason

lang = state.lang()
ctx = context.context()
project = ctx.project
st.subheader(t("ledger.title", lang))
context.show_flash()
SEEN = "ledger_seen"  # {digest, revisions} of the last preview shown
MADE = "mgrid_made"  # set when a micro-grid was made: the form is cleared on the next run


def _problems(problems) -> pd.DataFrame:
    return pd.DataFrame(
        [(p.feature or "", field_label(p.field, lang), problem_reason(p, lang)) for p in problems],
        columns=[t("ledger.row", lang), t("ledger.column", lang), t("ledger.problem", lang)],
    )


# --- the household ledger ---------------------------------------------------------------------
st.markdown(f"### {context.plain(t('ledger.ledger', lang))}")
st.caption(t("ledger.help", lang))
cols = st.columns(2)
upload = cols[0].file_uploader(t("ledger.upload", lang), type=["csv", "xlsx"], key="ledger_upload")
pasted = cols[1].text_area(t("ledger.paste", lang), key="ledger_paste", height=120)
data, filename = None, ""
if upload is not None:
    data, filename = upload.getvalue(), upload.name
elif pasted.strip():
    data, filename = pasted.encode("utf-8"), t("ledger.pasted", lang) + ".csv"

if data is not None:
    store = ProjectStore(ctx.path).layer("buildings")
    before = store.load()
    previous = st.session_state.get(SEEN) or {}
    digest = hashlib.sha1(data).hexdigest()
    seen = previous["revisions"] if previous.get("digest") == digest else work.revisions(before)
    st.session_state[SEEN] = {"digest": digest, "revisions": seen}
    joined = None
    try:
        joined = join_ledger(before, read_ledger(data, filename=filename))
    except ValidationError as exc:
        st.error(t("ledger.invalid", lang, n=len(exc.problems)))
        st.dataframe(_problems(exc.problems), hide_index=True, width="stretch")
    except GridGISError as exc:
        st.error(f"{t('ledger.unreadable', lang)}: {context.plain(exc)}")
    if joined is not None:
        after = joined.buildings.set_index(joined.buildings["building_id"].astype(str))
        shown = [c for c in ("name", *work.LEDGER_FIELDS) if c in after]
        matched = pd.DataFrame(
            [{"row": r, "building_id": b, **after.loc[b, shown].to_dict()}
             for r, b in joined.matched.items()]
        )  # fmt: skip
        st.markdown(f"**{context.plain(t('ledger.matched', lang, n=len(joined.matched)))}**")
        if len(matched):
            labels = {c: t(f"ledger.col_{c}", lang) for c in matched.columns}
            st.dataframe(matched.rename(columns=labels), hide_index=True, width="stretch")
        rows = ", ".join(str(r) for r in joined.unmatched_rows) or "—"
        st.markdown(context.plain(t("ledger.unmatched_rows", lang, rows=rows)))
        names = context.building_names(ctx.path, lang)
        left = ", ".join(names.get(b, b) for b in joined.unmatched_buildings) or "—"
        st.markdown(context.plain(t("ledger.unmatched_buildings", lang, buildings=left)))
        if joined.problems:
            st.warning(t("ledger.warnings", lang, n=len(joined.problems)))
            st.dataframe(_problems(joined.problems), hide_index=True, width="stretch")
        changes = work.ledger_changes(before, joined.buildings)
        st.caption(t("ledger.changes", lang, n=len(changes)))
        if st.button(t("ledger.apply", lang), key="ledger_apply", disabled=not changes):
            try:
                work.apply_ledger(ctx.path, changes, seen)
            except ConflictError as exc:
                st.error(f"{t('ledger.conflict', lang)}\n\n{context.plain(exc)}")
                st.session_state.pop(SEEN, None)
            except ValidationError as exc:
                st.error(t("ledger.refused", lang, n=len(exc.problems)))
                st.dataframe(_problems(exc.problems), hide_index=True, width="stretch")
            except ProjectError as exc:
                st.error(f"{t('ledger.locked', lang)}\n\n{context.plain(exc)}")
            except GridGISError as exc:
                st.error(context.plain(exc))
            else:
                st.session_state.pop(SEEN, None)
                state.flash("success", t("ledger.applied", lang, n=len(changes)))
                st.rerun()

# --- micro-grids from buildings -----------------------------------------------------------------
st.markdown(f"### {context.plain(t('ledger.mgrid', lang))}")
st.caption(t("ledger.mgrid_help", lang))
buildings = project.layers["buildings"]
compound = project.layer("compound")
if compound is None or not len(compound) or not len(buildings):
    st.info(t("ledger.mgrid_needs", lang))
    st.stop()
names = context.building_names(ctx.path, lang)
if st.session_state.pop(MADE, False):  # a micro-grid was just made: start the next one afresh
    st.session_state.update(mgrid_buildings=[], mgrid_name="", mgrid_leader="")
chosen = st.multiselect(
    t("ledger.mgrid_buildings", lang), list(names), key="mgrid_buildings",
    format_func=lambda b: names.get(b, b), placeholder=t("ledger.mgrid_pick", lang),
)  # fmt: skip
cols = st.columns(2)
grid_name = cols[0].text_input(t("ledger.mgrid_name", lang), key="mgrid_name")
leader = cols[1].text_input(t("ledger.mgrid_leader", lang), key="mgrid_leader")
per_floor = project.settings.general.households_per_floor_fallback.value
counts = resolve_households(buildings, per_floor=per_floor)["households"]
ids = buildings["building_id"].astype(str)
picked = counts[ids.isin(chosen).to_numpy()]
total = "—" if picked.isna().any() or not len(picked) else f"{int(picked.sum()):,}"
st.metric(t("ledger.mgrid_households", lang), total)
if st.button(t("ledger.mgrid_make", lang), key="mgrid_make", disabled=not chosen):
    try:
        row = work.make_microgrid(ctx.path, chosen, name=grid_name, leader=leader)
    except ConflictError as exc:
        st.error(f"{t('ledger.conflict', lang)}\n\n{context.plain(exc)}")
    except GridGISError as exc:
        st.error(f"{t('ledger.mgrid_failed', lang)}: {context.plain(exc)}")
    else:
        hh = "—" if row["households"] is None else f"{row['households']:,}"
        made = t("ledger.mgrid_made", lang, grid=row["grid_id"], name=row["name"], households=hh)
        state.flash("success", made)
        st.session_state[MADE] = True
        st.rerun()

grids = project.layer("microgrids")
if grids is not None and len(grids):
    shown = [c for c in ("grid_id", "name", "leader", "households", "building_ids") if c in grids]
    table = pd.DataFrame(grids[shown]).rename(columns={c: t(f"ledger.g_{c}", lang) for c in shown})
    st.dataframe(table, hide_index=True, width="stretch")


st.markdown(f"**{context.plain(t('ledger.cells', lang))}**")
try:
    st.iframe(work.cells_map(ctx.path, lang, chosen), height=380)
except GridGISError as exc:
    st.warning(context.plain(exc))
