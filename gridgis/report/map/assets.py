"""Browser assets of folium maps (Leaflet and friends) from the package, never from CDNs.

folium pages load Leaflet from public CDNs, which are slow or blocked in
mainland China and unreachable offline; if one script fails the map never
appears. gridgis ships the same versions as package data: ``./dev setup``
installs the npm packages of ``gridgis/report/map/vendor/package.json`` into
``gridgis/report/map/vendor/node_modules`` (`vendor_dir`), and a wheel built
from that checkout carries the files (`VENDOR_FILES`). `localize_assets`
then either inlines them into the page (the default: one self-contained HTML
file) or points the page at a served copy (``asset_url=``; the app serves the
files `export_assets` copies into its static folder). `LOCAL_ASSETS` is the one
place that knows which CDN URL is which file: when folium changes one (a new
Leaflet, say), `localize_assets` raises until the table and ``package.json``
are updated together.

Examples
--------
>>> import folium
>>> m = localize_assets(folium.Map(tiles=None), asset_url="/static/vendor")
>>> [url for _, url in m.default_js]
['/static/vendor/leaflet/dist/leaflet.js', '/static/vendor/jquery/dist/jquery.min.js']
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeVar

from branca.element import Element, Figure

from gridgis.errors import GridGISError
from gridgis.report.map.elements import RawElement

__all__ = [
    "LOCAL_ASSETS",
    "ROTATED_IMAGE_JS",
    "VENDOR_FILES",
    "check_assets",
    "export_assets",
    "iter_asset_urls",
    "localize_assets",
    "vendor_dir",
]

_JSDELIVR = "https://cdn.jsdelivr.net/npm"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
_GEOMAN = f"{_JSDELIVR}/@geoman-io/leaflet-geoman-free@2.20.2/dist"
#: Leaflet.ImageOverlay.Rotated (a placed site-plan scan: `gridgis.report.map.plan_overlay`).
ROTATED_IMAGE_JS = f"{_JSDELIVR}/leaflet-imageoverlay-rotated@0.2.1/Leaflet.ImageOverlay.Rotated.js"

#: CDN URL -> path under `vendor_dir`, or None for assets we drop on purpose.
LOCAL_ASSETS: dict[str, str | None] = {
    # folium.Map: Leaflet itself.
    f"{_JSDELIVR}/leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    f"{_JSDELIVR}/leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    # folium.Popup and Map(objects_to_stay_in_front=...) call jQuery's $.
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    # Only folium.Icon markers (Leaflet.awesome-markers) use the rest of folium.Map's
    # list; gridgis maps draw no icon markers. Add the npm package and a path here
    # before using them.
    f"{_JSDELIVR}/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": None,
    f"{_JSDELIVR}/bootstrap@5.2.2/dist/css/bootstrap.min.css": None,
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": None,
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": None,
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    f"{_JSDELIVR}/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": None,
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": None,
    # folium.plugins.Draw (drawing sites on the map).
    f"{_CDNJS}/leaflet.draw/1.0.2/leaflet.draw.js": "leaflet-draw/dist/leaflet.draw.js",
    f"{_CDNJS}/leaflet.draw/1.0.2/leaflet.draw.css": "leaflet-draw/dist/leaflet.draw.css",
    # gridgis.report.map.editing.EditTools: editing and snapping on the app's map.
    f"{_GEOMAN}/leaflet-geoman.min.js": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js",
    f"{_GEOMAN}/leaflet-geoman.css": "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css",
    # gridgis.report.map.plan_overlay (the plan image to trace over).
    ROTATED_IMAGE_JS: "leaflet-imageoverlay-rotated/Leaflet.ImageOverlay.Rotated.js",
}
_IMAGES = {
    "leaflet/dist/images": ("layers.png", "layers-2x.png", "marker-icon.png",
                            "marker-icon-2x.png", "marker-shadow.png"),
    "leaflet-draw/dist/images": ("spritesheet.png", "spritesheet-2x.png", "spritesheet.svg"),
}  # fmt: skip
#: Every file under `vendor_dir` a page may load: the scripts and styles, and their images.
VENDOR_FILES: tuple[str, ...] = (
    *dict.fromkeys(p for p in LOCAL_ASSETS.values() if p is not None),
    *(f"{folder}/{name}" for folder, names in _IMAGES.items() for name in names),
)
_MIME = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}

E = TypeVar("E", bound=Element)
Root = Traversable  # a Path, or a package resource


def vendor_dir() -> Traversable:
    """Where the npm packages are: ``vendor/node_modules`` in `gridgis.report.map`'s data."""
    return resources.files("gridgis.report.map").joinpath("vendor", "node_modules")


def _file(root: Root, path: str) -> Traversable:
    return root.joinpath(*path.split("/"))


def check_assets(root: str | os.PathLike[str] | Traversable | None = None) -> Root:
    """`root` (default `vendor_dir`) if it holds every one of `VENDOR_FILES`.

    Raises
    ------
    GridGISError
        A file is missing; the message says where the files must come from.
    """
    where: Root = vendor_dir() if root is None else _as_root(root)
    missing = [p for p in VENDOR_FILES if not _file(where, p).is_file()]
    if missing:
        raise GridGISError(
            f"the map's browser scripts are missing from {where} (first: {missing[0]}). "
            "They are npm packages (gridgis/report/map/vendor/package.json): in a checkout run "
            "./dev setup, or `npm ci --prefix gridgis/report/map/vendor`, before building or "
            "installing gridgis; or pass asset_url= with the URL of a served copy"
        )
    return where


def _as_root(root: str | os.PathLike[str] | Traversable) -> Root:
    return Path(root) if isinstance(root, str | os.PathLike) else root


def export_assets(
    folder: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Copy `VENDOR_FILES` into `folder` (same layout) where missing or different.

    For a web server or an app that serves the map's scripts itself (pass its
    URL of `folder` as ``asset_url``). Cheap when nothing changed: files are
    compared by content.

    Returns
    -------
    list of Path
        The files written.
    """
    source = check_assets(root)
    target = Path(folder)
    written = []
    for path in VENDOR_FILES:
        data = _file(source, path).read_bytes()
        dest = target.joinpath(*path.split("/"))
        if dest.is_file() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        part.write_bytes(data)
        os.replace(part, dest)
        written.append(dest)
    return written


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _local_path(name: str, url: str, owner: str, asset_url: str | None) -> str | None:
    """The file under `vendor_dir` of an asset URL (None: dropped on purpose)."""
    if url in LOCAL_ASSETS:
        return LOCAL_ASSETS[url]
    if asset_url is not None and url.startswith(asset_url + "/"):
        return url[len(asset_url) + 1 :]  # localized before
    for path in VENDOR_FILES:
        if url.endswith("/" + path):
            return path  # localized before, to another URL
    raise GridGISError(
        f"{owner} loads asset {name!r} from {url!r}, which has no local copy; add it to "
        "gridgis/report/map/vendor/package.json and gridgis.report.map.assets.LOCAL_ASSETS"
    )


def _inline_css(root: Root, path: str) -> str:
    """A stylesheet with its relative images (Leaflet's layer icons) as data: URIs."""
    folder = path.rsplit("/", 1)[0]

    def data_uri(m: re.Match[str]) -> str:
        ref = m.group(2)
        if ref.startswith(("#", "data:", "http:", "https:")):
            return m.group(0)
        target = _file(root, f"{folder}/{ref}")
        if not target.is_file():
            return m.group(0)
        payload = base64.b64encode(target.read_bytes()).decode("ascii")
        mime = _MIME.get(Path(ref).suffix, "application/octet-stream")
        return f"url(data:{mime};base64,{payload})"

    text = _file(root, path).read_text(encoding="utf-8")
    return re.sub(r"url\((['\"]?)([^'\")]+)\1\)", data_uri, text)


_SOURCE_MAP = re.compile(
    r"^\s*(?://# sourceMappingURL=\S+|/\*# sourceMappingURL=\S+ \*/)\s*$", re.M
)


def _inline(root: Root, path: str, kind: str) -> RawElement:
    """The file as a ``<script>`` or ``<style>`` block (without its source map link)."""
    if kind == "default_js":
        code = _SOURCE_MAP.sub("", _file(root, path).read_text(encoding="utf-8"))
        return RawElement("<script>" + code.replace("</script", "<\\/script") + "</script>")
    css = _SOURCE_MAP.sub("", _inline_css(root, path))
    return RawElement("<style>" + css.replace("</style", "<\\/style") + "</style>")


def localize_assets(
    element: E,
    *,
    asset_url: str | None = None,
    vendor: str | os.PathLike[str] | None = None,
) -> E:
    """Make a folium element tree load its scripts and styles from gridgis' own copies.

    Every element that declares ``default_js`` / ``default_css`` gets its own
    lists (the class lists are left alone); assets `LOCAL_ASSETS` marks as
    unused are dropped. Call it after the last child is added (again after
    adding more).

    Parameters
    ----------
    element
        A ``folium.Map`` (or any folium element).
    asset_url
        URL of a served copy of `VENDOR_FILES` (`export_assets`): the page
        then links ``{asset_url}/leaflet/dist/leaflet.js`` and so on. By
        default the files are inlined into the page's header, so the HTML
        works on its own (`element` must then be in a ``Figure``, as a map is).
    vendor
        Where the files to inline are; default `vendor_dir`.

    Returns
    -------
    Element
        `element`, changed in place.

    Raises
    ------
    GridGISError
        An asset has no entry in `LOCAL_ASSETS`, or the files to inline are
        not installed (`check_assets`).
    """
    base = None if asset_url is None else asset_url.rstrip("/")
    inline: dict[str, RawElement] = {}
    root: Root | None = None
    for elem in _walk(element):
        owner = type(elem).__name__
        for attr in ("default_js", "default_css"):
            assets = getattr(elem, attr, None)
            if not assets:
                continue
            kept = []
            for name, url in assets:
                path = _local_path(name, url, owner, base)
                if path is None:
                    continue
                if base is not None:
                    kept.append((name, f"{base}/{path}"))
                    continue
                root = root if root is not None else check_assets(vendor)
                inline.setdefault(f"gridgis_asset:{path}", _inline(root, path, attr))
            setattr(elem, attr, kept)
    if inline:
        figure = element.get_root()
        if not isinstance(figure, Figure):
            raise GridGISError(
                f"cannot inline the assets of a {type(element).__name__} outside a map: "
                "pass asset_url="
            )
        for key, raw in inline.items():
            if key not in figure.header._children:
                figure.header.add_child(raw, name=key)
    return element


def iter_asset_urls(element: Element) -> Iterator[str]:
    """Yield every script and stylesheet URL the element tree declares."""
    for elem in _walk(element):
        for attr in ("default_js", "default_css"):
            for _, url in getattr(elem, attr, None) or ():
                yield url
