"""Rule checks on candidate sites: a full checklist per site, as records.

`check_sites` returns, for every site, one record per rule in `RULES`, with
the keys `CHECK_KEYS`:

- ``status``: ``"pass"``, ``"fail"`` or ``"not_checked"``; ``ok`` is True,
  False or None for them (a check not run is never a pass);
- ``severity``: ``"error"`` or ``"warning"`` (`SEVERITY`);
- ``measured``, ``needed`` (numbers or None) in ``unit`` (``"m"``, ``"m2"``);
  for the overlap rules ``measured`` is the total overlap and ``needed`` 0;
- ``ids``: the features involved (buildings, lanes, spaces; largest overlap first);
- ``reason``: a key from `REASONS` for a check not run (``"no_paths_layer"``)
  or passed trivially (``"not_applicable"``), else None;
- ``params``: further numbers for the message (``areas_m2`` per id,
  ``outside_pct``, ``clear_width_m``, ``site_type``).

No words: `gridgis.report.checks.check_message` renders a record in zh or
en. Every rule is present for every site so a face can show the whole
checklist. Thresholds come from `gridgis.core.settings.Settings`. Layers must
already be in a metric CRS. The rules' geometry tests live in
`gridgis.analysis.check_rules`; this module runs them all.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> from gridgis.core.settings import default_settings
>>> sites = gpd.GeoDataFrame({"site_id": ["S1"], "site_type": ["parking_shed"]},
...                          geometry=[box(0, 0, 10, 6)], crs=4544)
>>> b = gpd.GeoDataFrame({"building_id": ["B2"]}, geometry=[box(13, 0, 53, 11)], crs=4544)
>>> checks = check_sites(sites, settings=default_settings(), buildings=b).iloc[0]
>>> setback = next(c for c in checks if c["rule"] == "shed_setback")
>>> setback["status"], setback["ok"], setback["measured"], setback["needed"], setback["ids"]
('fail', False, 3.0, 6.0, ['B2'])
>>> fire = next(c for c in checks if c["rule"] == "fire_lane_clear")
>>> fire["status"], fire["ok"], fire["reason"]
('not_checked', None, 'no_paths_layer')
>>> check_summary(checks)["all_clear"]
False
"""

from __future__ import annotations

import functools
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from numpy.typing import NDArray

from gridgis.analysis.check_records import (
    CHECK_KEYS,
    OK_OF_STATUS,
    REASONS,
    STATUSES,
    check_summary,
)
from gridgis.analysis.check_records import (
    check_record as _rec,
)
from gridgis.analysis.check_rules import (
    AREA_TOLERANCE_M2,
    LENGTH_TOLERANCE_M,
    Outcome,
    fire_lane_clear,
    inside_compound,
    kind_rows,
    minimum_rule,
    no_building_overlap,
    not_checked,
    on_green_space,
    shed_setback,
    str_values,
)
from gridgis.core.crs import require_metric
from gridgis.core.settings import Settings, SiteType, Sourced
from gridgis.errors import GridGISError

__all__ = [
    "CHECK_KEYS",
    "REASONS",
    "RULES",
    "SEVERITY",
    "STATUSES",
    "check_sites",
    "check_summary",
    "clear_width",
    "site_type_values",
]

RULES = (
    "inside_compound",
    "no_building_overlap",
    "fire_lane_clear",
    "shed_setback",
    "min_area",
    "min_width",
    "on_green_space",
)
"""Rule keys, in checklist order; faces translate them."""

SEVERITY = dict.fromkeys(RULES, "error") | {"on_green_space": "warning"}
"""Severity of a failed rule."""

_MIC_TOLERANCE_M = 0.001


def _geometry(layer: gpd.GeoDataFrame | None) -> GeometryArray | None:
    """The layer's geometries with their CRS, or None (no layer, or empty and no geometry).

    One column lookup per layer: each ``gdf.crs`` or ``gdf.geometry`` costs one.
    """
    if layer is None:
        return None
    try:
        return layer.geometry.array
    except AttributeError:  # no active geometry column: an empty layer without geometry
        if len(layer):
            raise
        return GeometryArray(np.empty(0, dtype=object))


def _geoms(geometry: GeometryArray) -> NDArray[np.object_]:
    return np.asarray(geometry, dtype=object)


@functools.cache
def _sourced_fields() -> tuple[str, ...]:
    return tuple(
        n for n, f in SiteType.model_fields.items() if f.annotation in (Sourced, "Sourced")
    )


def _type_values(
    site_type: NDArray[np.object_], settings: Settings, field: str
) -> NDArray[np.float64]:
    """``site_type.map({type: value})`` as floats, NaN for unknown types (no pandas map)."""
    table = {k: getattr(t, field).value for k, t in settings.site_types.items()}
    try:
        return np.array([table.get(t, np.nan) for t in site_type], dtype=float)
    except TypeError:  # an unhashable cell: let pandas map it
        return pd.Series(site_type, dtype=object).map(table).astype(float).to_numpy()


def _check_field(field: str) -> None:
    sourced = _sourced_fields()
    if field not in sourced:
        raise GridGISError(
            f"field must be a number of a site type ({', '.join(sourced)}), got {field!r}"
        )


def site_type_values(sites: pd.DataFrame, *, settings: Settings, field: str) -> pd.Series:
    """One `SiteType` number per site (e.g. ``service_radius_m``), NaN for unknown types.

    Parameters
    ----------
    sites
        Sites with a ``site_type`` column.
    settings
        Project settings.
    field
        A `Sourced` field of `gridgis.core.settings.SiteType`.

    Returns
    -------
    Series
        Index of `sites`, float.
    """
    if "site_type" not in sites:
        raise GridGISError("sites has no 'site_type' column; the layer contract needs one")
    _check_field(field)
    raw = sites["site_type"].to_numpy(dtype=object)
    return pd.Series(_type_values(raw, settings, field), index=sites.index, name=field)


def _clear_width(g: NDArray[np.object_]) -> NDArray[np.float64]:
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    width = np.zeros(len(g))
    if ok.any():
        circle = shapely.maximum_inscribed_circle(g[ok], tolerance=_MIC_TOLERANCE_M)
        width[ok] = 2 * shapely.length(circle)
    return width


def clear_width(sites: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """The widest strip that fits in each site: twice its largest inscribed circle's radius.

    A site passes the inward-buffer test for width ``w`` (``buffer(-w / 2)``
    leaves something) exactly when this is at least ``w``. For a rectangle it
    is the short side.

    Returns
    -------
    Series
        Index of `sites`, metres (0 for empty geometries).
    """
    g = np.asarray(sites.geometry.array if hasattr(sites, "geometry") else sites, dtype=object)
    return pd.Series(_clear_width(g), index=sites.index, name="clear_width_m")


def check_sites(
    sites: gpd.GeoDataFrame,
    *,
    settings: Settings,
    compound: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    paths: gpd.GeoDataFrame | None = None,
    spaces: gpd.GeoDataFrame | None = None,
    min_width: pd.Series | None = None,
    fire_lanes: bool | None = None,
) -> pd.Series:
    """Run every rule in `RULES` on every site.

    Parameters
    ----------
    sites
        Sites (``site_type``), in a metric CRS like every other layer.
    settings
        Thresholds: ``rules.fire_lane_clear_width_m``,
        ``rules.shed_setback_from_openings_m``, and per site type
        ``min_area_m2`` and ``min_width_m``.
    compound, buildings, paths, spaces
        The project's layers. None (the project has no such layer) leaves
        their rules ``not_checked``; a layer with no rows means there is none
        of its features near the sites (buildings, paths, spaces: pass) or
        every site lies outside (compound: fail).
    min_width
        Each site's clear width in metres when the caller has it (aligned with
        the sites; NaN entries are computed with `clear_width`).
    fire_lanes
        Whether the project's whole paths layer has fire lanes, when `paths`
        holds only the paths near the sites; default: whether `paths` has
        any. Without fire lanes anywhere, ``fire_lane_clear`` is not checked.

    Returns
    -------
    Series
        Index of `sites`, named ``checks``: a list per site of records with
        the keys `CHECK_KEYS`, in `RULES` order (see the module docstring).
    """
    # each layer's geometry is looked up once (then its CRS is cheap): for the usual single
    # site, pandas/geopandas access costs more than the geometry work
    site_geometry = sites.geometry.array
    geometry = {
        "compound": _geometry(compound),
        "buildings": _geometry(buildings),
        "paths": _geometry(paths),
        "spaces": _geometry(spaces),
    }
    require_metric({"sites": site_geometry, **geometry})
    if "site_type" not in sites:
        raise GridGISError("sites has no 'site_type' column; the layer contract needs one")
    g = _geoms(site_geometry)
    layer_g = {k: None if v is None else _geoms(v) for k, v in geometry.items()}
    raw_type = sites["site_type"].array
    site_type = str_values(raw_type)
    raw = np.asarray(raw_type, dtype=object)
    width = _clear_width(g) if min_width is None else _given_width(min_width, sites, g)
    area = shapely.area(g)
    rules = settings.rules
    building_g = layer_g["buildings"]
    tree = None if building_g is None else shapely.STRtree(building_g)  # shared by two rules
    outcomes: dict[str, Outcome] = {
        "inside_compound": inside_compound(g, layer_g["compound"]),
        "no_building_overlap": no_building_overlap(g, buildings, building_g, tree),
        "fire_lane_clear": fire_lane_clear(
            g,
            paths,
            layer_g["paths"],
            rules.fire_lane_clear_width_m.value,
            bool(len(kind_rows(paths, "fire_lane"))) if fire_lanes is None else fire_lanes,
        )
        if paths is not None
        else not_checked(len(g), "paths"),
        "shed_setback": shed_setback(
            g, site_type, buildings, tree, rules.shed_setback_from_openings_m.value
        ),
        "min_area": minimum_rule(
            area,
            _type_values(raw, settings, "min_area_m2"),
            site_type,
            unit="m2",
            tol=AREA_TOLERANCE_M2,
        ),
        "min_width": minimum_rule(
            width,
            _type_values(raw, settings, "min_width_m"),
            site_type,
            unit="m",
            tol=LENGTH_TOLERANCE_M,
        ),
        "on_green_space": on_green_space(g, spaces, layer_g["spaces"]),
    }
    no_geometry = shapely.is_missing(g) | shapely.is_empty(g)
    return pd.Series(
        _assemble(outcomes, no_geometry), index=sites.index, name="checks", dtype=object
    )


def _given_width(
    min_width: pd.Series, sites: gpd.GeoDataFrame, g: NDArray[np.object_]
) -> NDArray[np.float64]:
    dtype = min_width.dtype
    if (
        isinstance(dtype, np.dtype)
        and dtype.kind in "biuf"
        and min_width.index.equals(sites.index)
        and sites.index.is_unique
    ):
        given = min_width.to_numpy(dtype=float, copy=True)  # already aligned: no reindex
        gap = np.isnan(given)
        if gap.any():
            given[gap] = _clear_width(g[gap])
        return given
    missing = sites.index.difference(min_width.index)
    if len(missing):
        raise GridGISError(
            f"min_width has no value for site index {list(missing[:5])!r}; pass a Series "
            "aligned with the sites, or None to compute it"
        )
    given = pd.to_numeric(min_width.reindex(sites.index), errors="coerce").astype(float)
    if given.isna().any():
        given = given.fillna(clear_width(sites[given.isna().to_numpy()]))
    return given.to_numpy(dtype=float)


def _assemble(
    outcomes: dict[str, Outcome], no_geometry: NDArray[np.bool_]
) -> list[list[dict[str, Any]]]:
    n = len(no_geometry)
    out: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for rule in RULES:
        for k, partial in enumerate(outcomes[rule]):
            severity = SEVERITY[rule]
            if partial["reason"] == "unknown_site_type":
                severity = "warning"
            if no_geometry[k]:
                partial = _rec("not_checked", reason="no_geometry")
            status = partial["status"]
            out[k].append(
                {"rule": rule, "status": status, "ok": OK_OF_STATUS[status], "severity": severity}
                | partial
            )
    return out
