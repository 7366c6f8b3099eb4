"""The suggest-sites page (金角银边) under Streamlit's AppTest: suggest, adopt, stall layout."""

from __future__ import annotations

import hashlib

import pytest
from streamlit.testing.v1 import AppTest

from app import state
from gridgis.core.store import SiteStore

from .apptest import APP
from .apptest import ok as _ok
from .conftest import DATA

PAGE = "app/pages/corners.py"


pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    _ok(at.run())
    return _ok(at.switch_page(PAGE).run())


def _button(at: AppTest, start: str):
    hits = [b for b in at.button if b.label.startswith(start)]
    assert hits, f"no button {start!r}: {[b.label for b in at.button]}"
    return hits[0]


def _digest(folder) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(("lang", "button"), [("zh", "找金角银边"), ("en", "Suggest sites")])
def test_page_loads_and_suggests(workspace, lang, button):
    at = _page(lang)
    assert [b.label for b in at.button if b.label == button]
    assert not at.dataframe  # nothing is computed before the click
    _ok(_button(at, button).click().run())
    assert at.session_state[state.CORNERS_FOR] == "dongsi180"
    candidates = at.dataframe[0].value
    assert len(candidates) >= 3
    assert candidates.iloc[0, 0] == "C1"
    headers = " ".join(candidates.columns)
    for unit in ("m²", "m)" if lang == "en" else "m）"):
        assert unit in headers
    compared = at.dataframe[1].value
    assert set(compared.iloc[:, 0]) >= {"SP1", "SP2"}  # the surveyed spaces beside the tool's
    reasons = " ".join(compared.iloc[:, -1])
    assert "SITE1" in reasons  # the sample's shed takes part of golden corner SP1
    assert ("已有场地" if lang == "zh" else "existing site") in reasons
    # the sample's parking shed SITE1 has a stall layout with its totals
    metrics = {m.label: m.value for m in at.metric}
    stalls = "Stalls" if lang == "en" else "车位"
    assert int(metrics[stalls]) > 0


def test_adopting_the_top_suggestion_stores_a_site_and_leaves_data_alone(workspace):
    before_data = _digest(DATA / "dongsi180")
    at = _page("en")
    _ok(_button(at, "Suggest sites").click().run())
    store = SiteStore(workspace / "dongsi180")
    n_before = len(store.load())
    adopt = _button(at, "Adopt C")
    cid = adopt.label.split()[1]
    _ok(adopt.click().run())
    sites = store.load()
    assert len(sites) == n_before + 1
    new = sites.iloc[-1]
    assert new["status"] == "proposed"
    assert cid in new["notes"]
    assert any(new["site_id"] in str(m.value) for m in at.toast), [m.value for m in at.toast]
    assert at.session_state[state.SELECTED] == new["site_id"]
    # the adopted space is now a site: the next suggestions keep clear of it
    table = at.dataframe[0].value
    assert len(table) >= 1
    assert _digest(DATA / "dongsi180") == before_data


def test_adopting_a_shed_shows_its_stall_layout(workspace):
    at = _page("en")
    _ok(_button(at, "Suggest sites").click().run())
    sheds = [b for b in at.button if b.label.startswith("Adopt") and "shed" in b.label.lower()]
    if not sheds:
        pytest.skip("no shed among the top suggestions of the sample")
    _ok(sheds[0].click().run())
    new = SiteStore(workspace / "dongsi180").load().iloc[-1]
    assert new["site_type"] == "parking_shed"
    assert at.session_state[state.CORNERS_SHED] == new["site_id"]
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics["Stalls"] > 0
    assert metrics["Charging ports"] * 3 >= metrics["Stalls"]
    assert metrics["Circuits"] >= 1


def test_adopted_site_is_named_in_the_language_of_the_page(workspace):
    at = _page("zh")
    _ok(_button(at, "找金角银边").click().run())
    adopt = _button(at, "采纳 C")
    _ok(adopt.click().run())
    new = SiteStore(workspace / "dongsi180").load().iloc[-1]
    cid = adopt.label.split()[1]
    assert new["name"].startswith(f"{cid} ")
    assert new["name"].split()[1] in {"角落", "边带", "空地"}


def test_the_candidates_map_is_local_labelled_and_escaped(workspace):
    from app.context import open_context
    from app.views import corners as corners_view
    from app.workspace import open_sample

    ctx = open_context(open_sample("dongsi180"))
    found, compared = corners_view.suggestions(ctx)
    assert len(found) and len(compared)
    m = corners_view.candidates_map(
        ctx,
        found,
        lang="en",
        basemap="none",
        tianditu_key=None,
        type_label=lambda k: f"<script>{k}</script>",
        top=3,
    )
    page = m.get_root().render()
    assert "&lt;script&gt;parking_shed" in page or "&lt;script&gt;vegetable_garden" in page
    assert "<script>vegetable_garden" not in page and "<script>parking_shed" not in page
    assert ">C1<" in page and ">C2<" in page
    assert "https://" not in page and "http://" not in page  # offline: local scripts only
    stalls = corners_view.stalls(ctx, "SITE1")
    assert stalls.attrs["layout"]["count"] == len(stalls) > 0
    site = ctx.sites[ctx.sites["site_id"] == "SITE1"]
    small = corners_view.stalls_map(site, stalls, "zh").get_root().render()
    assert "SITE1-1" in small and "https://" not in small
