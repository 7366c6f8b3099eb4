"""Micro-grids from buildings on the sample compound: cells tile it, households add up."""

from __future__ import annotations

import itertools

import geopandas as gpd
import pandas as pd
import pytest
import shapely

import gridgis
from gridgis.analysis.microgrids import building_cells, microgrid_from_buildings
from gridgis.errors import GridGISError

PER_FLOOR = 2.0


@pytest.fixture(scope="module")
def sample() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, object]:
    p = gridgis.open_project("data/dongsi180")
    return p.layers["compound"], p.layers["buildings"], p.metric_crs()


def test_cells_tile_the_compound(sample) -> None:
    compound, buildings, crs = sample
    cells = building_cells(compound, buildings, crs=crs)
    assert cells.crs.to_epsg() == 4326 and list(cells.index) == list(buildings.index)
    metric = cells.to_crs(crs)
    area = compound.to_crs(crs).union_all()
    union = shapely.union_all(metric.to_numpy())
    assert abs(union.area - area.area) / area.area < 0.005
    assert union.symmetric_difference(area).area < 0.01
    overlap = sum(a.intersection(b).area for a, b in itertools.combinations(metric, 2))
    assert overlap < 0.01
    footprints = buildings.to_crs(crs).geometry
    for i in range(len(buildings)):  # each building lies in its own cell, in no other
        assert footprints.iloc[i].difference(metric.iloc[i]).area < 1e-6
        assert metric.iloc[i].area > footprints.iloc[i].area


def test_a_long_slab_gets_a_fair_cell() -> None:
    """Sampled outlines, not centroids: a 100 m slab next to a 10 m block keeps its side."""
    m = 4544
    slab = shapely.box(500000, 3390000, 500100, 3390010)
    block = shapely.box(500095, 3390030, 500105, 3390040)
    b = gpd.GeoDataFrame({"building_id": ["S", "K"]}, geometry=[slab, block], crs=m)
    site = gpd.GeoSeries([shapely.box(499990, 3389990, 500110, 3390050)], crs=m)
    cells = building_cells(site, b).to_crs(m)
    # the strip along the slab's whole north face, 5 m deep, is the slab's
    assert cells.iloc[0].contains(shapely.box(500001, 3390010, 500099, 3390015))
    assert shapely.union_all(cells.to_numpy()).area == pytest.approx(120 * 60, rel=1e-6)


def test_microgrids_from_disjoint_buildings_do_not_overlap(sample) -> None:
    compound, buildings, crs = sample
    cells = building_cells(compound, buildings, crs=crs)
    kw = {"per_floor": PER_FLOOR, "crs": crs, "cells": cells}
    g1 = microgrid_from_buildings(
        compound, buildings, ["B1", "B3"], grid_id="G1", name="1-3", leader="王阿姨", **kw
    )
    g2 = microgrid_from_buildings(compound, buildings, ["B2", "B4"], grid_id="G2", name="2-4", **kw)
    assert g1.crs.to_epsg() == 4326 and len(g1) == 1
    a, b = g1.to_crs(crs).geometry.iloc[0], g2.to_crs(crs).geometry.iloc[0]
    assert a.intersection(b).area < 0.01
    area = compound.to_crs(crs).union_all().area
    assert (a.area + b.area) == pytest.approx(area, rel=0.005)
    row = g1.iloc[0]
    assert (row["grid_id"], row["name"], row["leader"]) == ("G1", "1-3", "王阿姨")
    assert row["building_ids"] == "B1,B3" and row["households_unknown"] == ""
    assert row["households"] == 84 + 84


def test_all_buildings_sum_to_the_sample_households(sample) -> None:
    compound, buildings, crs = sample
    ids = buildings["building_id"].tolist()
    g = microgrid_from_buildings(
        compound, buildings, ids, grid_id="G", name="all", per_floor=PER_FLOOR, crs=crs
    )
    assert g["households"].iloc[0] == 308
    assert g.geometry.iloc[0].geom_type == "Polygon"
    area = compound.to_crs(crs).union_all()
    assert g.to_crs(crs).geometry.iloc[0].symmetric_difference(area).area < 0.01


def test_buildings_apart_give_a_multipolygon() -> None:
    m = 4544
    boxes = [shapely.box(500000 + 30 * i, 3390000, 500010 + 30 * i, 3390010) for i in range(3)]
    b = gpd.GeoDataFrame({"building_id": ["A", "B", "C"], "households": [5, 6, 7]},
                         geometry=boxes, crs=m)  # fmt: skip
    site = gpd.GeoSeries([shapely.box(499990, 3389990, 500080, 3390020)], crs=m)
    g = microgrid_from_buildings(site, b, ["A", "C"], grid_id="G", name="AC", per_floor=2)
    assert g.geometry.iloc[0].geom_type == "MultiPolygon"
    assert g["households"].iloc[0] == 12


def test_unknown_households_are_listed_not_counted_as_zero(sample) -> None:
    compound, buildings, crs = sample
    b = buildings.copy()
    b.loc[b["building_id"] == "B2", ["households", "units", "floors"]] = None
    b.loc[b["building_id"] == "B4", "households"] = None  # derived: 2 units x 7 floors x 2
    g = microgrid_from_buildings(
        compound, b, ["B1", "B2", "B4"], grid_id="G", name="x", per_floor=PER_FLOOR, crs=crs
    )
    assert pd.isna(g["households"].iloc[0])
    assert g["households_unknown"].iloc[0] == "B2"
    g = microgrid_from_buildings(
        compound, b, ["B1", "B4"], grid_id="G", name="x", per_floor=PER_FLOOR, crs=crs
    )
    assert g["households"].iloc[0] == 84 + 28 and g["households_unknown"].iloc[0] == ""


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        (("B9",), {}, ["building_ids", "B9"]),
        (([],), {}, ["building_ids", "empty"]),
        ((["B1"],), {"grid_id": ""}, ["grid_id", "''"]),
    ],
)
def test_bad_selection_is_named(sample, args, kwargs, words) -> None:
    compound, buildings, crs = sample
    kw = {"grid_id": "G", "name": "n", "per_floor": PER_FLOOR, "crs": crs, **kwargs}
    with pytest.raises(GridGISError) as err:
        microgrid_from_buildings(compound, buildings, *args, **kw)
    assert all(w in str(err.value) for w in words)


def test_no_compound_is_named(sample) -> None:
    _, buildings, _ = sample
    with pytest.raises(GridGISError, match="compound=None"):
        building_cells(None, buildings)
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    with pytest.raises(GridGISError, match="compound has no area"):
        microgrid_from_buildings(empty, buildings, ["B1"], grid_id="G", name="n", per_floor=2)


def test_a_microgrid_made_from_buildings_follows_their_households_later():
    import pandas as pd

    from gridgis.analysis.microgrids import microgrid_households

    grids = pd.DataFrame(
        {"grid_id": ["G1", "G2", "G3"], "households": [84, 50, 7],
         "building_ids": ["B1,B2", None, "B1,GONE"]}
    )  # fmt: skip
    buildings = pd.DataFrame({"building_id": ["B1", "B2"], "households": [89, 84]})
    counts = microgrid_households(grids, buildings, per_floor=2).tolist()
    assert counts == [173, 50, 7]  # summed now; drawn by hand; a member gone: as stored
    buildings.loc[1, "households"] = None
    buildings["units"], buildings["floors"] = [None, None], [None, None]
    assert pd.isna(microgrid_households(grids, buildings, per_floor=2).iloc[0])  # unknown member
