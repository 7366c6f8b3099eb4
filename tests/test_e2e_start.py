"""Start a compound from nothing in a real headless Chromium, offline (issue 11).

From an empty workspace: make a project with the new-project form, draw the
compound and three buildings, give their households with a ledger, make two
micro-grids of buildings, mark a golden corner and a fire lane, draw a site in
the corner and read its numbers beside the map; after a reload everything is
still there, and ``gridgis info`` / ``gridgis validate`` on the folder agree.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gridgis.analysis.engine import analyze_sites
from gridgis.core.project import open_project
from gridgis.core.store import ProjectStore
from gridgis.report.i18n import t
from gridgis.report.labels import money

from .conftest import REPO
from .e2e import (
    ARGS,
    ARTIFACTS,
    CHROMIUM,
    IDLE,
    keep_offline,
    needs_chromium,
    running_app,
    wait_for_value,
)
from .e2e_map import MapPage, metres_to_lonlat

pytestmark = [needs_chromium, pytest.mark.browser, pytest.mark.slow]

LANG = "zh"
NAME = "玉林北路小区"
PLACE = (104.07, 30.66)  # typed into the form (not the default place)
LEDGER = "楼栋号,户数,单元数,层数\n1栋,24,2,6\n2号楼,36,3,6\n3幢,18,1,6\n"
HOUSEHOLDS = {"B1": 24, "B2": 36, "B3": 18}


def at(x: float, y: float) -> tuple[float, float]:
    """`x` m east, `y` m north of the project's place."""
    return metres_to_lonlat(PLACE, x, y)


def box(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1)]


COMPOUND = box(-80, -60, 80, 60)  # 160 x 120 m
BUILDINGS = [box(-60, 20, -20, 32), box(0, 20, 40, 32), box(-60, -20, -20, -8)]  # B1, B2, B3
CORNER = box(28, -52, 62, -24)  # the golden corner, south-east
LANE = [at(-78, 5), at(0, 5), at(78, 5)]  # the fire lane, between the rows
SITE = box(34, -46, 50, -34)  # 16 x 12 m, inside the corner


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("empty")  # exists and holds nothing: the form opens
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with running_app(workspace, log_path) as url:
        yield url, workspace


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gridgis.cli", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_start_a_compound_from_nothing(app):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    expect.set_options(timeout=30_000)
    url, workspace = app
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000})
            aborted = keep_offline(context)
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{url}/?lang={LANG}")
            m = MapPage(page, LANG, expect)

            def toast(text: str) -> None:
                expect(page.get_by_text(text, exact=True).first).to_be_visible()

            def go(nav: str) -> None:
                page.locator('[data-testid="stSidebarNav"] a', has_text=t(nav, LANG)).click()
                m.idle()

            # 1. the empty workspace opens on the new-project form
            expect(page.get_by_text(t("newproject.title", LANG), exact=True)).to_be_visible()
            expect(page.locator(".st-key-new_project")).to_have_count(0)  # the form, not its button
            page.locator(".st-key-new_project_name input").fill(NAME)
            for key, value in (("lon", PLACE[0]), ("lat", PLACE[1])):
                field = page.locator(f".st-key-new_project_{key} input")
                field.fill(f"{value:.6f}")
                field.press("Enter")
                m.idle()
            page.locator(".st-key-new_project_create button").click()
            m.ready()  # the map page, with the draw tools
            folder = workspace / NAME
            assert folder.is_dir()
            toast(t("newproject.created", LANG, name=NAME))
            page.screenshot(path=ARTIFACTS / "start_1_new_project.png")

            # 2. the compound's boundary, then three buildings: B1, B2, B3
            m.choose_layer("compound")
            m.draw("polygon", COMPOUND)
            toast(t("drawlayer.added", LANG, layer=t("drawlayer.compound", LANG), feature=NAME))
            m.choose_layer("buildings")
            for n, outline in enumerate(BUILDINGS, start=1):
                m.draw("polygon", outline)
                toast(t("drawlayer.added", LANG, layer=t("drawlayer.buildings", LANG),
                        feature=f"B{n}"))  # fmt: skip
            m.ready()
            store = ProjectStore(folder)
            assert store.layer("compound").load()["name"].tolist() == [NAME]
            assert store.layer("buildings").load()["building_id"].tolist() == ["B1", "B2", "B3"]

            # 3. the ledger gives their households ("1栋", "2号楼", "3幢")
            go("ledger.nav")
            ledger = ARTIFACTS / "start_ledger.csv"
            ledger.write_text(LEDGER, encoding="utf-8")
            page.locator(".st-key-ledger_upload input[type=file]").set_input_files(ledger)
            expect(page.get_by_text(t("ledger.matched", LANG, n=3))).to_be_visible()
            expect(page.get_by_text(t("ledger.changes", LANG, n=3))).to_be_visible()
            page.locator(".st-key-ledger_apply button").click()
            toast(t("ledger.applied", LANG, n=3))
            m.idle()
            buildings = store.layer("buildings").load().set_index("building_id")
            assert buildings["households"].astype(int).to_dict() == HOUSEHOLDS

            # 4. two micro-grids of buildings: B1 + B3 (west), B2 (east)
            for grid, (ids, name, leader) in enumerate(
                ((["B1", "B3"], "西网格", "王芳"), (["B2"], "东网格", "李强")), start=1
            ):
                pick = page.locator(".st-key-mgrid_buildings")
                for bid in ids:
                    pick.click()
                    page.get_by_role("option", name=bid, exact=True).click()
                    m.idle()
                page.keyboard.press("Escape")
                page.locator(".st-key-mgrid_name input").fill(name)
                page.locator(".st-key-mgrid_leader input").fill(leader)
                page.locator(".st-key-mgrid_leader input").press("Enter")
                m.idle()
                households = sum(HOUSEHOLDS[b] for b in ids)
                page.locator(".st-key-mgrid_make button").click()
                toast(t("ledger.mgrid_made", LANG, grid=f"G{grid}", name=name,
                        households=f"{households:,}"))  # fmt: skip
                m.idle()
            grids = store.layer("microgrids").load().set_index("grid_id")
            assert grids["households"].astype(int).to_dict() == {"G1": 42, "G2": 36}
            assert grids.loc["G1", "leader"] == "王芳"
            page.screenshot(path=ARTIFACTS / "start_2_ledger.png", full_page=True)

            # 5. back on the map: a golden corner and a fire lane
            go("nav.map")
            m.ready()
            m.choose_layer("spaces")
            m.draw("polygon", CORNER)
            toast(t("drawlayer.added", LANG, layer=t("drawlayer.spaces", LANG), feature="SP1"))
            m.idle()
            wait_for_value(page, t("drawlayer.kind", LANG), t("map.golden_corner", LANG))
            m.choose_layer("paths")
            m.draw("polyline", LANE)
            toast(t("drawlayer.added", LANG, layer=t("drawlayer.paths", LANG), feature="P1"))
            m.idle()
            wait_for_value(page, t("drawlayer.kind", LANG), t("map.footpath", LANG))  # new path
            kind = page.get_by_label(t("drawlayer.kind", LANG), exact=True)
            kind.click()
            page.get_by_role("option", name=t("map.fire_lane", LANG), exact=True).click()
            toast(t("drawlayer.saved", LANG, feature="P1"))
            m.idle()
            lane = store.layer("paths").load().set_index("path_id").loc["P1"]
            assert lane["kind"] == "fire_lane" and len(lane.geometry.coords) == 3
            assert store.layer("spaces").load().set_index("space_id").loc["SP1", "kind"] == (
                "golden_corner"
            )

            # 6. a site in the corner: its area, cost, households served and checks
            m.choose_layer("sites")
            m.draw("polygon", SITE)
            panel = page.locator('[data-testid="stColumn"]').filter(
                has=page.get_by_text(t("site.area", LANG), exact=True)
            )
            expect(page.get_by_role("heading", name="S1 ·")).to_be_visible()
            m.idle()
            sites = store.sites.load()
            assert sites["site_id"].tolist() == ["S1"]
            expect(panel.get_by_text(t("site.served", LANG), exact=True)).to_be_visible()
            metrics = panel.locator('[data-testid="stMetric"]')
            text = " ".join(metrics.all_inner_texts())
            # the panel shows the library's numbers of the stored project
            got = analyze_sites(open_project(folder)).sites.set_index("site_id").loc["S1"]
            assert abs(got["area_m2"] - 16 * 12) < 2.0  # drawn as 16 x 12 m
            assert got["households_served"] == sum(HOUSEHOLDS.values())  # all three buildings
            assert got["cost_cny"] > 0
            assert f"{got['area_m2']:,.1f} m²" in text, text
            assert money(got["cost_cny"], LANG) in text, text
            served = t("site.hh_value", LANG, n=int(got["households_served"]))
            expect(panel.get_by_text(served, exact=True).first).to_be_visible()
            # the checks used the drawn layers: the fire lane was checked, and passed
            expect(panel.get_by_text(t("check.summary.all_clear", LANG))).to_be_visible()
            panel.locator('[data-testid="stExpander"] summary').first.click()
            expect(panel.get_by_text(t("rule.fire_lane_clear", LANG)).first).to_be_visible()
            expect(panel.get_by_text(t("rule.inside_compound", LANG)).first).to_be_visible()
            page.wait_for_timeout(500)
            page.screenshot(path=ARTIFACTS / "start_3_site.png")

            # 7. reload: everything is still there
            page.reload()
            m.ready()
            expect(page.get_by_role("heading", name="S1 ·")).to_be_visible()
            m.choose_layer("buildings")
            counts = {"compound": 1, "buildings": 3, "microgrids": 2, "spaces": 1, "paths": 1}
            caption = " · ".join(f"{t(f'drawlayer.{k}', LANG)} {n}" for k, n in counts.items())
            caption += f" · {t('drawlayer.households', LANG)} {sum(HOUSEHOLDS.values())}"
            expect(page.get_by_text(caption, exact=True)).to_be_visible()
            page.wait_for_timeout(500)
            page.screenshot(path=ARTIFACTS / "start_4_reloaded.png")
            page.locator(IDLE).wait_for()
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert aborted == [], aborted

    # 8. the command line agrees with what the app showed
    info = cli("info", "--json", str(folder))
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["layers"] == counts | {"sites": 1}
    assert summary["households"] == sum(HOUSEHOLDS.values())
    assert summary["households_unknown_buildings"] == 0
    valid = cli("validate", str(folder))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "valid" in valid.stdout
