"""The proposals table of the printable sheets, the notes under it and the funding split.

Examples
--------
>>> _wrap("居民自筹按服务户数分摊", 8)
['居民自筹', '按服务户', '数分摊']
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from gridgis.analysis.result import SiteAnalysis
from gridgis.core.project import Project
from gridgis.report.i18n import t
from gridgis.report.labels import count, money, name_in, number, type_label
from gridgis.report.sheets.proposals import failed_checks, type_colours
from gridgis.report.sheets.style import GREY, INK, RED

__all__ = ["draw_table", "funding_lines", "notes"]


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


def _table_rows(project: Project, props: pd.DataFrame, lang: str, compact: bool) -> list[list[str]]:
    """Cells of each proposal; `compact` puts the capacity under the name."""
    rows = []
    for _, p in props.iterrows():
        capacity = count(p["capacity"], str(p["capacity_unit"]), lang)
        name = name_in(p.to_dict(), lang) or str(p["site_id"])
        kind = type_label(str(p["site_type"]), lang, project.settings)
        below = [kind] if kind != name else []
        below += [capacity] if compact else []
        rows.append([
            p["letter"],
            f"{name}\n{' · '.join(below)}".strip(),
            number(p["area_m2"]),
            capacity,
            number(p["cost_cny"]),
            number(p["per_household_cny"]),
            f"{number(p['households_served'])} / {number(p['households_adjacent'])}",
            str(int(p["checks_failed"])),
        ])  # fmt: skip
    return rows


def draw_table(
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
    header = [t("sheet.col_letter", lang), t("sheet.col_proposal", lang),
              t("sheet.col_area", lang), t("sheet.col_capacity", lang),
              t("sheet.col_cost", lang), t("sheet.col_per_hh", lang),
              t("sheet.col_served", lang), t("sheet.col_failed", lang)]  # fmt: skip
    rows = _table_rows(project, props, lang, compact=1 in columns and 3 not in columns)
    shown, hidden = rows[:max_rows], len(rows) - max_rows
    if len(rows) > 1:
        area, cost = number(props["area_m2"].sum()), number(props["cost_cny"].sum())
        failed = str(int(props["checks_failed"].sum()))
        shown.append(["", t("sheet.total", lang), area, "", cost, "", "", failed])
    colours = type_colours(project, analysis.sites)
    xs = np.concatenate([[0], np.cumsum(widths)])
    head_h = row_h * 1.05
    ax.add_patch(Rectangle((0, 0), xs[-1], head_h, fc=INK, ec="none"))
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
                c = colours.get(str(props.iloc[i]["site_type"]), INK)
                ax.text((xs[j] + xs[j + 1]) / 2, y + row_h / 2, value, ha="center", va="center",
                        fontsize=fs * 1.1, fontweight="bold", color=c,
                        bbox={"boxstyle": "circle,pad=0.25", "fc": "white", "ec": c,
                              "lw": 1.2})  # fmt: skip
            elif col == 1:
                name, _, kind = value.partition("\n")
                ax.text(xs[j] + 1.2, y + row_h * (0.36 if kind else 0.5), name, ha="left",
                        va="center", fontsize=fs, color=INK,
                        fontweight="bold" if is_total else "normal")  # fmt: skip
                if kind:
                    ax.text(xs[j] + 1.2, y + row_h * 0.74, kind, ha="left", va="center",
                            fontsize=fs * 0.8, color=GREY)  # fmt: skip
            else:
                red = col == 7 and value not in ("0", "")
                ax.text(xs[j + 1] - 1.2, y + row_h / 2, value, ha="right", va="center",
                        fontsize=fs, color=RED if red else INK,
                        fontweight="bold" if red or is_total else "normal")  # fmt: skip
        y += row_h
    ax.plot([0, xs[-1]], [y, y], color=INK, lw=0.8)
    if not rows:
        ax.text(1.2, y + row_h / 2, t("sheet.none", lang), ha="left", va="center", fontsize=fs,
                color=GREY)  # fmt: skip
        y += row_h
    if hidden > 0:
        ax.text(1.2, y + row_h * 0.4, t("sheet.more", lang, n=hidden), ha="left", va="center",
                fontsize=fs * 0.85, color=GREY)  # fmt: skip
        y += row_h * 0.8
    return y


def notes(project: Project, props: pd.DataFrame, lang: str, *, width: int) -> list[tuple[str, str]]:
    """(text, colour) lines under the table: failed checks, then how to read it."""
    lines: list[tuple[str, str]] = []
    failed = failed_checks(props, lang)
    if failed:
        lines.append((t("sheet.checks_heading", lang), RED))
        for letter, message in failed[:8]:
            lines += [(f"  {letter}  {part}", RED) for part in _wrap(message, width - 5)]
        if len(failed) > 8:
            lines.append((t("sheet.more", lang, n=len(failed) - 8), RED))
    multiple = project.settings.funding.subsidy_multiple.value
    for note in (t("sheet.note_hh", lang), t("sheet.note_fund", lang, m=multiple),
                 t("sheet.note_cost", lang)):  # fmt: skip
        lines += [(part, GREY) for part in _wrap(note, width)]
    return lines


def funding_lines(props: pd.DataFrame, lang: str) -> list[tuple[str, str]]:
    """The proposals' cost split, (label, amount) a source (empty without proposals)."""
    if not len(props):
        return []
    parts = [
        (t("sheet.cost_sum", lang), "cost_cny"),
        (t("sheet.residents", lang), "residents_cny"),
        (t("sheet.subsidy", lang), "subsidy_cny"),
        (t("sheet.other", lang), "other_cny"),
    ]
    return [
        (label, money(props[column].sum(), lang))
        for label, column in parts
        if column in props and (column != "other_cny" or props[column].sum() > 0)
    ]
