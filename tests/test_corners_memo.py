"""The memo of the suggest-sites numbers (`suggest`, `stall_layout`) and its invariant.

Invariant (gridgis.analysis.corners.memo): `find_corners` and `compare_spaces`
read only the compound, buildings, paths and spaces layers, the settings and
each site's site_id, status and outline; `layout_site` reads the buildings, the
settings and its own site's site_id, site_type and outline. So a hit equals a
fresh compute, a change to what is read is a miss, and a change to anything
else is a hit that still equals a fresh compute.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import pytest
from geopandas.testing import assert_geodataframe_equal

from gridgis.analysis.corners import (
    CornerMemo,
    compare_spaces,
    find_corners,
    stall_layout,
    suggest,
    with_sites,
)
from gridgis.analysis.corners.memo import layer_digest
from gridgis.analysis.stalls.site import layout_site
from gridgis.core.project import Project, open_project
from gridgis.core.settings import settings_from_toml
from gridgis.errors import GridGISError

from .conftest import DATA

SAMPLES = ["dongsi180", "shaxi_f.gpkg"]
SHED = {"dongsi180": "SITE1", "shaxi_f.gpkg": "SITE2"}


def _fresh(project: Project) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    found = find_corners(project)
    return found, compare_spaces(project, found)


def _same(got: tuple, want: tuple) -> None:
    for a, b in zip(got, want, strict=True):
        assert_geodataframe_equal(a, b)


def _moved(sites: gpd.GeoDataFrame, site_id: str, dx: float) -> gpd.GeoDataFrame:
    out = sites.copy()
    pick = out["site_id"] == site_id
    out.loc[pick, "geometry"] = out.loc[pick].geometry.translate(dx, 0)
    return out


@pytest.fixture(scope="module", params=SAMPLES)
def sample(request) -> tuple[str, Project]:
    return request.param, open_project(DATA / request.param)


def test_a_hit_equals_a_fresh_compute_and_survives_reopening(sample):
    _, project = sample
    memo = CornerMemo()
    first = suggest(project, memo=memo)
    _same(first, _fresh(project))
    again = suggest(open_project(project.path), memo=memo)  # other objects, same content
    assert (memo.misses, memo.hits) == (1, 1)
    _same(again, _fresh(project))


def test_a_changed_site_invalidates(sample):
    _, project = sample
    memo = CornerMemo()
    sites = project.layers["sites"]
    before = suggest(project, sites, memo=memo)
    for changed in (
        _moved(sites, "SITE1", 0.0002),  # about 20 m east
        sites.assign(status=["rejected", *sites["status"].iloc[1:]]),
        sites.assign(site_id=["NEW", *sites["site_id"].iloc[1:]]),
        sites.iloc[1:],
    ):
        misses = memo.misses
        got = suggest(project, changed, memo=memo)
        assert memo.misses == misses + 1
        _same(got, _fresh(with_sites(project, changed)))
    moved = suggest(project, _moved(sites, "SITE1", 0.0002), memo=memo)
    assert not moved[0].equals(before[0])  # moving a site frees and takes ground


def test_what_is_not_read_is_a_hit_and_still_fresh(sample):
    _, project = sample
    memo = CornerMemo()
    sites = project.layers["sites"]
    suggest(project, sites, memo=memo)
    renamed = sites.assign(name="renamed", site_type="vegetable_garden")
    layers = {k: v for k, v in project.layers.items() if k != "microgrids"}
    other = Project(layers=layers, settings=project.settings, path=project.path)
    got = suggest(other, renamed, memo=memo)
    assert (memo.misses, memo.hits) == (1, 1)
    _same(got, _fresh(with_sites(other, renamed)))


def test_changed_settings_or_layers_are_misses(sample):
    _, project = sample
    memo = CornerMemo()
    suggest(project, memo=memo)
    wider = settings_from_toml('[corners]\nbuilding_clearance_m = { value = 6.0, source = "E" }\n')
    got = suggest(project, settings=wider, memo=memo)
    assert memo.misses == 2
    found = find_corners(project, settings=wider)
    _same(got, (found, compare_spaces(project, found, settings=wider)))
    buildings = project.layers["buildings"]
    fewer = {**project.layers, "buildings": buildings.iloc[1:]}
    suggest(Project(layers=fewer, settings=project.settings), memo=memo)
    assert memo.misses == 3


def test_results_are_copies(sample):
    _, project = sample
    memo = CornerMemo()
    found, _ = suggest(project, memo=memo)
    found["score"] = -1.0
    again, _ = suggest(project, memo=memo)
    assert (again["score"] >= 0).all()


def test_stall_layout_hits_equal_fresh_and_own_site_changes_invalidate(sample):
    name, project = sample
    shed = SHED[name]
    memo = CornerMemo()
    sites = project.layers["sites"]
    first = stall_layout(project, shed, memo=memo)
    assert_geodataframe_equal(first, layout_site(project, shed))
    assert first.attrs == layout_site(project, shed).attrs
    other = next(s for s in sites["site_id"] if s != shed)
    others_moved = _moved(sites, other, 0.0002)
    again = stall_layout(project, shed, others_moved, memo=memo)  # another site: a hit
    assert (memo.misses, memo.hits) == (1, 1)
    assert_geodataframe_equal(again, layout_site(with_sites(project, others_moved), shed))
    moved = _moved(sites, shed, 0.00003)
    got = stall_layout(project, shed, moved, memo=memo)
    assert memo.misses == 2
    assert_geodataframe_equal(got, layout_site(with_sites(project, moved), shed))
    assert not got.geometry.geom_equals(first.geometry).all()
    stall_layout(project, shed, aisle_m=3.0, memo=memo)
    assert memo.misses == 3


def test_stall_layout_errors_are_raised_and_not_held(sample):
    name, project = sample
    shed = SHED[name]
    memo = CornerMemo()
    sites = project.layers["sites"]
    garden = sites.assign(site_type=["activity_room"] * len(sites))
    with pytest.raises(GridGISError, match="has no stall layout"):
        stall_layout(project, shed, garden, memo=memo)
    with pytest.raises(GridGISError, match="no feature site_id='NOPE'"):
        stall_layout(project, "NOPE", memo=memo)
    twice = gpd.GeoDataFrame(gpd.pd.concat([sites, sites[sites["site_id"] == shed]]), crs=sites.crs)
    with pytest.raises(GridGISError, match="2 features have site_id"):
        stall_layout(project, shed, twice, memo=memo)
    assert len(memo) == 0


def test_the_memo_is_bounded_and_thread_safe():
    project = open_project(DATA / "dongsi180")
    sites = project.layers["sites"]
    memo = CornerMemo(maxsize=1)
    want = _fresh(project)
    results: list[tuple] = []

    def run() -> None:
        results.append(suggest(project, memo=memo))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 4
    for got in results:
        _same(got, want)
    suggest(project, sites.iloc[1:], memo=memo)
    assert len(memo) == 1
    hits = memo.hits
    suggest(project, memo=memo)  # dropped by the newer entry: computed again
    assert memo.hits == hits
    with pytest.raises(GridGISError, match="maxsize must be >= 0, got -1"):
        CornerMemo(maxsize=-1)


def test_layer_digest_sees_values_index_and_crs():
    project = open_project(DATA / "dongsi180")
    paths = project.layers["paths"]
    base = layer_digest(paths)
    assert layer_digest(paths.copy()) == base
    assert layer_digest(paths.assign(width_m=paths["width_m"] + 0.5)) != base
    assert layer_digest(paths.set_axis(paths.index + 1)) != base
    assert layer_digest(paths.to_crs(3857)) != base
    assert layer_digest(None) == b""
