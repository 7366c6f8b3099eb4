"""An installed gridgis (not this checkout) writes a map HTML with Leaflet in it.

The map's scripts are package data (``gridgis/report/map/vendor``, installed by
``./dev setup``'s npm step): this builds and installs the package from a copy
of the checkout into a scratch venv and, outside the checkout, saves the
sample's map with the library's map function.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap

import pytest

from gridgis.report.map.assets import VENDOR_FILES, check_assets

from .conftest import DATA, REPO

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import sys
    import gridgis
    from gridgis.core.project import open_project
    from gridgis.report.map.view import project_map

    print(gridgis.__file__)
    project_map(open_project(sys.argv[1]), lang="en").save(sys.argv[2])
    """
)


def _python(venv):
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def test_installed_package_writes_a_map_with_leaflet(tmp_path):
    check_assets()  # the checkout has the npm packages (./dev setup)
    source = tmp_path / "checkout"
    source.mkdir()
    shutil.copy2(REPO / "pyproject.toml", source)
    shutil.copy2(REPO / "README.md", source)
    shutil.copytree(
        REPO / "gridgis", source / "gridgis", ignore=shutil.ignore_patterns("__pycache__")
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # the dependencies come from the running environment (no download); gridgis does not
    purelib = sysconfig.get_paths()["purelib"]
    target = subprocess.run(
        [_python(venv), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "zz_deps.pth"), "w", encoding="utf-8") as fh:
        fh.write(purelib + "\n")
    install = subprocess.run(
        [_python(venv), "-m", "pip", "install", "--no-deps", "--quiet", str(source)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    page = outside / "dongsi180.html"
    run = subprocess.run(
        [_python(venv), "-c", SCRIPT, str(DATA / "dongsi180"), str(page)],
        cwd=outside, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    installed = run.stdout.strip().splitlines()[-1]
    assert installed.startswith(target), installed  # the wheel's gridgis, not this checkout
    html = page.read_text(encoding="utf-8")
    assert 't.version="1.9.3"' in html  # Leaflet itself, inlined
    assert "<script src=" not in html and "<link rel=" not in html  # nothing to fetch
    assert "东四街180号院" in html or "Dongsi" in html
    vendor = os.path.join(target, "gridgis", "report", "map", "vendor", "node_modules")
    assert [p for p in VENDOR_FILES if not os.path.isfile(os.path.join(vendor, p))] == []
