"""OpenStreetMap extracts (``.osm``, ``.osm.pbf``) in: one folder project per residential area.

The file is read with GDAL's OSM driver through pyogrio (layers ``multipolygons`` and
``lines``; tags that have no column of their own come in GDAL's ``other_tags`` column,
read by `parse_other_tags`). An area is a ``landuse=residential`` polygon, or a named
closed ``barrier=wall`` / ``barrier=fence`` way (a 小区 with a wall). Each area becomes a
project: ``compound`` = the area; ``buildings`` = ``building=*`` polygons whose
representative point is inside, with ``name``, ``building:levels``, ``building:flats``
and ``addr:*`` kept; ``paths`` = ``highway=*`` ways clipped to the area.

Households: ``building:flats`` when OSM has it (``households_source = "osm"``), else
estimated as round(levels x footprint m2 / ``general.area_per_household_m2``), with
``general.building_levels_fallback`` levels where OSM has no ``building:levels``, and 0
for the non-dwelling kinds in `NON_DWELLING` (``households_source = "estimate"``).

Path kinds and default widths come from the ``highway`` value (`HIGHWAY_KINDS`: road or
footpath; `DEFAULT_WIDTH_M` when the way has no ``width`` tag); a way tagged as in
`FIRE_LANE_TAGS` is a ``fire_lane`` (default width: ``rules.fire_lane_clear_width_m``).

Examples
--------
>>> parse_other_tags('"building:levels"=>"6","addr:street"=>"Shuangqing \\\\"East\\\\" Rd"')
{'building:levels': '6', 'addr:street': 'Shuangqing "East" Rd'}
>>> parse_bbox("104.05,30.64,104.08,30.67")
(104.05, 30.64, 104.08, 30.67)
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gridgis.core.crs import local_metric_crs
from gridgis.core.project import Project, check_project_name, save_project
from gridgis.core.settings import Settings, default_settings
from gridgis.core.validate import check_layers
from gridgis.errors import GridGISError, ReadError, ValidationError

__all__ = [
    "DEFAULT_WIDTH_M",
    "FIRE_LANE_TAGS",
    "HIGHWAY_KINDS",
    "NON_DWELLING",
    "OsmImport",
    "OsmProject",
    "import_osm",
    "parse_bbox",
    "parse_other_tags",
]

log = logging.getLogger(__name__)

HIGHWAY_KINDS: dict[str, str] = {
    **dict.fromkeys(("footway", "path", "pedestrian", "steps", "cycleway", "bridleway"),
                    "footpath"),
    **dict.fromkeys(("platform", "elevator", "construction", "proposed", "corridor",
                     "bus_stop", "raceway", "abandoned", "services", "rest_area"), ""),
}  # fmt: skip
"""``highway`` value -> path kind; "" = not a path (skipped); any other value is a road."""

DEFAULT_WIDTH_M: dict[str, float] = {
    "primary": 12.0, "secondary": 9.0, "tertiary": 7.0, "residential": 6.0,
    "unclassified": 5.0, "living_street": 5.0, "service": 3.5, "track": 3.0,
    "pedestrian": 3.0, "cycleway": 2.0, "footway": 1.5, "path": 1.5, "steps": 1.5,
    "road": 4.0, "footpath": 1.5,
}  # fmt: skip
"""[E] carriageway width by ``highway`` value when a way has no ``width`` tag; a value not
listed takes its kind's entry (``road`` 4.0 m, ``footpath`` 1.5 m)."""

FIRE_LANE_TAGS: frozenset[tuple[str, str]] = frozenset({
    ("service", "emergency_access"), ("highway", "emergency_access"),
    ("emergency", "designated"), ("fire_lane", "yes"), ("fire_route", "yes"),
})  # fmt: skip
"""(key, value) tags that make a ``highway=*`` way a fire lane (消防车通道)."""

NON_DWELLING: frozenset[str] = frozenset({
    "garage", "garages", "carport", "shed", "roof", "kiosk", "hut", "service",
    "transformer_tower", "parking", "commercial", "retail", "office", "industrial",
    "warehouse", "school", "kindergarten", "church", "temple", "public", "toilets",
})  # fmt: skip
"""``building`` values that hold no households (estimate 0 unless ``building:flats``)."""

_TAG = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_UNESCAPE = re.compile(r"\\(.)")
_BAD_NAME = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:m|metres|meters)?\s*$")


def parse_other_tags(text: object) -> dict[str, str]:
    """Tags of GDAL's ``other_tags`` column: ``"key"=>"value",...`` (an hstore).

    GDAL escapes ``"`` and ``\\`` inside keys and values with a backslash; a missing
    value (None, NaN) gives ``{}``.
    """
    if not isinstance(text, str):
        return {}
    return {_UNESCAPE.sub(r"\1", k): _UNESCAPE.sub(r"\1", v) for k, v in _TAG.findall(text)}


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"W,S,E,N"`` in WGS84 degrees as a tuple; a `GridGISError` naming it otherwise."""
    try:
        west, south, east, north = (float(x) for x in text.split(","))
    except ValueError:
        raise GridGISError(f"--bbox {text!r}: give W,S,E,N, four numbers in degrees") from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise GridGISError(f"--bbox {text!r}: need -180 <= W < E <= 180 and -90 <= S < N <= 90")
    return west, south, east, north


@dataclass(frozen=True)
class OsmProject:
    """One project written from one residential area, with its counts."""

    osm_id: str
    name: str
    path: Path
    buildings: int
    buildings_estimated: int
    households: int
    households_estimated: int
    paths: int
    fire_lanes: int


@dataclass
class OsmImport:
    """What `import_osm` made: the projects and the areas skipped, with why."""

    projects: list[OsmProject] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (osm id + name, reason)


def _read(path: Path, layer: str, where: str, bbox: tuple[float, ...] | None) -> gpd.GeoDataFrame:
    """One layer of the OSM file, only features matching `where`, without empty geometries."""
    with warnings.catch_warnings(record=True) as caught:  # GDAL: unclosed rings, cut relations
        warnings.simplefilter("always")
        try:
            frame = pyogrio.read_dataframe(
                path, layer=layer, where=where, bbox=bbox, on_invalid="ignore"
            )
        except (DataSourceError, DataLayerError) as exc:
            first = str(exc).split(";")[0] or type(exc).__name__
            raise ReadError(
                f"{path}: cannot read layer {layer!r} as OpenStreetMap: {first}"
            ) from exc
    for w in caught:
        log.debug("%s %s: %s", path, layer, w.message)
    keep = frame.geometry.notna() & ~frame.geometry.is_empty
    return frame[keep.to_numpy()].reset_index(drop=True)


def _tag(frame: pd.DataFrame, tags: list[dict[str, str]], key: str) -> pd.Series:
    """Tag `key` of each row: its own column if GDAL made one, else from ``other_tags``."""
    if key in frame.columns:
        return frame[key].astype(object).where(frame[key].notna(), None)
    return pd.Series([t.get(key) for t in tags], index=frame.index, dtype=object)


def _osm_ids(frame: pd.DataFrame) -> pd.Series:
    """``r<id>`` for relations, ``w<id>`` for ways (GDAL's osm_id / osm_way_id columns)."""
    way = frame["osm_way_id"] if "osm_way_id" in frame else pd.Series(None, index=frame.index)
    rel = frame["osm_id"] if "osm_id" in frame else pd.Series(None, index=frame.index)
    return pd.Series(np.where(rel.notna(), "r" + rel.astype(str), "w" + way.astype(str)),
                     index=frame.index)  # fmt: skip


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """`geom` made valid, its polygon parts only (None when it has none)."""
    geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else None


def _areas(path: Path, bbox: tuple[float, ...] | None) -> gpd.GeoDataFrame:
    """Residential areas: landuse polygons and named closed walls / fences."""
    land = _read(path, "multipolygons", "landuse = 'residential'", bbox)
    areas = pd.DataFrame({"osm_id": _osm_ids(land), "name": land["name"],
                          "geometry": land.geometry.to_numpy()})  # fmt: skip
    walls = _read(path, "lines", "barrier IN ('wall', 'fence') AND name IS NOT NULL", bbox)
    closed = walls[
        walls.geometry.is_closed.to_numpy() & (shapely.get_num_points(walls.geometry) >= 4)
    ]
    if len(closed):
        rings = pd.DataFrame(
            {"osm_id": "w" + closed["osm_id"].astype(str), "name": closed["name"],
             "geometry": [shapely.Polygon(g.coords) for g in closed.geometry]}
        )  # fmt: skip
        areas = pd.concat([areas, rings], ignore_index=True)
    areas["geometry"] = [_polygonal(g) for g in areas["geometry"]]
    return gpd.GeoDataFrame(areas, geometry="geometry", crs=4326)  # None: no area left


def _buildings(
    path: Path, bbox: tuple[float, ...], metric: object, settings: Settings
) -> gpd.GeoDataFrame:
    """Every ``building=*`` polygon in `bbox`, with its households and their source."""
    raw = _read(path, "multipolygons", "building IS NOT NULL", bbox)
    geoms = raw.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms)  # OSM outlines often cross themselves a little: repair them
    geoms[bad] = [_polygonal(g) for g in geoms[bad]]
    keep = pd.notna(geoms)
    raw, geoms = raw[keep].reset_index(drop=True), geoms[keep]
    tags = [parse_other_tags(t) for t in raw.get("other_tags", pd.Series(None, index=raw.index))]
    out = gpd.GeoDataFrame({"osm_id": _osm_ids(raw)}, geometry=geoms, crs=4326)
    out["building"] = raw["building"].astype(str).to_numpy()
    out["name"] = _tag(raw, tags, "name").to_numpy()
    for key in ["building:levels", "building:flats"]:
        out[key] = _tag(raw, tags, key).to_numpy()
    for key in sorted({k for t in tags for k in t if k.startswith("addr:")}):
        out[key] = _tag(raw, tags, key).to_numpy()
    levels = pd.to_numeric(out["building:levels"], errors="coerce")
    flats = pd.to_numeric(out["building:flats"], errors="coerce")
    per_household = settings.general.area_per_household_m2.value
    if per_household <= 0:
        msg = f"general.area_per_household_m2 must be > 0, got {per_household!r}"
        raise GridGISError(msg)
    footprint = out.geometry.to_crs(metric).area.to_numpy()
    used_levels = levels.where(levels >= 1, settings.general.building_levels_fallback.value)
    estimate = np.round(used_levels.to_numpy() * footprint / per_household)
    estimate[out["building"].isin(NON_DWELLING).to_numpy()] = 0
    known = (flats >= 0).to_numpy()
    out["households"] = pd.array(np.where(known, flats.fillna(0), estimate), dtype="Int64")
    out["households_source"] = np.where(known, "osm", "estimate")
    out["floors"] = pd.array(np.round(levels.where(levels >= 1)), dtype="Int64")
    return out


def _width(value: object) -> float | None:
    """A ``width`` tag in metres ("4", "4.5 m"), None when absent or not plain metres."""
    match = _NUMBER.match(value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None


def _highways(path: Path, bbox: tuple[float, ...], settings: Settings) -> gpd.GeoDataFrame:
    """Every ``highway=*`` way in `bbox` that is a path, with kind and width."""
    raw = _read(path, "lines", "highway IS NOT NULL", bbox)
    tags = [parse_other_tags(t) for t in raw.get("other_tags", pd.Series(None, index=raw.index))]
    highway = raw["highway"].astype(str)
    kind = highway.map(lambda h: HIGHWAY_KINDS.get(h, "road"))
    fire = pd.Series([any((k, t.get(k)) in FIRE_LANE_TAGS for k in ("service", "emergency",
                      "fire_lane", "fire_route")) or h == "emergency_access"
                      for t, h in zip(tags, highway, strict=True)], index=raw.index)  # fmt: skip
    kind = kind.where(~(fire & (kind != "")), "fire_lane")
    tagged = pd.Series([_width(t.get("width")) for t in tags], index=raw.index, dtype=float)
    fire_width = settings.rules.fire_lane_clear_width_m.value
    default = [
        fire_width if k == "fire_lane" else DEFAULT_WIDTH_M.get(h, DEFAULT_WIDTH_M.get(k, 4.0))
        for h, k in zip(highway, kind, strict=True)
    ]
    out = gpd.GeoDataFrame(
        {"osm_id": "w" + raw["osm_id"].astype(str), "kind": kind, "highway": highway,
         "name": raw["name"], "width_m": tagged.fillna(pd.Series(default, index=raw.index)),
         "width_source": np.where(tagged.notna(), "osm", "default")},
        geometry=raw.geometry.to_numpy(), crs=4326,
    )  # fmt: skip
    return out[(kind != "").to_numpy()].reset_index(drop=True)


def _line_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The line parts of a clipped way (a touching point or a collection drops its points)."""
    if geom.geom_type in ("LineString", "MultiLineString"):
        return geom
    lines = [p for p in shapely.get_parts(geom) if p.geom_type == "LineString" and p.length > 0]
    return shapely.line_merge(shapely.MultiLineString(lines)) if lines else shapely.LineString()


def _lines_inside(lines: gpd.GeoDataFrame, area: shapely.Geometry) -> gpd.GeoDataFrame:
    """`lines` clipped to `area`, keeping only ways with a line part inside."""
    near = lines.iloc[lines.sindex.query(area, predicate="intersects")]
    clipped = shapely.intersection(near.geometry.to_numpy(), area)
    parts = [_line_part(g) for g in clipped]
    out = near.set_geometry(gpd.GeoSeries(parts, index=near.index, crs=4326))
    return out[(~out.geometry.is_empty & (shapely.length(out.geometry.to_numpy()) > 0)).to_numpy()]


def _folder_name(name: str, osm_id: str) -> str:
    """A project folder name: ``<name>_<osm id>``, or the id when the area has no name."""
    safe = _BAD_NAME.sub("_", name).strip(" .-_")[:48] if name else ""
    return check_project_name(f"{safe}_{osm_id}" if safe else osm_id)


def import_osm(
    path: str | Path,
    outdir: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    settings: Settings | None = None,
) -> OsmImport:
    """Write one folder project per residential area of an OpenStreetMap file.

    Parameters
    ----------
    path
        A ``.osm`` (XML) or ``.osm.pbf`` file.
    outdir
        Folder to write the projects in (``<name>_<osm id>`` or ``<osm id>`` each).
    bbox
        (W, S, E, N) in WGS84: only areas intersecting it.
    settings
        Used for the household estimate and fire-lane width, and saved with each project.

    Returns
    -------
    OsmImport
        The projects written with their counts, and the areas skipped (no buildings inside,
        or failing validation) with the reason.
    """
    path, outdir = Path(path), Path(outdir)
    settings = settings or default_settings()
    if not path.is_file():
        raise ReadError(f"{path}: no such file")
    if path.suffix.lower() not in (".osm", ".pbf"):
        raise ReadError(f"{path}: not an OpenStreetMap file; give a .osm or .osm.pbf file")
    areas = _areas(path, bbox)
    if not len(areas):
        where = f" inside --bbox {','.join(map(str, bbox))}" if bbox else ""
        raise GridGISError(f"{path}: no landuse=residential area or named walled area{where}")
    result = OsmImport()
    for row in areas[areas.geometry.isna()].itertuples():
        result.skipped.append(
            (f"{row.osm_id}", "its outline has no area (cut off by the extract?)")
        )
    areas = areas[areas.geometry.notna()]
    if not len(areas):
        return result
    metric = local_metric_crs(areas)
    bounds = tuple(float(x) for x in areas.total_bounds)
    buildings = _buildings(path, bounds, metric, settings)
    reps = gpd.GeoDataFrame(geometry=buildings.geometry.representative_point(), crs=4326)
    inside = gpd.sjoin(reps, areas[["geometry"]], predicate="within")
    highways = _highways(path, bounds, settings)
    for pos, area in areas.iterrows():
        name = str(area["name"]) if isinstance(area["name"], str) and area["name"].strip() else ""
        label = f"{area['osm_id']}" + (f" {name}" if name else "")
        chosen = buildings.loc[inside.index[inside["index_right"] == pos]].reset_index(drop=True)
        if not len(chosen):
            result.skipped.append((label, "no buildings inside"))
            continue
        chosen.insert(0, "building_id", [f"{settings.naming.building_prefix}{i + 1}"
                                         for i in range(len(chosen))])  # fmt: skip
        paths = _lines_inside(highways, area.geometry).reset_index(drop=True)
        paths.insert(0, "path_id", [f"P{i + 1}" for i in range(len(paths))])
        compound = gpd.GeoDataFrame({"name": [name or str(area["osm_id"])],
                                     "osm_id": [area["osm_id"]]},
                                    geometry=[area.geometry], crs=4326)  # fmt: skip
        layers = {"compound": compound, "buildings": chosen}
        if len(paths):
            layers["paths"] = paths
        try:
            check_layers(layers, source=f"{path}: {label}", site_types=tuple(settings.site_types))
        except ValidationError as exc:
            result.skipped.append((label, f"not valid: {exc.problems[0]}"))
            continue
        target = save_project(
            Project(layers, settings), outdir / _folder_name(name, area["osm_id"])
        )
        estimated = (chosen["households_source"] == "estimate").to_numpy()
        households = chosen["households"].fillna(0).to_numpy(dtype=int)
        result.projects.append(OsmProject(
            osm_id=str(area["osm_id"]), name=name, path=target, buildings=len(chosen),
            buildings_estimated=int(estimated.sum()), households=int(households.sum()),
            households_estimated=int(households[estimated].sum()), paths=len(paths),
            fire_lanes=int((paths["kind"] == "fire_lane").sum()),
        ))  # fmt: skip
    return result
