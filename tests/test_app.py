import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from unittest import mock
from urllib.parse import urlparse

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from gridgis._errors import ProjectError

from .conftest import REPO

APP = str(REPO / "app.py")
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "_artifacts"
LOCAL_HOSTS = {"localhost", "127.0.0.1"}


def _run(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if lang:
        at.query_params["lang"] = lang
    return at.run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_app_loads_in_chinese():
    at = _run()
    assert not at.exception
    assert not at.error
    assert "老旧小区改造规划" in at.title[0].value
    metrics = _metrics(at)
    assert metrics["住户"] == "308 户"
    assert metrics["楼栋"] == "4 栋"
    assert metrics["微网格"] == "4 个"
    assert metrics["改造场地"] == "3 处"
    assert at.query_params["lang"] == "zh"


def test_app_in_english_from_the_url():
    at = _run("en")
    assert not at.exception
    metrics = _metrics(at)
    assert metrics["Households"] == "308"
    assert set(metrics) == {"Households", "Buildings", "Micro-grids", "Renovation sites"}
    assert at.radio[0].value == "en"
    assert any("Dongsi" in md.value for md in at.markdown)


def test_app_switches_project():
    at = _run()
    at.selectbox[0].select("data/shaxi_f.gpkg").run()
    assert not at.exception
    assert _metrics(at)["住户"] == "70 户"


def test_osm_basemap_toggle():
    at = _run()
    at.toggle[0].set_value(True).run()
    assert not at.exception and not at.error


def test_project_error_is_shown_not_raised():
    st.cache_resource.clear()
    broken = ProjectError("project path 'x' is broken: <b>bad</b>")
    try:
        with mock.patch("gridgis.project.open_project", side_effect=broken):
            at = _run()
    finally:
        st.cache_resource.clear()
    assert not at.exception
    assert at.error and "is broken" in at.error[0].value
    assert not at.metric


# --- a real browser, offline: every request off localhost is aborted -----------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sync_api():
    return pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = _free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true",
        "--server.port", str(port), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log_path = tmp_path_factory.mktemp("app") / "streamlit.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
)
def test_map_renders_offline_in_a_browser(sync_api, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    aborted: list[str] = []
    served: list[str] = []

    def route(r):
        if urlparse(r.request.url).hostname in LOCAL_HOSTS:
            served.append(r.request.url)
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"]  # fmt: skip
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.route("**/*", route)
            page = context.new_page()
            for lang, legend in (("zh", "图例"), ("en", "Legend")):
                page.goto(f"{app_url}/?lang={lang}")
                frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]')
                frame.locator(".leaflet-container").wait_for(timeout=30_000)
                buildings = frame.locator('path.leaflet-interactive[fill="#9aa0a6"]')
                buildings.nth(3).wait_for(timeout=30_000)
                assert buildings.count() == 4  # the sample's four buildings
                sync_api.expect(frame.locator(".gridgis-legend")).to_contain_text(legend)
                sync_api.expect(page.get_by_test_id("stMetric").first).to_be_visible()
                assert page.locator('[data-testid="stException"]').count() == 0
                page.wait_for_timeout(500)
                page.screenshot(path=ARTIFACTS / f"map_{lang}.png")
        finally:
            browser.close()
    assert aborted == [], f"requests off localhost (the app must work offline): {aborted}"
    assert any(
        u.endswith("/app/static/vendor/node_modules/leaflet/dist/leaflet.js") for u in served
    )
