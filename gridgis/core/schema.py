"""The layer contract of a project: its layers, their columns and geometry types.

Seven layers make a project (DESIGN.md): ``compound``, ``microgrids``,
``buildings``, ``spaces``, ``paths``, ``sites`` and ``votes`` (`SCHEMAS`).
Only ``compound`` and ``buildings`` are required. The contract also says how a
building's households are known (`resolve_households`: data, or derived from
units x floors only when missing) and how file names and shapefile-cut column
names map to layers. Checking layers against it is `gridgis.core.validate`.

Examples
--------
>>> from gridgis.core.schema import SCHEMAS
>>> [f.name for f in SCHEMAS["buildings"].fields if f.required]
['building_id', 'households']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "BUILTIN_SITE_TYPES",
    "LAYER_NAMES",
    "LINE_OR_POLYGON_TYPES",
    "POLYGON_TYPES",
    "REQUIRED_LAYERS",
    "SCHEMAS",
    "FieldSpec",
    "LayerSchema",
    "guess_layer_name",
    "household_counts",
    "resolve_households",
    "restore_shapefile_names",
    "with_contract_columns",
]

BUILTIN_SITE_TYPES = ("parking_shed", "vegetable_garden", "activity_room")
"""Site types every project knows; settings may add more."""
POLYGON_TYPES = ("Polygon", "MultiPolygon")
"""Geometry types of the polygon layers."""
LINE_OR_POLYGON_TYPES = ("LineString", "MultiLineString", *POLYGON_TYPES)
"""Geometry types of the ``paths`` layer (centre lines or outlines)."""


@dataclass(frozen=True)
class FieldSpec:
    """One attribute column of a layer.

    Parameters
    ----------
    name
        Column name (the contract).
    kind
        ``"id"``, ``"text"``, ``"int"``, ``"float"`` or ``"enum"``.
    required
        Whether the column must exist.
    choices
        Allowed values for ``enum`` columns.
    minimum
        Smallest allowed value for numeric columns.
    nullable
        Whether empty values are allowed when the column exists.
    """

    name: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    nullable: bool = True


@dataclass(frozen=True)
class LayerSchema:
    """Geometry types, id column and fields of one layer."""

    name: str
    label_zh: str
    label_en: str
    geometry: tuple[str, ...]  # empty: an attribute-only table
    id_field: str | None
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        """Return the spec of column `name`, or None."""
        return next((f for f in self.fields if f.name == name), None)


SCHEMAS: dict[str, LayerSchema] = {
    s.name: s
    for s in (
        LayerSchema(
            "compound", "小区边界", "compound", POLYGON_TYPES, None,
            (FieldSpec("name", "text", required=True, nullable=False),),
        ),
        LayerSchema(
            "microgrids", "微网格", "micro-grids", POLYGON_TYPES, "grid_id",
            (
                FieldSpec("grid_id", "id", required=True, nullable=False),
                FieldSpec("name", "text", required=True),
                FieldSpec("leader", "text"),
                FieldSpec("parent_grid", "text"),
                FieldSpec("households", "int", minimum=0),
            ),
        ),
        LayerSchema(
            "buildings", "楼栋", "buildings", POLYGON_TYPES, "building_id",
            (
                FieldSpec("building_id", "id", required=True, nullable=False),
                FieldSpec("households", "int", required=True, minimum=0),
                FieldSpec("name", "text"),
                FieldSpec("units", "int", minimum=1),
                FieldSpec("floors", "int", minimum=1),
                FieldSpec("floor_area_m2", "float", minimum=0),
                FieldSpec("households_source", "enum", choices=("osm", "estimate")),
            ),
        ),
        LayerSchema(
            "spaces", "闲置空间与金角银边", "spaces", POLYGON_TYPES, "space_id",
            (
                FieldSpec("space_id", "id", required=True, nullable=False),
                FieldSpec("kind", "text", required=True, nullable=False),
            ),
        ),
        LayerSchema(
            "paths", "道路", "paths", LINE_OR_POLYGON_TYPES, "path_id",
            (
                FieldSpec("path_id", "id", required=True, nullable=False),
                FieldSpec("kind", "enum", required=True, nullable=False,
                          choices=("road", "fire_lane", "footpath")),
                FieldSpec("width_m", "float", minimum=0),
            ),
        ),
        LayerSchema(
            "sites", "候选点位", "sites", POLYGON_TYPES, "site_id",
            (
                FieldSpec("site_id", "id", required=True, nullable=False),
                FieldSpec("site_type", "enum", required=True, nullable=False,
                          choices=BUILTIN_SITE_TYPES),
                FieldSpec("name", "text"),
                FieldSpec("status", "enum",
                          choices=("proposed", "approved", "rejected", "built")),
                FieldSpec("notes", "text"),
            ),
        ),
        LayerSchema(
            "votes", "表决", "votes", (), None,
            (
                FieldSpec("site_id", "text", required=True, nullable=False),
                FieldSpec("household", "text", required=True, nullable=False),
                FieldSpec("area_m2", "float", required=True, nullable=False, minimum=0),
                FieldSpec("vote", "enum", required=True,
                          choices=("agree", "oppose", "abstain")),
                FieldSpec("building_id", "text"),
            ),
        ),
    )
}  # fmt: skip
LAYER_NAMES: tuple[str, ...] = tuple(SCHEMAS)
REQUIRED_LAYERS: tuple[str, ...] = ("compound", "buildings")


def _numeric(frame: pd.DataFrame, column: str) -> NDArray[np.float64]:
    """`column` as floats, NaN where missing or not a number."""
    if column not in frame:
        return np.full(len(frame), np.nan)
    values = frame[column]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
        return values.to_numpy(dtype=float)  # numpy: pd.to_numeric costs ~10x more
    return pd.to_numeric(values, errors="coerce").astype(float).to_numpy()


def household_counts(
    buildings: pd.DataFrame, *, per_floor: float
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Each building's households (NaN when unknown) and whether they were derived.

    The array form of `resolve_households`, by position, for the analysis hot paths.
    ``households`` is data; only where it is missing it is derived as units x floors x
    `per_floor`.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"households": [28, None], "units": [1, 2], "floors": [7, 6]})
    >>> households, derived = household_counts(b, per_floor=2)
    >>> households.tolist(), derived.tolist()
    ([28.0, 24.0], [False, True])
    """
    given = _numeric(buildings, "households")
    fallback = _numeric(buildings, "units") * _numeric(buildings, "floors") * per_floor
    derived = np.isnan(given) & ~np.isnan(fallback)
    return np.where(derived, fallback, given), derived


def resolve_households(buildings: pd.DataFrame, *, per_floor: float) -> pd.DataFrame:
    """Return each building's households and whether they were derived.

    Parameters
    ----------
    buildings
        The buildings layer (``households``; optionally ``units``, ``floors``).
    per_floor
        Households per floor per unit, used only where ``households`` is missing.

    Returns
    -------
    DataFrame
        Index of `buildings`; ``households`` (float, NaN when unknown) and
        ``derived`` (bool).

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"households": [28, None, None], "units": [1, 2, None],
    ...                   "floors": [7, 6, None]})
    >>> resolve_households(b, per_floor=2).to_dict("list")
    {'households': [28.0, 24.0, nan], 'derived': [False, True, False]}
    """
    households, derived = household_counts(buildings, per_floor=per_floor)
    return pd.DataFrame({"households": households, "derived": derived}, index=buildings.index)


_ALIASES: dict[str, tuple[str, ...]] = {
    "compound": ("compound", "boundary", "小区", "院落", "边界"),
    "microgrids": ("microgrids", "microgrid", "grids", "微网格", "网格"),
    "buildings": ("buildings", "building", "楼栋", "建筑"),
    "spaces": ("spaces", "space", "空间", "金角银边"),
    "paths": ("paths", "path", "roads", "道路", "消防通道"),
    "sites": ("sites", "site", "点位", "选址"),
    "votes": ("votes", "vote", "表决", "投票"),
}


def guess_layer_name(filename: str) -> str | None:
    """Guess the layer a file holds from its name, or None if unclear.

    ``buildings.geojson``, ``buildings_2024.shp``, ``东四街_楼栋.zip`` all
    give ``buildings``; a name matching no layer, or several, gives None.

    >>> guess_layer_name("dongsi_buildings_v2.geojson")
    'buildings'
    """
    stem = filename.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    tokens = set(stem.replace("-", "_").replace(" ", "_").split("_"))
    hits = {
        layer
        for layer, aliases in _ALIASES.items()
        for alias in aliases
        if alias in tokens or (not alias.isascii() and alias in stem)
    }
    if stem in _ALIASES:
        return stem
    return hits.pop() if len(hits) == 1 else None


def with_contract_columns(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    """An empty layer with the contract's required columns added (others: unchanged).

    A GeoJSON FeatureCollection with no features keeps no column names, so a
    layer whose last feature was deleted reads back as bare geometry; it is
    still a valid, empty layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326))
    >>> list(with_contract_columns(empty, "sites").columns)
    ['geometry', 'site_id', 'site_type']
    """
    schema = SCHEMAS.get(layer)
    if len(frame) or schema is None:
        return frame
    missing = [f.name for f in schema.fields if f.required and f.name not in frame.columns]
    if not missing:
        return frame
    out = frame.copy()
    for name in missing:
        out[name] = pd.Series([], dtype=object, index=frame.index)
    return out


def restore_shapefile_names(frame: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Undo the shapefile format's 10-character cut of contract column names.

    A shapefile stores ``building_id`` as ``building_i``; this renames such
    columns back when exactly one contract field of `layer` starts with them.
    """
    schema = SCHEMAS.get(layer)
    if schema is None:
        return frame
    renames: dict[str, str] = {}
    for column in frame.columns:
        if not isinstance(column, str) or len(column.encode()) != 10 or schema.field(column):
            continue  # a contract name itself (``households``) is never a cut one
        matches = [f.name for f in schema.fields if f.name.startswith(column) and f.name != column]
        if len(matches) == 1 and matches[0] not in frame.columns:
            renames[column] = matches[0]
    return frame.rename(columns=renames) if renames else frame
