"""The per-site memo of `PreparedProject.analyze` and the invariant it rests on.

Invariant (gridgis.analysis.memo): a site's numbers depend only on the
prepared project and the site's own key (site_id, site_type, geometry), never
on the other sites in the batch.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from gridgis.analysis.engine import analyze_sites, prepare
from gridgis.analysis.memo import KEY_COLUMNS, SiteMemo, site_keys
from gridgis.analysis.result import COUNT_COLUMNS
from gridgis.core.project import open_project
from gridgis.errors import GridGISError

from .conftest import DATA

SAMPLES = ["dongsi180", "shaxi_f.gpkg"]


def _computed(result) -> pd.DataFrame:
    """The columns the engine computes (the input's own columns are passed through)."""
    return pd.DataFrame(result.sites).drop(columns=["geometry"])


def _lines_of(result, label) -> pd.DataFrame:
    lines = result.lines[result.lines["site_index"] == label]
    return lines.drop(columns="site_index").reset_index(drop=True)


def _same(a, b) -> None:
    assert_frame_equal(pd.DataFrame(a.sites), pd.DataFrame(b.sites))
    assert_frame_equal(a.lines, b.lines)
    assert_frame_equal(a.plan_funding, b.plan_funding)


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_site_alone_equals_the_same_site_in_the_full_batch(sample):
    project = open_project(DATA / sample)
    sites = project.layers["sites"]
    # fresh computations only: a new prepared project per call, so no memo is involved
    batch = analyze_sites(project, sites)
    for label in sites.index:
        alone = analyze_sites(project, sites.loc[[label]])
        assert_series_equal(
            _computed(alone).loc[label], _computed(batch).loc[label], check_names=False
        )
        assert_frame_equal(_lines_of(alone, label), _lines_of(batch, label))


@pytest.mark.parametrize("sample", SAMPLES)
def test_memo_hits_equal_fresh_computes(sample):
    project = open_project(DATA / sample)
    sites = project.layers["sites"]
    prepared = prepare(project)
    for label in sites.index:  # the app: one site at a time, each memoised
        prepared.analyze(sites.loc[[label]])
    assert prepared.memo.misses == len(sites) and prepared.memo.hits == 0
    hits = prepared.analyze()  # the exports: the whole plan, every row a hit
    assert prepared.memo.hits == len(sites) and prepared.memo.misses == len(sites)
    _same(hits, analyze_sites(project))
    reversed_sites = sites.iloc[::-1]  # rows from several blocks, another order
    _same(prepared.analyze(reversed_sites), analyze_sites(project, reversed_sites))
    for name in COUNT_COLUMNS:
        assert hits.sites[name].dtype == "int64", name


def test_the_key_is_exactly_what_the_numbers_read():
    project = open_project(DATA / "dongsi180")
    prepared = prepare(project)
    one = project.layers["sites"].iloc[[0]]
    first = prepared.analyze(one)
    # a column the engine does not read: a hit, and it is passed through as given
    renamed = one.assign(name="改名", notes="x", status="approved")
    again = prepared.analyze(renamed)
    assert (prepared.memo.hits, prepared.memo.misses) == (1, 1)
    assert again.sites["name"].iloc[0] == "改名" and again.sites["status"].iloc[0] == "approved"
    assert_series_equal(
        _computed(again).drop(columns=["name", "notes", "status"]).iloc[0],
        _computed(first).drop(columns=["name", "notes", "status"]).iloc[0],
    )
    # each key column and the geometry change the key
    moved = one.assign(geometry=one.geometry.translate(0.00001, 0))
    changed = [one.assign(site_type="activity_room"), one.assign(site_id="OTHER"), moved]
    keys = {site_keys(one)[0], *(site_keys(s)[0] for s in changed)}
    assert len(keys) == 2 + len(KEY_COLUMNS)
    for frame in changed:
        prepared.analyze(frame)
    assert prepared.memo.misses == 1 + len(changed)
    assert prepared.analyze(moved).sites["area_m2"].iloc[0] == pytest.approx(
        analyze_sites(project, moved).sites["area_m2"].iloc[0]
    )


def test_the_index_is_the_callers_also_on_memo_hits():
    project = open_project(DATA / "dongsi180")
    prepared = prepare(project)
    sites = project.layers["sites"]
    prepared.analyze(sites.iloc[[1]])
    labelled = gpd.GeoDataFrame(sites.iloc[[2, 1]].set_axis(["a", "b"]), crs=4326)
    result = prepared.analyze(labelled)  # "b" is a hit, "a" a miss
    assert list(result.sites.index) == ["a", "b"] and len(prepared.memo) == 2
    assert list(dict.fromkeys(result.lines["site_index"])) == ["a", "b"]
    _same(result, analyze_sites(project, labelled))


def test_the_memo_is_bounded_and_thread_safe():
    project = open_project(DATA / "shaxi_f.gpkg")
    prepared = prepare(project)
    sites = project.layers["sites"]
    expected = analyze_sites(project, sites)
    object.__setattr__(prepared, "memo", SiteMemo(maxsize=1))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                _same(prepared.analyze(sites), expected)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(prepared.memo) == 1
    with pytest.raises(GridGISError, match="maxsize must be >= 0, got -1"):
        SiteMemo(maxsize=-1)
