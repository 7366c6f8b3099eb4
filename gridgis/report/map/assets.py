"""Browser assets for folium maps, served by the app itself instead of CDNs.

folium pages load Leaflet and friends from public CDNs, which are slow or
blocked in mainland China and unreachable offline; if one script fails the
map never appears. ``./dev setup`` installs the same versions from the npm
registry into ``static/vendor`` (see ``static/vendor/package.json``) and
Streamlit serves them at ``/app/static/vendor/node_modules/``.
`localize_assets` rewrites a map's asset lists to those URLs. This table is
the one place that knows the mapping: when folium changes a CDN URL (a new
Leaflet, say), `localize_assets` raises until the table and ``package.json``
are updated together.

Examples
--------
>>> import folium
>>> m = localize_assets(folium.Map(tiles=None))
>>> [url for _, url in m.default_js]
['/app/static/vendor/node_modules/leaflet/dist/leaflet.js', \
'/app/static/vendor/node_modules/jquery/dist/jquery.min.js']
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from branca.element import Element

from gridgis.errors import GridGISError

__all__ = ["LOCAL_ASSETS", "VENDOR_DIR", "VENDOR_URL", "iter_asset_urls", "localize_assets"]

#: Where ``./dev setup`` installs the npm packages (relative to the repository).
VENDOR_DIR = Path("static") / "vendor" / "node_modules"
#: Where Streamlit serves them (``server.enableStaticServing``).
VENDOR_URL = "/app/static/vendor/node_modules"

_JSDELIVR = "https://cdn.jsdelivr.net/npm"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"

#: CDN URL -> path under `VENDOR_DIR`, or None for assets we drop on purpose.
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
}

E = TypeVar("E", bound=Element)


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def _rewrite(assets: list[tuple[str, str]], base_url: str, owner: str) -> list[tuple[str, str]]:
    out = []
    for name, url in assets:
        if url.startswith(base_url):
            out.append((name, url))  # already local (rewritten before)
            continue
        if url not in LOCAL_ASSETS:
            raise GridGISError(
                f"{owner} loads asset {name!r} from {url!r}, which has no local copy; add it "
                "to static/vendor/package.json and gridgis.report.map.assets.LOCAL_ASSETS"
            )
        local = LOCAL_ASSETS[url]
        if local is not None:
            out.append((name, f"{base_url}/{local}"))
    return out


def localize_assets(element: E, *, base_url: str = VENDOR_URL) -> E:
    """Point a folium element's and its children's scripts and styles at local copies.

    Every element of the tree that declares ``default_js`` / ``default_css``
    gets its own rewritten lists (the class lists are left alone); assets the
    table marks as unused are dropped. Call it after the last child is added.

    Parameters
    ----------
    element
        A ``folium.Map`` (or any folium element).
    base_url
        URL prefix of the vendor folder.

    Returns
    -------
    Element
        `element`, changed in place.

    Raises
    ------
    GridGISError
        An asset has no entry in `LOCAL_ASSETS`.
    """
    base_url = base_url.rstrip("/")
    for elem in _walk(element):
        owner = type(elem).__name__
        for attr in ("default_js", "default_css"):
            assets = getattr(elem, attr, None)
            if assets:
                setattr(elem, attr, _rewrite(list(assets), base_url, owner))
    return element


def iter_asset_urls(element: Element) -> Iterator[str]:
    """Yield every script and stylesheet URL the element tree declares."""
    for elem in _walk(element):
        for attr in ("default_js", "default_css"):
            for _, url in getattr(elem, attr, None) or ():
                yield url
