"""The owners' votes register: reading it, checking it row by row, and fast entry.

A votes register is the list of owners entitled to vote on one site's
proposal: one row per household with its exclusive floor area (专有部分面积)
and its vote, ``agree``, ``oppose`` or ``abstain``, left empty when the
household did not take part. Areas are parsed as exact fractions: ``"52.40"``
is ``262/5`` m2. A project keeps its register in its store
(`gridgis.core.store.VotesStore`: ``votes.csv`` in a folder, the ``votes``
table of a GeoPackage); `read_register` is the one way to read it.

Examples
--------
>>> votes = read_register("data/dongsi180")
>>> len(votes), [h.household for h in households(votes, site_id="SITE3")][:2]
(308, ['B1-1-101', 'B1-1-102'])
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gridgis.core.store import VotesStore, as_register
from gridgis.errors import GridGISError, Problem

if TYPE_CHECKING:
    from gridgis.core.project import Project

__all__ = [
    "REQUIRED",
    "VOTE_CHOICES",
    "Household",
    "cell_text",
    "check_register",
    "columns",
    "households",
    "is_missing",
    "parse_area",
    "parse_rows",
    "read_register",
    "register_sites",
    "site_positions",
    "votes_from_entry",
]

VOTE_CHOICES = ("agree", "oppose", "abstain")
REQUIRED = ("site_id", "household", "area_m2", "vote")


@dataclass(frozen=True)
class Household:
    """One checked row of a register."""

    pos: int  # 0-based row of the register
    building: str
    household: str
    area: Fraction
    vote: str | None  # None: did not take part


def read_register(project: Project | str | os.PathLike[str]) -> pd.DataFrame:
    """The votes register of a project (opened, or a path), as text (see `as_register`).

    A `Project` gives its ``votes`` layer (read by `open_project` through the
    store's file rules); a path is read from the store now. No register: no rows.
    """
    if isinstance(project, str | os.PathLike):
        return VotesStore(project).load()
    votes = project.layers.get("votes")
    return as_register(pd.DataFrame(columns=REQUIRED) if votes is None else votes)


def is_missing(value: object) -> bool:
    """True for None, NaN and blank text."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _show(value: object) -> str:
    """``repr`` of a cell, numpy scalars as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def cell_text(value: object) -> str:
    """A cell as stripped text (``""`` when missing)."""
    return "" if is_missing(value) else str(value).strip()


def parse_area(value: object) -> Fraction | None:
    """The exact area of a cell, or None when it is not a finite number >= 0.

    >>> parse_area("52.40"), parse_area(39.6), parse_area("-1")
    (Fraction(262, 5), Fraction(198, 5), None)
    """
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, Fraction):
        area = value
    elif isinstance(value, int | np.integer):
        area = Fraction(int(value))
    elif isinstance(value, float | np.floating):
        if not math.isfinite(float(value)):
            return None
        area = Fraction(repr(float(value)))  # the decimal it was written as
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        if not number.is_finite():
            return None
        area = Fraction(number)
    return area if area >= 0 else None


def columns(votes: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """The register with tidy column names; error if a required one is missing."""
    frame = pd.DataFrame(votes).rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    for name in REQUIRED:
        if name not in frame.columns:
            found = ", ".join(map(str, frame.columns)) or "none"
            problem = Problem(
                f"required column {name!r} is missing (columns found: {found})",
                source,
                "votes",
                field=name,
                fix="a votes register has columns site_id, building_id, household, area_m2, vote",
            )
            raise GridGISError(str(problem))
    return frame


def _raise_first(problems: list[Problem]) -> None:
    if not problems:
        return
    more = len(problems) - 1
    tail = f" (and {more} more problem{'s' if more != 1 else ''} in the register)" if more else ""
    raise GridGISError(f"{problems[0]}{tail}")


def parse_rows(
    frame: pd.DataFrame, positions: Sequence[int], source: str | None
) -> list[Household]:
    """Parse and check the register rows at `positions`; raise on the first problem."""
    problems: list[tuple[int, Problem]] = []
    rows: list[Household] = []
    has_building = "building_id" in frame.columns
    cols = {c: frame[c].to_numpy(dtype=object) for c in (*REQUIRED, "building_id") if c in frame}

    def add(pos: int, field: str, message: str, fix: str) -> None:
        problems.append((pos, Problem(message, source, "votes", f"row {pos + 1}", field, fix)))

    seen: dict[tuple[str, str], list[int]] = {}
    for pos in positions:
        household = cell_text(cols["household"][pos])
        building = cell_text(cols["building_id"][pos]) if has_building else ""
        raw_area, raw_vote = cols["area_m2"][pos], cols["vote"][pos]
        ok = True
        if not household:
            add(pos, "household", "household is empty", "name every household, e.g. B1-1-101")
            ok = False
        area = None if is_missing(raw_area) else parse_area(raw_area)
        if is_missing(raw_area):
            add(pos, "area_m2", "area_m2 is empty", "give every household its exclusive area")
            ok = False
        elif area is None:
            add(pos, "area_m2", f"area_m2 must be a number >= 0, got {_show(raw_area)}",
                "write the exclusive area in m2 as a plain number")  # fmt: skip
            ok = False
        vote = cell_text(raw_vote) or None
        if vote is not None and vote not in VOTE_CHOICES:
            add(pos, "vote", f"vote {_show(raw_vote)} is not one of {', '.join(VOTE_CHOICES)}",
                "use agree, oppose, abstain, or leave it empty if the household "
                "did not take part")  # fmt: skip
            ok = False
        if household:
            seen.setdefault((building, household), []).append(pos)
        if ok and area is not None:
            rows.append(Household(pos, building, household, area, vote))
    for (building, household), where in seen.items():
        if len(where) > 1:
            of = f" of building {building!r}" if building else ""
            times = "twice" if len(where) == 2 else f"{len(where)} times"
            listed = [str(p + 1) for p in where]
            rows_text = f"{', '.join(listed[:-1])} and {listed[-1]}"
            message = (
                f"household {household!r}{of} is listed {times} (rows {rows_text}); "
                "a household has one vote"
            )
            fix = "keep one row per household"
            problems.append((where[1], Problem(message, source, "votes", None, "household", fix)))
    problems.sort(key=lambda item: item[0])
    _raise_first([p for _, p in problems])
    return rows


def site_positions(frame: pd.DataFrame, site_id: str, source: str | None) -> list[int]:
    """Rows of `frame` for `site_id`; an error naming the sites there when there are none."""
    sites = [cell_text(v) for v in frame["site_id"].to_numpy(dtype=object)]
    wanted = str(site_id).strip()
    positions = [i for i, s in enumerate(sites) if s == wanted]
    if not positions:
        known = ", ".join(repr(s) for s in dict.fromkeys(s for s in sites if s)) or "none"
        where = f"{source}: " if source else ""
        raise GridGISError(
            f"{where}site_id={site_id!r} has no rows in the votes register (sites in it: {known})"
        )
    return positions


def register_sites(votes: pd.DataFrame) -> list[str]:
    """The sites named in the register, in order of first appearance."""
    values = pd.DataFrame(votes)["site_id"].to_numpy(dtype=object) if len(votes) else []
    return list(dict.fromkeys(s for s in map(cell_text, values) if s))


def households(votes: pd.DataFrame, *, site_id: str, source: str | None = None) -> list[Household]:
    """The checked households of one site's register (raises `GridGISError` on a bad row)."""
    frame = columns(votes, source)
    return parse_rows(frame, site_positions(frame, site_id, source), source)


def check_register(votes: pd.DataFrame, *, source: str | None = None) -> None:
    """Check every row of every site; raise `GridGISError` naming the first problem."""
    frame = columns(votes, source)
    for site in register_sites(frame):
        parse_rows(frame, site_positions(frame, site, source), source)


def votes_from_entry(
    building_id: str,
    rows: Iterable[Sequence[object]],
    *,
    site_id: str,
) -> pd.DataFrame:
    """Register rows for one building from fast entry at the meeting.

    Parameters
    ----------
    building_id
        The building, e.g. ``"B1"``.
    rows
        ``(unit, room, area_m2, vote)`` per household; ``vote`` is
        ``agree``/``oppose``/``abstain`` or None/``""`` (did not take part).
    site_id
        The site voted on.

    Returns
    -------
    DataFrame
        Columns ``site_id, building_id, household, area_m2, vote`` with
        ``household = f"{building_id}-{unit}-{room}"`` (e.g. ``B1-2-301``),
        areas as floats and ``""`` for no vote; `pd.concat` several
        buildings to make a register.

    Raises
    ------
    GridGISError
        An empty building, site, unit or room, a bad area or vote, a row not
        of four items, or a household entered twice (naming the entry rows).

    Examples
    --------
    >>> votes_from_entry("B1", [(1, 101, 52.4, "agree"), (1, 102, "39.60", None)],
    ...                  site_id="SITE3")["household"].tolist()
    ['B1-1-101', 'B1-1-102']
    """
    building, site = cell_text(building_id), cell_text(site_id)
    if not building:
        raise GridGISError(f"building_id must not be empty, got {building_id!r}")
    if not site:
        raise GridGISError(f"site_id must not be empty, got {site_id!r}")
    out: list[tuple[str, str, str, float, str]] = []
    first: dict[str, int] = {}
    for n, row in enumerate(rows, start=1):
        where = f"building {building!r}, entry row {n}"
        if isinstance(row, str | bytes) or len(row) != 4:
            raise GridGISError(f"{where}: expected (unit, room, area_m2, vote), got {row!r}")
        unit, room, area_value, vote_value = (cell_text(v) if i < 2 else v
                                              for i, v in enumerate(row))  # fmt: skip
        if not unit or not room:
            raise GridGISError(f"{where}: unit and room must not be empty, got {row!r}")
        area = None if is_missing(area_value) else parse_area(area_value)
        if area is None:
            raise GridGISError(f"{where}: area_m2 must be a number >= 0, got {area_value!r}")
        vote = cell_text(vote_value)
        if vote and vote not in VOTE_CHOICES:
            raise GridGISError(
                f"{where}: vote {vote_value!r} is not one of {', '.join(VOTE_CHOICES)} "
                "(or empty: did not take part)"
            )
        household = f"{building}-{unit}-{room}"
        if household in first:
            raise GridGISError(
                f"{where}: household {household!r} was already entered in row {first[household]}"
            )
        first[household] = n
        out.append((site, building, household, float(area), vote))
    return pd.DataFrame.from_records(
        out, columns=["site_id", "building_id", "household", "area_m2", "vote"]
    )
