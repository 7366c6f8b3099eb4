"""The project's plan image (a scanned site plan) on a folium map, to trace over.

Drawn with Leaflet.ImageOverlay.Rotated (npm ``leaflet-imageoverlay-rotated``, served
from the package like Leaflet: `gridgis.report.map.assets`) at three corners of the
placed image (`gridgis.core.plan_image.PlanImage.corners`), with its opacity, in a pane
of its own under the vector layers and above the tiles; it takes no clicks, so drawing
and clicking on the map work through it. The image travels as a ``data:`` URL (the
saved HTML works alone) or as the URL of a served copy (`image_url`, the app's).

Examples
--------
>>> import folium, io, shutil, tempfile
>>> from PIL import Image
>>> from gridgis.core.plan_image import PlanImageStore
>>> from gridgis.report.map.assets import localize_assets
>>> work = shutil.copytree("data/dongsi180", tempfile.mkdtemp() + "/p")
>>> png = io.BytesIO()
>>> Image.new("L", (40, 30), 255).save(png, "PNG")
>>> plan = PlanImageStore(work).upload(png.getvalue(), name="plan.png", expected_rev=0,
...                                    bounds=(104.069, 30.669, 104.071, 30.671))
>>> m = folium.Map(tiles=None)
>>> _ = add_plan_overlay(m, plan, lang="en")
>>> html = localize_assets(m).get_root().render()
>>> "L.imageOverlay.rotated(" in html, "data:image/png;base64," in html
(True, True)
"""

from __future__ import annotations

import base64
from typing import Any

import folium
from folium.elements import JSCSSMixin
from folium.map import Layer
from jinja2 import Template

from gridgis.core.crs import convert_coords
from gridgis.core.plan_image import PlanImage
from gridgis.errors import GridGISError
from gridgis.report.i18n import t
from gridgis.report.map.assets import ROTATED_IMAGE_JS
from gridgis.report.map.basemaps import display_datum
from gridgis.report.map.elements import RawMacroElement, template
from gridgis.report.map.layers import PRECISION

__all__ = ["PANE", "PlanOverlay", "PlanScripts", "add_plan_overlay", "image_data_url",
           "plan_overlay"]  # fmt: skip

PANE = "gridgisPlan"
"""The Leaflet pane of the plan image: `Z_INDEX`, above the tiles, below the shapes."""
Z_INDEX = 350
_SCRIPTS = [("leaflet_imageoverlay_rotated", ROTATED_IMAGE_JS)]


class PlanOverlay(JSCSSMixin, RawMacroElement, Layer):  # type: ignore[misc]  # folium untyped
    """The image at `url` with its corners at `top_left`, `top_right`, `bottom_left` (lat, lng).

    A `folium.map.Layer`, so a map's layer control can hide it.
    """

    _template = template("plan_overlay.j2")
    default_js = _SCRIPTS

    def __init__(
        self,
        url: str,
        top_left: list[float],
        top_right: list[float],
        bottom_left: list[float],
        *,
        opacity: float,
        name: str,
        alt: str = "",
        control: bool = True,
    ) -> None:
        super().__init__(name=name, overlay=True, control=control, show=True)
        self._name = "GridgisPlanImage"
        self.url = url
        self.top_left, self.top_right, self.bottom_left = top_left, top_right, bottom_left
        self.opacity = float(opacity)
        self.alt = alt
        self.pane = PANE
        self.z_index = Z_INDEX


class PlanScripts(JSCSSMixin, RawMacroElement):  # type: ignore[misc]  # folium untyped
    """Only the plan image's script, for a map whose `PlanOverlay` comes later in a feature
    group (streamlit-folium loads the base map's scripts only)."""

    _template = Template("")
    default_js = _SCRIPTS

    def __init__(self) -> None:
        super().__init__()
        self._name = "GridgisPlanScripts"


def image_data_url(plan: PlanImage) -> str:
    """The plan's image as a ``data:`` URL (read from its file)."""
    if plan.path is None or not plan.path.is_file():
        raise GridGISError(f"plan image file {plan.file!r} is missing; upload the image again")
    payload = base64.b64encode(plan.path.read_bytes()).decode("ascii")
    return f"data:{plan.media_type};base64,{payload}"


def plan_overlay(
    plan: PlanImage,
    *,
    lang: str = "zh",
    basemap: str = "none",
    image_url: str | None = None,
    opacity: float | None = None,
    control: bool = True,
) -> PlanOverlay:
    """The overlay of `plan` (not yet on a map).

    Parameters
    ----------
    plan
        The project's plan image (`gridgis.core.plan_image.PlanImageStore.load`).
    lang
        Language of its name in the layer control.
    basemap
        The map's basemap: on Gaode tiles the corners are shifted to GCJ-02, as the
        layers are.
    image_url
        URL of a served copy of the image; default a ``data:`` URL of the file.
    opacity
        Default the plan's own.
    control
        List it in the map's layer control (then add it before the control).
    """
    corners = plan.corners()
    datum = display_datum(basemap)
    if datum != "wgs84":
        lon, lat = convert_coords(corners[:, 0], corners[:, 1], src="wgs84", dst=datum)
        corners[:, 0], corners[:, 1] = lon, lat
    tl, tr, _, bl = ([round(float(y), PRECISION), round(float(x), PRECISION)]
                     for x, y in corners)  # fmt: skip
    name = t("trace.layer", lang)
    url = image_url if image_url is not None else image_data_url(plan)
    shown = plan.opacity if opacity is None else float(opacity)
    return PlanOverlay(url, tl, tr, bl, opacity=shown, name=name, alt=name, control=control)


def add_plan_overlay(
    m: folium.Map | folium.FeatureGroup, plan: PlanImage, **kwargs: Any
) -> PlanOverlay:
    """Add `plan`'s overlay (`plan_overlay`, same keywords) to a map or feature group.

    On a map, add it before the layer control (to be listed there) and before
    `localize_assets` (``project_map`` calls it last), so its script is served or inlined
    after Leaflet's.
    """
    overlay = plan_overlay(plan, **kwargs)
    overlay.add_to(m)
    return overlay
