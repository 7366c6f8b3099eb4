"""Map sheets for residents' meetings: an A3 PDF/PNG, a chat-group PNG, an offline HTML map.

Every function returns the file's content (bytes or text), so the app can
offer it as a download and the CLI can write it. The sheets are drawn with
matplotlib in the project's local metric CRS, with a CJK font embedded (see
`cjk_font`); the offline HTML map is in `gridgis.report.sheets.offline`. The
proposals and their letters come from `gridgis.report.sheets.proposals`.

Examples
--------
>>> from gridgis.core.project import open_project
>>> project = open_project("data/dongsi180")
>>> from gridgis.analysis.engine import analyze_sites
>>> list(proposals(analyze_sites(project))["letter"])
['A']
>>> map_sheet(project, fmt="pdf")[:5]
b'%PDF-'
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from gridgis import __version__
from gridgis.analysis.result import SiteAnalysis
from gridgis.core.io import write_bytes
from gridgis.core.project import Project
from gridgis.errors import GridGISError, ProjectError
from gridgis.report.i18n import t
from gridgis.report.labels import number
from gridgis.report.sheets.draw import bounds, draw_map, fit, legend_handles
from gridgis.report.sheets.proposals import (
    PROPOSAL_STATUSES,
    failed_checks,
    prepare,
    proposals,
    sheet_title,
)
from gridgis.report.sheets.style import GREY, HALO, INK, MM, RED, cjk_font, sheet_style
from gridgis.report.sheets.table import draw_table, funding_lines, notes

__all__ = [
    "FORMATS",
    "PROPOSAL_STATUSES",
    "SIZES",
    "cjk_font",
    "export_sheet",
    "map_sheet",
    "proposals",
    "share_png",
]

#: Paper sizes, landscape, in millimetres.
SIZES = {"a3": (420.0, 297.0), "a4": (297.0, 210.0)}
#: What `export_sheet` writes: A3 sheet as PDF or PNG, the chat PNG, the offline HTML map.
FORMATS = ("pdf", "png", "share", "html")
SHARE_WIDTH = 1080  # px; the height follows the content, 1080 to 1920 px
SHARE_ROWS = 6  # proposals listed on the chat PNG


# --- the sheets -----------------------------------------------------------------------


def _subtitle(project: Project, other_name: str, lang: str, date: dt.date) -> str:
    compound = project.layers.get("compound")
    row = compound.iloc[0].to_dict() if compound is not None and len(compound) else {}
    summary = project.summary()
    bits = [other_name] if other_name else []
    address = row.get("address")
    if isinstance(address, str) and address.strip():
        bits.append(address)
    buildings = summary["layers"].get("buildings", 0)
    bits.append(t("sheet.summary", lang, buildings=buildings, households=summary["households"]))
    bits.append(f"{t('sheet.date', lang)} {date.isoformat()}")
    return "  ·  ".join(bits)


def _save(fig: Figure, fmt: str, dpi: float, title: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "pdf":
        meta = {"Title": title, "Creator": f"gridgis {__version__}"}
    else:
        meta = {"Title": title, "Software": f"gridgis {__version__}"}
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta, facecolor="white")
    return buf.getvalue()


def map_sheet(
    project: Project,
    analysis: SiteAnalysis | None = None,
    *,
    fmt: str = "pdf",
    lang: str = "zh",
    size: str = "a3",
    dpi: float = 150,
    date: dt.date | None = None,
) -> bytes:
    """A landscape map sheet of the proposals, to print or pin up at a residents' meeting.

    Title, compound, date, the map at a round scale with north arrow, scale
    bar and legend, the proposals lettered on the map, a table of their
    type, area, capacity, cost, cost per household, households served and
    adjacent and failed checks (listed under it), and the funding split.

    Parameters
    ----------
    project
        The compound.
    analysis
        Default: ``analyze_sites(project)``.
    fmt
        ``"pdf"`` (fonts embedded) or ``"png"``.
    lang
        ``"zh"`` or ``"en"``.
    size
        ``"a3"`` (420 x 297 mm) or ``"a4"`` (297 x 210 mm), landscape.
    dpi
        Resolution of a PNG (150: 2480 x 1754 px on A3).
    date
        Printed on the sheet; default today.

    Returns
    -------
    bytes
        The PDF or PNG file.
    """
    if fmt not in ("pdf", "png"):
        raise GridGISError(f"fmt must be 'pdf' or 'png', got {fmt!r}")
    if size not in SIZES:
        raise GridGISError(f"size must be one of {tuple(SIZES)}, got {size!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 30 <= dpi <= 600:
        raise GridGISError(f"dpi must be a number from 30 to 600, got {dpi!r}")
    analysis, props = prepare(project, analysis, lang)
    W, H = SIZES[size]
    k = W / 420.0  # laid out on A3 in mm, scaled

    def box(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
        return (x / 420, y / 297, w / 420, h / 297)  # A3 mm from bottom left

    with sheet_style():
        fig = Figure(figsize=(W * MM, H * MM))
        renderer = FigureCanvasAgg(fig).get_renderer()
        name, heading, other = sheet_title(project, lang)
        title = f"{name} · {heading}"
        fig.text(12 / 420, 1 - 19 / 297, title, fontsize=21 * k, fontweight="bold", color=INK)
        subtitle = _subtitle(project, other, lang, date or dt.date.today())
        fig.text(12 / 420, 1 - 28 / 297, subtitle, fontsize=10 * k, color=GREY)
        fig.add_artist(Line2D([12 / 420, 408 / 420], [1 - 33 / 297] * 2, color=INK, lw=1.2 * k))
        map_w, map_h = 246.0, 237.0
        extent, denominator = fit(bounds(project, analysis), map_w * k, map_h * k, 0.03)
        ax = fig.add_axes(box(12, 20, map_w, map_h))
        draw_map(ax, project, analysis, props, lang=lang, k=k, extent=extent)
        ax.text(0.985, 0.012, t("sheet.scale", lang, n=number(denominator)),
                transform=ax.transAxes, ha="right", va="bottom", fontsize=7 * k, color=GREY,
                path_effects=HALO)  # fmt: skip

        # right column, in mm from its top (y down): legend, table, notes, funding
        col_x, col_w, col_h = 268.0, 140.0, 237.0
        col = fig.add_axes(box(col_x, 20, col_w, col_h))
        col.axis("off")
        col.set(xlim=(0, col_w), ylim=(col_h, 0))
        col.text(0, 3, t("sheet.legend", lang), fontsize=11 * k, fontweight="bold", color=INK,
                 va="center")  # fmt: skip
        legend = col.legend(handles=legend_handles(project, analysis, lang), loc="upper left",
                            bbox_to_anchor=(0, 1 - 8 / col_h), ncol=2, frameon=False,
                            fontsize=7.8 * k, handlelength=2.4, handleheight=1.3,
                            labelspacing=0.55, columnspacing=1.2, borderaxespad=0)  # fmt: skip
        bottom = legend.get_window_extent(renderer).y0 / fig.dpi / MM / k  # A3 mm from bottom
        y = (20 + col_h) - bottom + 9
        col.text(0, y, t("sheet.table", lang), fontsize=11 * k, fontweight="bold", color=INK,
                 va="center")  # fmt: skip
        y += 5
        rows_fit = max(3, int((col_h - y - 60) // 9))
        tab = fig.add_axes(box(col_x, 20, col_w, col_h - y))
        tab.axis("off")
        tab.set(xlim=(0, col_w), ylim=(col_h - y, 0))
        y_tab = draw_table(tab, project, analysis, props, lang=lang, row_h=9.0, fs=7.6 * k,
                            widths=(9, 38, 12, 15, 16, 16, 21, 13), columns=range(8),
                            max_rows=rows_fit)  # fmt: skip
        y_tab += 5
        for line, colour in notes(project, props, lang, width=80):
            tab.text(0, y_tab, line, fontsize=6.8 * k, color=colour, va="top")
            y_tab += 3.5
        if funding := funding_lines(props, lang):
            y_tab += 3
            tab.text(0, y_tab, t("sheet.funding", lang), fontsize=8.5 * k, fontweight="bold",
                     color=INK, va="top")  # fmt: skip
            for label, amount in funding:
                y_tab += 4.6
                tab.text(2, y_tab, label, fontsize=7.6 * k, color=INK, va="top")
                tab.text(60, y_tab, amount, fontsize=7.6 * k, color=INK, va="top", ha="right")
        crs = project.metric_crs()
        source = project.path.name if project.path else project.name
        foot = (f"{t('sheet.data', lang)}: {source}  ·  {t('sheet.crs', lang)}: {crs.name} "
                f"({crs.to_string()})"
                f"  ·  gridgis {__version__}")  # fmt: skip
        fig.text(12 / 420, 10 / 297, foot, fontsize=6.5 * k, color=GREY)
        return _save(fig, fmt, dpi, title)


def share_png(
    project: Project,
    analysis: SiteAnalysis | None = None,
    *,
    lang: str = "zh",
    date: dt.date | None = None,
) -> bytes:
    """A PNG for chat groups: 1080 px wide, large type, the map and a compact table.

    The height follows the compound's shape and the number of proposals,
    between 1080 (square) and 1920 px; at most `SHARE_ROWS` proposals are
    listed (the rest are counted and left to the A3 sheet).

    Parameters
    ----------
    project
        The compound.
    analysis
        Default: ``analyze_sites(project)``.
    lang
        ``"zh"`` or ``"en"``.
    date
        Shown under the title; default today.

    Returns
    -------
    bytes
        The PNG file.
    """
    analysis, props = prepare(project, analysis, lang)
    dpi = 150
    W = SHARE_WIDTH / dpi / MM  # 182.9 mm; type in points reads large on a phone
    k = 1.45
    failed = failed_checks(props, lang)
    n_rows = min(len(props), SHARE_ROWS) + (len(props) > 1) + (len(props) > SHARE_ROWS or 0)
    table_h = 12 + 12 * max(n_rows, 1) + 5.5 * min(len(failed), 4) + 6
    extent_of = bounds(project, analysis)
    aspect = (extent_of[3] - extent_of[1]) / max(extent_of[2] - extent_of[0], 1e-9)
    map_w = W - 10
    map_h = float(np.clip(map_w * aspect * 1.08, 0.6 * map_w, 1.1 * map_w))
    head_h, legend_h = 27.0, 9.0
    H = float(np.clip(head_h + map_h + legend_h + table_h + 4, W, W * 16 / 9))
    map_h = H - head_h - legend_h - table_h - 4
    with sheet_style():
        fig = Figure(figsize=(W * MM, H * MM))
        name, heading, _ = sheet_title(project, lang)
        title = f"{name} · {heading}"
        fig.text(7 / W, 1 - 13 / H, name, fontsize=20, fontweight="bold", color=INK)
        fig.text(7 / W, 1 - 21.5 / H, f"{heading}  ·  {date or dt.date.today()}", fontsize=11,
                 color=GREY)  # fmt: skip
        extent, _ = fit(extent_of, map_w, map_h, 0.03, round_scale=False)
        ax = fig.add_axes((5 / W, 1 - (head_h + map_h) / H, map_w / W, map_h / H))
        draw_map(ax, project, analysis, props, lang=lang, k=k, extent=extent, badge_pt=11,
                  grid_labels=False)  # fmt: skip
        handles = legend_handles(project, analysis, lang, short=True)
        fig.legend(handles=handles, loc="center left", ncol=len(handles), frameon=False,
                   bbox_to_anchor=(4 / W, 1 - (head_h + map_h + legend_h / 2) / H), fontsize=9,
                   handlelength=1.8, columnspacing=1.0, handletextpad=0.5)  # fmt: skip
        top = head_h + map_h + legend_h
        tab = fig.add_axes((5 / W, 0, map_w / W, (H - top) / H))
        tab.axis("off")
        tab.set(xlim=(0, map_w), ylim=(H - top, 0))
        y = draw_table(tab, project, analysis, props, lang=lang, row_h=12.0, fs=10,
                        widths=(11, 55, 26, 25, 34, 21.9), columns=(0, 1, 4, 5, 6, 7),
                        max_rows=SHARE_ROWS)  # fmt: skip
        y += 2
        for letter, message in failed[:4]:
            tab.text(1, y, f"{letter}  {message}", fontsize=9, color=RED, va="top")
            y += 5.5
        return _save(fig, "png", dpi, title)


# --- writing files --------------------------------------------------------------------


def export_sheet(
    project: Project,
    path: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    lang: str = "zh",
    analysis: SiteAnalysis | None = None,
) -> Path:
    """Write a sheet atomically: ``pdf``/``png`` (A3), ``share`` (chat PNG) or ``html``.

    `fmt` defaults to the file's suffix (``.pdf``, ``.png``, ``.html``).
    """
    target = Path(path)
    if fmt is None:
        fmt = {".pdf": "pdf", ".png": "png", ".html": "html", ".htm": "html"}.get(
            target.suffix.lower()
        )
        if fmt is None:
            raise GridGISError(
                f"cannot tell the format of {str(target)!r}: pass one of {FORMATS} or name the "
                "file .pdf, .png or .html"
            )
    if fmt not in FORMATS:
        raise GridGISError(f"format must be one of {FORMATS}, got {fmt!r}")
    folder = target.parent
    if not folder.is_dir():
        raise ProjectError(f"cannot write {str(target)!r}: folder {str(folder)!r} does not exist")
    if fmt == "html":
        # folium loads only for this format
        from gridgis.report.sheets.offline import standalone_html

        data = standalone_html(project, analysis, lang=lang).encode("utf-8")
    elif fmt == "share":
        data = share_png(project, analysis, lang=lang)
    else:
        data = map_sheet(project, analysis, fmt=fmt, lang=lang)
    return write_bytes(data, target)
