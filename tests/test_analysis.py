import json

import geopandas as gpd
import pyogrio
import pytest
from openpyxl import load_workbook
from shapely import box

from gridgis.analysis.engine import analyze_sites, prepare
from gridgis.analysis.result import CONTRACT_PROPERTIES
from gridgis.cli import main
from gridgis.core.project import Project, open_project
from gridgis.core.settings import settings_from_toml
from gridgis.errors import GridGISError, ValidationError
from gridgis.report.checks import check_message

from .conftest import DATA, _frame


def test_sample_a_analysis_is_consistent():
    result = analyze_sites(open_project(DATA / "dongsi180"))
    sites = result.sites
    assert list(sites.index) == [0, 1, 2]
    assert set(CONTRACT_PROPERTIES) <= set(sites.columns)
    for row in sites.itertuples():
        assert sum(item["amount_cny"] for item in row.cost_items) == row.cost_cny
        assert row.funding["residents_cny"] + row.funding["subsidy_cny"] == pytest.approx(
            row.cost_cny, abs=0.005
        )
        assert {c["rule"] for c in row.checks} >= {"inside_compound", "fire_lane_clear"}
    shed = sites.loc[sites["site_type"] == "parking_shed"].iloc[0]
    assert shed["capacity_unit"] == "bikes" and shed["capacity"] > 0
    assert shed["charging_ports"] == -(-shed["capacity"] // 3)
    assert result.totals()["bikes"] == shed["capacity"]


def test_site_on_fire_lane_and_building_in_tiny_compound(tiny_layers):
    project = Project(layers=tiny_layers)
    # across the fire lane at y = 30 m, clear of both buildings
    on_lane = _frame([{"site_id": "N1", "site_type": "parking_shed"}], [box(60, 27, 70, 33)])
    on_building = _frame([{"site_id": "N2", "site_type": "activity_room"}], [box(20, 45, 30, 55)])
    sites = gpd.GeoDataFrame(gpd.pd.concat([on_lane, on_building], ignore_index=True), crs=4326)
    result = analyze_sites(project, sites)
    lane = {c["rule"]: c for c in result.sites.loc[0, "checks"]}
    assert lane["fire_lane_clear"]["status"] == "fail" and lane["fire_lane_clear"]["ids"] == ["P1"]
    assert "P1" in check_message(lane["fire_lane_clear"], "en")
    building = {c["rule"]: c for c in result.sites.loc[1, "checks"]}
    assert not building["no_building_overlap"]["ok"]
    assert "B1" in result.sites.loc[1, "buildings_adjacent"]
    assert result.sites.loc[0, "area_m2"] == pytest.approx(60, rel=1e-3)


def test_invalid_sites_are_refused(tiny_layers):
    sites = tiny_layers["sites"].assign(site_type="helipad")
    with pytest.raises(ValidationError, match="'helipad' is not one of"):
        analyze_sites(Project(layers=tiny_layers), sites)


def test_project_without_sites_gives_empty_result(tiny_layers):
    layers = {k: v for k, v in tiny_layers.items() if k != "sites"}
    result = analyze_sites(Project(layers=layers))
    assert len(result.sites) == 0 and result.totals()["cost_cny"] == 0


def test_cli_analyze_writes_contract_geojson_and_xlsx(tmp_path, capsys):
    out, xlsx = tmp_path / "plan.geojson", tmp_path / "budget.xlsx"
    assert main(["analyze", str(DATA / "dongsi180"), "-o", str(out), "--xlsx", str(xlsx)]) == 0
    printed = capsys.readouterr().out
    assert "SITE1" in printed and "plan: 3 sites" in printed
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "crs" not in doc
    for feature in doc["features"]:
        props = feature["properties"]
        assert set(CONTRACT_PROPERTIES) <= set(props)
        assert round(sum(i["amount_cny"] for i in props["cost_items"]), 2) == props["cost_cny"]
        for item in props["cost_items"]:
            assert {"item", "quantity", "unit", "rate_cny", "amount_cny", "source"} <= set(item)
        for check in props["checks"]:
            assert {"rule", "status", "ok", "severity", "message"} <= set(check)
            assert check["ok"] is {"pass": True, "fail": False}.get(check["status"])
    read = pyogrio.read_dataframe(out)
    assert len(read) == 3 and read.crs.equals("EPSG:4326")
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["sites 点位", "cost items 造价明细", "funding 资金"]
    sheet = wb["sites 点位"]
    assert sheet["B2"].value == "智能充电非机动车棚"
    assert isinstance(sheet["J2"].value, float) and "CNY" in sheet["J1"].value


def test_cli_analyze_external_sites_file(tmp_path, capsys):
    sites = open_project(DATA / "dongsi180").layers["sites"].iloc[[0]]
    path = tmp_path / "sites.geojson"
    pyogrio.write_dataframe(sites, path)
    assert main(["analyze", str(DATA / "dongsi180"), "--sites", str(path)]) == 0
    assert "plan: 1 sites" in capsys.readouterr().out
    bad = tmp_path / "sites_bad.geojson"
    pyogrio.write_dataframe(sites.assign(site_type="helipad"), bad)
    assert main(["analyze", str(DATA / "dongsi180"), "--sites", str(bad)]) == 2
    assert "site_type 'helipad'" in capsys.readouterr().err


def _same_analysis(a, b) -> None:
    gpd.pd.testing.assert_frame_equal(gpd.pd.DataFrame(a.sites), gpd.pd.DataFrame(b.sites))
    gpd.pd.testing.assert_frame_equal(a.lines, b.lines)
    gpd.pd.testing.assert_frame_equal(a.plan_funding, b.plan_funding)


@pytest.mark.parametrize("sample", ["dongsi180", "shaxi_f.gpkg"])
def test_prepared_project_gives_the_same_results(sample):
    project = open_project(DATA / sample)
    prepared = prepare(project)
    assert prepared.network is not None and "buildings" in prepared.metric
    _same_analysis(analyze_sites(project, prepared=prepared), analyze_sites(project))
    # one site at a time, as the app analyses drawings, and sites far from everything
    sites = project.layers["sites"]
    for pos in range(len(sites)):
        one = sites.iloc[[pos]]
        _same_analysis(analyze_sites(project, one, prepared=prepared), analyze_sites(project, one))
    far = sites.iloc[[0]].assign(geometry=sites.iloc[[0]].geometry.translate(0.05, 0.05))
    alone = analyze_sites(project, far, prepared=prepared)
    _same_analysis(alone, analyze_sites(project, far))
    assert alone.sites.iloc[0]["households_served"] == 0


def test_prepared_project_must_match_project_and_settings(tiny_layers):
    project = Project(layers=tiny_layers)
    other = Project(layers=tiny_layers)
    with pytest.raises(GridGISError, match="another project"):
        analyze_sites(other, prepared=prepare(project))
    changed = settings_from_toml("[general.households_per_floor_fallback]\nvalue = 3.0\n")
    with pytest.raises(GridGISError, match="other settings"):
        analyze_sites(project, settings=changed, prepared=prepare(project))
    _same_analysis(
        analyze_sites(project, settings=changed, prepared=prepare(project, settings=changed)),
        analyze_sites(project, settings=changed),
    )


def test_plan_households_count_each_building_once():
    project = open_project(DATA / "dongsi180")
    prepared = prepare(project)
    result = prepared.analyze()
    served = {b for ids in result.sites["buildings_served"] for b in ids}
    buildings = project.layers["buildings"].set_index("building_id")
    expected = int(buildings.loc[sorted(served), "households"].sum())
    assert result.households_served == expected == result.totals()["households_served"]
    # several sites serve the same buildings: the plan is not the sum of its sites
    assert result.households_served < int(result.sites["households_served"].sum())
    assert prepared.households_in(buildings.index) == project.summary()["households"] == 308
    assert prepared.households_in([]) == 0
    assert prepared.households_in(["B-none"]) == 0
