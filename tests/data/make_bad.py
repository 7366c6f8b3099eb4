"""Regenerate the malformed inputs in tests/data/bad/ (kept in git).

Each file breaks the layer contract in one way a real user's file does;
tests/test_cli.py asserts the message `gridgis validate` prints for each.
Run: .venv/bin/python tests/data/make_bad.py
"""

from __future__ import annotations

import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
from shapely import Polygon, box

BAD = Path(__file__).parent / "bad"
LON, LAT = 104.0665, 30.6705
D = 0.0004  # about 40 m


def building(i: int, **props: object) -> dict:
    geom = box(LON + i * D, LAT, LON + i * D + 0.0003, LAT + 0.0001)
    return {
        "type": "Feature",
        "properties": {"building_id": f"B{i}", "households": 28, **props},
        "geometry": json.loads(gpd.GeoSeries([geom]).to_json())["features"][0]["geometry"],
    }


def write(name: str, features: list[dict]) -> None:
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    (BAD / name).write_text(text + "\n", encoding="utf-8")


def main() -> None:
    BAD.mkdir(exist_ok=True)
    ok = [building(1), building(2)]
    no_households = [building(i) for i in (1, 2)]
    for f in no_households:
        del f["properties"]["households"]
    write("buildings_missing_households.geojson", no_households)
    write("buildings_negative_households.geojson", [*ok, building(3, households=-5)])
    write("buildings_households_text.geojson", [*ok, building(3, households="many")])
    write("buildings_fractional_households.geojson", [*ok, building(3, households=12.5)])
    bowtie = building(3)
    bowtie["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[LON, LAT], [LON + D, LAT + D], [LON + D, LAT], [LON, LAT + D], [LON, LAT]]
        ],
    }
    write("buildings_self_intersecting.geojson", [*ok, bowtie])
    point = building(3)
    point["geometry"] = {"type": "Point", "coordinates": [LON, LAT]}
    write("buildings_point_geometry.geojson", [*ok, point])
    write("buildings_duplicate_ids.geojson", [*ok, building(3, building_id="B1")])
    empty = building(3)
    empty["geometry"] = None
    write("buildings_empty_geometry.geojson", [*ok, empty])
    swapped = building(3)
    swapped["geometry"]["coordinates"] = [
        [[y, x] for x, y in swapped["geometry"]["coordinates"][0]]
    ]
    write("buildings_latlon_swapped.geojson", [*ok, swapped])
    (BAD / "buildings_truncated.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": ok})[:150], encoding="utf-8"
    )
    (BAD / "buildings_empty_file.geojson").write_bytes(b"")
    write(
        "sites_unknown_type.geojson",
        [
            {
                "type": "Feature",
                "properties": {"site_id": "S1", "site_type": "helipad"},
                "geometry": building(1)["geometry"],
            }
        ],
    )
    write(
        "paths_bad_kind.geojson",
        [
            {
                "type": "Feature",
                "properties": {"path_id": "P1", "kind": "highway", "width_m": 4},
                "geometry": {"type": "LineString", "coordinates": [[LON, LAT], [LON + D, LAT]]},
            }
        ],
    )
    write(
        "compound_missing_name.geojson",
        [
            {
                "type": "Feature",
                "properties": {"名称": "东四街180号院"},
                "geometry": json.loads(
                    gpd.GeoSeries([box(LON, LAT, LON + 5 * D, LAT + 3 * D)]).to_json()
                )["features"][0]["geometry"],
            }
        ],
    )
    write(
        "microgrids_missing_grid_id.geojson",
        [
            {
                "type": "Feature",
                "properties": {"name": "一号微网格", "leader": "王阿姨"},
                "geometry": building(1)["geometry"],
            }
        ],
    )
    (BAD / "votes_bad_vote.csv").write_text(
        "site_id,building_id,household,area_m2,vote\n"
        "S1,B1,1-101,72.5,agree\nS1,B1,1-102,72.5,maybe\n",
        encoding="utf-8",
    )
    (BAD / "votes_duplicate_household.csv").write_text(
        "site_id,building_id,household,area_m2,vote\n"
        "S1,B1,1-101,72.5,agree\nS1,B1,1-101,72.5,oppose\n",
        encoding="utf-8",
    )
    # a projected shapefile (CGCS2000 GK CM 105E metres) whose .prj was lost
    shp_dir = BAD / "_shp"
    shp_dir.mkdir(exist_ok=True)
    gdf = gpd.GeoDataFrame(
        {"building_i": ["B1"], "households": [28]},
        geometry=[
            Polygon([(402000, 3393000), (402040, 3393000), (402040, 3393011), (402000, 3393011)])
        ],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no CRS, on purpose
        gdf.to_file(shp_dir / "buildings.shp", engine="pyogrio")
    with zipfile.ZipFile(BAD / "buildings_projected_no_prj.zip", "w") as zf:
        for part in sorted(shp_dir.iterdir()):
            if part.suffix != ".prj":
                zf.write(part, part.name)
    with zipfile.ZipFile(BAD / "buildings_no_shp.zip", "w") as zf:
        zf.write(shp_dir / "buildings.dbf", "buildings.dbf")
    for part in shp_dir.iterdir():
        part.unlink()
    shp_dir.rmdir()


if __name__ == "__main__":
    main()
