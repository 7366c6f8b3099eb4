"""Deliverables for the design institute and street office: the XLSX budget.

The workbook keeps numbers as numbers (units go in the headers), CJK text
intact, a frozen bilingual header row and sensible column widths. It is
written beside the target and moved into place, like every gridgis file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gridgis.core.io import write_bytes

__all__ = ["write_xlsx"]

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
