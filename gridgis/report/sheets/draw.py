"""The map of the printable sheets: every layer, labels, proposal letters, scale, north, legend.

`gridgis.report.sheets.render` puts `draw_map` and `legend_handles` on the A3
sheet and the chat PNG, beside the table (`gridgis.report.sheets.table`).
Everything is drawn with matplotlib in the project's local metric CRS, in the
colours of the app's map (`gridgis.report.map.style`).

Examples
--------
>>> _nice(740.0), _nice(0.3)
(500, 0.2)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from pyproj import Transformer
from shapely.geometry.polygon import orient

from gridgis.analysis.result import SiteAnalysis
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.report.i18n import t, t_or
from gridgis.report.labels import name_in, type_label
from gridgis.report.map.style import (
    BACKGROUND,
    BUILDING_STYLE,
    COMPOUND_STYLE,
    PASTELS,
    PATH_STYLES,
    SPACE_STYLES,
)
from gridgis.report.sheets.proposals import label_point, type_colours
from gridgis.report.sheets.style import HALO, INK

__all__ = ["bounds", "draw_map", "fit", "legend_handles"]


def _layer(project: Project, name: str, crs: Any) -> gpd.GeoDataFrame | None:
    frame = project.layers.get(name)
    if frame is None or len(frame) == 0:
        return None
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    return frame.to_crs(crs) if len(frame) else None


def _draw(ax: Axes, geoms: Any, **style: Any) -> None:
    """Draw the polygons (`PathCollection`) or lines (`LineCollection`) of `geoms`.

    Lines take ``color``; polygons ``facecolor``, ``edgecolor`` and ``hatch``.
    """
    parts = shapely.get_parts(np.asarray(list(geoms), dtype=object))
    parts = parts[~(shapely.is_missing(parts) | shapely.is_empty(parts))]
    if "color" in style:  # lines
        lines = [np.asarray(g.coords)[:, :2] for g in parts if g.geom_type == "LineString"]
        ax.add_collection(LineCollection(lines, **style), autolim=False)
        return
    paths = [
        MplPath.make_compound_path(
            *(MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in (p.exterior, *p.interiors))
        )
        for p in (orient(g, sign=1.0) for g in parts if g.geom_type == "Polygon")
    ]
    ax.add_collection(PathCollection(paths, **style), autolim=False)


def _north_angle(crs: Any, x: float, y: float) -> float:
    """Degrees from grid north (up) to true north, clockwise, at (x, y) of `crs`."""
    back = Transformer.from_crs(crs, 4326, always_xy=True)
    forth = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = back.transform(x, y)
    x2, y2 = forth.transform(lon, lat + 0.001)
    return math.degrees(math.atan2(x2 - x, y2 - y))


def _nice(value: float, steps: Sequence[float] = (1, 2, 5)) -> float:
    """The largest 1/2/5 x 10^k not above `value`."""
    exp = 10 ** math.floor(math.log10(value))
    return max(s * exp for s in steps if s * exp <= value)


def _scale_bar(ax: Axes, x0: float, y0: float, width_m: float, fs: float, pt_m: float) -> None:
    """A four-part black/white bar of a round length, ``0 ... N m`` under it.

    `pt_m` is the size of a typographic point in map metres.
    """
    length = _nice(width_m)
    h = 2.2 * pt_m
    pad, text_h = 3 * pt_m, 1.25 * fs * pt_m
    box = Rectangle((x0 - pad, y0 - text_h - 2 * pad), length + 2 * pad + 2 * fs * pt_m,
                    h + text_h + 3 * pad, fc="white", ec="none", alpha=0.85, zorder=20)  # fmt: skip
    ax.add_patch(box)
    for i in range(4):
        ax.add_patch(Rectangle((x0 + i * length / 4, y0), length / 4, h, zorder=21, lw=0.6,
                               fc=INK if i % 2 == 0 else "white", ec=INK))  # fmt: skip
    for frac in (0, 0.5, 1):
        text = f"{length * frac:g}" + (" m" if frac == 1 else "")  # SI symbol
        ax.text(x0 + length * frac, y0 - pad, text, ha="center", va="top", fontsize=fs,
                color=INK, zorder=21)  # fmt: skip


def _north_arrow(
    ax: Axes, x: float, y: float, size: float, angle: float, *, label: str, fs: float
) -> None:
    """A two-tone arrow pointing to true north, ``size`` metres tall, centred at (x, y)."""
    a = math.radians(angle)

    def rot(px: float, py: float) -> tuple[float, float]:
        return (x + px * math.cos(a) + py * math.sin(a), y - px * math.sin(a) + py * math.cos(a))

    tip, base, notch = (0, size / 2), size / 2.8, (0, -size / 4)
    left = [rot(*tip), rot(-base / 2, -size / 2), rot(*notch)]
    right = [rot(*tip), rot(base / 2, -size / 2), rot(*notch)]
    ax.add_patch(Polygon(left, closed=True, fc=INK, ec=INK, lw=0.8, zorder=21))
    ax.add_patch(Polygon(right, closed=True, fc="white", ec=INK, lw=0.8, zorder=21))
    tx, ty = rot(0, size / 2 + size * 0.05)
    ax.text(tx, ty, label, ha="center", va="bottom", fontsize=fs, fontweight="bold", color=INK,
            zorder=21, path_effects=HALO)  # fmt: skip


def draw_map(
    ax: Axes,
    project: Project,
    analysis: SiteAnalysis,
    props: gpd.GeoDataFrame,
    *,
    lang: str,
    k: float,
    extent: tuple[float, float, float, float],
    badge_pt: float = 14,
    grid_labels: bool = True,
) -> None:
    """Draw every layer, labels and proposal letters in the metric CRS; `k` scales type."""
    crs = project.metric_crs()
    lw = 0.55 * k
    ax.set_facecolor(BACKGROUND)
    grids = _layer(project, "microgrids", crs)
    buildings = _layer(project, "buildings", crs)
    if grids is not None:
        for i, geom in enumerate(grids.geometry):
            _draw(ax, [geom], facecolor=PASTELS[i % len(PASTELS)], alpha=0.55,
                  edgecolor="none", zorder=1)  # fmt: skip
        _draw(ax, grids.geometry, facecolor="none", edgecolor="#78909c", linewidth=lw * 1.4,
              linestyle=(0, (3, 3)), zorder=1.1)  # fmt: skip
    spaces = _layer(project, "spaces", crs)
    if spaces is not None:
        for kind, group in spaces.groupby(spaces["kind"].astype(str)):
            st = SPACE_STYLES.get(kind, {"color": "#8d8d8d", "fillColor": "#e0e0e0"})
            hatch = st["fillColor"].startswith("url(")
            _draw(ax, group.geometry, facecolor="#efe3d3" if hatch else st["fillColor"],
                  edgecolor=st["color"], hatch="////" if hatch else None,
                  linewidth=lw * st.get("weight", 1), zorder=2,
                  linestyle=(0, (5, 4)) if "dashArray" in st else "-",
                  alpha=None if hatch else min(1.0, st.get("fillOpacity", 0.6) + 0.1))  # fmt: skip
    paths = _layer(project, "paths", crs)
    if paths is not None:
        kinds = paths["kind"].astype(str)
        lanes = paths[kinds == "fire_lane"]
        if len(lanes):
            widths = pd.to_numeric(lanes.get("width_m"), errors="coerce")
            default = project.settings.rules.fire_lane_clear_width_m.value
            widths = widths.fillna(default) if widths is not None else default
            band = lanes.geometry.buffer(np.asarray(widths, dtype=float) / 2, cap_style="flat")
            _draw(ax, band, facecolor="#d32f2f", alpha=0.13, edgecolor="none", zorder=3)
        for kind, group in paths.groupby(kinds):
            st = PATH_STYLES.get(kind, {"color": "#bdbdbd", "weight": 2})
            dash = (0, (4, 2.4)) if "dashArray" in st else "-"
            lines = group.geometry.boundary.where(group.geom_type.str.contains("Polygon"),
                                                  group.geometry)  # fmt: skip
            _draw(ax, lines, color=st["color"], linewidth=lw * st["weight"] * 0.8,
                  linestyle=dash, zorder=3.2)  # fmt: skip
    if buildings is not None:
        _draw(ax, buildings.geometry, facecolor=BUILDING_STYLE["fillColor"],
              edgecolor=BUILDING_STYLE["color"], linewidth=lw, zorder=4)  # fmt: skip
    sites = analysis.sites
    if len(sites):
        colours = type_colours(project, sites)
        metric = sites.to_crs(crs)
        status = sites["status"].astype(str) if "status" in sites else pd.Series("", sites.index)
        for idx, geom in metric.geometry.items():
            if geom is None or geom.is_empty:
                continue
            c = colours[str(sites.at[idx, "site_type"])]
            if idx in props.index:
                style = {"alpha": None, "facecolor": c + "4d", "linestyle": (0, (4, 2.5))}
            elif status[idx] == "rejected":
                style = {"alpha": None, "facecolor": c + "1a", "linestyle": ":"}
            else:
                style = {"alpha": None, "facecolor": c + "99", "linestyle": "-"}
            _draw(ax, [geom], edgecolor=c, linewidth=lw * 2.6, zorder=5, **style)
    compound = _layer(project, "compound", crs)
    if compound is not None:
        _draw(ax, compound.geometry, facecolor="none", edgecolor=COMPOUND_STYLE["color"],
              linewidth=lw * 3.5, zorder=6)  # fmt: skip

    # labels: micro-grids in open ground, buildings with households, proposal letters
    if grids is not None and grid_labels:
        taken = [f.geometry.buffer(gap) for f, gap in ((buildings, 3), (spaces, 1), (paths, 3))
                 if f is not None]  # fmt: skip
        if len(sites):
            taken.append(sites.to_crs(crs).geometry.buffer(2))
        blocked = shapely.union_all(np.concatenate([g.to_numpy() for g in taken] or [[]]))
        for _, row in grids.iterrows():
            open_ground = row.geometry.difference(blocked)
            where = label_point(open_ground if not open_ground.is_empty else row.geometry)
            label = name_in(row.to_dict(), lang)
            leader = row.get("leader")
            if isinstance(leader, str) and leader.strip():
                label += f"\n{t('map.leader', lang)} {leader}"
            ax.text(where.x, where.y, label, ha="center", va="center", fontsize=7.5 * k,
                    color="#455a64", style="italic", zorder=7, path_effects=HALO)  # fmt: skip
    if buildings is not None:
        per_floor = project.settings.general.households_per_floor_fallback.value
        hh = resolve_households(buildings, per_floor=per_floor)
        for idx, row in buildings.iterrows():
            n, derived = hh.at[idx, "households"], hh.at[idx, "derived"]
            if pd.isna(n):
                count = ""
            elif derived:
                count = t("sheet.hh_est", lang, n=round(n))
            else:
                count = t("sheet.hh", lang, n=round(n))
            where = label_point(row.geometry)
            name = name_in(row.to_dict(), lang)
            ax.text(where.x, where.y, f"{name}\n{count}".strip(), ha="center",
                    va="center", fontsize=9.5 * k, color="#111", fontweight="bold", zorder=7,
                    linespacing=1.15, path_effects=HALO)  # fmt: skip
    if len(props):
        metric = props.to_crs(crs)
        colours = type_colours(project, analysis.sites)
        for idx, geom in metric.geometry.items():
            if geom is None or geom.is_empty:
                continue
            where = label_point(geom)
            c = colours[str(props.at[idx, "site_type"])]
            ax.text(where.x, where.y, props.at[idx, "letter"], ha="center", va="center",
                    fontsize=badge_pt * k, fontweight="bold", color=c, zorder=9,
                    bbox={"boxstyle": "circle,pad=0.28", "fc": "white", "ec": c,
                          "lw": 1.6 * k})  # fmt: skip

    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set(xticks=[], yticks=[], xlabel="", ylabel="")
    for spine in ax.spines.values():
        spine.set_color("#90a4ae")
        spine.set_linewidth(0.8)
    width = x1 - x0
    fig_w = ax.get_figure(root=True).get_figwidth()  # type: ignore[union-attr]  # never None
    pt_m = width / (ax.get_position().width * fig_w * 72)
    _scale_bar(ax, x0 + width * 0.04, y0 + (y1 - y0) * 0.05, width / 5, 7 * k, pt_m)
    size = (y1 - y0) * 0.07
    angle = _north_angle(crs, x1 - width * 0.05, y1 - (y1 - y0) * 0.09)
    _north_arrow(ax, x1 - width * 0.05, y1 - (y1 - y0) * 0.09, size, angle,
                 label=t("sheet.north", lang), fs=9 * k)  # fmt: skip


def bounds(project: Project, analysis: SiteAnalysis) -> tuple[float, float, float, float]:
    crs = project.metric_crs()
    frames = [f for n in ("compound", "buildings") if (f := _layer(project, n, crs)) is not None]
    if len(analysis.sites):
        frames.append(analysis.sites.to_crs(crs))
    x0, y0, x1, y1 = np.array([f.total_bounds for f in frames]).T
    return float(x0.min()), float(y0.min()), float(x1.max()), float(y1.max())


def fit(
    bounds: Sequence[float], box_w: float, box_h: float, pad: float, *, round_scale: bool = True
) -> tuple[Any, float]:
    """Extent (metres) filling a `box_w` x `box_h` mm box around `bounds`, at 1:n.

    With `round_scale`, n is rounded up to a multiple of 25 (below 1:1000),
    250 (below 1:10,000) ...
    """
    x0, y0, x1, y1 = bounds
    need = max((x1 - x0) * (1 + 2 * pad) / box_w, (y1 - y0) * (1 + 2 * pad) / box_h, 1e-3)
    denominator = need * 1000
    if round_scale:
        step = 10 ** math.floor(math.log10(denominator)) / 4
        denominator = math.ceil(denominator / step - 1e-9) * step
    half_w, half_h = box_w * denominator / 2000, box_h * denominator / 2000
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h), denominator


def legend_handles(
    project: Project, analysis: SiteAnalysis, lang: str, *, short: bool = False
) -> list[Any]:
    """Legend entries for what the map shows; `short`: site types, fire lane, corners only."""

    def text(key: str) -> str:
        return t_or(f"map.{key}", lang, key)

    def kinds(layer: str) -> set[str]:
        frame = project.layers.get(layer)
        return set(frame["kind"].astype(str)) if frame is not None and "kind" in frame else set()

    handles: list[Any] = []
    if not short:
        handles.append(
            Line2D([], [], color=str(COMPOUND_STYLE["color"]), lw=2, label=text("compound"))
        )
        if project.layers.get("microgrids") is not None:
            handles.append(Patch(fc=PASTELS[0], ec="#78909c", ls="--", label=text("microgrids")))
        handles.append(Patch(fc=BUILDING_STYLE["fillColor"], ec=BUILDING_STYLE["color"],
                             label=text("buildings")))  # fmt: skip
    for kind in (k for k in SPACE_STYLES if k in kinds("spaces")):
        if short and kind not in ("golden_corner", "neglected"):
            continue
        st = SPACE_STYLES[kind]
        hatch = st["fillColor"].startswith("url(")
        handles.append(Patch(fc="#efe3d3" if hatch else st["fillColor"], ec=st["color"],
                             hatch="////" if hatch else None, label=text(kind)))  # fmt: skip
    for kind in (k for k in PATH_STYLES if k in kinds("paths")):
        if short and kind != "fire_lane":
            continue
        st = PATH_STYLES[kind]
        label = text(kind) if kind != "fire_lane" or short else t("sheet.fire_band", lang)
        handles.append(Line2D([], [], color=st["color"], lw=st["weight"] * 0.6, label=label,
                              ls=(0, (4, 2)) if "dashArray" in st else "-"))  # fmt: skip
    sites = analysis.sites
    if len(sites):
        present = set(sites["site_type"].astype(str))
        for kind, c in type_colours(project, sites).items():
            if kind in present:
                label = type_label(kind, lang, project.settings)
                handles.append(Patch(fc=c + "99", ec=c, lw=1.5, label=label))
        if not short:
            handles.append(Patch(fc="#ffffff", ec="#546e7a", ls="--", lw=1.2,
                                 label=t("sheet.proposed", lang)))  # fmt: skip
            handles.append(Line2D([], [], ls="", marker="o", ms=11, mfc="white", mec="#546e7a",
                                  mew=1.5, label=t("sheet.badge", lang)))  # fmt: skip
    return handles
