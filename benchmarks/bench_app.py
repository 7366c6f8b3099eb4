"""Benchmark the planner's app: rerun time after drawing, map size, a big district in Chromium.

Starts the real app (``streamlit run app.py``) on a fresh workspace, drives it
with Playwright on Debian's chromium (every request off localhost aborted),
and reports:

1. **Server time of the rerun after drawing a site** on the sample compound:
   the script times every run itself and writes it to ``$GRIDGIS_TIMING_LOG``
   (``app/timing.py``: ``timer_stop``). ``--draws`` rectangles are drawn with
   the mouse through Leaflet.draw; the runs that stored a site are reported
   (median and max), next to plain reruns (renaming a site).
2. **Map size** of the sample: the base map the browser loads once (HTML +
   script) and the sites layer resent after each drawing.
3. **A synthetic 5,000-building district** (`synthetic.py`) opened in the app:
   seconds from navigation until the map has drawn its buildings, cold (the
   server builds and caches the map) and warm (a second browser session), and
   the same map as a standalone page (browser time only).

The last line is ``rerun_ms=... map_kb=... district_open_s=...``.
Run: ``.venv/bin/python benchmarks/bench_app.py`` (about a minute).
``--skip-draws`` leaves out part 1, ``--repeat N`` opens the district warm N
times (the median is reported), and ``--timeline`` prints when each phase of
opening a page ended (Streamlit's page, its first script run, the map's
iframe, Leaflet, the map's script, the first paint).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from synthetic import synthetic_district  # noqa: E402

from app import mapwidget  # noqa: E402
from gridgis.analysis.engine import analyze_sites  # noqa: E402
from gridgis.core.project import open_project, save_project  # noqa: E402
from gridgis.report.map.view import project_map, sites_layer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# offline without intercepting requests (interception slows page loads): every
# host but localhost fails to resolve
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"]  # fmt: skip
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# wait until the map script ran and the browser painted twice
PAINTED = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() =>
  done(window.map ? Object.keys(window.map._layers).length : 0))))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(workspace: Path, timing_log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "GRIDGIS_WORKSPACE": str(workspace),
           "GRIDGIS_TIMING_LOG": str(timing_log)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless",
         "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the app did not start")


def offline_page(context, failed: list[str]):
    """A page that records every request off localhost (they all fail to resolve)."""
    page = context.new_page()

    def check(request) -> None:
        if urlparse(request.url).hostname not in ("127.0.0.1", "localhost"):
            failed.append(request.url)

    page.on("request", check)
    return page


def runs(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def draw_rectangles(page, n: int, log: Path) -> None:
    """Draw `n` small rectangles with the mouse in the sample's open ground."""
    from playwright.sync_api import expect

    frame = page.frame_locator(MAP_IFRAME)
    for i in range(n):
        inner = page.locator(MAP_IFRAME).element_handle().content_frame()
        box = page.locator(MAP_IFRAME).bounding_box()
        lon, lat = 104.06970 + i * 0.00006, 30.66960  # south of building 1, along the road
        (x0, y0), (x1, y1) = (
            inner.evaluate(
                "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
                " return [p.x, p.y]; }",
                pt,
            )
            for pt in ([lat + 0.00005, lon], [lat, lon + 0.00004])
        )
        before = len(runs(log))
        frame.locator("a.leaflet-draw-draw-rectangle").click()
        page.mouse.move(box["x"] + x0, box["y"] + y0, steps=3)
        page.wait_for_timeout(150)
        page.mouse.down()
        page.mouse.move(box["x"] + x1, box["y"] + y1, steps=8)
        page.wait_for_timeout(150)
        page.mouse.up()
        expect(page.get_by_role("heading", name=f"S{i + 1} · E-bike shed")).to_be_visible(
            timeout=30_000
        )
        deadline = time.monotonic() + 10
        while not any(r["stored"] for r in runs(log)[before:]) and time.monotonic() < deadline:
            time.sleep(0.1)


def rename(page, n: int) -> None:
    from playwright.sync_api import expect

    for i in range(n):
        page.locator(IDLE).wait_for(timeout=30_000)  # the run before has finished
        box = page.get_by_label("Name", exact=True)
        expect(box).to_have_count(1, timeout=30_000)
        box.fill(f"shed {i}")
        box.press("Enter")
        expect(page.get_by_role("heading", name=f"· shed {i}")).to_be_visible(timeout=30_000)


# --timeline: marks set in every frame (the app and the map's iframe), in epoch ms
TIMELINE = r"""
(() => {
  const marks = (window.__gridgisMarks = {});
  const now = () => performance.timeOrigin + performance.now();
  const mark = (name) => { if (!(name in marks)) { marks[name] = now(); } };
  let leaflet, map;
  Object.defineProperty(window, "L", {configurable: true, get: () => leaflet,
    set: (v) => { mark("Leaflet loaded"); leaflet = v; }});
  Object.defineProperty(window, "map", {configurable: true, get: () => map,
    set: (v) => { mark("map script ran"); map = v;
      requestAnimationFrame(() => requestAnimationFrame(() => mark("map painted"))); }});
  document.addEventListener("DOMContentLoaded", () => mark("page scripts loaded"));
  const seen = new MutationObserver(() => {
    if (document.querySelector('[data-testid="stSidebar"]')) { mark("first script output"); }
    if (document.querySelector('iframe[title="streamlit_folium.st_folium"]')) {
      mark("map iframe added"); }
    if (document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
        && marks["first script output"]) { mark("script run finished"); }
  });
  seen.observe(document, {subtree: true, childList: true, attributes: true,
                          attributeFilter: ["data-test-script-state"]});
})();
"""


def timeline(page, started: float) -> list[tuple[str, float]]:
    """Phases of the last navigation of `page`: (name, seconds after `started`)."""
    from playwright.sync_api import Error

    marks: dict[str, float] = {}
    for frame in page.frames:
        try:
            marks.update(frame.evaluate("window.__gridgisMarks || {}"))
        except Error:  # a frame that went away
            continue
    return sorted(((k, v / 1000 - started) for k, v in marks.items()), key=lambda kv: kv[1])


def open_time(page, url: str, phases: list | None = None) -> float:
    """Seconds from navigation until the map has drawn its layers."""
    start, epoch = time.perf_counter(), time.time()
    page.goto(url)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("a.leaflet-draw-draw-polygon").wait_for(state="visible", timeout=60_000)
    inner = page.locator(MAP_IFRAME).element_handle().content_frame()
    layers = inner.evaluate(PAINTED)
    elapsed = time.perf_counter() - start
    assert layers > 10, layers
    if phases is not None:
        phases[:] = [*timeline(page, epoch), ("map visible (measured)", elapsed)]
    return elapsed


def print_timeline(name: str, phases: list[tuple[str, float]]) -> None:
    print(f"timeline of {name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases))


def standalone_open_time(browser, html: str) -> float:
    """Browser-only time for the same map as a plain page served from localhost."""
    root = Path(tempfile.mkdtemp(prefix="gridgis-bench-"))
    (root / "app").mkdir()
    (root / "app" / "static").symlink_to(REPO / "static")
    (root / "map.html").write_text(html, encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(f"http://127.0.0.1:{server.server_port}/map.html")
        page.wait_for_function("() => document.querySelector('.leaflet-container')")
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        return time.perf_counter() - start
    finally:
        server.shutdown()
        shutil.rmtree(root, ignore_errors=True)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=6)
    parser.add_argument("--buildings", type=int, default=5000)
    parser.add_argument("--skip-draws", action="store_true", help="leave out part 1")
    parser.add_argument("--repeat", type=int, default=1, help="warm district opens")
    parser.add_argument("--timeline", action="store_true", help="print the phases of opening")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    # 2. sizes, from the library (what the app sends)
    sample = open_project(REPO / "data" / "dongsi180")
    prepared = mapwidget.prepare(
        project_map(sample, sites=False, draw=True, asset_url=mapwidget.ASSET_URL)
    )
    group = sites_layer(analyze_sites(sample).sites, settings=sample.settings, clear_drawn=0)
    group_kb = len(mapwidget.feature_group_script(group).encode()) / 1024
    map_kb = prepared.size / 1024
    standalone_kb = len(project_map(sample).get_root().render().encode()) / 1024
    print(f"sample map: base {map_kb:.1f} KB (sent once), sites layer {group_kb:.1f} KB "
          f"(resent per edit); standalone page {standalone_kb:.1f} KB")  # fmt: skip

    workspace = Path(tempfile.mkdtemp(prefix="gridgis-bench-ws-"))
    log = workspace / "timing.jsonl"
    district = synthetic_district(args.buildings, 50)
    save_project(district, workspace / "district")
    district_map = project_map(district, sites=False, draw=True, asset_url=mapwidget.ASSET_URL)
    district_html = district_map.get_root().render()
    district_kb = len(district_html.encode()) / 1024
    proc, url = start_app(workspace, log)
    aborted: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 960})
            if args.timeline:
                context.add_init_script(TIMELINE)
            page = offline_page(context, aborted)
            # 1. reruns after drawing, on the sample
            open_time(page, f"{url}/?lang=en")
            if not args.skip_draws:
                draw_rectangles(page, args.draws, log)
                rename(page, 4)
            # 3. the sample, then the district (cold: the server builds its map), in new
            # tabs of a browser that has loaded the app before (its own scripts cached)
            # (earlier tabs stay open: closing one slows the page opened just after it)
            phases: dict[str, list] = {"sample": [], "cold": [], "warm": []}

            def measure(target: str, marks: list) -> float:
                return open_time(offline_page(context, aborted), target, marks)

            district_url = f"{url}/?lang=en&project=district"
            sample_open = measure(f"{url}/?lang=en", phases["sample"])
            cold = measure(district_url, phases["cold"])
            warms = [measure(district_url, phases["warm"]) for _ in range(max(1, args.repeat))]
            warm = statistics.median(warms)
            alone = standalone_open_time(browser, district_html)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    records = runs(log)
    sample = [r for r in records if r["project"] == "dongsi180" and r["page"] == "map"]
    drawn = [r for r in sample if r["stored"]][1:]  # the first also warms the analysis
    plain = [r for r in sample[len(drawn) + 3 :] if not r["stored"]][:4]  # the renames
    district = [r for r in records if r["project"] == "district"]

    def stats(rows: list[dict], key: str) -> str:
        values = [r[key] for r in rows]
        return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms"

    if drawn:
        print(f"rerun after drawing ({len(drawn)} runs after the first): wall "
              f"{stats(drawn, 'ms')}; CPU of the script thread "
              f"{stats(drawn, 'cpu_ms')}")  # fmt: skip
        print(f"rerun after renaming: wall {stats(plain, 'ms')}")
    print(f"district page runs: {[r['ms'] for r in district]} ms")
    if len(warms) > 1:
        print(f"district warm opens: {[round(w, 2) for w in warms]} s")
    for name, marks in phases.items():
        if args.timeline:
            print_timeline(name, marks)
    print(
        f"{args.buildings}-building district: map {district_kb:.0f} KB; opens in "
        f"{cold:.2f} s cold (server builds the map), {warm:.2f} s warm "
        f"(the sample compound: {sample_open:.2f} s); the map alone as a page: {alone:.2f} s"
    )
    print(f"requests off localhost (all failed): {len(aborted)}")
    shutil.rmtree(workspace, ignore_errors=True)
    rerun = f"{statistics.median(r['ms'] for r in drawn):.0f}" if drawn else "nan"
    print(f"rerun_ms={rerun} map_kb={map_kb:.1f} district_open_s={warm:.2f} "
          f"district_cold_s={cold:.2f} sample_open_s={sample_open:.2f} "
          f"district_kb={district_kb:.0f} standalone_s={alone:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
