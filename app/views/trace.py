"""The plan-image page's work: upload, control points, opacity; its map and the served image.

Every change is one write through `gridgis.core.plan_image.PlanImageStore` naming the
revision this session last saw (`SEEN_REV`), so a change made meanwhile in another
browser raises `ConflictError` instead of being overwritten. Control points are picked
on this page's own map: a click on the plan image (turned into image pixels by the
current placement), then a click on the point's true place; the placement is refitted
from all pairs at once (two: a similarity; three or more: an affine). With fewer than two
pairs the image lies over the compound's bounds, as after the upload.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import folium
from shapely.geometry import Point

from app import mapwidget, workspace
from gridgis.core.crs import convert_geometries
from gridgis.core.georef import ImagePlacement, fit_transform
from gridgis.core.plan_image import RECORD_FILE, PlanImage, PlanImageStore, fit_into
from gridgis.core.project import Project
from gridgis.report.map.assets import localize_assets
from gridgis.report.map.basemaps import display_datum, from_display
from gridgis.report.map.plan_overlay import PlanScripts, add_plan_overlay
from gridgis.report.map.view import project_map

__all__ = [
    "MAP",
    "OPACITY",
    "PENDING",
    "POINTS_RESET",
    "POINT_UNDO",
    "REMOVE",
    "SEEN_CLICK",
    "SEEN_REV",
    "SEEN_UPLOAD",
    "STATIC_PLANS",
    "UPLOAD",
    "add_pair",
    "click_lonlat",
    "default_placement",
    "points_group",
    "refit",
    "served_url",
    "trace_map",
]

UPLOAD = "plan_upload"  # the file uploader
OPACITY = "plan_opacity"  # the opacity slider
REMOVE = "plan_remove"  # the remove button
POINTS_RESET = "plan_points_reset"  # clear the control points
POINT_UNDO = "plan_point_undo"  # drop the last control point
MAP = "trace_map"  # this page's map component value ({"last_clicked": {"lat", "lng"}})
PENDING = "plan_pending"  # [col, row] picked on the image, waiting for its true place
SEEN_REV = "plan_seen_rev"  # {project path: the plan's revision this session last drew}
SEEN_CLICK = "plan_seen_click"  # the last map click handled
SEEN_UPLOAD = "plan_seen_upload"  # (file name, size) of the last upload stored

STATIC_PLANS = Path(__file__).resolve().parents[2] / "static" / "plan_image"
"""Where the app serves plan images from (``/app/static/plan_image/``)."""
_URL = "/app/static/plan_image"
_KEEP = 32  # served copies kept (each named by its content; old ones are removed)


def served_url(plan: PlanImage) -> str:
    """The URL of a served copy of the plan's image (copied into ``static/`` if missing)."""
    if plan.path is None:
        raise ValueError("plan has no image file")
    name = plan.path.name  # the content's hash: the same name is the same image
    target = STATIC_PLANS / name
    if not target.is_file():
        STATIC_PLANS.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{name}.{os.getpid()}.part")
        part.write_bytes(plan.path.read_bytes())
        os.replace(part, target)
        old = sorted(STATIC_PLANS.glob("*.*"), key=lambda p: p.stat().st_mtime)[:-_KEEP]
        for path in old:
            path.unlink(missing_ok=True)
    return f"{_URL}/{name}"


def _layers_stamp(stamp: workspace.Stamp) -> workspace.Stamp:
    """The project's stamp without the plan record: the layers' own (the map stays put)."""
    return tuple(e for e in stamp if not (isinstance(e, tuple) and e and e[0] == RECORD_FILE))


@functools.lru_cache(maxsize=8)
def _base(path: str, stamp: workspace.Stamp, lang: str, basemap: str) -> mapwidget.PreparedMap:
    project = workspace.load_project(path)
    url = mapwidget.asset_url()
    m = project_map(project, lang=lang, basemap=basemap, sites=True, asset_url=url)
    PlanScripts().add_to(m)  # the overlay itself comes with the feature group
    localize_assets(m, asset_url=url)
    m.default_js = [(name, src) for name, src in m.default_js if name != "jquery"]
    return mapwidget.prepare(m)


def trace_map(path: Path, lang: str, basemap: str) -> mapwidget.PreparedMap:
    """This page's base map: the project's layers, the plan image's script, no drawing tools.

    Cached on the layers' stamp only, so a change to the plan (opacity, control points)
    does not remount the map: the plan travels in the feature group (`points_group`).
    """
    return _base(str(path), _layers_stamp(workspace.stamp(path)), lang, basemap)


def click_lonlat(click: dict[str, Any], basemap: str) -> tuple[float, float]:
    """A map click (``{"lat", "lng"}`` on `basemap`) as WGS84 ``(lon, lat)``."""
    point = from_display(Point(float(click["lng"]), float(click["lat"])), basemap)
    return float(point.x), float(point.y)


def default_placement(project: Project, width: int, height: int) -> ImagePlacement:
    """The image fitted into the compound's bounds (or the draft's place), north up."""
    return fit_into(width, height, project.footprint().total_bounds, crs=project.metric_crs())


def refit(
    project: Project, plan: PlanImage, image_points: list[Any], map_points: list[Any]
) -> ImagePlacement:
    """The placement from these control points (fewer than two: `default_placement`).

    Raises GridGISError (e.g. two points on the same spot).
    """
    if len(image_points) < 2:
        return default_placement(project, plan.width, plan.height)
    return fit_transform(image_points, map_points, crs=project.metric_crs())


def add_pair(
    store: PlanImageStore,
    project: Project,
    plan: PlanImage,
    pixel: tuple[float, float],
    lonlat: tuple[float, float],
) -> PlanImage:
    """Add one control point pair, refit, and save both at once (revision `plan.rev`)."""
    image_points = [*plan.image_points, pixel]
    map_points = [*plan.map_points, lonlat]
    placed = refit(project, plan, image_points, map_points)
    return store.update(expected_rev=plan.rev, placement=placed, image_points=image_points,
                        map_points=map_points)  # fmt: skip


def points_group(
    plan: PlanImage,
    *,
    lang: str,
    basemap: str,
    opacity: float,
    pending: tuple[float, float] | None,
) -> folium.FeatureGroup:
    """The feature group sent with the map: the image, the control points, a pending pick.

    Each pair shows where its image point lies now (hollow) and its true place (filled).
    """
    group = folium.FeatureGroup(name="plan", control=False)
    add_plan_overlay(group, plan, lang=lang, basemap=basemap, image_url=served_url(plan),
                     opacity=opacity, control=False)  # fmt: skip
    datum = display_datum(basemap)

    def shown(lonlat: tuple[float, float]) -> list[float]:
        point = Point(lonlat)
        if datum != "wgs84":
            point = convert_geometries(point, src="wgs84", dst=datum)
        return [round(point.y, 8), round(point.x, 8)]

    if plan.image_points:
        now = plan.placement.to_map(list(plan.image_points))
        for (lon, lat), truth in zip(now, plan.map_points, strict=True):
            a, b = shown((float(lon), float(lat))), shown(truth)
            folium.PolyLine([a, b], color="#c62828", weight=2, dash_array="4 4").add_to(group)
            folium.CircleMarker(a, radius=5, color="#c62828", fill=False).add_to(group)
            folium.CircleMarker(b, radius=5, color="#c62828", fill=True,
                                fill_opacity=0.9).add_to(group)  # fmt: skip
    if pending is not None:
        lon, lat = plan.placement.to_map([pending])[0]
        folium.CircleMarker(shown((float(lon), float(lat))), radius=7, color="#1565c0",
                            weight=3, fill=False).add_to(group)  # fmt: skip
    return group
