"""Votes page: the owners' register of a proposal, fast entry per building, CSV import, tally.

The register lives in the project (``votes.csv`` in a folder, the ``votes``
table of a GeoPackage) and only `gridgis.core.store.VotesStore` writes it:
one building at a time, refused when another session changed that building
since this one loaded it (nothing is lost either way). The tally follows PRC
Civil Code art. 278 (`gridgis.meeting.tally`), in exact fractions.
"""

from __future__ import annotations

import io
import re
from fractions import Fraction

import pandas as pd
import streamlit as st

from app import context, state
from gridgis.core.store import VotesStore
from gridgis.errors import ConflictError, GridGISError, ProjectError
from gridgis.meeting import register as votes_register
from gridgis.meeting import tally as voting
from gridgis.report.i18n import t
from gridgis.report.map.turnout import turnout_map
from gridgis.report.tally_text import matter_label

lang = state.lang()
ctx = context.context()
project = ctx.project
st.subheader(t("votes.title", lang))
context.show_flash()

sites = ctx.sites
if sites.empty:
    st.info(t("votes.no_sites", lang))
    st.stop()

store = VotesStore(ctx.path)
REFUSED = "vote_refused_entry"
# The session's view of the register: re-read when it changed on disk, except in the run of
# a save, which must be checked against what this session saw (the rows it edited).
views = st.session_state.setdefault(state.VOTES, {})
saving = bool(st.session_state.get("vote_apply") or st.session_state.get("vote_import"))
view = views.get(ctx.name)
if view is None or (not saving and view["version"] != store.version()):
    view = views[ctx.name] = {"version": store.version(), "frame": store.load()}
register: pd.DataFrame = view["frame"]


def _reload() -> None:
    views.pop(ctx.name, None)


def _refused(message: str, rows: pd.DataFrame) -> None:
    """Say why nothing was saved; keep the refused rows to show on the next run."""
    state.flash("error", message)
    st.session_state[REFUSED] = rows
    _reload()
    st.rerun()


if (refused := st.session_state.pop(REFUSED, None)) is not None:
    st.caption(t("meeting.store.refused", lang))
    st.dataframe(refused, hide_index=True, width="stretch")

if store.exists():
    st.caption(t("meeting.store.source_store", lang, path=store.source))
else:
    st.caption(t("votes.source_none", lang))

# --- choices ------------------------------------------------------------------------------
site_ids = [str(s) for s in sites["site_id"]]
in_register = set(register["site_id"].astype(str)) if len(register) else set()
default_site = next((s for s in site_ids if s in in_register), site_ids[0])
titles = {str(r["site_id"]): context.site_title(r, lang, project) for _, r in sites.iterrows()}
cols = st.columns(3)
site_id = cols[0].selectbox(
    t("votes.site", lang),
    site_ids,
    key=state.bind(state.VOTE_SITE, state.variant(lang, titles.values()), default_site),
    format_func=titles.__getitem__,
)
st.session_state[state.VOTE_SITE] = site_id
matters = list(voting.MATTERS)
matter = cols[1].selectbox(
    t("votes.matter", lang),
    matters,
    key=state.bind(state.VOTE_MATTER, state.variant(lang), "change_of_use"),
    format_func=lambda m: matter_label(m, lang),
)
st.session_state[state.VOTE_MATTER] = matter

# --- tally ------------------------------------------------------------------------------------
st.markdown(f"### {context.plain(t('votes.tally', lang))}")
mine = register[register["site_id"].astype(str) == site_id] if len(register) else register
result = None
if mine.empty:
    st.info(t("votes.no_rows", lang, site=site_id))
else:
    try:
        result = voting.tally(register, site_id=site_id, matter=matter, source=store.source)
    except GridGISError as exc:
        st.error(context.plain(exc))


def _ratio(num, den, ratio, margin) -> str:
    def show(v) -> str:
        return f"{float(v):,.2f}" if isinstance(v, Fraction) and v.denominator != 1 else f"{v}"

    if ratio is None:
        return "—"
    return t(
        "votes.ratio",
        lang,
        num=show(num),
        den=show(den),
        pct=f"{float(ratio) * 100:.2f}%",
        exact=f"{ratio.numerator}/{ratio.denominator}",
        margin=f"{float(margin) * 100:+.2f} pp",
    )


def _met(ok: bool) -> str:
    return t("votes.met", lang) if ok else t("votes.not_met", lang)


if result is not None:
    r = result
    verdict = t("votes.passed", lang) if r.passed else t("votes.failed", lang)
    if not r.quorum_met:
        verdict += f" ({t('votes.no_quorum', lang)})"
    (st.success if r.passed else st.error)(f"**{context.plain(verdict)}**")
    thr = r.approval_threshold
    rows = [
        (t("votes.quorum", lang), t("votes.by_area", lang),
         _ratio(r.participating_area_m2, r.area_total_m2, r.quorum_area_ratio,
                r.quorum_area_margin), _met(r.quorum_area_met)),
        (t("votes.quorum", lang), t("votes.by_headcount", lang),
         _ratio(r.participating_headcount, r.owners_total, r.quorum_headcount_ratio,
                r.quorum_headcount_margin), _met(r.quorum_headcount_met)),
        (t("votes.approval", lang, op=">" if r.approval_strict else "≥",
           thr=f"{thr.numerator}/{thr.denominator}"), t("votes.by_area", lang),
         _ratio(r.agree_area_m2, r.participating_area_m2, r.approval_area_ratio,
                r.approval_area_margin), _met(r.approval_area_met)),
        (t("votes.approval", lang, op=">" if r.approval_strict else "≥",
           thr=f"{thr.numerator}/{thr.denominator}"), t("votes.by_headcount", lang),
         _ratio(r.agree_headcount, r.participating_headcount, r.approval_headcount_ratio,
                r.approval_headcount_margin), _met(r.approval_headcount_met)),
    ]  # fmt: skip
    st.table(pd.DataFrame(rows, columns=["", " ", "  ", "   "]).set_index(""))

    # --- map and table of buildings ---------------------------------------------------------
    st.markdown(f"### {context.plain(t('votes.map', lang))}")
    by = st.radio(
        t("votes.map_by", lang),
        ["turnout", "approval"],
        key=state.bind(state.VOTE_BY, state.variant(lang), "turnout"),
        format_func=lambda k: t(f"votes.by_{k}", lang),
        horizontal=True,
    )
    st.session_state[state.VOTE_BY] = by
    try:
        m = turnout_map(project, register, site_id=site_id, by=by, lang=lang)
        st.iframe(m.get_root().render(), height=460)
        st.markdown(f"**{context.plain(t('votes.table', lang))}**")
        st.dataframe(
            voting.turnout_by_building(register, site_id=site_id),
            hide_index=True,
            width="stretch",
        )
    except GridGISError as exc:
        st.warning(context.plain(exc))

# --- fast entry per building ----------------------------------------------------------------
st.markdown(f"### {context.plain(t('votes.entry', lang))}")
names = context.building_names(ctx.path, lang)
building_ids = list(names)
if building_ids:
    building = st.selectbox(
        t("votes.building", lang),
        building_ids,
        key=state.bind(state.VOTE_BUILDING, state.variant(lang, names.values()), building_ids[0]),
        format_func=names.__getitem__,
    )
    st.session_state[state.VOTE_BUILDING] = building
    here = register[
        (register["site_id"].astype(str) == site_id)
        & (register.get("building_id", pd.Series("", index=register.index)).astype(str)
           == building)
    ] if len(register) else register  # fmt: skip
    prefix = re.compile(rf"^{re.escape(building)}-(?P<unit>[^-]+)-(?P<room>.+)$")
    entry_rows = []
    for _, rec in here.iterrows():
        found = prefix.match(str(rec["household"]))
        unit, room = (found["unit"], found["room"]) if found else ("", str(rec["household"]))
        area = pd.to_numeric(rec["area_m2"], errors="coerce")
        entry_rows.append((unit, room, area, str(rec["vote"] or "")))
    entry = pd.DataFrame(entry_rows, columns=["unit", "room", "area_m2", "vote"])
    entry = entry.astype({"unit": str, "room": str, "area_m2": float, "vote": str})
    st.caption(t("votes.entry_help", lang))
    edited = st.data_editor(
        entry,
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        key=f"vote_entry:{ctx.name}:{site_id}:{building}",
        column_config={
            "unit": st.column_config.TextColumn(t("votes.unit", lang)),
            "room": st.column_config.TextColumn(t("votes.room", lang)),
            "area_m2": st.column_config.NumberColumn(t("votes.area", lang), min_value=0.0),
            "vote": st.column_config.SelectboxColumn(
                t("votes.vote", lang), options=["", *votes_register.VOTE_CHOICES]
            ),
        },
    )
    if st.button(t("votes.apply", lang), key="vote_apply"):
        entered = [
            tuple(None if pd.isna(v) else v for v in rec)
            for rec in edited[["unit", "room", "area_m2", "vote"]].itertuples(index=False)
            if not all(pd.isna(v) or str(v).strip() == "" for v in rec)
        ]
        seen = store.revision(register, site_id=site_id, building_id=building)
        try:
            new = votes_register.votes_from_entry(building, entered, site_id=site_id)
            new = new.assign(area_m2=new["area_m2"].map(lambda a: repr(float(a))))
            store.replace_building(site_id, building, new, expected=seen)
        except ConflictError:
            _refused(t("meeting.store.conflict_building", lang, building=names[building],
                       site=site_id), new)  # fmt: skip
        except ProjectError as exc:  # e.g. the project lock is held by another program
            st.error(t("meeting.store.locked", lang, detail=context.plain(exc)))
        except GridGISError as exc:
            st.error(context.plain(exc))
        else:
            _reload()
            state.flash("success", t("votes.applied", lang, n=len(new), building=building))
            st.rerun()

# --- CSV import and download -----------------------------------------------------------------
st.markdown(f"### {context.plain(t('votes.import', lang))}")
upload = st.file_uploader(
    t("votes.import", lang), type=["csv"], key=state.VOTE_UPLOAD, help=t("votes.import_help", lang)
)
if upload is not None and st.button(t("votes.import_button", lang), key="vote_import"):
    frame = None
    try:
        frame = pd.read_csv(io.BytesIO(upload.getvalue()), dtype=str, keep_default_na=False)
        voting.tally_all(frame, source=upload.name)  # every row checked; errors name the row
        store.replace(frame.drop(columns="rev", errors="ignore"),
                      expected=store.revision(register))  # fmt: skip
    except ConflictError:
        _refused(t("meeting.store.conflict_register", lang), pd.DataFrame(frame))
    except ProjectError as exc:
        st.error(t("meeting.store.locked", lang, detail=context.plain(exc)))
    except (GridGISError, ValueError, UnicodeDecodeError) as exc:
        st.error(f"{t('votes.bad_csv', lang)}: {context.plain(exc)}")
    else:
        _reload()
        state.flash("success", t("votes.imported", lang, n=len(frame)))
        st.rerun()
if len(register):
    st.download_button(
        t("votes.download", lang),
        register.drop(columns="rev").to_csv(index=False).encode("utf-8"),
        file_name=f"{ctx.name}_votes.csv",
        mime="text/csv",
        key="vote_download",
    )
