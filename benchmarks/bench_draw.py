"""Benchmark drawing in the app: from finishing a shape to seeing it saved and its numbers shown.

Starts the real app (``streamlit run app.py``) on a fresh workspace holding a
copy of the sample (dongsi180) and a synthetic 500-building compound
(`synthetic.py`'s district under one compound outline), drives it with
Playwright on Debian's chromium (every request off localhost fails), and
times, on each project, from the click on the toolbar's finish link until:

- **site**: the new site's heading and its area, cost, households served and
  checks are in the panel beside the map;
- **building**: the "added and saved" message is shown, the building is in the
  layer file, and the (re-rendered) map draws it;
- **baseline**: a plain rerun of the same page, measured in the same run
  (switching the draw-layer choice, which writes nothing): the ratios
  ``site / baseline`` and ``building / baseline`` say what saving and
  analysing add, on this machine, now.

The last line is ``sample_site_ms=... sample_building_ms=... big_site_ms=... ...``.
Run: ``.venv/bin/python benchmarks/bench_draw.py`` (about two minutes);
``--repeat N`` shapes of each kind per project (default 3; the median is shown).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import shapely

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_app import ARGS, CHROMIUM, IDLE, MAP_IFRAME, offline_page, start_app  # noqa: E402
from synthetic import ORIGIN, synthetic_district  # noqa: E402

from gridgis.core.project import Project, save_project  # noqa: E402
from gridgis.core.store import LayerStore, SiteStore  # noqa: E402
from gridgis.report.i18n import t  # noqa: E402
from tests.e2e_map import MapPage  # noqa: E402

LANG = "en"
BUILDING_FILL = "#9aa0a6"  # gridgis.report.map.style.BUILDING_STYLE
# does the map in the iframe now draw a building over (lat, lng)?
SHOWS = """([lat, lng, fill]) => !!window.map && Object.values(window.map._layers).some(l =>
  l.feature && l.options && l.options.fillColor === fill && l.getBounds
  && l.getBounds().contains([lat, lng]))"""


def big_compound(n_buildings: int) -> Project:
    """The synthetic district's buildings, paths and sites under one compound outline."""
    district = synthetic_district(n_buildings, 20)
    outline = shapely.union_all(district.layers["compound"].to_crs(4544).geometry.buffer(10.5))
    compound = gpd.GeoDataFrame({"name": ["合成小区"]}, geometry=[outline], crs=4544).to_crs(4326)
    return Project(layers={**district.layers, "compound": compound})


def lonlat(x: float, y: float) -> tuple[float, float]:
    """A point `x`, `y` m from the synthetic district's origin, as (lon, lat)."""
    point = gpd.GeoSeries([shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y)], crs=4544).to_crs(4326)
    return float(point.x.iloc[0]), float(point.y.iloc[0])


SAMPLE_SITES = [(104.06989, 30.670315), (104.070183, 30.670281), (104.07056, 30.67014)]
"""Open ground inside the sample compound, clear of buildings, paths, spaces and sites."""


def sample_box(i: int, kind: str) -> list[tuple[float, float]]:
    """Sites (5 x 4 m) in the sample's open ground; buildings south of it, along the road."""
    if kind == "site":
        (lon, lat), (w, h) = SAMPLE_SITES[i % len(SAMPLE_SITES)], (0.000052, 0.000036)
    else:
        (lon, lat), (w, h) = (104.07000 + i * 0.00018, 30.66960), (0.00012, 0.00008)
    return [(lon, lat), (lon + w, lat), (lon + w, lat + h), (lon, lat + h)]


def big_box(i: int, kind: str) -> list[tuple[float, float]]:
    """East of the slabs of the first blocks of the synthetic compound (metres from its origin)."""
    x, y = (113.0, 60.0 + i * 7.0) if kind == "site" else (150.0 * (i + 1) + 113.0, 60.0)
    w, h = (12.0, 5.0) if kind == "site" else (12.0, 20.0)
    return [lonlat(x, y), lonlat(x + w, y), lonlat(x + w, y + h), lonlat(x, y + h)]


def zoom_to(m: MapPage, points: list[tuple[float, float]]) -> None:
    """Show the shape's surroundings at zoom 19 (a pan: the page does not rerun)."""
    lon = sum(p[0] for p in points) / len(points)
    lat = sum(p[1] for p in points) / len(points)
    inner = m.page.locator(MAP_IFRAME).element_handle().content_frame()
    inner.evaluate("([lat, lng]) => window.map.setView([lat, lng], 19, {animate: false})",
                   [lat, lon])  # fmt: skip
    m.page.wait_for_timeout(300)


_WATCH_RUN = """() => {
  window.__gridgisRun = 0;
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => {
    const state = app.getAttribute("data-test-script-state");
    if (state === "running") { window.__gridgisRun = 1; }
    if (state === "notRunning" && window.__gridgisRun === 1) { window.__gridgisRun = 2; }
  }).observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
}"""


def baseline(m: MapPage, n: int) -> list[float]:
    """Seconds of plain reruns: the edit-mode choice switched (the map stays), nothing written."""
    out = []
    for i in range(n):
        mode = t("mapedit.mode_move" if i % 2 == 0 else "mapedit.mode_vertices", LANG)
        m.page.evaluate(_WATCH_RUN)
        start = time.perf_counter()
        m.page.locator(".st-key-edit_mode button", has_text=mode).click()
        m.page.wait_for_function("() => window.__gridgisRun === 2", timeout=60_000)
        out.append(time.perf_counter() - start)
    return out


def draw_site(m: MapPage, points, folder: Path) -> float:
    """Seconds from finishing the site to its numbers and checks in the panel."""
    site_id = SiteStore(folder).new_site_id()
    zoom_to(m, points)
    m.place("polygon", points)
    start = time.perf_counter()
    m.finish()
    heading = m.page.get_by_role("heading", name=f"{site_id} ·")
    m.expect(heading).to_be_visible(timeout=60_000)
    for label in ("site.area", "site.cost", "site.served"):
        m.expect(m.page.get_by_text(t(label, LANG), exact=True)).to_be_visible()
    passed = t("site.passed", LANG, n=0).split("(")[0].strip()  # "Checks passed"
    checks = m.page.locator('[data-testid="stExpander"]', has_text=passed)
    m.expect(checks.or_(m.page.locator('[data-testid="stAlert"]')).first).to_be_visible()
    return time.perf_counter() - start


def draw_building(m: MapPage, points, fid: str, folder: Path) -> float:
    """Seconds from finishing the building to its message, its file and the map drawing it."""
    zoom_to(m, points)
    m.place("polygon", points)
    start = time.perf_counter()
    m.finish()
    added = t("drawlayer.added", LANG, layer=t("drawlayer.buildings", LANG), feature=fid)
    m.expect(m.page.get_by_text(added)).to_be_visible(timeout=60_000)
    assert LayerStore(folder, "buildings").get(fid) is not None, fid
    lon = sum(p[0] for p in points) / len(points)
    lat = sum(p[1] for p in points) / len(points)
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + 60
    while True:
        try:
            inner = m.page.locator(MAP_IFRAME).element_handle().content_frame()
            if inner is not None and inner.evaluate(SHOWS, [lat, lon, BUILDING_FILL]):
                break
        except PlaywrightError:  # the iframe was replaced while being asked
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the map never showed {fid}")
        time.sleep(0.02)
    elapsed = time.perf_counter() - start
    m.page.locator(IDLE).wait_for()
    return elapsed


def measure(context, url: str, project: str, folder: Path, boxes, repeat: int) -> dict:
    """Baseline, sites and buildings on `project`; seconds each."""
    from playwright.sync_api import expect

    expect.set_options(timeout=30_000)
    page = offline_page(context, [])
    page.set_default_timeout(60_000)
    page.goto(f"{url}/?lang={LANG}&project={project}")
    m = MapPage(page, LANG, expect)
    m.ready()
    first_building = len(LayerStore(folder, "buildings").load())
    m.choose_layer("sites")
    m.ready()
    base = baseline(m, 2 * repeat)
    sites = [draw_site(m, boxes(i, "site"), folder) for i in range(repeat)]
    m.choose_layer("buildings")
    m.ready()
    buildings = []
    for i in range(repeat):
        fid = LayerStore(folder, "buildings").new_id()
        buildings.append(draw_building(m, boxes(i, "building"), fid, folder))
    assert len(LayerStore(folder, "buildings").load()) == first_building + repeat
    page.close()
    return {"baseline": base, "site": sites, "building": buildings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="shapes of each kind per project")
    parser.add_argument("--buildings", type=int, default=500, help="buildings of the big one")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    workspace = Path(tempfile.mkdtemp(prefix="gridgis-bench-draw-"))
    shutil.copytree(REPO / "data" / "dongsi180", workspace / "dongsi180")
    big = big_compound(args.buildings)
    save_project(big, workspace / "compound500")
    n_big = len(big.layers["buildings"])
    proc, url = start_app(workspace, workspace / "timing.jsonl")
    results: dict[str, dict] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 960})
            for name, boxes in (("dongsi180", sample_box), ("compound500", big_box)):
                results[name] = measure(context, url, name, workspace / name, boxes, args.repeat)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workspace, ignore_errors=True)

    line = []
    for name, label in (("dongsi180", "sample"), ("compound500", "big")):
        r = results[name]
        med = {k: statistics.median(v) * 1000 for k, v in r.items()}
        size = "4 buildings" if name == "dongsi180" else f"{n_big} buildings"
        print(f"{name} ({size}): baseline rerun {med['baseline']:.0f} ms "
              f"(runs {[round(v * 1000) for v in r['baseline']]})")  # fmt: skip
        for kind in ("site", "building"):
            print(f"  {kind}: finish -> shown {med[kind]:.0f} ms median "
                  f"(runs {[round(v * 1000) for v in r[kind]]}), "
                  f"{med[kind] / med['baseline']:.1f}x the baseline")  # fmt: skip
            line.append(f"{label}_{kind}_ms={med[kind]:.0f}")
        line.append(f"{label}_baseline_ms={med['baseline']:.0f}")
    print(" ".join(line))
    print(json.dumps({k: {kk: [round(x, 3) for x in vv] for kk, vv in v.items()}
                      for k, v in results.items()}))  # fmt: skip


if __name__ == "__main__":
    main()
