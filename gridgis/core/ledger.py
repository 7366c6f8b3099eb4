"""The household ledger (楼栋台账): a table of buildings' households joined to the drawn buildings.

`read_ledger` reads a CSV (UTF-8, UTF-8 with BOM, GBK/GB18030) or XLSX file
into a frame indexed by the file row the user sees (the header is row 1);
`join_ledger` matches its rows to the buildings layer, all or nothing.

Matching rule. A row is matched by its ``building_id``, else by its ``name``;
each is tried first as exact text (after Unicode NFKC and trimming), then by
its building number. The number of a text is read only from these shapes
(spaces ignored, full-width digits allowed): ``3``, ``03``, ``3栋``, ``3幢``,
``3号``, ``3号楼``, ``3楼``, ``3座``, ``第3栋``, Chinese numerals (``三栋``,
``十二号楼``), and ``B3`` (an id of the letter B and digits). A building has
the numbers of its ``building_id`` and of its ``name``. Any other text
(``3-1栋``, ``A3``, ``3单元``) matches only exactly. A text that matches more
than one building, or a row whose id and name name different buildings, is a
problem, never a guess.

>>> import pandas as pd
>>> buildings = pd.DataFrame({"building_id": ["B1", "B2"], "name": ["1栋", "2栋"],
...                           "households": [10, 20]})
>>> ledger = read_ledger("楼栋号,户数\\n1号楼,28\\n三栋,30\\n".encode("gbk"), filename="l.csv")
>>> joined = join_ledger(buildings, ledger)
>>> joined.matched, joined.unmatched_rows, joined.unmatched_buildings
({2: 'B1'}, [3], ['B2'])
>>> joined.buildings["households"].tolist()
[28, 20]
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gridgis.errors import Problem, ReadError, ValidationError

__all__ = ["LEDGER_COLUMNS", "LedgerJoin", "building_number", "join_ledger", "read_ledger"]

LEDGER_COLUMNS: dict[str, tuple[str, ...]] = {
    "building_id": ("building_id", "id", "楼栋编号", "编号"),
    "name": ("name", "名称", "楼栋", "楼栋号", "楼号", "楼栋名称"),
    "households": ("households", "户数", "住户数", "总户数"),
    "units": ("units", "单元数", "单元"),
    "floors": ("floors", "层数", "楼层数"),
    "floor_area_m2": ("floor_area_m2", "建筑面积", "面积"),
}
"""Each ledger column and the headers it may have (case, spaces and a unit in brackets ignored)."""

_KEYS = ("building_id", "name")
_VALUES = {"households": 0, "units": 1, "floors": 1, "floor_area_m2": 0}  # column -> minimum
_INTS = ("households", "units", "floors")
_CN_DIGITS = {ch: int(d) for ch, d in zip("零〇一二两三四五六七八九", "001223456789", strict=True)}
_NUMBER = re.compile(r"^第?(?:(\d+)|([零〇一二两三四五六七八九十百]+))(?:号楼|栋|幢|号|楼|座)?$")
_B_ID = re.compile(r"^B0*(\d+)$")
_FORMULA = ("=", "+", "-", "@")
_HEADER_SEARCH = 10  # rows scanned for the header (a title row may sit above it)


@dataclass(frozen=True)
class LedgerJoin:
    """The result of `join_ledger`.

    Parameters
    ----------
    buildings
        A copy of the buildings with the ledger's values written in.
    matched
        Ledger row (as in the file) -> the ``building_id`` it was joined to.
    unmatched_rows
        Ledger rows that match no building.
    unmatched_buildings
        ``building_id`` of the buildings no row matched.
    problems
        Warnings (rows without a building, rows matching none); errors raise instead.
    """

    buildings: pd.DataFrame
    matched: dict[int, str]
    unmatched_rows: list[int]
    unmatched_buildings: list[str]
    problems: list[Problem] = field(default_factory=list)


def _clean(value: Any) -> str:
    """`value` as NFKC text without surrounding space; ``""`` when not given."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _chinese_number(text: str) -> int:
    """``三`` -> 3, ``十二`` -> 12, ``二〇`` -> 20, ``一百零五`` -> 105."""
    if "十" not in text and "百" not in text:
        return int("".join(str(_CN_DIGITS[ch]) for ch in text))
    total, digit = 0, 0
    for ch in text:
        if ch == "百":
            total, digit = total + (digit or 1) * 100, 0
        elif ch == "十":
            total, digit = total + (digit or 1) * 10, 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit


def building_number(text: Any) -> int | None:
    """The building number a text writes, or None (see the module's matching rule).

    Examples
    --------
    >>> [building_number(t) for t in ["3栋", "3 号楼", "３幢", "三栋", "第十二栋", "B03", "A3"]]
    [3, 3, 3, 3, 12, 3, None]
    """
    s = re.sub(r"\s+", "", _clean(text)).upper()
    if m := _B_ID.match(s):
        return int(m.group(1))
    if not (m := _NUMBER.match(s)):
        return None
    try:
        return int(m.group(1)) if m.group(1) else _chinese_number(m.group(2))
    except KeyError:  # e.g. 十十 is not a numeral we read
        return None


def _header_key(text: Any) -> str:
    s = re.sub(r"\s+", "", _clean(text)).casefold()
    return re.sub(r"\(.*\)$", "", s)


_HEADERS = {_header_key(a): col for col, aliases in LEDGER_COLUMNS.items() for a in aliases}


def _decode(data: bytes, source: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReadError(f"{source}: not UTF-8 or GBK text; save the ledger as CSV UTF-8 or as XLSX")


def _xlsx_rows(data: bytes, source: str) -> list[list[Any]]:
    import openpyxl  # formulas are read as their text ("=A1*2"), never evaluated

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a corrupt file
        raise ReadError(f"{source}: not a readable XLSX file ({exc})") from exc
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def read_ledger(
    source: str | os.PathLike[str] | bytes, *, filename: str | None = None
) -> pd.DataFrame:
    """Read a ledger file into a frame of its known columns, indexed by file row.

    Parameters
    ----------
    source
        A path, or the bytes of an upload or a paste (CSV text).
    filename
        The upload's name when `source` is bytes; ``.xlsx`` means Excel, else CSV
        (bytes starting as a zip are read as XLSX whatever the name).

    Returns
    -------
    DataFrame
        Columns among `LEDGER_COLUMNS` (the cells as written: text, numbers or
        None), index = the row number as the user sees it (header row 1, blank
        rows skipped). ``attrs["source"]`` is the file name, ``attrs["headers"]``
        maps each column to its header in the file.

    Raises
    ------
    ReadError
        If the file cannot be read, or has no ``building_id``/``name`` column or
        no ``households``/``units``/``floors``/``floor_area_m2`` column.
    """
    if isinstance(source, bytes):
        data, name = source, filename or "ledger"
    else:
        path = Path(source)
        name = filename or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ReadError(f"{name}: cannot read the ledger ({exc})") from exc
    if data.startswith(b"PK\x03\x04") or name.lower().endswith((".xlsx", ".xlsm")):
        rows = _xlsx_rows(data, name)
    else:
        rows = [list(r) for r in csv.reader(io.StringIO(_decode(data, name), newline=""))]

    def known(row: list[Any]) -> dict[int, str | None]:
        return {i: _HEADERS.get(_header_key(c)) for i, c in enumerate(row)}

    h = next(
        (i for i, r in enumerate(rows[:_HEADER_SEARCH]) if set(known(r).values()) & {*_KEYS}), -1
    )
    if h < 0:
        raise ReadError(f"{name}: no building_id or name column (楼栋号/名称) in the first rows")
    header, columns = rows[h], known(rows[h])
    headers: dict[str, str] = {}
    for i, col in columns.items():
        if col is None:
            continue
        if col in headers:
            raise ReadError(f"{name}: columns {headers[col]!r} and {header[i]!r} both give {col}")
        headers[col] = _clean(header[i])
    if not any(c in _VALUES for c in headers):
        raise ReadError(f"{name}: no households (户数), units, floors or floor_area_m2 column")
    records, index = [], []
    for r, row in enumerate(rows[h + 1 :], start=h + 2):
        cells = {col: row[i] if i < len(row) else None for i, col in columns.items() if col}
        if all(_clean(v) == "" for v in cells.values()):
            continue
        records.append(cells)
        index.append(r)
    frame = pd.DataFrame(records, pd.Index(index, name="row"), list(headers), dtype=object)
    frame.attrs.update(source=name, headers=headers)
    return frame


def _number(
    value: Any, column: str
) -> tuple[float | None, tuple[str, str, tuple[tuple[str, str], ...]] | None]:
    """The cell as a number (None when not given), or why not: (message, code, params)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        num = float(value)
        if num != num:
            return None, None
    else:
        text = _clean(value)
        if text == "":
            return None, None
        if not re.fullmatch(r"-?\d+(\.\d+)?", text):
            note = " (kept as text, never evaluated)" if text[0] in _FORMULA else ""
            message = f"{column} must be a number, got {text!r}{note}"
            return None, (message, "not_number", (("value", repr(text)),))
        num = float(text)
    shown = _clean(value) if isinstance(value, str) else f"{num:g}"
    if num < _VALUES[column]:
        message = f"{column} must be >= {_VALUES[column]}, got {value!r}"
        return None, (message, "below_min", (("minimum", f"{_VALUES[column]:g}"), ("value", shown)))
    if column in _INTS and not num.is_integer():
        message = f"{column} must be a whole number, got {value!r}"
        return None, (message, "not_whole", (("value", shown),))
    return num, None


def _index(buildings: pd.DataFrame) -> tuple[list[str], dict[str, list[str]], dict[int, list[str]]]:
    """Building ids, exact text -> ids (id and name), number -> ids."""
    ids = [_clean(v) for v in buildings["building_id"]]
    names = [_clean(v) for v in buildings["name"]] if "name" in buildings else [""] * len(ids)
    exact: dict[str, list[str]] = {}
    numbers: dict[int, list[str]] = {}
    for bid, bname in zip(ids, names, strict=True):
        for text in dict.fromkeys(t for t in (bid, bname) if t):
            exact.setdefault(text, []).append(bid)
        for n in {n for t in (bid, bname) if (n := building_number(t)) is not None}:
            numbers.setdefault(n, []).append(bid)
    return ids, exact, numbers


def _resolve(text: str, exact: dict[str, list[str]], numbers: dict[int, list[str]]) -> list[str]:
    """The buildings `text` names: exact text first, then its building number."""
    if text in exact:
        return exact[text]
    n = building_number(text)
    return numbers.get(n, []) if n is not None else []


def _match(
    given: dict[str, str], exact: dict[str, list[str]], numbers: dict[int, list[str]]
) -> tuple[str | None, str | None, str | None]:
    """The building a row names (or None), and the column and reason when it is unclear."""
    found = {c: _resolve(t, exact, numbers) for c, t in given.items()}
    for col, hits in found.items():
        if len(hits) > 1:
            return None, col, f"{given[col]!r} matches buildings {', '.join(hits)}"
    single = {c: hits[0] for c, hits in found.items() if hits}
    if len(set(single.values())) > 1:
        why = (
            f"building_id {given['building_id']!r} is building {single['building_id']} but "
            f"name {given['name']!r} is building {single['name']}"
        )
        return None, None, why
    return next(iter(single.values()), None), None, None


def join_ledger(buildings: pd.DataFrame, ledger: pd.DataFrame) -> LedgerJoin:
    """Join ledger rows to buildings by id, then name, all or nothing.

    Parameters
    ----------
    buildings
        The buildings layer (``building_id``, optionally ``name``); not changed.
    ledger
        A ledger as `read_ledger` gives it; its index is the row number shown.

    Returns
    -------
    LedgerJoin
        The updated copy and what matched. Values given win; blank cells keep the
        building's value. A row giving ``units`` and ``floors`` but no
        ``households`` clears ``households`` so it is derived from them.

    Raises
    ------
    ValidationError
        Listing every bad number, ambiguous or conflicting match and building
        matched by two rows (with file row and column); nothing is applied.
    """
    source = ledger.attrs.get("source", "ledger")
    headers: dict[str, str] = ledger.attrs.get("headers", {})
    errors: list[Problem] = []
    warnings: list[Problem] = []

    def problem(
        row: int,
        column: str | None,
        message: str,
        fix: str,
        *,
        warn: bool = False,
        code: str | None = None,
        params: tuple[tuple[str, str], ...] = (),
    ) -> None:
        shown = headers.get(column or "", column)
        where = f"{shown} ({column})" if column and shown != column else column
        severity = "warning" if warn else "error"
        p = Problem(message, source, "ledger", f"row {row}", where, fix, severity, code, params)
        (warnings if warn else errors).append(p)

    if "building_id" not in buildings:
        raise ValidationError([Problem("no building_id column", layer="buildings")])
    if not any(c in ledger for c in _KEYS):
        raise ValidationError([Problem("no building_id or name column", source, "ledger")])
    ids, exact, numbers = _index(buildings)
    unmatched: list[int] = []
    first_row: dict[str, int] = {}
    values: dict[str, dict[str, float | None]] = {}
    for row, cells in zip(map(int, ledger.index), ledger.to_dict("records"), strict=True):
        given = {c: _clean(cells[c]) for c in _KEYS if c in cells and _clean(cells[c])}
        parsed: dict[str, float | None] = {}
        for col in (c for c in _VALUES if c in cells):
            num, bad = _number(cells[col], col)
            if bad:
                message, code, params = bad
                problem(row, col, message, f"write {col} as a plain number", code=code,
                        params=params)  # fmt: skip
            elif num is not None:
                parsed[col] = num
        bid, key, why = _match(given, exact, numbers)
        if why:
            problem(row, key, why, "write the building_id as in the buildings layer")
        elif bid is None:
            text = " / ".join(repr(t) for t in given.values()) or "no building_id or name"
            problem(row, None, f"{text}: matches no building", "check the number", warn=True)
            unmatched.append(row)
        elif bid in first_row:
            msg = f"building {bid} is also given in row {first_row[bid]}"
            problem(row, None, msg, "keep one row per building")
        else:
            first_row[bid] = row
            values[bid] = parsed
    if errors:
        raise ValidationError(errors)
    return LedgerJoin(
        _apply(buildings, ids, values),
        {r: b for b, r in first_row.items()},
        unmatched,
        [b for b in ids if b not in values],
        warnings,
    )


def _apply(
    buildings: pd.DataFrame, ids: Iterable[str], values: dict[str, dict[str, float | None]]
) -> pd.DataFrame:
    """A copy of `buildings` with each matched building's values written in."""
    out = buildings.copy()
    positions = {bid: pos for pos, bid in enumerate(ids)}
    for col in _VALUES:
        given = {b: v[col] for b, v in values.items() if col in v}
        if col == "households":
            for b, v in values.items():
                if "households" not in v and "units" in v and "floors" in v:
                    given[b] = None
        if not given:
            continue
        dtype = "Int64" if col in _INTS else "float64"
        column = out[col].astype(dtype) if col in out else pd.Series(None, out.index, dtype)
        column = column.copy()
        for b, num in given.items():
            column.iloc[positions[b]] = pd.NA if num is None else num
        out[col] = column
    return out
