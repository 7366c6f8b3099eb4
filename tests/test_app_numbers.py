"""The numbers beside the map are those of ``gridgis analyze``, on both samples, every site.

The map page is driven with Streamlit's AppTest: each site is selected in
turn and the metrics it shows (area, capacity, cost, households) are read off
the page and compared with the CLI's GeoJSON for the same working copy. The
view's own figures (`app.views.site_panel.site_figures` of the page's call,
`app.engine.analyze`) must equal the CLI's to the last digit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from shapely import box
from shapely.affinity import translate
from shapely.geometry import mapping
from streamlit.testing.v1 import AppTest

from app import engine, exports, state
from app.views.site_panel import site_figures
from app.workspace import open_sample, sites_at
from gridgis.report.i18n import t

from .apptest import APP
from .apptest import ok as _ok
from .conftest import REPO

SAMPLES = ["dongsi180", "shaxi_f.gpkg"]


pytestmark = pytest.mark.usefixtures("workspace")  # tests/conftest.py


def _map_page(project: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "en"
    at.query_params["project"] = project
    return _ok(at.run())


def _cli_sites(path: Path, tmp_path: Path, lang: str = "en") -> dict[str, dict[str, Any]]:
    """``gridgis analyze PATH --lang LANG -o OUT.geojson``: each site's properties by id."""
    out = tmp_path / f"{path.name}.analysis.geojson"
    proc = subprocess.run(
        [sys.executable, "-m", "gridgis.cli", "analyze", str(path), "--lang", lang, "-o", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    return {str(f["properties"]["site_id"]): f["properties"] for f in features}


def _shown(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _number(text: str) -> float:
    """``"CNY 12,345"``, ``"75.1 m²"``, ``"34 bikes"`` -> the number."""
    return float(text.removeprefix("CNY ").replace(",", "").split()[0])


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_numbers_beside_the_map_are_those_of_gridgis_analyze(sample, workspace, tmp_path):
    name = open_sample(sample)
    path = workspace / name
    cli = _cli_sites(path, tmp_path)
    at = _map_page(name)
    picker = next(s for s in at.selectbox if s.label.startswith("Selected site"))
    assert sorted(picker.options) == sorted(picker.format_func(sid) for sid in cli), (
        "the page lists other sites than the CLI"
    )
    for sid, want in cli.items():
        picker = next(s for s in at.selectbox if s.label.startswith("Selected site"))
        _ok(picker.set_value(sid).run())
        shown = _shown(at)
        where = f"{sample} {sid}"
        assert shown["Area"] == f"{want['area_m2']:,.1f} m²", where
        assert _number(shown["Area"]) == pytest.approx(want["area_m2"], abs=0.05), where
        unit = t(f"unit.{want['capacity_unit']}", "en")
        assert shown["Capacity"] == f"{want['capacity']} {unit}", where
        assert shown["Cost"] == f"CNY {want['cost_cny']:,.0f}", where
        assert _number(shown["Cost"]) == pytest.approx(want["cost_cny"], abs=0.5), where
        assert int(shown["Households served"]) == want["households_served"], where
        assert int(shown["To consult first"]) == want["households_adjacent"], where
        # every check the CLI fails is shown in red on the page, and no other
        errors = " ".join(e.value.replace("\\", "") for e in at.error)
        for check in want["checks"]:
            rule = t(f"rule.{check['rule']}", "en")
            named = f"**{rule}**" in errors
            assert named == (check["ok"] is False), (where, check)


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_view_figures_equal_the_cli_to_the_last_digit(sample, workspace, tmp_path):
    name = open_sample(sample)
    path = workspace / name
    cli = _cli_sites(path, tmp_path)
    analysed = engine.analyze(path, sites_at(path)).sites  # the page's call (ctx.analysis)
    assert sorted(analysed["site_id"].astype(str)) == sorted(cli)
    for _, row in analysed.iterrows():
        want = cli[str(row["site_id"])]
        figures = site_figures(row)
        assert round(figures["area_m2"], 2) == want["area_m2"]
        assert figures["capacity"] == want["capacity"]
        assert figures["capacity_unit"] == want["capacity_unit"]
        assert figures["cost_cny"] == pytest.approx(want["cost_cny"], abs=1e-9)
        assert figures["households_served"] == want["households_served"]
        assert figures["households_adjacent"] == want["households_adjacent"]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("sample", SAMPLES)
def test_the_data_page_geojson_export_is_the_cli_output(sample, lang, workspace, tmp_path):
    name = open_sample(sample)
    path = workspace / name
    cli = _cli_sites(path, tmp_path, lang)
    analysis = engine.analyze(path, sites_at(path))  # the data page's call
    exported = json.loads(exports.site_plan_geojson(analysis, lang))
    ours = {str(f["properties"]["site_id"]): f["properties"] for f in exported["features"]}
    assert ours == cli


def _outside(path: Path, gap_m: float) -> Any:
    """An 8 x 10 m box `gap_m` metres east of the compound, in EPSG:4326."""
    compound = gpd.read_file(path / "compound.geojson").to_crs(4544)
    wall = compound.geometry.iloc[0]
    _, ymin, xmax, ymax = wall.bounds
    y = (ymin + ymax) / 2
    shed = box(xmax + gap_m, y, xmax + gap_m + 8.0, y + 10.0)
    for _ in range(20):  # slide it west until its nearest point is `gap_m` from the wall
        shed = translate(shed, xoff=gap_m - wall.distance(shed))
    assert wall.distance(shed) == pytest.approx(gap_m, abs=0.01)
    return gpd.GeoSeries([shed], crs=4544).to_crs(4326).iloc[0]


def _draw_outside(workspace: Path, *, gap_m: float, alone: bool) -> AppTest:
    name = open_sample("dongsi180")
    if alone:  # a copy without sites: the drawn site is then the only site of its batch
        name = "no_sites"
        shutil.copytree(workspace / "dongsi180", workspace / name,
                        ignore=shutil.ignore_patterns("sites.*", "votes.*"))  # fmt: skip
    path = workspace / name
    at = _map_page(name)
    assert len(sites_at(path)) == (0 if alone else 3)
    shed = _outside(path, gap_m)
    at.session_state[state.MAP] = {
        "all_drawings": [{"type": "Feature", "properties": {}, "geometry": mapping(shed)}]
    }
    return _ok(at.run())


def _inside_compound_failed(at: AppTest) -> bool:
    errors = [e.value.replace("\\", "") for e in at.error]
    return any("**Inside the compound**" in e for e in errors)


@pytest.mark.parametrize("alone", [False, True], ids=["with_the_plan", "alone"])
@pytest.mark.parametrize("gap_m", [20.0, 100.0, 1_500_000.0])
def test_a_site_outside_the_compound_fails_inside_compound_on_the_map_page(workspace, gap_m, alone):
    at = _draw_outside(workspace, gap_m=gap_m, alone=alone)
    assert at.session_state[state.SELECTED] == "S1"
    assert _inside_compound_failed(at), [e.value for e in at.error]
    assert all("Every check passed" not in s.value for s in at.success)
