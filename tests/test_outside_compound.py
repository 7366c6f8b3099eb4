"""A site outside the compound always fails ``inside_compound``: alone, in any batch, via the CLI.

Also: a site too large to be one is refused quickly, and a project without
paths leaves the fire-lane check not checked (never an all-clear).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import geopandas as gpd
import pandas as pd
import pytest
from shapely import box

from gridgis.analysis.engine import analyze_sites, prepare
from gridgis.analysis.rules import check_summary
from gridgis.core.project import Project, open_project
from gridgis.errors import ValidationError

from .conftest import DATA, REPO

SAMPLE = DATA / "dongsi180"
OUTSIDE_M = {"20m": 20.0, "100m": 100.0, "1500km": 1_500_000.0}


def _outside_site(project: Project, gap_m: float, site_id: str) -> gpd.GeoDataFrame:
    """A 10 x 6 m shed `gap_m` east of the compound's east edge."""
    crs = project.metric_crs()
    _, ymin, xmax, ymax = project.layers["compound"].to_crs(crs).total_bounds
    y = (ymin + ymax) / 2
    site = gpd.GeoDataFrame(
        {"site_id": [site_id], "site_type": ["parking_shed"], "name": [f"{site_id} shed"]},
        geometry=[box(xmax + gap_m, y, xmax + gap_m + 10, y + 6)],
        crs=crs,
    )
    return site.to_crs(4326)


def _inside(result, site_id: str) -> dict:
    row = result.sites.set_index("site_id").loc[site_id]
    return next(c for c in row["checks"] if c["rule"] == "inside_compound")


@pytest.fixture(scope="module")
def project() -> Project:
    return open_project(SAMPLE)


@pytest.mark.parametrize("gap", list(OUTSIDE_M))
def test_outside_fails_alone_and_in_every_batch(project, gap):
    prepared = prepare(project)
    out = _outside_site(project, OUTSIDE_M[gap], f"OUT{gap}")
    own = project.layers["sites"]
    batches = {
        "alone": out,
        "first": pd.concat([out, own], ignore_index=True),
        "last": pd.concat([own, out], ignore_index=True),
        "with the others": pd.concat(
            [own, *(_outside_site(project, m, f"X{k}") for k, m in OUTSIDE_M.items()), out],
            ignore_index=True,
        ),
    }
    for name, sites in batches.items():
        sites = gpd.GeoDataFrame(sites, crs=4326)
        for result in (prepared.analyze(sites), analyze_sites(project, sites)):
            check = _inside(result, f"OUT{gap}")
            assert (check["status"], check["ok"]) == ("fail", False), name
            assert check["params"]["outside_pct"] == 100.0 and check["measured"] > 59
            row = result.sites.set_index("site_id").loc[f"OUT{gap}"]
            assert row["inside_compound"] is not pd.NA and not row["inside_compound"]
            assert not check_summary(row["checks"])["all_clear"]
            assert row["checks_failed"] >= 1


def test_cli_outside_sites_fail_in_the_output_file(tmp_path):
    project = open_project(SAMPLE)
    sites = pd.concat(
        [_outside_site(project, m, f"OUT{k}") for k, m in OUTSIDE_M.items()], ignore_index=True
    )
    for label, frame in {"together": sites, "alone": sites.iloc[[0]]}.items():
        src, out = tmp_path / f"{label}.geojson", tmp_path / f"{label}_out.geojson"
        gpd.GeoDataFrame(frame, crs=4326).to_file(src)
        run = subprocess.run(
            [sys.executable, "-m", "gridgis.cli", "analyze", str(SAMPLE), "--sites", str(src),
             "-o", str(out), "--lang", "zh"],
            capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert len(doc["features"]) == len(frame)
        for feature in doc["features"]:
            check = next(
                c for c in feature["properties"]["checks"] if c["rule"] == "inside_compound"
            )
            assert check["status"] == "fail" and check["ok"] is False
            assert check["message"] == f"100.0%（{check['measured']:.1f} m²）在小区边界外"


def test_a_site_of_ten_degrees_is_refused_quickly(project, tmp_path):
    lon, lat = project.layers["compound"].geometry.iloc[0].centroid.coords[0]
    huge = gpd.GeoDataFrame(
        {"site_id": ["HUGE"], "site_type": ["parking_shed"]},
        geometry=[box(lon - 5, lat - 5, lon + 5, lat + 5)],
        crs=4326,
    )
    start = time.perf_counter()
    with pytest.raises(ValidationError, match=r"site 'HUGE' covers [\d,]+ m2; a site may cover"):
        prepare(project).analyze(huge)
    assert time.perf_counter() - start < 5.0
    src = tmp_path / "huge.geojson"
    huge.to_file(src)
    run = subprocess.run(
        [sys.executable, "-m", "gridgis.cli", "analyze", str(SAMPLE), "--sites", str(src)],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "site_id='HUGE'" in run.stderr and "geometry" in run.stderr


def test_without_paths_the_fire_lane_check_is_not_checked(project):
    layers = {k: v for k, v in project.layers.items() if k != "paths"}
    result = prepare(Project(layers=layers, settings=project.settings)).analyze()
    for checks in result.sites["checks"]:
        lane = next(c for c in checks if c["rule"] == "fire_lane_clear")
        assert (lane["status"], lane["ok"], lane["reason"]) == (
            "not_checked",
            None,
            "no_paths_layer",
        )
        summary = check_summary(checks)
        assert summary["not_checked"] == 1 and summary["all_clear"] is False
    assert result.totals()["checks_not_checked"] == len(result.sites)
    assert (result.sites["checks_not_checked"] == 1).all()
