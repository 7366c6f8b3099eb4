"""Large map layers as compact JSON, drawn on a canvas by a few lines of JavaScript.

folium's ``GeoJson`` writes every feature as a GeoJSON object with its
properties, a style per feature and two event handlers per feature; Leaflet
then makes an object per feature and projects each one again at every zoom.
For a district of 5,000 buildings that was 2 MB of script, about 2 s to build
on the server and 1 s to run in the browser. `CompactLayer` sends the same
shapes as integers instead: coordinates rounded to ``10**-precision``
degrees, each stored as the step from the point before (`encode_geometries`),
the tooltip texts once per distinct value with an index per feature, and one
style per distinct style key. In the browser a small subclass of Leaflet's
canvas renderer (``L.GridgisShapes`` in the package data file
``static/shapes.js``, one canvas per layer, under the sites and drawings)
keeps the shapes in typed arrays, draws those in view in one pass, and finds
the shape under the mouse for its tooltip and highlight.
Layer switching, panning and zoom animation work as for any Leaflet layer.

The output never passes through a template engine again: user texts (which
reach the browser as escaped HTML) cannot be read as Jinja code.

Examples
--------
>>> import shapely
>>> data = encode_geometries([shapely.box(104.0, 30.0, 104.001, 30.001)], precision=6)
>>> data["r"], data["p"], data["f"], data["c"][:4]
([4], [1], [1], [0, 0, 0, 1000])
>>> decode_geometries(data)[0].equals(shapely.box(104.0, 30.0, 104.001, 30.001))
True
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gridgis.report.map.elements import RawMacroElement, resource_text, template

__all__ = ["CompactLayer", "decode_geometries", "encode_geometries"]

_LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_POLYGON_TYPES = (3, 6)  # Polygon, MultiPolygon


def encode_geometries(geometries: Sequence[BaseGeometry | None], precision: int) -> dict[str, Any]:
    """Polygons and lines as integers: rounded coordinates, each relative to the one before.

    Parameters
    ----------
    geometries
        One geometry per feature (lon/lat): Polygon, MultiPolygon, LineString
        or MultiLineString; points and empty geometries get no parts.
    precision
        Decimals kept (6: about 10 cm).

    Returns
    -------
    dict
        ``q`` (``10**precision``), ``x``, ``y`` (the first point, times
        ``q``); ``c`` (the points as ``dx, dy`` pairs, times ``q``, each from
        the point before; polygon rings without their closing point); ``r``
        (points per ring), ``p`` (rings per part), ``f`` (parts per feature)
        and ``l`` (1 for a line feature, 0 for a polygon). Polygons are
        oriented: exteriors counter-clockwise, holes clockwise.
    """
    geoms = np.asarray(geometries, dtype=object)
    q = 10**precision
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    types = shapely.get_type_id(parts)
    keep = np.isin(types, (*_LINE_TYPES, *_POLYGON_TYPES)) & ~shapely.is_empty(parts)
    parts, part_of, types = parts[keep], part_of[keep], types[keep]
    polygon = np.isin(types, _POLYGON_TYPES)
    # exteriors counter-clockwise, holes clockwise: shapes can then be filled together
    parts[polygon] = shapely.orient_polygons(parts[polygon])
    line = np.zeros(len(geoms), dtype=int)
    line[part_of[~polygon]] = 1
    # rings in part order: a polygon's exterior and holes, or the line itself
    rings_per_part = np.where(polygon, shapely.get_num_interior_rings(parts) + 1, 1)
    first_ring = np.cumsum(rings_per_part) - rings_per_part
    rings = np.empty(int(rings_per_part.sum()), dtype=object)
    rings[first_ring[~polygon]] = parts[~polygon]
    poly_rings, ring_part = shapely.get_rings(parts[polygon], return_index=True)
    rank = np.arange(len(ring_part)) - np.searchsorted(ring_part, ring_part)
    rings[first_ring[np.flatnonzero(polygon)[ring_part]] + rank] = poly_rings
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    closed = np.repeat(polygon, rings_per_part)  # polygon rings repeat their first point
    last = np.r_[coord_ring[1:] != coord_ring[:-1], True]
    keep_point = ~(last & closed[coord_ring])
    coords, coord_ring = coords[keep_point], coord_ring[keep_point]
    ints = np.rint(coords * q).astype(np.int64)
    start = ints[0] if len(ints) else np.zeros(2, dtype=np.int64)
    deltas = np.diff(ints, axis=0, prepend=start[None, :])
    return {
        "q": q,
        "x": int(start[0]),
        "y": int(start[1]),
        "c": deltas.ravel().tolist(),
        "r": np.bincount(coord_ring, minlength=len(rings)).tolist(),
        "p": rings_per_part.tolist(),
        "f": np.bincount(part_of, minlength=len(geoms)).tolist(),
        "l": line.tolist(),
    }


def decode_geometries(data: Mapping[str, Any]) -> list[BaseGeometry | None]:
    """The geometries `encode_geometries` encoded (what the browser rebuilds), for checks."""
    q, x, y = data["q"], data["x"], data["y"]
    points = np.cumsum(np.asarray(data["c"], dtype=np.int64).reshape(-1, 2), axis=0)
    points = (points + np.array([x, y])) / q
    rings = np.split(points, np.cumsum(data["r"])[:-1]) if data["r"] else []
    out: list[BaseGeometry | None] = []
    ring_i = part_i = 0
    for n_parts, is_line in zip(data["f"], data["l"], strict=True):
        parts = []
        for _ in range(n_parts):
            n_rings = data["p"][part_i]
            part_i += 1
            parts.append(rings[ring_i : ring_i + n_rings])
            ring_i += n_rings
        if not parts:
            out.append(None)
        elif is_line:
            lines = [shapely.LineString(p[0]) for p in parts]
            out.append(lines[0] if len(lines) == 1 else shapely.MultiLineString(lines))
        else:
            polys = [shapely.Polygon(p[0], p[1:]) for p in parts]
            out.append(polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys))
    return out


def _js_string(text: str) -> str:
    """`text` as a JavaScript string literal that cannot end the page's script block."""
    literal = json.dumps(text, ensure_ascii=False)
    return literal.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


class CompactLayer(RawMacroElement):
    """One layer's features, added to the parent feature group in the browser.

    Parameters
    ----------
    geometries
        One geometry per feature (lon/lat).
    tooltip
        Tooltip rows: ``{label: values}``, one value per feature; labels and
        values are HTML already escaped.
    style_keys
        One key per feature; `style` gives its Leaflet path style.
    highlight
        The style while the mouse is over a feature.
    precision
        Decimals kept of lon/lat.
    hatch
        Ground and stripe colours: a ``fillColor`` of ``url(...)`` (an SVG
        pattern, which a canvas cannot use) is drawn as these stripes.
    """

    _template = template("compact.j2")

    def __init__(
        self,
        geometries: Sequence[BaseGeometry | None],
        *,
        tooltip: Mapping[str, Sequence[str]],
        style_keys: Sequence[Hashable],
        style: Callable[[Any], dict[str, Any]],
        highlight: Mapping[str, Any],
        precision: int,
        hatch: tuple[str, str],
    ) -> None:
        super().__init__()
        self._name = "GridgisCompactLayer"
        data = encode_geometries(geometries, precision)
        codes, keys = pd.factorize(pd.Series(list(style_keys), dtype=object), use_na_sentinel=False)
        data["k"] = codes.tolist()
        data["s"] = [style(key) for key in keys]
        data["h"] = dict(highlight)
        data["hatch"] = list(hatch)
        rows = []
        for label, values in tooltip.items():
            column = pd.Series(list(values), dtype=object)
            value_codes, uniques = pd.factorize(column, use_na_sentinel=False)
            rows.append([label, [str(v) for v in uniques], value_codes.tolist()])
        data["t"] = rows
        self.shapes_js = resource_text("static/shapes.js")
        self.payload = _js_string(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
