"""Generate the bundled sample projects of gridgis (illustrative data).

Two compounds modelled on published descriptions of Chengdu renovation cases:

* ``dongsi180/`` - 东四街180号院 (built 2003; 4 buildings, 11 units, 308 households,
  14,400 m2 floor area; golden corners turned into parking, a bike shed with smart
  charging, an activity room, a leisure corridor, a vegetable garden).
* ``shaxi_f/`` and ``shaxi_f.gpkg`` - 沙西田园绿洲F区 (built 2013; 70 households; a
  storage room turned into a meeting room, a neglected green belt turned into a
  second bike shed by crowdfunding).

The headline figures follow those descriptions; positions, shapes, leaders' names
and every other detail are INVENTED for illustration. Do not use them as survey data.

Geometry is drawn in a local frame (metres east/north of the compound's south-west
corner), rotated and placed in EPSG:4544 (CGCS2000 3-degree Gauss-Kruger, CM 105E),
then written in EPSG:4326 as RFC 7946 GeoJSON (one file per layer) and, for 沙西F区,
also as one GeoPackage. Deterministic: no randomness. The script then reads the
files back and prints (and asserts) the sanity checks.

Run from the repository root::

    .venv/bin/python data/make_samples.py
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import geopandas as gpd
from pyproj import Transformer
from shapely import affinity
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

HERE = Path(__file__).resolve().parent
METRIC = "EPSG:4544"
LAYERS = ("compound", "microgrids", "buildings", "spaces", "paths", "sites")
NOTE = "示意数据：依据公开报道绘制，位置与形状为虚构 / illustrative: geometry invented"
FLOOR_HEIGHT = 2.9  # m, walk-up storey; used only to report spacing / height

COMPOUND = ("name", "name_en", "built_year", "address", "households", "note")
GRID = ("grid_id", "name", "name_en", "leader", "households", "parent_grid")
SPACE = ("space_id", "kind", "name", "name_en", "area_note")
PATH = ("path_id", "kind", "width_m", "name", "name_en")
SITE = ("site_id", "site_type", "name", "name_en", "status", "notes")

Row = dict[str, object]
Layers = dict[str, list[Row]]
Slab = tuple[str, Polygon, int]  # building_id, footprint, units


@dataclass(frozen=True)
class Frame:
    """Place local metres: rotate ``angle`` degrees (CCW) about ``pivot``, pivot -> lon/lat."""

    lon: float
    lat: float
    angle: float
    pivot: tuple[float, float]

    def place(self, geom: BaseGeometry) -> BaseGeometry:
        to_metric = Transformer.from_crs("EPSG:4326", METRIC, always_xy=True)
        x0, y0 = to_metric.transform(self.lon, self.lat)
        rotated = affinity.rotate(geom, self.angle, origin=self.pivot)
        return affinity.translate(rotated, x0 - self.pivot[0], y0 - self.pivot[1])


def table(columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> list[Row]:
    """Rows given as tuples (columns..., geometry) -> list of dicts."""
    return [dict(zip((*columns, "geometry"), row, strict=True)) for row in rows]


def slab(x: float, y: float, units: int, frontage: float, depth: float) -> Polygon:
    """A walk-up slab: ``units`` stairwells of ``frontage`` m side by side, long axis E-W."""
    return box(x, y, x + units * frontage, y + depth)


def buildings(
    slabs: list[Slab], *, floors: int, per_floor: int, areas: dict[str, float], year: int
) -> list[Row]:
    """Building rows; households = units x floors x households per floor (kept as data)."""
    return [
        {"building_id": bid, "name": f"{bid[1:]}栋", "name_en": f"Building {bid[1:]}",
         "households": units * floors * per_floor, "units": units, "floors": floors,
         "floor_area_m2": areas[bid], "built_year": year, "geometry": geom}
        for bid, geom, units in slabs
    ]  # fmt: skip


def footpaths(slabs: list[Slab], lane_y: dict[str, float]) -> list[Row]:
    """One 1.5 m footpath per unit, from its north-face entrance to the lane or road north."""
    rows: list[Row] = []
    for bid, geom, units in slabs:
        minx, _, maxx, top = geom.bounds
        for i in range(units):
            x = minx + (i + 0.5) * (maxx - minx) / units
            n, u = bid[1:], i + 1
            rows.append({"path_id": f"P{len(rows) + 10}", "kind": "footpath", "width_m": 1.5,
                         "name": f"{n}栋{u}单元入户步道", "name_en": f"Bldg {n} unit {u} path",
                         "geometry": LineString([(x, top), (x, lane_y[bid])])})  # fmt: skip
    return rows


def dongsi180() -> tuple[Layers, Frame]:
    """东四街180号院: two rows of two 7-floor slabs, 4 households per floor per unit."""
    f, d = 15.5, 12.0  # m of slab per unit; slab depth
    row1, row2 = 16.0, 50.0  # south faces: 22 m clear between rows (about 1.05 x height)
    west, east = 14.0, 77.5  # west ends of the two columns; 17 m gap for the spine lane
    slabs: list[Slab] = [
        ("B1", slab(west, row1, 3, f, d), 3), ("B2", slab(east, row1, 3, f, d), 3),
        ("B3", slab(west, row2, 3, f, d), 3), ("B4", slab(east, row2, 2, f, d), 2),
    ]  # fmt: skip
    wall = Polygon([(0, 12), (12, 0), (134, 0), (137, 42), (135, 66), (132, 77), (70, 82),
                    (0, 81)])  # fmt: skip
    spine, lane = 69.0, 39.0  # fire lane: N-S spine from the south gate, E-W in the row gap
    bld = buildings(slabs, floors=7, per_floor=4, year=2003,
                    areas={"B1": 3930.0, "B2": 3930.0, "B3": 3930.0, "B4": 2610.0})  # fmt: skip
    hh = {b["building_id"]: b["households"] for b in bld}
    quarter = {"B1": (-1, -1, spine, lane), "B2": (spine, -1, 140, lane),
               "B3": (-1, lane, spine, 90), "B4": (spine, lane, 140, 90)}  # fmt: skip
    grids = [
        (f"G{b[1:]}", f"{b[1:]}栋微网格", f"Building {b[1:]} micro-grid", leader, hh[b],
         "东四街社区第二网格", wall.intersection(box(*quarter[b])))
        for b, leader in (("B1", "王阿姨"), ("B2", "李师傅"), ("B3", "张大爷"), ("B4", "刘姐"))
    ]  # fmt: skip
    # fmt: off
    layers: Layers = {
        "compound": table(COMPOUND, [
            ("东四街180号院", "Dongsi Street No. 180 Compound", 2003, "四川省成都市东四街180号",
             308, NOTE, wall)]),
        "microgrids": table(GRID, grids),
        "buildings": bld,
        "spaces": table(SPACE, [
            ("SP1", "golden_corner", "东北角空地", "North-east corner", "南半部已建非机动车棚",
             box(114, 46, 131, 60)),
            ("SP2", "golden_corner", "东南边角", "South-east edge", "已改为机动车停车位",
             box(126, 2, 133.5, 34)),
            ("SP3", "golden_corner", "西北角空地", "North-west corner", "已改为机动车停车位",
             box(1, 66, 12, 79)),
            ("SP4", "golden_corner", "西南角空地", "South-west corner", "闲置",
             Polygon([(1.2, 13.2), (13.2, 1.2), (16, 1.2), (16, 14.5), (1.2, 14.5)])),
            ("SP5", "neglected", "西墙荒废绿化带", "Neglected green belt along the west wall",
             "宽4.5米", box(1, 16, 5.5, 64)),
            ("SP6", "storage", "1栋西侧杂物间", "Storage room, west end of Building 1",
             "底层附属用房", box(8.5, 18, 14, 24)),
            ("SP7", "green", "休闲长廊与绿地", "Leisure corridor and lawn", "",
             box(16, 42.5, 58, 48.5)),
        ]),
        "paths": table(PATH, [
            ("P1", "fire_lane", 4.0, "消防车通道（主通道）", "Fire lane (spine from the gate)",
             LineString([(spine, 0), (spine, 70)])),
            ("P2", "fire_lane", 4.0, "消防车通道（东段）", "Fire lane (east)",
             LineString([(spine, lane), (124, lane)])),
            ("P3", "fire_lane", 4.0, "消防车通道（西段）", "Fire lane (west)",
             LineString([(spine, lane), (10, lane)])),
            ("P4", "road", 3.5, "南侧道路", "South road", LineString([(18, 8), (122, 8)])),
            ("P5", "road", 3.5, "北侧道路", "North road", LineString([(14, 70), (112, 70)])),
        ]) + footpaths(slabs, {"B1": lane, "B2": lane, "B3": 70.0, "B4": 70.0}),
        "sites": table(SITE, [
            ("SITE1", "parking_shed", "智能充电非机动车棚", "E-bike shed with smart charging",
             "built", "原东北角空地（金角）改建", box(116, 47, 130, 53)),
            ("SITE2", "activity_room", "党群活动室（邻里客厅）", "Party and activity room",
             "built", "沿北墙单层用房", box(20, 73, 34, 79)),
            ("SITE3", "vegetable_garden", "小区菜园", "Vegetable garden",
             "proposed", "拟利用西墙荒废绿化带", box(1.5, 44, 5.5, 62)),
        ]),
    }
    # fmt: on
    return layers, Frame(lon=104.07, lat=30.67, angle=-8.0, pivot=(67.0, 40.0))


def shaxi_f() -> tuple[Layers, Frame]:
    """沙西田园绿洲F区: two 7-floor slabs (3 + 2 units), 2 households per floor per unit."""
    f, d = 13.5, 11.0
    slabs: list[Slab] = [("B1", slab(16, 16, 3, f, d), 3), ("B2", slab(16, 49, 2, f, d), 2)]
    wall = Polygon([(0, 0), (68, 0), (71, 38), (69, 73), (3, 72)])  # rows 22 m apart
    storage = box(56.5, 17, 61, 24)
    # fmt: off
    layers: Layers = {
        "compound": table(COMPOUND, [
            ("沙西田园绿洲F区", "Shaxi Tianyuan Lüzhou Zone F", 2013,
             "四川省成都市沙西田园绿洲F区", 70, NOTE, wall)]),
        "microgrids": table(GRID, [
            ("G1", "F区微网格", "Zone F micro-grid", "陈阿姨", 70, "田园绿洲一般网格", wall)]),
        "buildings": buildings(slabs, floors=7, per_floor=2, year=2013,
                               areas={"B1": 3120.0, "B2": 2080.0}),
        "spaces": table(SPACE, [
            ("SP1", "neglected", "东侧荒废绿化带", "Neglected green belt along the east fence",
             "宽4米", box(62, 8, 66, 62)),
            ("SP2", "storage", "1栋东侧杂物间", "Storage room, east end of Building 1",
             "底层附属用房", storage),
            ("SP3", "golden_corner", "东北角空地", "North-east corner", "闲置",
             box(47, 46, 61, 66)),
            ("SP4", "green", "1栋宅前绿地", "Lawn south of Building 1", "", box(16, 4, 56, 13)),
        ]),
        "paths": table(PATH, [
            ("P1", "fire_lane", 4.0, "消防车通道", "Fire lane",
             LineString([(8, 0), (8, 38), (56, 38)])),
            ("P2", "road", 3.5, "北侧通道", "North road",
             LineString([(8, 38), (8, 65.5), (43, 65.5)])),
        ]) + footpaths(slabs, {"B1": 38.0, "B2": 65.5}),
        "sites": table(SITE, [
            ("SITE1", "activity_room", "议事室（原杂物间）", "Meeting room (former storage room)",
             "built", "杂物间清理后改为居民议事空间", storage),
            ("SITE2", "parking_shed", "第二非机动车棚", "Second e-bike shed (crowdfunded)",
             "built", "荒废绿化带改建；居民众筹（投工投劳+1000余元）", box(62, 26, 66, 44)),
        ]),
    }
    # fmt: on
    return layers, Frame(lon=104.02, lat=30.70, angle=12.0, pivot=(35.0, 36.0))


def to_frames(layers: Layers, frame: Frame) -> dict[str, gpd.GeoDataFrame]:
    """Local rows -> GeoDataFrames in EPSG:4326 (exterior rings counter-clockwise)."""
    out = {}
    for name in LAYERS:
        rows = [{**r, "geometry": frame.place(r["geometry"])} for r in layers[name]]  # type: ignore[arg-type]
        gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=METRIC).to_crs("EPSG:4326")
        gdf["geometry"] = [orient(g, 1.0) if isinstance(g, Polygon) else g for g in gdf.geometry]
        out[name] = gdf
    return out


def write(frames: dict[str, gpd.GeoDataFrame], folder: Path, gpkg: Path | None = None) -> None:
    """One RFC 7946 GeoJSON per layer in ``folder``; optionally one GeoPackage too."""
    folder.mkdir(parents=True, exist_ok=True)
    if gpkg is not None:
        gpkg.unlink(missing_ok=True)
    for name, gdf in frames.items():
        path = folder / f"{name}.geojson"
        path.unlink(missing_ok=True)
        gdf.to_file(path, driver="GeoJSON", engine="pyogrio", RFC7946="YES", COORDINATE_PRECISION=7)
        if gpkg is not None:
            gdf.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")


def sides(g: BaseGeometry) -> tuple[LineString, LineString]:
    """Short and long side of the minimum rotated rectangle."""
    ring = list(g.minimum_rotated_rectangle.exterior.coords)
    a, b = LineString(ring[0:2]), LineString(ring[1:3])
    return (a, b) if a.length <= b.length else (b, a)


def check(folder: Path) -> None:
    """Read a written project back and print (and assert) the sanity figures."""
    L = {n: gpd.read_file(folder / f"{n}.geojson").to_crs(METRIC) for n in LAYERS}
    eps = 0.05  # m2 / m: tolerance for the 7-decimal rounding of shared edges
    b, wall = L["buildings"], L["compound"].geometry.iloc[0]
    print(f"== {folder.name}: " + ", ".join(f"{n} {len(g)}" for n, g in L.items()))
    gross = (b.area * b.floors).sum()
    print(
        f"  households {b.households.sum()}, units {b.units.sum()}, floor area "
        f"{b.floor_area_m2.sum():,.0f} m2 (footprint x floors {gross:,.0f})"
    )
    dims = [(short.length, long.length) for short, long in map(sides, b.geometry)]
    per_unit = [ln / u for (_, ln), u in zip(dims, b.units, strict=True)]
    print(
        f"  depth {min(x for x, _ in dims):.1f}-{max(x for x, _ in dims):.1f} m, length "
        f"{min(y for _, y in dims):.1f}-{max(y for _, y in dims):.1f} m, "
        f"{min(per_unit):.1f}-{max(per_unit):.1f} m per unit"
    )
    (x0, y0), (x1, y1) = sides(b.geometry.iloc[0])[1].coords
    ux, uy = (x1 - x0) / math.hypot(x1 - x0, y1 - y0), (y1 - y0) / math.hypot(x1 - x0, y1 - y0)
    spacing, gables = [], []
    for p, q in combinations(b.geometry, 2):
        assert p.intersection(q).area < eps, "buildings overlap"
        pa = [ux * x + uy * y for x, y in p.exterior.coords]
        qa = [ux * x + uy * y for x, y in q.exterior.coords]
        across = abs(-uy * (q.centroid.x - p.centroid.x) + ux * (q.centroid.y - p.centroid.y))
        if across < 1.0:
            gables.append(p.distance(q))
        elif min(max(pa), max(qa)) > max(min(pa), min(qa)):  # facing each other
            spacing.append(p.distance(q))
    height = b.floors.max() * FLOOR_HEIGHT
    print(
        f"  row spacing {min(spacing):.1f}-{max(spacing):.1f} m (= {min(spacing) / height:.2f}"
        f" x {height:.1f} m height); gable gaps {[round(g, 1) for g in gables]} m; "
        f"long axis bearing {(90 - math.degrees(math.atan2(uy, ux))) % 180:.1f} deg"
    )
    for layer in ("spaces", "sites"):
        worst = max(g.intersection(h).area for g in L[layer].geometry for h in b.geometry)
        assert worst < eps, f"{layer} overlap a building"
        print(f"  {layer} x buildings: max overlap {worst:.3f} m2 (rounding of shared walls)")
    paths = L["paths"]
    cross = max(p.intersection(h.buffer(-eps)).length for p in paths.geometry for h in b.geometry)
    lanes = paths[paths.kind == "fire_lane"]
    lane_area = lanes.geometry.buffer(2.0, cap_style="flat").union_all()
    on_lane = max(s.intersection(lane_area).area for s in L["sites"].geometry)
    assert cross == 0 and on_lane < eps, "a path crosses a building or a site is on the lane"
    print(f"  paths inside buildings: {cross:.2f} m; sites on the 4 m fire lane: {on_lane:.3f} m2")
    outside = [
        f"{n}:{i}"
        for n in LAYERS[1:]
        for i, g in enumerate(L[n].geometry)
        if not wall.buffer(eps).covers(g)
    ]
    assert not outside, outside
    print(f"  compound {wall.area:,.0f} m2; every feature inside the boundary: {not outside}")
    for layer, key in (("spaces", "kind"), ("sites", "site_type")):
        items = [f"{r.iloc[0]} {r[key]} {r.geometry.area:.0f}" for _, r in L[layer].iterrows()]
        print(f"  {layer} (m2): " + ", ".join(items))
    g = L["microgrids"]
    diff = abs(wall.area - g.union_all().area)
    overlap = sum(p.intersection(q).area for p, q in combinations(g.geometry, 2))
    inside = {
        k: int(b[b.centroid.within(p)].households.sum())
        for k, p in zip(g.grid_id, g.geometry, strict=True)
    }
    assert list(inside.values()) == list(g.households) and diff < 1 and overlap < 1
    print(
        f"  microgrids households {dict(zip(g.grid_id, map(int, g.households), strict=True))}"
        f" sum {g.households.sum()} (= households of the buildings inside each); "
        f"tiling: area diff {diff:.2f} m2, overlap {overlap:.2f} m2"
    )
    for n in LAYERS:
        text = (folder / f"{n}.geojson").read_text(encoding="utf-8")
        doc = json.loads(text)
        decimals = max(len(x) for x in re.findall(r"\d\.(\d+)", text))
        assert "crs" not in doc and decimals <= 7 and "\\u" not in text, n
        for feat in doc["features"]:
            if feat["geometry"]["type"] == "Polygon":
                assert Polygon(feat["geometry"]["coordinates"][0]).exterior.is_ccw, (n, feat)
    print("  GeoJSON: no crs member, <= 7 decimals, CCW exterior rings, UTF-8 Chinese")


def main() -> None:
    write(to_frames(*dongsi180()), HERE / "dongsi180")
    write(to_frames(*shaxi_f()), HERE / "shaxi_f", gpkg=HERE / "shaxi_f.gpkg")
    check(HERE / "dongsi180")
    check(HERE / "shaxi_f")


if __name__ == "__main__":
    main()
