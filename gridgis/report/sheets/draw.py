"""Drawing blocks of the printable sheets: CJK font, text helpers, the map, the table.

`gridgis.report.sheets.render` assembles these into the A3 sheet and the chat PNG; the
offline HTML map (`gridgis.report.sheets.offline`) reuses the text helpers. Everything
is drawn with matplotlib in the project's local metric CRS.
"""

from __future__ import annotations

import contextlib
import math
import re
import struct
import textwrap
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager, patheffects, rc_context
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon, Rectangle
from matplotlib.path import Path as MplPath
from pyproj import Transformer
from shapely.geometry.polygon import orient
from shapely.ops import polylabel

from gridgis.analysis.engine import SiteAnalysis
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households
from gridgis.errors import GridGISError
from gridgis.report.checks import check_message
from gridgis.report.i18n import t, t_or
from gridgis.report.map.view import (
    _BUILDING_STYLE,
    _COMPOUND_STYLE,
    _PASTELS,
    _PATH_STYLES,
    _SPACE_STYLES,
    BACKGROUND,
    site_colours,
)

__all__ = ["cjk_font"]

_MM = 1 / 25.4
_INK, _GREY, _RED = "#263238", "#607d8b", "#c62828"
_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]
# CJK families in order of preference (Debian: fonts-noto-cjk, fonts-wqy-*, fonts-droid-fallback,
# fonts-arphic-uming); font files to register when matplotlib's cache predates them
_CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                 "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN")  # fmt: skip
_CJK_FILES = re.compile(r"NotoSansCJK|SourceHanSans|wqy-|DroidSansFallback|uming", re.I)

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "改造方案", "subtitle": "Renovation proposals", "date": "制图日期",
        "households": "户", "hh_est": "约{n}户", "letter": "编号", "proposal": "方案 / 类型",
        "area": "面积\nm²", "capacity": "容量", "cost": "造价\n元", "per_hh": "每户自筹\n元",
        "served": "服务 / 相邻\n户", "failed": "检查\n未通过", "total": "合计",
        "none": "暂无拟建或已批准的方案", "legend": "图例", "badge": "拟建方案编号（见表）",
        "proposed": "拟建（虚线）", "built": "已建 / 现状", "fire_band": "消防车通道（须保持畅通）",
        "table": "改造方案一览", "checks": "未通过的检查", "more": "… 另有 {n} 项，见 A3 图纸",
        "scale": "比例尺 1:{n}（A3 打印）", "north": "北",
        "note_hh": "服务户数：步行可达范围内的住户；相邻户数：事先须征询意见的邻近住户。",
        "note_fund": "每户自筹 = 居民自筹 ÷ 服务户数；街道按自筹的 {m:g} 倍补助（参数，可调整）。",
        "note_cost": "造价为估算（单价见设置，标 E 者请以当地报价为准）。",
        "crs": "坐标系", "data": "数据", "funding": "资金构成（以上方案合计）",
        "cost_sum": "总造价", "residents": "居民自筹", "subsidy": "街道补助", "other": "其他来源",
    },
    "en": {
        "title": "Renovation proposals", "subtitle": "改造方案", "date": "Date",
        "households": " hh", "hh_est": "about {n} hh", "letter": "", "proposal": "Proposal / type",
        "area": "Area\nm²", "capacity": "Capacity", "cost": "Cost\nCNY",
        "per_hh": "Per hh\nCNY", "served": "Served / adj.\nhouseholds",
        "failed": "Failed\nchecks", "total": "Total", "none": "No proposed or approved sites",
        "legend": "Legend", "badge": "Proposal letter (see table)", "proposed": "proposed (dashed)",
        "built": "built / existing", "fire_band": "Fire lane (keep clear)",
        "table": "Proposals", "checks": "Failed checks", "more": "… {n} more on the A3 sheet",
        "scale": "Scale 1:{n} (printed on A3)", "north": "N",
        "note_hh": "Served: households within walking reach; adjacent: neighbours to consult "
                   "first.",
        "note_fund": "Per hh = residents' share / households served; the street adds "
                     "{m:g}x what residents raise (a parameter).",
        "note_cost": "Costs are estimates (rates tagged E in the settings: replace them with "
                     "local quotes).",
        "crs": "CRS", "data": "Data", "funding": "Funding (all proposals above)",
        "cost_sum": "Total cost", "residents": "Residents", "subsidy": "Street subsidy",
        "other": "Other sources",
    },
}  # fmt: skip
_UNITS = {"bikes": ("辆", "bikes"), "plots": ("块", "plots"), "persons": ("人", "persons")}


# --- fonts ----------------------------------------------------------------------------


def _is_cff(path: str, index: int = 0) -> bool:
    """True when the font (face `index` of a collection) has CFF outlines (``OTTO``)."""
    with open(path, "rb") as fh:
        head = fh.read(12)
        if head[:4] == b"ttcf":
            fh.seek(12 + 4 * index)
            (offset,) = struct.unpack(">I", fh.read(4))
            fh.seek(offset)
            head = fh.read(4)
    return head[:4] == b"OTTO"


@cache
def cjk_font() -> tuple[str, int]:
    """The CJK font family the sheets use and the PDF font type that embeds it.

    Noto Sans CJK (Debian ``fonts-noto-cjk``) comes first. Fonts with
    TrueType outlines embed as Type 42; CFF-flavoured OpenType collections
    such as Noto CJK embed as Type 3, because matplotlib writes them as
    TrueType otherwise and strict readers reject the file (matplotlib #20870).
    Either way the glyphs are in the PDF and the text stays searchable.

    Returns
    -------
    tuple
        ``(family, pdf_fonttype)``.

    Raises
    ------
    GridGISError
        No CJK font is installed.
    """
    fm = font_manager.fontManager

    def find() -> Any:
        for family in _CJK_FAMILIES:
            for entry in fm.ttflist:
                if entry.name == family and entry.weight in (400, "normal", "regular"):
                    return entry
        return None

    entry = find()
    if entry is None:  # installed after matplotlib cached its font list
        for path in font_manager.findSystemFonts():
            if _CJK_FILES.search(Path(path).name):
                fm.addfont(path)
        entry = find()
    if entry is None:
        raise GridGISError(
            "no CJK font found for the map sheets (looked for "
            f"{', '.join(_CJK_FAMILIES)}); install Debian's fonts-noto-cjk"
        )
    return entry.name, 3 if _is_cff(entry.fname, getattr(entry, "index", 0)) else 42


@contextlib.contextmanager
def _style() -> Iterator[None]:
    family, fonttype = cjk_font()
    rc = {
        "font.family": [family, "DejaVu Sans"],
        "pdf.fonttype": fonttype,
        "axes.unicode_minus": False,
        "hatch.linewidth": 0.7,
        "path.simplify": False,
    }
    with rc_context(rc):
        yield


# --- text helpers ---------------------------------------------------------------------


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80


def _wrap(text: str, width: int) -> list[str]:
    """Wrap at `width` columns, CJK characters counting two; Latin text at spaces."""
    if not any(_is_wide(c) for c in text):
        return textwrap.wrap(text, width) or [""]
    lines, line, used = [], "", 0
    for ch in text:
        w = 2 if _is_wide(ch) else 1
        if used + w > width:
            lines.append(line)
            line, used = "", 0
        line, used = line + ch, used + w
    return [*lines, line]


def _name(row: Any, lang: str) -> str:
    """A feature's name in `lang` (``name_en`` when English and present)."""
    if lang == "en":
        english = row.get("name_en")
        if isinstance(english, str) and english.strip():
            return english
    name = row.get("name")
    return "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)


def _fmt(value: Any, spec: str = ",.0f") -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "—"
    if math.isnan(number):
        return "—"
    return format(round(number), spec) if spec.endswith("d") else format(number, spec)


def _site_colours(project: Project, sites: pd.DataFrame) -> dict[str, str]:
    """Colours per site type, as the app's map gives them (`mapview.site_colours`)."""
    return site_colours([*project.settings.site_types, *sites["site_type"].astype(str)])


def _type_label(project: Project, site_type: str, lang: str) -> str:
    """The map's term for a site type, else the settings' label (as the app shows it)."""
    st = project.settings.site_types.get(site_type)
    default = site_type if st is None else (st.label_zh if lang == "zh" else st.label_en)
    return t_or(f"map.{site_type}", lang, default)


def _unit(unit: str, lang: str) -> str:
    return _UNITS.get(unit, (unit, unit))[0 if lang == "zh" else 1]


def _check_lines(props: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    return [
        (row.letter, check_message(c, lang))
        for row in props.itertuples()
        for c in row.checks
        if c["ok"] is False
    ]


# --- drawing the map ------------------------------------------------------------------


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


def _label_point(geom: Any) -> shapely.Point:
    """A point well inside a polygon (pole of inaccessibility of its largest part)."""
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    if geom.geom_type != "Polygon":
        return geom.representative_point()
    return polylabel(geom, tolerance=max(0.05, math.sqrt(geom.area) / 50))


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
                               fc=_INK if i % 2 == 0 else "white", ec=_INK))  # fmt: skip
    for frac in (0, 0.5, 1):
        text = f"{length * frac:g}" + (" m" if frac == 1 else "")
        ax.text(x0 + length * frac, y0 - pad, text, ha="center", va="top", fontsize=fs,
                color=_INK, zorder=21)  # fmt: skip


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
    ax.add_patch(Polygon(left, closed=True, fc=_INK, ec=_INK, lw=0.8, zorder=21))
    ax.add_patch(Polygon(right, closed=True, fc="white", ec=_INK, lw=0.8, zorder=21))
    tx, ty = rot(0, size / 2 + size * 0.05)
    ax.text(tx, ty, label, ha="center", va="bottom", fontsize=fs, fontweight="bold", color=_INK,
            zorder=21, path_effects=_HALO)  # fmt: skip


def _draw_map(
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
            _draw(ax, [geom], facecolor=_PASTELS[i % len(_PASTELS)], alpha=0.55,
                  edgecolor="none", zorder=1)  # fmt: skip
        _draw(ax, grids.geometry, facecolor="none", edgecolor="#78909c", linewidth=lw * 1.4,
              linestyle=(0, (3, 3)), zorder=1.1)  # fmt: skip
    spaces = _layer(project, "spaces", crs)
    if spaces is not None:
        for kind, group in spaces.groupby(spaces["kind"].astype(str)):
            st = _SPACE_STYLES.get(kind, {"color": "#8d8d8d", "fillColor": "#e0e0e0"})
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
            st = _PATH_STYLES.get(kind, {"color": "#bdbdbd", "weight": 2})
            dash = (0, (4, 2.4)) if "dashArray" in st else "-"
            lines = group.geometry.boundary.where(group.geom_type.str.contains("Polygon"),
                                                  group.geometry)  # fmt: skip
            _draw(ax, lines, color=st["color"], linewidth=lw * st["weight"] * 0.8,
                  linestyle=dash, zorder=3.2)  # fmt: skip
    if buildings is not None:
        _draw(ax, buildings.geometry, facecolor=_BUILDING_STYLE["fillColor"],
              edgecolor=_BUILDING_STYLE["color"], linewidth=lw, zorder=4)  # fmt: skip
    sites = analysis.sites
    if len(sites):
        colours = _site_colours(project, sites)
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
        _draw(ax, compound.geometry, facecolor="none", edgecolor=_COMPOUND_STYLE["color"],
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
            where = _label_point(open_ground if not open_ground.is_empty else row.geometry)
            label = _name(row, lang)
            leader = row.get("leader")
            if isinstance(leader, str) and leader.strip():
                label += f"\n{t('map.leader', lang)} {leader}"
            ax.text(where.x, where.y, label, ha="center", va="center", fontsize=7.5 * k,
                    color="#455a64", style="italic", zorder=7, path_effects=_HALO)  # fmt: skip
    if buildings is not None:
        per_floor = project.settings.general.households_per_floor_fallback.value
        hh = resolve_households(buildings, per_floor=per_floor)
        words = _WORDS[lang]
        for idx, row in buildings.iterrows():
            n, derived = hh.at[idx, "households"], hh.at[idx, "derived"]
            if pd.isna(n):
                count = ""
            elif derived:
                count = words["hh_est"].format(n=round(n))
            else:
                count = f"{round(n)}{words['households']}"
            where = _label_point(row.geometry)
            ax.text(where.x, where.y, f"{_name(row, lang)}\n{count}".strip(), ha="center",
                    va="center", fontsize=9.5 * k, color="#111", fontweight="bold", zorder=7,
                    linespacing=1.15, path_effects=_HALO)  # fmt: skip
    if len(props):
        metric = props.to_crs(crs)
        colours = _site_colours(project, analysis.sites)
        for idx, geom in metric.geometry.items():
            if geom is None or geom.is_empty:
                continue
            where = _label_point(geom)
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
    pt_m = width / (ax.get_position().width * ax.figure.get_figwidth() * 72)
    _scale_bar(ax, x0 + width * 0.04, y0 + (y1 - y0) * 0.05, width / 5, 7 * k, pt_m)
    size = (y1 - y0) * 0.07
    angle = _north_angle(crs, x1 - width * 0.05, y1 - (y1 - y0) * 0.09)
    _north_arrow(ax, x1 - width * 0.05, y1 - (y1 - y0) * 0.09, size, angle,
                 label=_WORDS[lang]["north"], fs=9 * k)  # fmt: skip


def _bounds(project: Project, analysis: SiteAnalysis) -> tuple[float, float, float, float]:
    crs = project.metric_crs()
    frames = [f for n in ("compound", "buildings") if (f := _layer(project, n, crs)) is not None]
    if len(analysis.sites):
        frames.append(analysis.sites.to_crs(crs))
    x0, y0, x1, y1 = np.array([f.total_bounds for f in frames]).T
    return float(x0.min()), float(y0.min()), float(x1.max()), float(y1.max())


def _fit(
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


def _legend_handles(
    project: Project, analysis: SiteAnalysis, lang: str, *, short: bool = False
) -> list[Any]:
    """Legend entries for what the map shows; `short`: site types, fire lane, corners only."""
    words = _WORDS[lang]

    def text(key: str) -> str:
        return t_or(f"map.{key}", lang, key)

    def kinds(layer: str) -> set[str]:
        frame = project.layers.get(layer)
        return set(frame["kind"].astype(str)) if frame is not None and "kind" in frame else set()

    handles: list[Any] = []
    if not short:
        handles.append(Line2D([], [], color=_COMPOUND_STYLE["color"], lw=2, label=text("compound")))
        if project.layers.get("microgrids") is not None:
            handles.append(Patch(fc=_PASTELS[0], ec="#78909c", ls="--", label=text("microgrids")))
        handles.append(Patch(fc=_BUILDING_STYLE["fillColor"], ec=_BUILDING_STYLE["color"],
                             label=text("buildings")))  # fmt: skip
    for kind in (k for k in _SPACE_STYLES if k in kinds("spaces")):
        if short and kind not in ("golden_corner", "neglected"):
            continue
        st = _SPACE_STYLES[kind]
        hatch = st["fillColor"].startswith("url(")
        handles.append(Patch(fc="#efe3d3" if hatch else st["fillColor"], ec=st["color"],
                             hatch="////" if hatch else None, label=text(kind)))  # fmt: skip
    for kind in (k for k in _PATH_STYLES if k in kinds("paths")):
        if short and kind != "fire_lane":
            continue
        st = _PATH_STYLES[kind]
        label = text(kind) if kind != "fire_lane" or short else words["fire_band"]
        handles.append(Line2D([], [], color=st["color"], lw=st["weight"] * 0.6, label=label,
                              ls=(0, (4, 2)) if "dashArray" in st else "-"))  # fmt: skip
    sites = analysis.sites
    if len(sites):
        present = set(sites["site_type"].astype(str))
        for kind, c in _site_colours(project, sites).items():
            if kind in present:
                label = _type_label(project, kind, lang)
                handles.append(Patch(fc=c + "99", ec=c, lw=1.5, label=label))
        if not short:
            handles.append(Patch(fc="#ffffff", ec="#546e7a", ls="--", lw=1.2,
                                 label=words["proposed"]))  # fmt: skip
            handles.append(Line2D([], [], ls="", marker="o", ms=11, mfc="white", mec="#546e7a",
                                  mew=1.5, label=words["badge"]))  # fmt: skip
    return handles


# --- the table ------------------------------------------------------------------------


def _table_rows(project: Project, props: pd.DataFrame, lang: str, compact: bool) -> list[list]:
    """Cells of each proposal; `compact` puts the capacity under the name."""
    rows = []
    for _, p in props.iterrows():
        unit = _unit(str(p["capacity_unit"]), lang)
        capacity = f"{_fmt(p['capacity'], 'd')} {unit}"
        name = _name(p, lang) or str(p["site_id"])
        kind = _type_label(project, str(p["site_type"]), lang)
        below = [kind] if kind != name else []
        below += [capacity] if compact else []
        rows.append([
            p["letter"],
            f"{name}\n{' · '.join(below)}".strip(),
            _fmt(p["area_m2"]),
            capacity,
            _fmt(p["cost_cny"]),
            _fmt(p["per_household_cny"]),
            f"{_fmt(p['households_served'])} / {_fmt(p['households_adjacent'])}",
            str(int(p["checks_failed"])),
        ])  # fmt: skip
    return rows


def _draw_table(
    ax: Axes,
    project: Project,
    analysis: SiteAnalysis,
    props: pd.DataFrame,
    *,
    lang: str,
    widths: Sequence[float],
    columns: Sequence[int],
    row_h: float,
    fs: float,
    max_rows: int,
) -> float:
    """Draw the proposals table in an axes measured in mm (y down); return its height."""
    words = _WORDS[lang]
    header = [words[k] for k in ("letter", "proposal", "area", "capacity", "cost", "per_hh",
                                 "served", "failed")]  # fmt: skip
    rows = _table_rows(project, props, lang, compact=1 in columns and 3 not in columns)
    shown, hidden = rows[:max_rows], len(rows) - max_rows
    if len(rows) > 1:
        area, cost = _fmt(props["area_m2"].sum()), _fmt(props["cost_cny"].sum())
        failed = str(int(props["checks_failed"].sum()))
        shown.append(["", words["total"], area, "", cost, "", "", failed])
    colours = _site_colours(project, analysis.sites)
    xs = np.concatenate([[0], np.cumsum(widths)])
    head_h = row_h * 1.05
    ax.add_patch(Rectangle((0, 0), xs[-1], head_h, fc=_INK, ec="none"))
    for j, col in enumerate(columns):
        right = col >= 2
        ax.text(xs[j + 1] - 1.2 if right else xs[j] + 1.2, head_h / 2, header[col],
                ha="right" if right else "left", va="center", fontsize=fs * 0.85,
                multialignment="right" if right else "left", color="white",
                fontweight="bold", linespacing=1.05)  # fmt: skip
    y = head_h
    for i, row in enumerate(shown):
        is_total = len(rows) > 1 and i == len(shown) - 1
        if i % 2 == 1 or is_total:
            ax.add_patch(Rectangle((0, y), xs[-1], row_h, fc="#eceff1", ec="none"))
        for j, col in enumerate(columns):
            value = row[col]
            if col == 0 and value:
                c = colours.get(str(props.iloc[i]["site_type"]), _INK)
                ax.text((xs[j] + xs[j + 1]) / 2, y + row_h / 2, value, ha="center", va="center",
                        fontsize=fs * 1.1, fontweight="bold", color=c,
                        bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": c,
                              "lw": 1.2})  # fmt: skip
            elif col == 1:
                name, _, kind = value.partition("\n")
                ax.text(xs[j] + 1.2, y + row_h * (0.36 if kind else 0.5), name, ha="left",
                        va="center", fontsize=fs, color=_INK,
                        fontweight="bold" if is_total else "normal")  # fmt: skip
                if kind:
                    ax.text(xs[j] + 1.2, y + row_h * 0.74, kind, ha="left", va="center",
                            fontsize=fs * 0.8, color=_GREY)  # fmt: skip
            else:
                red = col == 7 and value not in ("0", "")
                ax.text(xs[j + 1] - 1.2, y + row_h / 2, value, ha="right", va="center",
                        fontsize=fs, color=_RED if red else _INK,
                        fontweight="bold" if red or is_total else "normal")  # fmt: skip
        y += row_h
    ax.plot([0, xs[-1]], [y, y], color=_INK, lw=0.8)
    if not rows:
        ax.text(1.2, y + row_h / 2, words["none"], ha="left", va="center", fontsize=fs,
                color=_GREY)  # fmt: skip
        y += row_h
    if hidden > 0:
        ax.text(1.2, y + row_h * 0.4, words["more"].format(n=hidden), ha="left", va="center",
                fontsize=fs * 0.85, color=_GREY)  # fmt: skip
        y += row_h * 0.8
    return y


def _notes(project: Project, props: pd.DataFrame, lang: str, *, width: int) -> list[tuple]:
    """(text, colour) lines under the table: failed checks, then how to read it."""
    words = _WORDS[lang]
    lines: list[tuple[str, str]] = []
    failed = _check_lines(props, lang)
    if failed:
        lines.append((words["checks"] + ("：" if lang == "zh" else ":"), _RED))
        for letter, message in failed[:8]:
            lines += [(f"  {letter}  {part}", _RED) for part in _wrap(message, width - 5)]
        if len(failed) > 8:
            lines.append((words["more"].format(n=len(failed) - 8), _RED))
    multiple = project.settings.funding.subsidy_multiple.value
    for note in (words["note_hh"], words["note_fund"].format(m=multiple), words["note_cost"]):
        lines += [(part, _GREY) for part in _wrap(note, width)]
    return lines
