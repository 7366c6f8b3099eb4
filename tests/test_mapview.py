import html
import json
import re
import sys

import folium
import geopandas as gpd
import pytest
import shapely
from branca.element import MacroElement
from shapely import box

from gridgis.core.crs import convert_geometries
from gridgis.core.project import Project, open_project
from gridgis.errors import GridGISError
from gridgis.report.map.assets import (
    LOCAL_ASSETS,
    VENDOR_FILES,
    check_assets,
    export_assets,
    iter_asset_urls,
    localize_assets,
    vendor_dir,
)
from gridgis.report.map.compact import decode_geometries, encode_geometries
from gridgis.report.map.view import display_datum, from_display, project_map, sites_layer

from .conftest import DATA, REPO, _frame

HOSTILE = "<img src=x onerror=alert(1)>"


VENDOR_URL = "/app/static/vendor/node_modules"  # where the app serves its copy


def _map(project: Project, **kwargs) -> folium.Map:
    """The map as the app builds it: scripts linked from its served copy (pages stay small)."""
    return project_map(project, asset_url=VENDOR_URL, **kwargs)


def _html(m: folium.Map) -> str:
    return m.get_root().render()


def _decoded(html: str) -> str:
    """The page with JSON's \\uXXXX escapes (non-ASCII, <, >, &) turned back into text."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), html)


@pytest.fixture
def tiny(tiny_layers) -> Project:
    layers = dict(tiny_layers)
    layers["spaces"] = _frame(
        [
            {"space_id": "SP1", "kind": "golden_corner", "name": "东北角"},
            {"space_id": "SP2", "kind": "neglected", "name": "荒废绿化带"},
        ],
        [box(80, 40, 95, 55), box(0, 0, 5, 60)],
    )
    return Project(layers=layers)


@pytest.fixture(scope="module")
def dongsi() -> Project:
    return open_project(DATA / "dongsi180")


def test_map_shows_names_and_tooltips(tiny):
    text = _decoded(_html(_map(tiny)))
    for name in ("1栋", "2栋", "一网格", "王阿姨", "车棚", "东北角", "荒废绿化带"):
        assert name in text
    assert "28 户" in text  # households with their unit
    assert "url(#gridgis-hatch)" in text  # neglected space is hatched
    assert "非机动车棚" in text and "已建成" in text  # site type and status, in Chinese


def test_english_labels(tiny):
    text = _decoded(_html(_map(tiny, lang="en")))
    assert "Legend" in text and "Fire lane" in text and "Golden corner" in text
    assert "28 households" in text
    assert "图例" not in text


def test_names_are_html_escaped(tiny):
    tiny.layers["buildings"].loc[0, "name"] = HOSTILE
    tiny.layers["sites"].loc[0, "name"] = "</script><script>alert(2)</script>"
    html = _html(_map(tiny))
    text = _decoded(html)
    assert "测试小区 &lt;b&gt;x&lt;/b&gt;" in text
    assert "<b>x</b>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert "<img src=x" not in text
    assert "alert(2)</script>" not in html  # cannot close the page's script block


def test_only_local_assets(dongsi):
    m = _map(dongsi)
    html = _html(m)
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", " ".join(tags))
    assert urls, "the page should load Leaflet"
    assert all(u.startswith("/app/static/vendor/") for u in urls), urls
    assert not re.search(r"https?://", html)
    # what streamlit-folium loads: every element's default_js / default_css
    assets = list(iter_asset_urls(m))
    assert f"{VENDOR_URL}/leaflet/dist/leaflet.js" in assets
    assert all(u.startswith(VENDOR_URL) for u in assets), assets


def test_local_assets_are_installed():
    root = check_assets()  # raises when ./dev setup (npm) has not installed them
    assert {p for p in LOCAL_ASSETS.values() if p} <= set(VENDOR_FILES)
    assert all(root.joinpath(*p.split("/")).is_file() for p in VENDOR_FILES)
    assert str(vendor_dir()).startswith(str(REPO / "gridgis"))  # package data, not ./static


def test_map_inlines_its_scripts_by_default(tiny):
    page = _html(project_map(tiny, draw=True))
    assert not re.search(r"<script[^>]*\bsrc=|<link[^>]*\bhref=", page)
    leaflet = (vendor_dir() / "leaflet/dist/leaflet.js").read_text(encoding="utf-8")
    assert leaflet[-2100:-100] in page  # Leaflet itself, inlined
    assert page.index("Leaflet.draw 1.0.2") > page.index('t.version="1.9.3"')  # draw after it
    assert "sourceMappingURL" not in page  # nothing the browser would fetch
    assert "url(data:image/png;base64," in page  # the stylesheets' images too
    # the styles and templates are package data: the compact canvas layer is in the page
    district_like = _html(project_map(tiny, asset_url=VENDOR_URL))
    assert "gridgis-legend" in district_like


def test_missing_assets_say_where_they_come_from(tiny, tmp_path):
    with pytest.raises(GridGISError, match=r"npm ci --prefix gridgis/report/map/vendor"):
        project_map(tiny, vendor=tmp_path)
    assert "leaflet.js" in _html(project_map(tiny, asset_url="https://example.org/v"))


def test_export_assets_copies_only_what_changed(tmp_path):
    written = export_assets(tmp_path / "vendor")
    assert {p.relative_to(tmp_path / "vendor").as_posix() for p in written} == set(VENDOR_FILES)
    assert export_assets(tmp_path / "vendor") == []
    stale = tmp_path / "vendor" / "leaflet" / "dist" / "leaflet.js"
    stale.write_text("old", encoding="utf-8")
    assert export_assets(tmp_path / "vendor") == [stale]
    assert stale.read_bytes() == (vendor_dir() / "leaflet/dist/leaflet.js").read_bytes()


def test_unknown_asset_is_an_error():
    widget = MacroElement()
    widget.default_js = [("widget", "https://cdn.example.com/widget.js")]
    m = folium.Map(tiles=None)
    widget.add_to(m)
    with pytest.raises(GridGISError, match=r"'widget' from 'https://cdn.example.com/widget.js'"):
        localize_assets(m, asset_url=VENDOR_URL)


def test_dropped_assets_and_idempotence():
    m = localize_assets(
        localize_assets(folium.Map(tiles=None), asset_url=VENDOR_URL), asset_url=VENDOR_URL
    )
    urls = list(iter_asset_urls(m))
    assert f"{VENDOR_URL}/leaflet/dist/leaflet.css" in urls
    assert not any("bootstrap" in u or "awesome" in u for u in urls)
    assert folium.Map.default_js[0][1].startswith("https://")  # class lists untouched


def test_sample_map_is_small_and_rounded(dongsi):
    html = _html(_map(dongsi))
    assert len(html.encode()) < 120_000
    assert not re.search(r"\d\.\d{8,}", html), "coordinates should have 7 decimals at most"
    assert "东四街180号院" in _decoded(html)


def test_fits_the_compound(dongsi):
    html = _html(_map(dongsi))
    _, south, east, _ = dongsi.layers["compound"].total_bounds
    assert "fitBounds" in html
    assert f"{round(south, 7)}" in html and f"{round(east, 7)}" in html


def test_minimal_project(tiny_layers):
    layers = {k: tiny_layers[k] for k in ("compound", "buildings")}
    text = _decoded(_html(_map(Project(layers=layers), lang="en")))
    assert "Buildings" in text and "Micro-grids" not in text


def test_derived_households_are_marked(tiny_layers):
    buildings = tiny_layers["buildings"].copy()
    buildings["households"] = [None, 56]
    project = Project(layers={**tiny_layers, "buildings": gpd.GeoDataFrame(buildings)})
    text = _decoded(_html(_map(project)))
    assert "约 14 户（推算）" in text  # 1 unit x 7 floors x 2 per floor (default fallback)


def test_osm_basemap(tiny):
    html = _html(_map(tiny, basemap="osm"))
    assert "tile.openstreetmap.org" in html
    assert not re.search(r"""<script[^>]+src=["']https?://""", html)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"lang": "fr"}, r"lang must be one of .* got 'fr'"), ({"basemap": "bing"}, "got 'bing'")],
)
def test_bad_options(tiny, kwargs, message):
    with pytest.raises(GridGISError, match=message):
        _map(tiny, **kwargs)


# --- the app's base map and sites layer -----------------------------------------------


def test_base_map_for_the_app_has_the_draw_toolbar_and_no_sites(dongsi):
    m = _map(dongsi, sites=False, draw=True, lang="zh")
    html = _html(m)
    text = _decoded(html)
    assert "L.Control.Draw" in html
    assert '"polyline": false' in html and '"circle": false' in html
    assert "完成" in text and "画多边形场地" in text  # Leaflet.draw's own texts in Chinese
    assert "智能充电非机动车棚" not in text  # the sites come separately
    for label in ("非机动车棚", "小区菜园", "活动室"):  # every site type in the legend
        assert label in text
    assets = list(iter_asset_urls(m))
    assert f"{VENDOR_URL}/leaflet-draw/dist/leaflet.draw.js" in assets
    assert all(u.startswith(VENDOR_URL) for u in assets), assets
    assert not re.search(r"https?://(?!www\.w3\.org)", html)


def test_labels_show_names_households_and_leaders(dongsi):
    text = _decoded(_html(_map(dongsi, lang="zh")))
    assert "1栋<br>84 户" in text  # a building: name and households
    assert "1栋微网格<br>王阿姨 · 84 户" in text  # a micro-grid: name, leader, households


def test_sites_layer_escapes_and_highlights(tiny):
    sites = tiny.layers["sites"].copy()
    sites.loc[0, "name"] = HOSTILE
    sites["area_m2"] = [60.0]
    sites["cost_cny"] = [39600.0]
    sites["households_served"] = [84.0]
    group = sites_layer(sites, lang="en", selected="S1", clear_drawn=3)
    group.add_to(folium.Map(tiles=None))
    html = group.get_root().render()
    text = _decoded(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "<img src=x" not in text
    assert "60.0 m²" in text and "CNY 39,600" in text and "84 households" in text
    assert '"#ff6f00"' in html  # the selected site's outline
    assert "drawnItems.clearLayers()" in html and "round 3" in html


def test_gaode_shows_layers_in_gcj02_and_drawings_come_back_in_wgs84(tiny):
    lon, lat = tiny.layers["buildings"].geometry[0].exterior.coords[0]
    plain = _html(_map(tiny, basemap="none"))
    gaode = _html(_map(tiny, basemap="gaode"))
    assert f"{round(lon, 7)}" in plain and f"{round(lon, 7)}" not in gaode
    assert "webrd0{s}.is.autonavi.com" in gaode
    drawn = convert_geometries(box(lon, lat, lon + 1e-4, lat + 1e-4), src="wgs84", dst="gcj02")
    back = from_display(drawn, "gaode")
    assert shapely.hausdorff_distance(back, box(lon, lat, lon + 1e-4, lat + 1e-4)) < 1e-6
    assert from_display(drawn, "osm") is drawn
    assert display_datum("gaode_satellite") == "gcj02" and display_datum("tianditu") == "wgs84"


def test_tianditu_needs_a_plain_key(tiny):
    with pytest.raises(GridGISError, match="tianditu_key must be 8-64 letters or digits"):
        _map(tiny, basemap="tianditu")
    with pytest.raises(GridGISError, match="got '\"><script>'"):
        _map(tiny, basemap="tianditu", tianditu_key='"><script>')
    html = _html(_map(tiny, basemap="tianditu", tianditu_key="abcdef0123456789"))
    assert "tianditu.gov.cn/vec_w/wmts" in html and "tk=abcdef0123456789" in html


def _payloads(html: str) -> list[dict]:
    """The compact layers (`gridgis.report.map.compact`) a page carries, decoded from JSON."""
    literals = re.findall(r'JSON\.parse\(("(?:[^"\\]|\\.)*")\)', html)
    return [json.loads(json.loads(text)) for text in literals]


@pytest.fixture(scope="module")
def district() -> Project:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import synthetic_district

    return synthetic_district(3000, 10)


def test_large_layers_are_compact_rounded_and_drawn_on_canvas(district):
    html = _html(_map(district, sites=False, draw=True))
    assert 'preferCanvas": true' in html or '"preferCanvas": true' in html
    assert "L.geoJson" not in html and '"type": "Feature"' not in html
    payloads = _payloads(html)
    assert len(payloads) == 3  # compound, paths, buildings
    assert all(p["q"] == 10**6 for p in payloads), "10 cm is plenty for display"
    assert "<br>84 " not in _decoded(html)  # too many buildings to label
    assert len(html.encode()) < 400_000


def test_large_map_carries_every_building(district):
    html = _html(_map(district, lang="en", sites=False, draw=True))
    buildings = district.layers["buildings"]
    (data,) = [p for p in _payloads(html) if len(p["f"]) == len(buildings)]
    shapes = decode_geometries(data)
    assert all(g is not None and g.geom_type == "Polygon" for g in shapes)
    moved = shapely.hausdorff_distance(shapes, buildings.geometry.to_numpy())
    assert moved.max() < 1e-6  # rounded to 1e-6 degrees (10 cm), nothing else changed
    labels = [row[0] for row in data["t"]]
    assert labels == ["Name", "Households"]
    households = data["t"][1]
    texts = [households[1][code] for code in households[2]]
    assert texts[:3] == [f"{n} households" for n in buildings["households"][:3]]


def test_large_maps_simplify_detailed_shapes(district):
    buildings = district.layers["buildings"].copy()
    detailed = shapely.segmentize(buildings.geometry.iloc[0], 1e-5)  # about 1 m steps
    assert shapely.get_num_coordinates(detailed) > 40
    buildings.loc[0, "geometry"] = detailed
    html = _html(_map(Project(layers={**district.layers, "buildings": buildings})))
    (data,) = [p for p in _payloads(html) if len(p["f"]) == len(buildings)]
    assert data["r"][0] == 4  # the straight edges' extra points are gone (20 cm tolerance)


def test_compact_encoding_round_trips():
    square = box(104.0, 30.0, 104.001, 30.001)
    holed = square.difference(box(104.0004, 30.0004, 104.0006, 30.0006))
    multi = shapely.MultiPolygon([box(104.01, 30.0, 104.011, 30.001), holed])
    line = shapely.LineString([(104.0, 30.0), (104.0005, 30.0002), (104.001, 30.0)])
    lines = shapely.MultiLineString([line, shapely.LineString([(104.1, 30.1), (104.2, 30.2)])])
    geoms = [square, holed, multi, line, lines, shapely.Point(104, 30), shapely.Polygon()]
    data = encode_geometries(geoms, precision=7)
    assert data["l"] == [0, 0, 0, 1, 1, 0, 0]
    assert data["f"] == [1, 1, 2, 1, 2, 0, 0]  # points and empty shapes have no parts
    back = decode_geometries(data)
    for original, decoded in zip(geoms[:5], back[:5], strict=True):
        assert decoded.geom_type == original.geom_type
        assert decoded.equals(shapely.set_precision(original, 1e-7))
    assert back[5:] == [None, None]
    assert max(abs(v) for v in data["c"]) <= 10**6  # small steps, not absolute coordinates


def test_names_cannot_run_as_templates(tiny, district):
    """folium renders some output again as a Jinja template: braces must not reach it."""
    tiny.layers["buildings"].loc[0, "name"] = "{{ 7*7 }}栋"
    small = html.unescape(_decoded(_html(_map(tiny))))
    assert "{{ 7*7 }}栋" in small and "49栋" not in small
    buildings = district.layers["buildings"].copy()
    buildings.loc[0, "name"] = "{{ 6*7 }}栋"
    large = Project(layers={**district.layers, "buildings": buildings})
    text = html.unescape(_decoded(_html(_map(large))))
    assert "{{ 6*7 }}栋" in text and "42栋" not in text


def test_the_view_is_fitted_before_layers_are_drawn(dongsi):
    html = _html(_map(dongsi))
    assert '"animate": false' in html
    assert html.index("fitBounds") < html.index("L.geoJson")


def test_households_estimated_on_import_are_shown_as_estimates(tmp_path):
    import shutil

    import geopandas as gpd

    from gridgis.core.project import open_project
    from gridgis.report.map.view import project_map

    shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    path = tmp_path / "p" / "buildings.geojson"
    buildings = gpd.read_file(path)
    buildings["households_source"] = ["estimate", "osm", "osm", "osm"]
    buildings.to_file(path, driver="GeoJSON")
    html = project_map(open_project(tmp_path / "p"), lang="en").get_root().render()
    assert html.count("about 84 households (derived)") >= 1  # B1: an estimate
    assert "84 households" in html.replace("about 84 households (derived)", "")  # the others
