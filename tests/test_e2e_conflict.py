"""Two browsers edit one building in a real headless Chromium, offline: a conflict, no lost edit.

Both open building B1's form on the map page (a copy of the sample). A saves a
value; B, whose form still shows the old revision, saves another and is told
of the conflict (drawlayer.conflict); the stored value is A's, read with the
store, not through the app. B's form then shows A's value, and B's next save
goes through.

(Not here: the same for a site's name. A session's page reruns within 4 s of
another session's site save (`app.context.watch_sites`) and then shows it, so B
meets a conflict only when it saves within that window: a race, not a test.)
"""

from __future__ import annotations

import re

import pytest

from gridgis.core.store import LayerStore
from gridgis.report.i18n import t

from .e2e import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    keep_offline,
    needs_chromium,
    running_app,
    wait_for_value,
)
from .e2e_map import MapPage

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.slow]

LANG = "en"
PROJECT = "dongsi180"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace") / "ws"  # the app creates it: a sample
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with running_app(workspace, log_path) as url:
        yield url, workspace


def message(key: str, **known: str) -> re.Pattern[str]:
    """The locale text `key` with `known` filled in and any other field matching anything."""
    text = t(key, LANG, **{k: f"\x00{k}\x00" for k in known}, detail="\x01")
    pattern = re.escape(text).replace("\x01", ".*")
    for k, v in known.items():
        pattern = pattern.replace(f"\x00{k}\x00", re.escape(v))
    return re.compile(pattern)


@pytest.fixture()
def two_browsers(app):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    sync_api.expect.set_options(timeout=30_000)
    url, workspace = app
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        aborted: list[str] = []
        try:
            pages = []
            for _ in range(2):  # two contexts: two users, two Streamlit sessions
                context = browser.new_context(viewport={"width": 1440, "height": 960})
                aborted += keep_offline(context)
                page = context.new_page()
                page.set_default_timeout(30_000)
                page.goto(f"{url}/?lang={LANG}&project={PROJECT}")
                m = MapPage(page, LANG, sync_api.expect)
                m.ready()
                pages.append(m)
            yield sync_api.expect, workspace / PROJECT, pages
            for m in pages:
                assert m.page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
        assert aborted == [], aborted


def field(m: MapPage, label: str):
    """The one widget labelled `label` (once a rerun has removed the old form's)."""
    found = m.page.get_by_label(label, exact=True)
    m.expect(found).to_have_count(1)
    return found


def pick(m: MapPage, label: str, option: str) -> None:
    """Choose the option starting with `option` in the select box labelled `label`."""
    field(m, label).click()
    m.page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}\b")).click()
    m.expect(field(m, label)).to_have_value(re.compile(rf"^{re.escape(option)}\b"))
    m.idle()


def save(m: MapPage, label: str, value: str) -> None:
    found = field(m, label)
    found.fill(value)
    found.press("Enter")


def test_two_browsers_edit_one_buildings_households(two_browsers):
    expect, folder, (a, b) = two_browsers
    store = LayerStore(folder, "buildings")
    before = int(store.get("B1")["households"])
    households = t("drawlayer.households", LANG)
    chooser = t("drawlayer.pick", LANG, layer=t("drawlayer.buildings", LANG), n=4)
    for m in (a, b):
        m.choose_layer("buildings")
        pick(m, chooser, "B1")
        wait_for_value(m.page, households, str(before))

    save(a, households, str(before + 5))
    expect(a.page.get_by_text(t("drawlayer.saved", LANG, feature="B1"))).to_be_visible()
    assert int(store.get("B1")["households"]) == before + 5

    save(b, households, str(before + 9))  # B's form is at the old revision
    expect(b.page.get_by_text(message("drawlayer.conflict", feature="B1"))).to_be_visible()
    b.idle()
    assert int(store.get("B1")["households"]) == before + 5  # A's edit is not lost
    wait_for_value(b.page, households, str(before + 5))
    b.page.screenshot(path=ARTIFACTS / "conflict_building.png")

    save(b, households, str(before + 9))  # now B has seen A's value: its edit goes through
    expect(b.page.get_by_text(t("drawlayer.saved", LANG, feature="B1"))).to_be_visible()
    assert int(store.get("B1")["households"]) == before + 9
