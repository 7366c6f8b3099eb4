"""Validation of layers against the layer contract (`gridgis.core.schema`).

`validate_layer` reports every problem of a layer at once, each located by
layer, feature and field, with a fix; it never stops at the first.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from gridgis.core.validate import validate_layer
>>> gdf = gpd.GeoDataFrame({"building_id": ["B1"], "households": [-3]},
...                        geometry=[box(104.06, 30.67, 104.0605, 30.6701)], crs=4326)
>>> [p.field for p in validate_layer(gdf, "buildings")]
['households']
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray

from gridgis.core.crs import WGS84
from gridgis.core.schema import (
    BUILTIN_SITE_TYPES,
    LAYER_NAMES,
    POLYGON_TYPES,
    REQUIRED_LAYERS,
    SCHEMAS,
    LayerSchema,
)
from gridgis.errors import GridGISError, Problem, ValidationError

__all__ = [
    "check_layers",
    "errors_only",
    "missing_layers",
    "repair_geometries",
    "validate_layer",
    "validate_layers",
]


def _labeller(df: pd.DataFrame, id_field: str | None) -> Callable[[int], str]:
    """A function giving ``building_id='B3' (row 4)`` or ``row 4`` (1-based) for a position.

    The id column is read once, at the first label: most layers need none.
    """
    if not id_field or id_field not in df.columns:
        return lambda pos: f"row {pos + 1}"

    @functools.cache
    def ids() -> np.ndarray:
        return df[id_field].to_numpy(dtype=object)  # cells as .iloc gives them

    def label(pos: int) -> str:
        value = ids()[pos]
        if _is_missing(value):
            return f"row {pos + 1}"
        return f"{id_field}={_rep(value)} (row {pos + 1})"

    return label


def _rep(value: object) -> str:
    """``repr`` of a cell, with numpy scalars shown as plain Python values."""
    item = getattr(value, "item", None)
    return repr(item() if callable(item) else value)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _numbers(column: pd.Series, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell as a float (NaN where missing) and where a present cell is not a number."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        # numpy: pd.to_numeric on an already numeric column costs ~10x more
        return column.to_numpy(dtype=float), np.zeros(len(column), dtype=bool)
    numbers = pd.to_numeric(column.where(present), errors="coerce")
    bad = present & numbers.isna().to_numpy()
    return numbers.to_numpy(dtype=float, na_value=np.nan), bad


def _stripped(column: pd.Series, values: np.ndarray) -> list[str | None]:
    """``column.astype("string").str.strip()`` as a list, None for missing.

    Plain Python when every cell is a str with nothing to strip (the usual
    case): the pandas string methods cost ~100x more on a few rows.
    """
    if all(type(v) is str and v.strip() == v for v in values):
        return list(values)
    text = column.astype("string").str.strip()
    return list(text.to_numpy(dtype=object, na_value=None))


def _check_fields(
    df: pd.DataFrame, schema: LayerSchema, site_types: Collection[str], source: str | None
) -> list[Problem]:
    problems: list[Problem] = []
    label = _labeller(df, schema.id_field)

    def add(
        pos: int | None,
        field: str,
        message: str,
        fix: str,
        severity: str = "error",
        code: str | None = None,
        **params: Any,
    ) -> None:
        feature = None if pos is None else label(pos)
        named = tuple((k, str(v)) for k, v in params.items())
        problems.append(
            Problem(message, source, schema.name, feature, field, fix, severity, code, named)
        )

    for spec in schema.fields:
        if spec.name not in df.columns:
            if not spec.required:
                continue
            derivable = {"units", "floors"} <= set(df.columns)
            if (schema.name, spec.name) == ("buildings", "households") and derivable:
                add(
                    None,
                    "households",
                    "column 'households' is missing; it will be "
                    "derived as units x floors x households per floor (a guess)",
                    "add the real household count of each building",
                    "warning",
                )
                continue
            add(
                None,
                spec.name,
                f"required column {spec.name!r} is missing "
                f"(columns found: {', '.join(map(str, df.columns)) or 'none'})",
                f"add a {spec.name!r} column to the {schema.name} layer",
            )
            continue
        column = df[spec.name]
        values = column.to_numpy(dtype=object)  # cells as Python objects, as .iloc gives them
        missing = np.array([_is_missing(v) for v in values], dtype=bool)
        for pos in np.flatnonzero(missing):
            if spec.nullable and not spec.required:
                break
            if schema.name == "buildings" and spec.name == "households":
                add(
                    int(pos),
                    spec.name,
                    "households is empty; this building will be "
                    "reported as unknown, not counted as 0",
                    "fill in its household count",
                    "warning",
                )
            elif spec.name == "vote":
                continue  # an empty vote is a household that did not take part
            else:
                add(
                    int(pos),
                    spec.name,
                    f"{spec.name!r} is empty",
                    f"give every feature a {spec.name}",
                    code="empty",
                )
        present = ~missing
        if spec.kind in ("int", "float"):
            nums, bad = _numbers(column, present)
            for pos in np.flatnonzero(bad):
                add(
                    int(pos),
                    spec.name,
                    f"{spec.name} must be a number, got {_rep(values[pos])}",
                    f"write {spec.name} as a plain number",
                    code="not_number",
                    value=_rep(values[pos]),
                )
            ok = present & ~bad
            if spec.minimum is not None:
                for pos in np.flatnonzero(ok & (nums < spec.minimum)):
                    add(
                        int(pos),
                        spec.name,
                        f"{spec.name} must be >= {spec.minimum:g}, got {_rep(values[pos])}",
                        f"correct the {spec.name} value",
                        code="below_min",
                        minimum=f"{spec.minimum:g}",
                        value=_rep(values[pos]),
                    )
            if spec.kind == "int":
                frac = ok & np.isfinite(nums) & (np.abs(nums - np.round(nums)) > 1e-9)
                for pos in np.flatnonzero(frac):
                    add(
                        int(pos),
                        spec.name,
                        f"{spec.name} must be a whole number, got {_rep(values[pos])}",
                        "round it to a whole number",
                        code="not_whole",
                        value=_rep(values[pos]),
                    )
        if spec.kind == "enum":
            choices = spec.choices
            if spec.name == "site_type":
                choices = tuple(dict.fromkeys((*BUILTIN_SITE_TYPES, *site_types)))
            allowed = set(choices)
            text = _stripped(column, values)
            for pos in np.flatnonzero(present):
                if text[pos] not in allowed:
                    add(
                        int(pos),
                        spec.name,
                        f"{spec.name} {_rep(values[pos])} is not one of {', '.join(choices)}",
                        f"use one of {', '.join(choices)}",
                        code="not_allowed",
                        value=_rep(values[pos]),
                        choices=", ".join(choices),
                    )
    if schema.id_field and schema.id_field in df.columns:
        column = df[schema.id_field]
        first_row: dict[str, int] = {}
        for row, key in enumerate(_stripped(column, column.to_numpy(dtype=object))):
            if key is None:
                continue
            first = first_row.setdefault(key, row)
            if first != row:
                add(
                    row,
                    schema.id_field,
                    f"duplicate id {_rep(key)} (also row {first + 1})",
                    f"give each feature its own {schema.id_field}",
                    code="duplicate_id",
                    value=_rep(key),
                )
    if schema.name == "votes" and {"site_id", "household"} <= set(df.columns):
        key_cols = [c for c in ("site_id", "building_id", "household") if c in df.columns]
        keys = df[key_cols].astype("string")
        for pos in np.flatnonzero(keys.duplicated(keep="first").to_numpy(dtype=bool)):
            add(
                int(pos),
                "household",
                f"household {_rep(df['household'].iloc[pos])} is listed "
                f"twice for site {_rep(df['site_id'].iloc[pos])}",
                "keep one row per household",
            )
    return problems


def _check_geometry(
    gdf: gpd.GeoDataFrame, geometry: GeometryArray, schema: LayerSchema, source: str | None
) -> list[Problem]:
    problems: list[Problem] = []
    label = _labeller(gdf, schema.id_field)

    def add(pos: int | None, message: str, fix: str, code: str | None = None) -> None:
        feature = None if pos is None else label(pos)
        problems.append(Problem(message, source, schema.name, feature, "geometry", fix, code=code))

    crs = geometry.crs
    if crs is not None and not crs.equals(WGS84):
        add(
            None,
            f"layer is in {crs.to_string()!r}, not EPSG:4326",
            "read it with gridgis.core.io.read_layer, which reprojects to EPSG:4326",
        )
    geoms = np.asarray(geometry, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for pos in np.flatnonzero(empty):
        add(int(pos), "geometry is empty", "draw the feature or delete the row", "geometry_empty")
    types = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ],
        dtype=object,
    )
    type_names = np.where(types >= 0, names[np.clip(types, 0, 7)], None)
    wrong = ~empty & ~np.isin(type_names, schema.geometry)
    for pos in np.flatnonzero(wrong):
        add(
            int(pos),
            f"geometry is a {type_names[pos]}, expected {' or '.join(schema.geometry)}",
            f"draw the {schema.label_en} as {schema.geometry[0].lower()}s",
            "geometry_type",
        )
    usable = ~empty & ~wrong
    bounds = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        lon_ok = (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
        lat_ok = (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
        swapped = (
            ~lat_ok
            & (np.abs(bounds[:, 0]) <= 90)
            & (np.abs(bounds[:, 2]) <= 90)
            & (np.abs(bounds[:, 1]) <= 180)
            & (np.abs(bounds[:, 3]) <= 180)
        )
    outside = ~empty & ~(lon_ok & lat_ok)
    for pos in np.flatnonzero(outside):
        x, y = bounds[pos, 0], bounds[pos, 1]
        if swapped[pos]:
            add(
                int(pos),
                f"coordinates (x={x:.6g}, y={y:.6g}) look like latitude/longitude "
                "swapped: latitude cannot exceed 90",
                "write coordinates as lon, lat",
            )
        else:
            add(
                int(pos),
                f"coordinates (x={x:.6g}, y={y:.6g}) are outside the lon/lat range; "
                "likely a projected file (metres) without a CRS",
                "give the file's CRS, e.g. --crs EPSG:4544 (CGCS2000 GK CM 105E)",
            )
    checkable = usable & ~outside
    invalid = checkable & ~shapely.is_valid(geoms)
    for pos in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[pos])
        add(
            int(pos),
            f"invalid geometry: {reason}",
            "repair it with make_valid (gridgis validate --repair), or redraw it",
            "geometry_invalid",
        )
    return problems


def validate_layer(
    gdf: pd.DataFrame,
    layer: str,
    *,
    source: str | None = None,
    site_types: Collection[str] = (),
) -> list[Problem]:
    """Check one layer against the contract; return every problem found.

    Parameters
    ----------
    gdf
        The layer, in EPSG:4326 (a DataFrame for ``votes``).
    layer
        Layer name, one of `LAYER_NAMES`.
    source
        File name to put in messages.
    site_types
        Site types defined in settings besides the built-in ones.

    Returns
    -------
    list of Problem
        Errors and warnings; empty when the layer is fine.
    """
    schema = SCHEMAS.get(layer)
    if schema is None:
        raise GridGISError(
            f"layer={layer!r} is not a gridgis layer; expected one of {', '.join(LAYER_NAMES)}"
        )
    frame = gdf if isinstance(gdf, pd.DataFrame) else pd.DataFrame(gdf)
    problems = _check_fields(frame, schema, site_types, source)
    geometry: GeometryArray | None = None
    if isinstance(gdf, gpd.GeoDataFrame):
        try:
            geometry = gdf.geometry.array  # looked up once: each access builds a GeoSeries
        except AttributeError:  # a GeoDataFrame without an active geometry column
            geometry = None
    if schema.geometry:
        if geometry is None:
            problems.append(
                Problem(
                    "the layer has no geometry",
                    source,
                    layer,
                    None,
                    "geometry",
                    f"give the {layer} layer polygon geometry",
                )
            )
        else:
            problems.extend(_check_geometry(gdf, geometry, schema, source))
    return problems


def validate_layers(
    layers: Mapping[str, pd.DataFrame],
    *,
    source: str | None = None,
    site_types: Collection[str] = (),
    draft: bool = False,
) -> list[Problem]:
    """Validate a set of layers and the links between them.

    Checks each layer, that `REQUIRED_LAYERS` are present and not empty, and
    that votes name existing sites. With `draft` (a project still being
    drawn, see `gridgis.core.project.new_project`) a missing required layer
    is a warning, not an error.
    """
    problems = missing_layers(layers, source=source, draft=draft)
    for name, frame in layers.items():
        if name in SCHEMAS:
            problems.extend(validate_layer(frame, name, source=source, site_types=site_types))
    votes, sites = layers.get("votes"), layers.get("sites")
    if votes is not None and sites is not None and "site_id" in votes and "site_id" in sites:
        known = set(sites["site_id"].astype(str))
        for sid in sorted(set(votes["site_id"].dropna().astype(str)) - known):
            problems.append(
                Problem(
                    f"votes name site {sid!r}, which is not in the sites layer",
                    source,
                    "votes",
                    None,
                    "site_id",
                    "check the site id",
                    "warning",
                )
            )
    return problems


def missing_layers(
    layers: Mapping[str, pd.DataFrame], *, source: str | None = None, draft: bool = False
) -> list[Problem]:
    """A problem for each of `REQUIRED_LAYERS` missing or empty (warnings with `draft`)."""
    return [
        Problem(
            f"required layer {name!r} is missing or empty"
            + (" (a draft project)" if draft else ""),
            source,
            name,
            fix=f"draw or import the {name} layer ({SCHEMAS[name].label_zh})",
            severity="warning" if draft else "error",
        )
        for name in REQUIRED_LAYERS
        if name not in layers or len(layers[name]) == 0
    ]


def errors_only(problems: list[Problem]) -> list[Problem]:
    """Return the problems whose severity is ``error``."""
    return [p for p in problems if p.severity == "error"]


def check_layers(layers: Mapping[str, pd.DataFrame], **kwargs: object) -> list[Problem]:
    """Validate like `validate_layers`; raise `ValidationError` on any error.

    Returns the warnings when there is no error.
    """
    problems = validate_layers(layers, **kwargs)  # type: ignore[arg-type]
    if errors := errors_only(problems):
        raise ValidationError(errors)
    return [p for p in problems if p.severity != "error"]


def repair_geometries(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[int]]:
    """Repair invalid geometries with `shapely.make_valid`, keeping polygonal parts.

    Returns
    -------
    (GeoDataFrame, list of int)
        A repaired copy and the 0-based row positions that were changed.
    """
    geoms = gdf.geometry.to_numpy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    out = gdf.copy()
    fixed = shapely.make_valid(geoms[bad])
    polygonal = np.isin(shapely.get_type_id(geoms[bad]), (3, 6))
    # a self-intersecting polygon becomes a collection: keep only its polygons
    kept = [
        shapely.union_all([g for g in shapely.get_parts(f) if g.geom_type in POLYGON_TYPES])
        if is_poly and f.geom_type not in POLYGON_TYPES
        else f
        for f, is_poly in zip(fixed, polygonal, strict=True)
    ]
    values = out.geometry.to_numpy().copy()
    values[bad] = kept
    out[out.geometry.name] = gpd.GeoSeries(values, index=out.index, crs=gdf.crs)
    return out, [int(i) for i in np.flatnonzero(bad)]
