"""Import a CAD site plan (DXF) as a project: CAD layers mapped by name to gridgis layers.

The drawing is read with ezdxf (model space: LWPOLYLINE, POLYLINE, LINE, TEXT, MTEXT).
Each CAD layer is mapped by name (`DEFAULT_MAPPING`; substring, case-insensitive): 用地红线,
红线, 围墙 -> ``compound``; 建筑, 楼栋, 房屋 -> ``buildings``; 消防 -> ``paths`` kind
``fire_lane``; 道路 -> ``paths`` kind ``road``; 绿地 -> ``spaces`` kind ``green``. A
mapping file (TOML, `read_mapping`) is tried first::

    [layers]
    "MY-BLDG" = "buildings"
    "FIRE" = "paths:fire_lane"     # <layer>[:<kind>]; "ignore" drops a layer on purpose
    # replace_defaults = true      # (top level) use only this file's entries

Closed polylines become polygons, open ones lines (``paths``); an open outline on a polygon
layer is listed in `DxfImport.unclosed`, an unmapped layer in `DxfImport.unmapped_layers`,
an entity type not read in `DxfImport.skipped`: nothing is dropped silently. A TEXT or
MTEXT whose insertion point lies inside a building names it (``"3栋"`` -> name ``3栋``,
building_id ``B3``, by `gridgis.core.ledger.building_number`); a building without a number
gets the smallest free ``B<n>``. Arcs (bulges) are flattened to 5 cm.

Placement: ``crs`` (the drawing is in that CRS's metres, e.g. EPSG:4544, CGCS2000 GK
CM 105E) is reprojected to WGS84; or two or more control points ``(x, y, lon, lat)`` fit a
similarity (two) or an affine (three+) with `gridgis.core.georef.fit_transform`, passing
``(x, -y)`` as its image pixels (its row axis points down, a drawing's y up).

Examples
--------
>>> from gridgis.core.imports.dxf import import_dxf
>>> result = import_dxf("总平面.dxf", "out/site", crs="EPSG:4544")  # doctest: +SKIP
>>> result.counts, result.unmapped_layers  # doctest: +SKIP
({'compound': 1, 'buildings': 12, 'paths': 5}, {'标注': 40})
"""

from __future__ import annotations

import os
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ezdxf
import geopandas as gpd
import numpy as np
import pyproj
import shapely
from ezdxf import path as dxf_path

from gridgis.core.georef import fit_transform
from gridgis.core.ledger import building_number
from gridgis.core.project import Project, save_project
from gridgis.core.schema import SCHEMAS
from gridgis.core.validate import check_layers
from gridgis.errors import CRSError, GridGISError, ReadError

__all__ = [
    "DEFAULT_MAPPING",
    "DxfEntity",
    "DxfImport",
    "import_dxf",
    "parse_control",
    "read_dxf",
    "read_mapping",
]

Target = tuple[str, str | None]  # (gridgis layer, kind) or ("ignore", None)
DEFAULT_MAPPING: tuple[tuple[str, Target], ...] = (
    ("用地红线", ("compound", None)),
    ("红线", ("compound", None)),
    ("围墙", ("compound", None)),
    ("建筑", ("buildings", None)),
    ("楼栋", ("buildings", None)),
    ("房屋", ("buildings", None)),
    ("消防", ("paths", "fire_lane")),  # before 道路: 消防道路 is a fire lane
    ("道路", ("paths", "road")),
    ("绿地", ("spaces", "green")),
)
"""CAD layer-name pattern -> (gridgis layer, kind), tried in order; the first match wins."""
_POLYGON_LAYERS = ("compound", "buildings", "spaces")
_SHORTCUTS: dict[str, Target] = {
    "road": ("paths", "road"),
    "fire_lane": ("paths", "fire_lane"),
    "footpath": ("paths", "footpath"),
    "green": ("spaces", "green"),
}
_READ = ("LWPOLYLINE", "POLYLINE", "LINE", "TEXT", "MTEXT")
FLATTEN_M = 0.05


@dataclass(frozen=True)
class DxfEntity:
    """One drawing entity the import could not use as it is (``handle``: its DXF handle)."""

    layer: str
    handle: str
    dxftype: str
    target: str

    def __str__(self) -> str:
        return f"CAD layer {self.layer!r}, {self.dxftype} #{self.handle} ({self.target})"


@dataclass
class DxfImport:
    """What an import made and what it left: every CAD layer and entity is accounted for."""

    project: Project
    counts: dict[str, int]
    placement: str
    unmapped_layers: dict[str, int] = field(default_factory=dict)
    ignored_layers: dict[str, int] = field(default_factory=dict)
    unclosed: list[DxfEntity] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    unused_texts: list[str] = field(default_factory=list)
    path: Path | None = None

    def lines(self) -> list[str]:
        """The report as lines of text (for the command line)."""
        made = ", ".join(f"{k}: {v}" for k, v in self.counts.items()) or "nothing"
        out = [f"imported {made} ({self.placement})"]
        if self.unmapped_layers:
            listed = ", ".join(f"{k!r} ({v})" for k, v in self.unmapped_layers.items())
            out.append(f"unmapped CAD layers (entities; map them with --mapping): {listed}")
        if self.ignored_layers:
            listed = ", ".join(f"{k!r} ({v})" for k, v in self.ignored_layers.items())
            out.append(f"ignored CAD layers (mapping file): {listed}")
        out += [f"unclosed outline, not imported: {e}" for e in self.unclosed]
        if self.skipped:
            listed = ", ".join(f"{k} ({v})" for k, v in self.skipped.items())
            out.append(f"entity types not read: {listed}")
        if self.unused_texts:
            out.append(f"texts inside no building: {', '.join(self.unused_texts)}")
        return out


def _parse_target(value: object, source: str, key: str) -> Target:
    text = str(value).strip() if isinstance(value, str) else ""
    if text == "ignore":
        return ("ignore", None)
    if text in _SHORTCUTS:
        return _SHORTCUTS[text]
    layer, _, kind = text.partition(":")
    if layer not in (*_POLYGON_LAYERS, "paths"):
        raise GridGISError(
            f"{source}: [layers] {key!r} = {value!r}: not a layer; use compound, buildings, "
            "paths[:road|fire_lane|footpath], spaces[:<kind>] or ignore"
        )
    path_kinds = ("road", "fire_lane", "footpath")
    if kind and (layer not in ("paths", "spaces") or (layer == "paths" and kind not in path_kinds)):
        raise GridGISError(f"{source}: [layers] {key!r} = {value!r}: {layer} has no kind {kind!r}")
    default_kind = {"paths": "road", "spaces": "green"}.get(layer)
    return (layer, kind or default_kind)


def read_mapping(path: str | os.PathLike[str]) -> tuple[tuple[str, Target], ...]:
    """Read a layer-mapping TOML file into (pattern, target) pairs, defaults after its own.

    Raises `GridGISError` naming the file and the key of a bad entry.
    """
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReadError(f"--mapping {source!r}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ReadError(f"--mapping {source!r}: not a TOML file: {exc}") from exc
    layers = data.get("layers")
    if not isinstance(layers, dict) or not layers:
        raise GridGISError(f'{source}: needs a [layers] table of "CAD layer" = "gridgis layer"')
    own = tuple((str(k), _parse_target(v, source, str(k))) for k, v in layers.items())
    return own if data.get("replace_defaults") is True else own + DEFAULT_MAPPING


def _target(layer: str, mapping: Sequence[tuple[str, Target]]) -> Target | None:
    name = layer.casefold()
    exact = [t for p, t in mapping if p.casefold() == name]
    if exact:
        return exact[0]
    return next((t for p, t in mapping if p.casefold() in name), None)


def parse_control(text: str) -> tuple[float, float, float, float]:
    """``"X,Y,LON,LAT"`` as four floats (drawing metres, then WGS84 degrees).

    >>> parse_control("100, 200.5, 104.06, 30.66")
    (100.0, 200.5, 104.06, 30.66)
    """
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)):
        raise GridGISError(f"--control {text!r}: give X,Y,LON,LAT (four numbers)")
    x, y, lon, lat = values
    return (x, y, lon, lat)


def _placer(
    crs: str | None, control: Sequence[tuple[float, float, float, float]] | None
) -> tuple[Any, str]:
    """A function ``(n, 2) drawing xy -> (n, 2) lon/lat`` and how it places."""
    if crs and control:
        raise GridGISError("give either --crs or --control points, not both")
    if crs:
        try:
            src = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as exc:
            raise CRSError(f"--crs {crs!r} is not a known CRS (e.g. EPSG:4544)") from exc
        if not src.is_projected:
            raise CRSError(f"--crs {crs!r} is not a projected (metric) CRS")
        to_wgs = pyproj.Transformer.from_crs(src, 4326, always_xy=True)

        def by_crs(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))

        return by_crs, f"placed with {crs}"
    if control:
        pts = np.asarray(control, dtype=float)
        fit = fit_transform(np.column_stack([pts[:, 0], -pts[:, 1]]), pts[:, 2:])

        def by_points(xy: np.ndarray) -> np.ndarray:
            return fit.to_map(np.column_stack([xy[:, 0], -xy[:, 1]]))

        return by_points, f"placed by {len(pts)} control points, rms {fit.rms_m:.3f} m"
    raise GridGISError(
        "the drawing's coordinates need a place: give --crs EPSG:... (e.g. EPSG:4544, "
        "CGCS2000 GK CM 105E) or two --control X,Y,LON,LAT points"
    )


def _check_area(crs: str | None, lonlat: np.ndarray, source: str) -> None:
    """Raise when drawing coordinates fall outside the CRS's area of use (local metres?)."""
    area = pyproj.CRS.from_user_input(crs).area_of_use if crs else None
    if area is None or not len(lonlat):
        return
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    margin = 1.0
    inside = (
        (lon >= area.west - margin) & (lon <= area.east + margin)
        & (lat >= area.south - margin) & (lat <= area.north + margin)
    )  # fmt: skip
    if not np.all(np.isfinite(lonlat)) or not inside.all():
        raise CRSError(
            f"{source}: drawing coordinates fall outside {crs}'s area ({area.name}); the "
            "drawing is probably in local coordinates: place it with --control points"
        )


def _text_of(entity: Any) -> tuple[str, tuple[float, float]]:
    if entity.dxftype() == "MTEXT":
        text = " ".join(entity.plain_text().split())
        point = entity.dxf.insert
    else:
        text = " ".join(entity.plain_text().split())
        aligned = entity.dxf.halign or entity.dxf.valign
        point = (
            entity.dxf.align_point
            if aligned and entity.dxf.hasattr("align_point")
            else (entity.dxf.insert)
        )
    return text, (float(point[0]), float(point[1]))


def _vertices(entity: Any) -> tuple[np.ndarray, bool]:
    """2D vertices (bulges flattened) and whether the outline is closed."""
    if entity.dxftype() == "LINE":
        s, e = entity.dxf.start, entity.dxf.end
        return np.array([[s[0], s[1]], [e[0], e[1]]], dtype=float), False
    points = np.array([(v[0], v[1]) for v in dxf_path.make_path(entity).flattening(FLATTEN_M)])
    closed = bool(entity.closed if entity.dxftype() == "LWPOLYLINE" else entity.is_closed)
    if len(points) > 2 and np.allclose(points[0], points[-1]):
        closed = True
    return points.reshape(-1, 2), closed


def _load(path: Path) -> Any:
    if not path.is_file():
        raise ReadError(f"{str(path)!r}: no such file")
    try:
        return ezdxf.readfile(path)
    except ezdxf.DXFError as exc:
        raise ReadError(f"{str(path)!r}: not a readable DXF file: {exc}") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ReadError(f"{str(path)!r}: cannot read the DXF file: {exc}") from exc


def _assign_ids(names: Sequence[str | None]) -> list[str]:
    """``B<n>`` from each name's building number; the rest (and repeats): smallest free n."""
    numbers = [building_number(n) if n else None for n in names]
    ids: list[int | None] = []
    used: set[int] = set()
    for n in numbers:
        ids.append(n if n is not None and n > 0 and n not in used else None)
        if ids[-1] is not None:
            used.add(n)  # type: ignore[arg-type]
    free = (i for i in range(1, len(names) + len(used) + 2) if i not in used)
    return [f"B{n if n is not None else next(free)}" for n in ids]


def _frame(rows: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def _build_layers(
    shapes: dict[str, list[tuple[Any, str | None]]],
    texts: list[tuple[str, tuple[float, float], str]],
    name: str,
) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """The gridgis layers from placed shapes, buildings named by the texts inside them."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    if shapes["compound"]:
        geoms = [g for g, _ in shapes["compound"]]
        layers["compound"] = _frame([{"name": name}] * len(geoms), geoms)
    unused: list[str] = []
    if shapes["buildings"]:
        geoms = [g for g, _ in shapes["buildings"]]
        names: list[str | None] = [None] * len(geoms)
        tree = shapely.STRtree(geoms)
        for text, (lon, lat), layer in texts:
            hits = tree.query(shapely.Point(lon, lat), predicate="within")
            if not len(hits):
                unused.append(f"{text!r} (CAD layer {layer!r})")
                continue
            i = int(hits[0])
            if names[i] is None or (building_number(names[i]) is None and building_number(text)):
                names[i] = text
        ids = _assign_ids(names)
        rows = [
            {"building_id": b, "name": n, "households": None}
            for b, n in zip(ids, names, strict=True)
        ]
        layers["buildings"] = _frame(rows, geoms)
    else:
        unused += [f"{t!r} (CAD layer {layer!r})" for t, _, layer in texts]
    for layer, prefix in (("spaces", "S"), ("paths", "P")):
        if shapes[layer]:
            id_field = SCHEMAS[layer].id_field or f"{layer}_id"
            rows = [
                {id_field: f"{prefix}{i}", "kind": kind}
                for i, (_, kind) in enumerate(shapes[layer], 1)
            ]
            layers[layer] = _frame(rows, [g for g, _ in shapes[layer]])
    return layers, unused


def read_dxf(
    path: str | os.PathLike[str],
    *,
    crs: str | None = None,
    control: Sequence[tuple[float, float, float, float]] | None = None,
    mapping: Iterable[tuple[str, Target]] | None = None,
    name: str | None = None,
) -> DxfImport:
    """Read a DXF site plan into a validated `Project` (not saved) and a report.

    Parameters
    ----------
    path
        The ``.dxf`` file.
    crs, control
        The drawing's CRS (its coordinates are metres in it), or control points
        ``(x, y, lon, lat)``; exactly one.
    mapping
        (pattern, (layer, kind)) pairs, first match wins (`read_mapping`); default
        `DEFAULT_MAPPING`.
    name
        The compound's name (default: the file name).

    Raises
    ------
    ReadError, CRSError, GridGISError, ValidationError
        Naming the file, CAD layer and entity.
    """
    source = Path(path)
    place, placement = _placer(crs, control)
    doc = _load(source)
    rules = DEFAULT_MAPPING if mapping is None else tuple(mapping)
    shapes: dict[str, list[tuple[Any, str | None]]] = {k: [] for k in (*_POLYGON_LAYERS, "paths")}
    raw_texts: list[tuple[str, tuple[float, float], str]] = []
    unmapped: Counter[str] = Counter()
    ignored: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    unclosed: list[DxfEntity] = []
    for entity in doc.modelspace():
        kind, layer = entity.dxftype(), str(entity.dxf.layer)
        if kind not in _READ:
            skipped[kind] += 1
            continue
        if kind in ("TEXT", "MTEXT"):
            text, point = _text_of(entity)
            if text:
                raw_texts.append((text, point, layer))
            continue
        target = _target(layer, rules)
        if target is None or target[0] == "ignore":
            (unmapped if target is None else ignored)[layer] += 1
            continue
        try:
            points, closed = _vertices(entity)
        except (ValueError, TypeError, AttributeError) as exc:  # e.g. a polyface mesh
            raise ReadError(f"{source}: CAD layer {layer!r}, {kind} #{entity.dxf.handle}: "
                            f"cannot read its vertices: {exc}") from exc  # fmt: skip
        gl, gkind = target
        if len(points) < 2 or (gl in _POLYGON_LAYERS and (not closed or len(points) < 4)):
            unclosed.append(DxfEntity(layer, str(entity.dxf.handle), kind, gl))
            continue
        lonlat = place(points)
        _check_area(crs, lonlat, str(source))
        geom: Any = (
            shapely.Polygon(lonlat) if closed and len(points) >= 4 else (shapely.LineString(lonlat))
        )
        shapes[gl].append((geom, gkind))
    texts = []
    if raw_texts:
        placed = place(np.array([p for _, p, _ in raw_texts], dtype=float))
        texts = [
            (t, (float(x), float(y)), lay)
            for (t, _, lay), (x, y) in zip(raw_texts, placed, strict=True)
        ]
    layers, unused = _build_layers(shapes, texts, name or source.stem)
    problems = check_layers(layers, source=str(source), draft=True)
    project = Project(layers=layers, warnings=problems)
    return DxfImport(
        project=project,
        counts={k: len(v) for k, v in layers.items()},
        placement=placement,
        unmapped_layers=dict(sorted(unmapped.items())),
        ignored_layers=dict(sorted(ignored.items())),
        unclosed=unclosed,
        skipped=dict(sorted(skipped.items())),
        unused_texts=unused,
    )


def import_dxf(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    crs: str | None = None,
    control: Sequence[tuple[float, float, float, float]] | None = None,
    mapping: Iterable[tuple[str, Target]] | None = None,
    name: str | None = None,
) -> DxfImport:
    """`read_dxf`, then save the project to `out` (a new folder or a ``.gpkg``).

    Refuses to write into an existing non-empty folder or over an existing file.
    """
    target = Path(out)
    if (target.is_dir() and any(target.iterdir())) or target.is_file():
        raise GridGISError(f"-o {str(target)!r} already exists; choose a new project path")
    result = read_dxf(path, crs=crs, control=control, mapping=mapping, name=name)
    result.path = save_project(result.project, target)
    return result
