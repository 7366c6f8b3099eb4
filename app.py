"""gridgis app: plan the renovation of an old residential compound (run: ``./dev app``).

Thin on purpose: the pages (``app/pages/``) read the session state
(``app/state.py``), get the open project from ``app/context.py`` and its
numbers from the library (``app/engine.py``: ``prepare(project).analyze``),
and draw them with the panels in ``app/views/``. The sidebar
(``app/sidebar.py``) holds the language (``?lang=zh|en``), the project and
the basemap.
"""

from __future__ import annotations

import streamlit as st

from app import edits, sidebar
from app.timing import timer_start, timer_stop
from gridgis.report.i18n import t

started = timer_start()
st.set_page_config(page_title="gridgis", page_icon="🏘️", layout="wide")
sidebar.init()
stored = edits.ingest_pending()  # store what was drawn since the last run, before anything is shown
lang = sidebar.render()

# a smaller title and less top space than Streamlit's defaults, so the map sits high
st.html(
    "<style>h1 {font-size: 1.7rem !important; padding-top: 0 !important;} "
    ".block-container {padding-top: 2.4rem !important; padding-bottom: 1rem !important;}"
    "[data-testid='stMetricValue'] {font-size: 1.45rem !important;}</style>"
)
pages = [
    st.Page("app/pages/map.py", title=t("nav.map", lang), icon=":material/map:",
            url_path="map", default=True),
    st.Page("app/pages/sites.py", title=t("nav.sites", lang), icon=":material/table_chart:",
            url_path="sites"),
    st.Page("app/pages/corners.py", title=t("nav.corners", lang), icon=":material/auto_awesome:",
            url_path="corners"),
    st.Page("app/pages/data.py", title=t("nav.data", lang), icon=":material/folder_open:",
            url_path="data"),
    st.Page("app/pages/settings.py", title=t("nav.settings", lang), icon=":material/tune:",
            url_path="settings"),
    st.Page("app/pages/present.py", title=t("present.nav", lang), icon=":material/co_present:",
            url_path="present"),
    st.Page("app/pages/votes.py", title=t("votes.nav", lang), icon=":material/how_to_vote:",
            url_path="votes"),
    st.Page("app/pages/ledger.py", title=t("ledger.nav", lang), icon=":material/apartment:",
            url_path="ledger"),
    st.Page("app/pages/trace.py", title=t("trace.nav", lang), icon=":material/layers:",
            url_path="trace"),
]  # fmt: skip
page = st.navigation(pages)
st.title(t("app.title", lang))
page.run()
timer_stop(started, page=page.url_path or "map", stored=len(stored))
