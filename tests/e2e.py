"""Shared pieces of the browser tests: the app server and Chromium's settings."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from .conftest import REPO

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "_artifacts"
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update"]  # fmt: skip
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'  # the map page's map
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"
)


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(workspace: Path, log_path: Path) -> Iterator[str]:
    """Start ``streamlit run app.py`` on `workspace`; yield its URL once healthy."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
        "--server.headless", "true", "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "GRIDGIS_WORKSPACE": str(workspace)}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
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


def keep_offline(context: Any, served: list[str] | None = None) -> list[str]:
    """Abort every request of a Playwright `context` that leaves localhost.

    Returns the list the aborted URLs are appended to; `served` (if given)
    collects the URLs that went to localhost.
    """
    aborted: list[str] = []

    def route(r: Any) -> None:
        if urlparse(r.request.url).hostname in LOCAL_HOSTS:
            if served is not None:
                served.append(r.request.url)
            r.continue_()
        else:
            aborted.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    return aborted


def wait_for_value(page: Any, label: str, value: str, timeout_s: float = 30) -> None:
    """Wait until the one widget labelled `label` shows `value`.

    Streamlit 1.67 may keep the old form's widgets beside the new ones for a moment
    after a pick or a save, so both the count and the value are checked together.
    """
    from playwright.sync_api import Error as PlaywrightError

    found = page.get_by_label(label, exact=True)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if found.count() == 1 and found.input_value(timeout=1_000) == value:
                return
        except PlaywrightError:  # the widget was replaced while being read
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{label!r} never showed {value!r} alone")
        page.wait_for_timeout(100)
