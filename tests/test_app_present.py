"""The residents' meeting pages (presentation, votes) under Streamlit's AppTest."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from shapely import box
from streamlit.testing.v1 import AppTest

from app import state
from app.views import present
from gridgis.core.settings import default_settings
from gridgis.core.store import SiteStore

from .apptest import APP
from .apptest import ok as _ok

# a 10 x 8 m box in the sample compound's north-east golden corner area, in degrees
SHED = box(104.07020, 30.66950, 104.07030, 30.66957)


pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _page(page: str, lang: str, workspace=None, add_shed: bool = False) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    _ok(at.run())  # opens (copies) the sample
    if add_shed:
        SiteStore(workspace / "dongsi180").add(SHED, site_type="parking_shed", name="东北角车棚")
    return _ok(at.switch_page(page).run())


def _metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, [m.label for m in at.metric]
    return found[0]


def _cny(text: str) -> float:
    """``"CNY 1,234"`` -> 1234.0."""
    assert text.startswith("CNY "), text
    return float(text.removeprefix("CNY ").replace(",", ""))


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.mark.parametrize(
    ("lang", "heading", "cost", "money"),
    [
        ("zh", "方案 A", "总造价", r"^[\d,]+ 元$"),
        ("en", "Proposal A", "Total cost", r"^CNY [\d,]+$"),
    ],
)
def test_presentation_page_opens(lang, heading, cost, money):
    at = _page("app/pages/present.py", lang)
    assert heading in _markdown(at)
    assert re.match(money, _metric(at, cost)), _metric(at, cost)
    labels = [b.label for b in at.button]
    assert any("PDF" in label for label in labels)
    prev = next(b for b in at.button if b.key == "present_prev")
    assert prev.disabled  # A is the first proposal
    if lang == "zh":  # Chinese first, the English smaller beneath
        assert "gg-en" in _markdown(at) and "Total cost" not in _markdown(at).split("gg-card")[0]


def test_next_steps_to_proposal_b(workspace):
    at = _page("app/pages/present.py", "en", workspace, add_shed=True)
    assert "Proposal A" in _markdown(at)
    before = _metric(at, "Total cost")
    _ok(at.button(key="present_next").click().run())
    text = _markdown(at)
    assert "Proposal B" in text and "东北角车棚" in text and "Proposal A ·" not in text
    assert at.session_state[state.PRESENT_INDEX] == 1
    # the shed lies outside the compound: an open safety warning on B's card, not on A's
    assert "gg-warn" in text and "outside the compound" in text
    assert _metric(at, "Total cost") != before
    assert at.button(key="present_next").disabled  # B is the last
    _ok(at.button(key="present_prev").click().run())
    assert "Proposal A" in _markdown(at) and "No open safety warnings" in _markdown(at)


def test_funding_parameters_change_the_per_household_figure():
    at = _page("app/pages/present.py", "en")
    label = "Per household, after subsidy"
    before = _metric(at, label)
    multiple = next(n for n in at.number_input if n.label.startswith("Street subsidy multiple"))
    assert multiple.value == default_settings().funding.subsidy_multiple.value
    _ok(multiple.set_value(1.0).run())
    after = _metric(at, label)
    assert after != before
    assert _cny(after) > _cny(before)
    assert any("not saved" in c.value for c in at.caption)
    other = next(n for n in at.number_input if n.label.startswith("Other sources"))
    _ok(other.set_value(1_000_000.0).run())
    assert _metric(at, label) == "CNY 0"  # other money covers the whole cost


def test_funding_settings_copy_leaves_the_original_alone():
    settings = default_settings()
    copy = present.funding_settings(settings, multiple=1.0, cap=5.0)
    assert copy.funding.subsidy_multiple.value == 1.0 and copy.funding.subsidy_cap_cny.value == 5.0
    assert settings.funding.subsidy_multiple.value != 1.0 or settings.funding.subsidy_cap_cny != 5


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_votes_page_tallies_the_sample_register(lang):
    at = _page("app/pages/votes.py", lang)
    assert at.session_state[state.VOTE_SITE] == "SITE3"
    # change of use needs 3/4 of participating owners: 173/232 falls one household short
    verdict = [e.value for e in at.error]
    assert any(("NOT PASSED" if lang == "en" else "未通过") in v for v in verdict), verdict
    table = at.table[0].value
    assert table.shape[0] == 4
    text = table.to_string()
    assert "173/232" in text  # the exact fraction
    matter = at.selectbox(key=state.widget_key(state.VOTE_MATTER, state.variant(lang)))
    assert matter.value == "change_of_use"
    _ok(matter.set_value("other").run())
    assert any(("PASSED" if lang == "en" else "通过") in s.value for s in at.success)


def test_votes_page_fast_entry_saves_the_register(workspace):
    at = _page("app/pages/votes.py", "en")
    votes_csv = workspace / "dongsi180" / "votes.csv"
    before = pd.read_csv(votes_csv, dtype=str)
    _ok(at.button(key="vote_apply").click().run())  # saving the table unchanged keeps it
    after = pd.read_csv(votes_csv, dtype=str)
    assert len(after) == len(before)
    assert sorted(after["household"]) == sorted(before["household"])


def test_sheets_are_made_on_click():
    at = _page("app/pages/present.py", "en")
    assert not at.session_state[state.PRESENT_FILES]  # nothing made before a click
    _ok(at.button(key="present_make_a3_pdf").click().run())
    _ok(at.button(key="present_make_html").click().run())
    files = {key[0]: data for key, data in at.session_state[state.PRESENT_FILES].items()}
    assert files["a3_pdf"].startswith(b"%PDF-")
    assert b"<html" in files["html"][:2000].lower()


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("app/pages/present.py", "No proposals yet"),
        ("app/pages/votes.py", "The register has no rows for"),
    ],
)
def test_pages_on_a_single_file_project_without_proposals_or_votes(page, message):
    from app.workspace import open_sample

    open_sample("shaxi_f.gpkg")
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "en"
    at.query_params["project"] = "shaxi_f.gpkg"
    _ok(at.run())
    _ok(at.switch_page(page).run())
    assert any(message in i.value for i in at.info), [i.value for i in at.info]
    if page.endswith("votes.py"):  # no register yet; entries will go into the GeoPackage
        assert any("No register for this project yet" in c.value for c in at.caption)
