"""Deliverables for the design institute and street office: the XLSX budget.

`budget_sheets` lays an analysis out as three tables (sites, cost items,
funding) with headers from ``locales/<lang>/xlsx.toml``: ``lang="zh"`` (the
default) writes bilingual headers, Chinese then English ("造价 cost (CNY)"),
as the street office and the design institute share the file; ``lang="en"``
writes English only. `write_xlsx` keeps numbers as numbers (counts as
integers, units in the headers), CJK text intact, text that looks like a
formula (``=``, ``+``, ``-``, ``@``) as text, a frozen header row and sensible
column widths. It is written beside the target and moved into place, like
every gridgis file.

Examples
--------
>>> from gridgis.core.project import open_project
>>> from gridgis.analysis.engine import analyze_sites
>>> sheets = budget_sheets(analyze_sites(open_project("data/dongsi180")))
>>> list(sheets), list(sheets["sites 点位"].columns[:2])
(['sites 点位', 'cost items 造价明细', 'funding 资金'], ['编号 site_id', '名称 name'])
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gridgis.analysis.result import SiteAnalysis, line_quantities
from gridgis.core.io import write_bytes
from gridgis.errors import GridGISError
from gridgis.report.checks import check_message
from gridgis.report.i18n import LANGS, t

__all__ = ["FORMULA_STARTS", "budget_sheets", "write_xlsx"]

FORMULA_STARTS = ("=", "+", "-", "@")
"""Text starting with one of these is stored as text, never as a formula."""

_HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")


def _cell(value: object) -> object:
    """A value openpyxl stores natively: numbers stay numbers, lists become text."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        return item()
    if isinstance(value, (list, tuple, set, dict)):
        return ", ".join(map(str, value)) if not isinstance(value, dict) else str(value)
    return value


def _header(key: str, lang: str) -> str:
    """A column header: Chinese then English for ``zh``, English for ``en``."""
    en = t(f"xlsx.col.{key}", "en")
    return en if lang == "en" else f"{t(f'xlsx.col.{key}', 'zh')} {en}"


def _sheet(key: str, lang: str) -> str:
    en = t(f"xlsx.{key}", "en")
    return en if lang == "en" else f"{en} {t(f'xlsx.{key}', 'zh')}"


def _messages(checks: list[dict[str, Any]], status: str, lang: str) -> str:
    return "; ".join(check_message(c, lang) for c in checks if c["status"] == status)


def budget_sheets(result: SiteAnalysis, *, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """Tables for the XLSX budget: sites, cost line items, funding (units in headers).

    Parameters
    ----------
    result
        An analysis (`gridgis.analysis.engine.analyze_sites`).
    lang
        ``"zh"``: bilingual headers, Chinese first, check messages in Chinese;
        ``"en"``: English headers and messages.
    """
    if lang not in LANGS:
        raise GridGISError(f"lang must be one of {LANGS}, got {lang!r}")
    s = result.sites

    def h(key: str) -> str:
        return _header(key, lang)

    sites = pd.DataFrame(
        {
            h("site_id"): s["site_id"],
            h("name"): s["name"],
            h("site_type"): s["site_type"],
            h("area"): s["area_m2"].round(2),
            h("perimeter"): s["perimeter_m"].round(2),
            h("min_width"): s["min_width_m"].round(2),
            h("capacity"): s["capacity"],
            h("capacity_unit"): s["capacity_unit"],
            h("charging_ports"): s["charging_ports"],
            h("cost"): s["cost_cny"],
            h("households_served"): s["households_served"],
            h("households_adjacent"): s["households_adjacent"],
            h("buildings_served"): s["buildings_served"],
            h("microgrids"): s["microgrids"].map(
                lambda grids: ", ".join(f"{g['grid_id']} {g.get('name') or ''}" for g in grids)
            ),
            h("failed_checks"): s["checks"].map(lambda cs: _messages(cs, "fail", lang)),
            h("not_checked"): s["checks"].map(lambda cs: _messages(cs, "not_checked", lang)),
        }
    )
    lines = result.lines
    label = lines["label_en"] if lang == "en" else lines["label_zh"] + " / " + lines["label_en"]
    items = pd.DataFrame(
        {
            h("site_id"): lines["site_id"],
            h("item"): lines["item"],
            h("label"): label,
            h("quantity"): pd.Series(line_quantities(lines), index=lines.index, dtype=object),
            h("unit"): lines["unit"],
            h("rate"): lines["rate_cny"],
            h("amount"): lines["amount_cny"],
            h("source"): lines["source"],
            h("reference"): lines["ref"],
        }
    )
    funding = pd.DataFrame(
        {
            h("site_id"): s["site_id"],
            h("cost"): s["cost_cny"],
            h("residents"): s["residents_cny"],
            h("subsidy"): s["subsidy_cny"],
            h("other"): s["other_cny"],
            h("per_household"): s["per_household_cny"],
            h("subsidy_capped"): s["subsidy_capped"],
        }
    )
    plan = result.plan_funding.iloc[0]
    plan_label = t("xlsx.plan", "en") if lang == "en" else f"{t('xlsx.plan', 'zh')} plan"
    funding.loc[len(funding)] = [
        plan_label,
        s["cost_cny"].sum(),
        plan["residents_cny"],
        plan["subsidy_cny"],
        plan["other_cny"],
        plan["per_household_cny"],
        plan["subsidy_capped"],
    ]
    return {
        _sheet("sheet_sites", lang): sites,
        _sheet("sheet_lines", lang): items,
        _sheet("sheet_funding", lang): funding,
    }


def _width(values: list[object]) -> int:
    def display(text: str) -> int:  # CJK characters are two columns wide
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    longest = max((display(str(v)) for v in values if v is not None), default=8)
    return max(8, min(60, longest + 2))


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write DataFrames as sheets of one workbook, atomically.

    Parameters
    ----------
    sheets
        Sheet name -> table. Column names are the headers (put units in
        them, e.g. ``"造价 cost (CNY)"``); the index is not written.
    path
        Target ``.xlsx`` file.

    Returns
    -------
    Path
        The written file.
    """
    target = Path(path)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(title=name[:31])
        headers = [str(c) for c in frame.columns]
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        for row in rows:
            sheet.append(row)
        for cells in sheet.iter_rows(min_row=2):
            for cell in cells:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"  # text, not a formula
        for col, header in enumerate(headers, start=1):
            column_values = [header] + [r[col - 1] for r in rows]
            sheet.column_dimensions[get_column_letter(col)].width = _width(column_values)
            if "CNY" in header:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col):
                    cell.number_format = "#,##0.00"
        sheet.freeze_panes = "A2"
    buffer = BytesIO()
    workbook.save(buffer)
    return write_bytes(buffer.getvalue(), target)
