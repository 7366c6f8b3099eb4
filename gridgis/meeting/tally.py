"""Owners' votes on a proposal, tallied by PRC Civil Code art. 278.

A votes register is the list of owners entitled to vote on one site's
proposal: one row per household with its exclusive floor area (专有部分面积)
and its vote, ``agree``, ``oppose`` or ``abstain``, left empty when the
household did not take part. The register gives the quorum denominators
(every owner, every square metre); the votes give the counts. Everything is
counted in exact fractions: an area of ``"52.40"`` is ``262/5`` m2, and a
threshold of 3/4 is met by exactly 3/4.

- Quorum: the owners taking part hold >= 2/3 of the exclusive area AND are
  >= 2/3 of the owners.
- Matters 6-8 of art. 278 (raising the maintenance fund, rebuilding,
  changing the use of common parts: a shed, garden or room on common land)
  pass with >= 3/4 of the participating area AND >= 3/4 of the participating
  owners agreeing; other matters with more than 1/2 of both.
- Abstentions count as taking part, not as agreeing.

Examples
--------
>>> import pandas as pd
>>> votes = pd.DataFrame({"site_id": "S1", "household": ["101", "102", "201", "202"],
...                       "area_m2": ["60", "60", "80", "80"],
...                       "vote": ["agree", "agree", "agree", "oppose"]})
>>> t = tally(votes, site_id="S1")
>>> t.approval_headcount_ratio, t.approval_area_ratio, t.passed
(Fraction(3, 4), Fraction(5, 7), False)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gridgis.errors import GridGISError, Problem

if TYPE_CHECKING:  # the map needs folium; it loads on the first map only
    import folium

    from gridgis.core.project import Project

__all__ = [
    "MATTERS",
    "QUORUM",
    "VOTE_CHOICES",
    "Matter",
    "Tally",
    "format_tally",
    "tally",
    "tally_all",
    "turnout_by_building",
    "turnout_map",
    "votes_from_entry",
]

VOTE_CHOICES = ("agree", "oppose", "abstain")
QUORUM = Fraction(2, 3)
_REQUIRED = ("site_id", "household", "area_m2", "vote")


@dataclass(frozen=True)
class Matter:
    """A kind of decision and the majority it needs (art. 278).

    Parameters
    ----------
    name
        Key used by the API and ``gridgis tally --matter``.
    item
        The item of art. 278 para. 1, or None for "other matters".
    threshold
        Share of the participating area and of the participating owners
        that must agree.
    strict
        True: more than `threshold` is needed; False: at least `threshold`.
    label_zh, label_en
        What the matter is, for people.
    """

    name: str
    item: int | None
    threshold: Fraction
    strict: bool
    label_zh: str
    label_en: str


MATTERS: dict[str, Matter] = {
    m.name: m
    for m in (
        Matter("change_of_use", 8, Fraction(3, 4), False,
               "改变共有部分的用途或者利用共有部分从事经营活动",
               "changing the use of common parts, or running a business on them"),
        Matter("rebuild", 7, Fraction(3, 4), False,
               "改建、重建建筑物及其附属设施",
               "rebuilding or altering buildings and their facilities"),
        Matter("maintenance_fund_raise", 6, Fraction(3, 4), False,
               "筹集建筑物及其附属设施的维修资金", "raising the maintenance fund"),
        Matter("maintenance_fund_use", 5, Fraction(1, 2), True,
               "使用建筑物及其附属设施的维修资金", "using the maintenance fund"),
        Matter("other", None, Fraction(1, 2), True,
               "其他共同决定事项", "other matters decided by the owners together"),
    )
}  # fmt: skip


@dataclass(frozen=True)
class _Row:
    pos: int  # 0-based row of the register
    building: str
    household: str
    area: Fraction
    vote: str | None  # None: did not take part


@dataclass(frozen=True)
class Tally:
    """The result of one vote, every count exact.

    Areas are in m2 as `Fraction`. Each ``*_ratio`` is a share (`Fraction`),
    its ``*_margin`` the ratio minus the threshold (negative: short of it),
    its ``*_met`` whether the threshold is met, and ``*_needed`` the count
    (households) or area (m2) the numerator must reach (``>=``) or, when
    `approval_strict`, exceed (``>``; for headcounts: the smallest whole
    number that does). Approval ratios are shares of the participants and
    are None (and not met) when nobody, or no area, took part.
    """

    site_id: str
    matter: str
    matter_item: int | None
    owners_total: int
    area_total_m2: Fraction
    participating_headcount: int
    participating_area_m2: Fraction
    agree_headcount: int
    agree_area_m2: Fraction
    oppose_headcount: int
    oppose_area_m2: Fraction
    abstain_headcount: int
    abstain_area_m2: Fraction
    absent_headcount: int
    absent_area_m2: Fraction
    quorum_threshold: Fraction
    quorum_area_ratio: Fraction
    quorum_area_margin: Fraction
    quorum_area_needed_m2: Fraction
    quorum_area_met: bool
    quorum_headcount_ratio: Fraction
    quorum_headcount_margin: Fraction
    quorum_headcount_needed: int
    quorum_headcount_met: bool
    quorum_met: bool
    approval_threshold: Fraction
    approval_strict: bool
    approval_area_ratio: Fraction | None
    approval_area_margin: Fraction | None
    approval_area_needed_m2: Fraction
    approval_area_met: bool
    approval_headcount_ratio: Fraction | None
    approval_headcount_margin: Fraction | None
    approval_headcount_needed: int
    approval_headcount_met: bool
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict: Fractions as floats, ratios also as ``"p/q"``.

        Every ratio, margin and threshold ``x`` gets a twin ``x_exact``
        (``"3/4"``, ``"-1/232"``; None when `x` is None). Includes the
        matter's labels (``matter_zh``, ``matter_en``).
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = float(value) if isinstance(value, Fraction) else value
            if f.name.endswith(("_ratio", "_margin", "_threshold")):
                out[f"{f.name}_exact"] = None if value is None else _pq(value)
        matter = MATTERS[self.matter]
        out["matter_zh"], out["matter_en"] = matter.label_zh, matter.label_en
        return out


def _pq(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _is_missing(value: object) -> bool:
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


def _text(value: object) -> str:
    return "" if _is_missing(value) else str(value).strip()


def _parse_area(value: object) -> Fraction | None:
    """The exact area of a cell, or None when it is not a finite number >= 0."""
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


def _columns(votes: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """The register with tidy column names; error if a required one is missing."""
    frame = pd.DataFrame(votes).rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    for name in _REQUIRED:
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


def _parse_rows(frame: pd.DataFrame, positions: Sequence[int], source: str | None) -> list[_Row]:
    """Parse and check the register rows at `positions`; raise on the first problem."""
    problems: list[tuple[int, Problem]] = []
    rows: list[_Row] = []
    has_building = "building_id" in frame.columns
    cols = {c: frame[c].to_numpy(dtype=object) for c in (*_REQUIRED, "building_id") if c in frame}

    def add(pos: int, field: str, message: str, fix: str) -> None:
        problems.append((pos, Problem(message, source, "votes", f"row {pos + 1}", field, fix)))

    seen: dict[tuple[str, str], list[int]] = {}
    for pos in positions:
        household = _text(cols["household"][pos])
        building = _text(cols["building_id"][pos]) if has_building else ""
        raw_area, raw_vote = cols["area_m2"][pos], cols["vote"][pos]
        ok = True
        if not household:
            add(pos, "household", "household is empty", "name every household, e.g. B1-1-101")
            ok = False
        area = None if _is_missing(raw_area) else _parse_area(raw_area)
        if _is_missing(raw_area):
            add(pos, "area_m2", "area_m2 is empty", "give every household its exclusive area")
            ok = False
        elif area is None:
            add(pos, "area_m2", f"area_m2 must be a number >= 0, got {_show(raw_area)}",
                "write the exclusive area in m2 as a plain number")  # fmt: skip
            ok = False
        vote = _text(raw_vote) or None
        if vote is not None and vote not in VOTE_CHOICES:
            add(pos, "vote", f"vote {_show(raw_vote)} is not one of {', '.join(VOTE_CHOICES)}",
                "use agree, oppose, abstain, or leave it empty if the household "
                "did not take part")  # fmt: skip
            ok = False
        if household:
            seen.setdefault((building, household), []).append(pos)
        if ok and area is not None:
            rows.append(_Row(pos, building, household, area, vote))
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


def _site_positions(frame: pd.DataFrame, site_id: str, source: str | None) -> list[int]:
    sites = [_text(v) for v in frame["site_id"].to_numpy(dtype=object)]
    wanted = str(site_id).strip()
    positions = [i for i, s in enumerate(sites) if s == wanted]
    if not positions:
        known = ", ".join(repr(s) for s in dict.fromkeys(s for s in sites if s)) or "none"
        where = f"{source}: " if source else ""
        raise GridGISError(
            f"{where}site_id={site_id!r} has no rows in the votes register (sites in it: {known})"
        )
    return positions


def _register(votes: pd.DataFrame, site_id: str, source: str | None) -> list[_Row]:
    frame = _columns(votes, source)
    return _parse_rows(frame, _site_positions(frame, site_id, source), source)


def _matter(matter: str) -> Matter:
    if matter not in MATTERS:
        raise GridGISError(f"matter must be one of {', '.join(MATTERS)}, got {matter!r}")
    return MATTERS[matter]


def _ratio(
    num: Fraction | int, den: Fraction | int, threshold: Fraction, strict: bool
) -> tuple[Fraction | None, Fraction | None, bool]:
    if den == 0:
        return None, None, False
    ratio = Fraction(num) / Fraction(den)
    margin = ratio - threshold
    return ratio, margin, bool(margin > 0 if strict else margin >= 0)


def _needed_count(threshold: Fraction, total: int, strict: bool) -> int:
    need = threshold * total
    return math.floor(need) + 1 if strict else math.ceil(need)


def _sum(rows: Iterable[_Row]) -> tuple[int, Fraction]:
    rows = list(rows)
    return len(rows), sum((r.area for r in rows), Fraction(0))


def _tally_rows(rows: list[_Row], site_id: str, matter: Matter, source: str | None) -> Tally:
    owners, area = _sum(rows)
    if area == 0:
        where = f"{source}: " if source else ""
        raise GridGISError(
            f"{where}site_id={site_id!r}: the exclusive areas (area_m2) of its "
            f"{owners} household(s) add up to 0 m2; the area count needs real areas"
        )
    by_vote = {v: _sum(r for r in rows if r.vote == v) for v in (*VOTE_CHOICES, None)}
    part_n, part_a = _sum(r for r in rows if r.vote is not None)
    t, strict = matter.threshold, matter.strict
    qa, qa_m, qa_ok = _ratio(part_a, area, QUORUM, False)
    qh, qh_m, qh_ok = _ratio(part_n, owners, QUORUM, False)
    agree_n, agree_a = by_vote["agree"]
    aa, aa_m, aa_ok = _ratio(agree_a, part_a, t, strict)
    ah, ah_m, ah_ok = _ratio(agree_n, part_n, t, strict)
    assert qa is not None and qa_m is not None and qh is not None and qh_m is not None
    quorum = qa_ok and qh_ok
    return Tally(
        site_id=str(site_id).strip(),
        matter=matter.name,
        matter_item=matter.item,
        owners_total=owners,
        area_total_m2=area,
        participating_headcount=part_n,
        participating_area_m2=part_a,
        agree_headcount=agree_n,
        agree_area_m2=agree_a,
        oppose_headcount=by_vote["oppose"][0],
        oppose_area_m2=by_vote["oppose"][1],
        abstain_headcount=by_vote["abstain"][0],
        abstain_area_m2=by_vote["abstain"][1],
        absent_headcount=by_vote[None][0],
        absent_area_m2=by_vote[None][1],
        quorum_threshold=QUORUM,
        quorum_area_ratio=qa,
        quorum_area_margin=qa_m,
        quorum_area_needed_m2=QUORUM * area,
        quorum_area_met=qa_ok,
        quorum_headcount_ratio=qh,
        quorum_headcount_margin=qh_m,
        quorum_headcount_needed=_needed_count(QUORUM, owners, False),
        quorum_headcount_met=qh_ok,
        quorum_met=quorum,
        approval_threshold=t,
        approval_strict=strict,
        approval_area_ratio=aa,
        approval_area_margin=aa_m,
        approval_area_needed_m2=t * part_a,
        approval_area_met=aa_ok,
        approval_headcount_ratio=ah,
        approval_headcount_margin=ah_m,
        approval_headcount_needed=_needed_count(t, part_n, strict),
        approval_headcount_met=ah_ok,
        passed=quorum and aa_ok and ah_ok,
    )


def tally(
    votes: pd.DataFrame,
    *,
    site_id: str,
    matter: str = "change_of_use",
    source: str | None = None,
) -> Tally:
    """Tally the votes on one site's proposal by Civil Code art. 278.

    Parameters
    ----------
    votes
        The register: columns ``site_id, household, area_m2, vote`` (and
        optionally ``building_id``); rows of other sites are ignored. Areas
        may be numbers or decimal strings; an empty vote is a household that
        did not take part.
    site_id
        The site (proposal) voted on.
    matter
        A key of `MATTERS`: ``change_of_use`` (a shed, garden or room on
        common land; >= 3/4), ``rebuild``, ``maintenance_fund_raise``
        (>= 3/4), ``maintenance_fund_use`` or ``other`` (> 1/2).
    source
        File name to put in error messages.

    Returns
    -------
    Tally

    Raises
    ------
    GridGISError
        Unknown matter; no rows for the site; a required column missing; a
        household listed twice (same ``building_id`` and ``household``); an
        empty household; an empty, negative or non-numeric area; a vote
        other than agree/oppose/abstain/empty; a total area of 0. The message
        names the row, household and value; the first problem is named and
        the others counted.
    """
    kind = _matter(matter)
    return _tally_rows(_register(votes, site_id, source), site_id, kind, source)


def tally_all(
    votes: pd.DataFrame, *, matter: str = "change_of_use", source: str | None = None
) -> dict[str, Tally]:
    """Tally every site named in the register, in order of first appearance.

    Raises `GridGISError` as `tally` does, for the first site with a problem.
    """
    kind = _matter(matter)
    frame = _columns(votes, source)
    sites = dict.fromkeys(s for s in map(_text, frame["site_id"].to_numpy(dtype=object)) if s)
    out: dict[str, Tally] = {}
    for site in sites:
        rows = _parse_rows(frame, _site_positions(frame, site, source), source)
        out[site] = _tally_rows(rows, site, kind, source)
    return out


def _float_share(num: Fraction | int, den: Fraction | int) -> float:
    return float(Fraction(num) / Fraction(den)) if den else math.nan


_BUILDING_COLUMNS = (
    "building_id", "owners", "area_m2", "participating", "participating_area_m2",
    "agree", "agree_area_m2", "oppose", "abstain", "turnout", "turnout_area",
    "approval", "approval_area",
)  # fmt: skip


def turnout_by_building(
    votes: pd.DataFrame, *, site_id: str, source: str | None = None
) -> pd.DataFrame:
    """Turnout and approval of each building, for a map or a table.

    Parameters
    ----------
    votes
        The register (needs a ``building_id`` column).
    site_id
        The site voted on.
    source
        File name to put in error messages.

    Returns
    -------
    DataFrame
        One row per building, in order of first appearance: ``building_id,
        owners, area_m2, participating, participating_area_m2, agree,
        agree_area_m2, oppose, abstain`` and the float shares ``turnout``
        (participating / owners), ``turnout_area``, ``approval`` (agree /
        participating; NaN when nobody took part) and ``approval_area``.
        Rows with an empty building_id are grouped under ``""``.

    Raises
    ------
    GridGISError
        As `tally`, or when the register has no ``building_id`` column.
    """
    frame = _columns(votes, source)
    if "building_id" not in frame.columns:
        where = f"{source}: " if source else ""
        raise GridGISError(
            f"{where}layer votes: turnout by building needs a 'building_id' column "
            f"(columns found: {', '.join(map(str, frame.columns))})"
        )
    rows = _parse_rows(frame, _site_positions(frame, site_id, source), source)
    records = []
    for building in dict.fromkeys(r.building for r in rows):
        mine = [r for r in rows if r.building == building]
        owners, area = _sum(mine)
        part_n, part_a = _sum(r for r in mine if r.vote is not None)
        agree_n, agree_a = _sum(r for r in mine if r.vote == "agree")
        share = _float_share
        records.append(
            (building, owners, float(area), part_n, float(part_a), agree_n, float(agree_a),
             sum(r.vote == "oppose" for r in mine), sum(r.vote == "abstain" for r in mine),
             share(part_n, owners), share(part_a, area), share(agree_n, part_n),
             share(agree_a, part_a))
        )  # fmt: skip
    return pd.DataFrame.from_records(records, columns=list(_BUILDING_COLUMNS))


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
    building, site = _text(building_id), _text(site_id)
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
        unit, room, area_value, vote_value = (_text(v) if i < 2 else v for i, v in enumerate(row))
        if not unit or not room:
            raise GridGISError(f"{where}: unit and room must not be empty, got {row!r}")
        area = None if _is_missing(area_value) else _parse_area(area_value)
        if area is None:
            raise GridGISError(f"{where}: area_m2 must be a number >= 0, got {area_value!r}")
        vote = _text(vote_value)
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


def _pct(value: Fraction | None) -> str:
    return "—" if value is None else f"{float(value) * 100:.2f}%"


def _pp(margin: Fraction | None) -> str:
    if margin is None:
        return "—"
    sign = "-" if margin < 0 else "+"
    return f"{sign}{abs(float(margin)) * 100:.2f} pp"


def _m2(area: Fraction) -> str:
    return f"{float(area):,.2f} m2"


def _m2_needed(area: Fraction, strict: bool) -> str:
    """``>= X`` or ``> X`` m2, X rounded up to the cent when it is not a whole cent."""
    cents = area * 100
    if cents.denominator == 1:
        return f"{'>' if strict else '>='} {_m2(area)}"
    return f">= {_m2(Fraction(math.ceil(cents), 100))}"


def _ok(met: bool) -> str:
    return "达到 met" if met else "未达到 NOT met"


def format_tally(result: Tally, *, site_name: str | None = None) -> str:
    """A bilingual (Chinese / English) plain-text report of a tally.

    Each ratio is shown as a fraction and a percentage with its threshold,
    its margin in percentage points and whether it is met.
    """
    matter = MATTERS[result.matter]
    item = f"art. 278 item {matter.item}" if matter.item else "art. 278 other matters"
    op = ">" if result.approval_strict else ">="
    qt, at = result.quorum_threshold, result.approval_threshold
    title = f"{result.site_id} {site_name}" if site_name else result.site_id

    def line(label: str, num: str, den: str, ratio: Fraction | None, op: str, thr: Fraction,
             margin: Fraction | None, met: bool) -> str:  # fmt: skip
        frac = "—" if ratio is None else _pq(ratio)
        return (
            f"  {label:<14}{num} / {den} = {frac} = {_pct(ratio)}; "
            f"需 needs {op} {_pq(thr)} ({_pct(thr)}); 差额 margin {_pp(margin)}: {_ok(met)}"
        )

    lines = [
        f"表决结果 Vote tally: {title}",
        f"事项 Matter: {matter.label_zh} / {matter.label_en} ({result.matter}, {item})",
        f"业主名册 Register: {result.owners_total} 户 households, "
        f"{_m2(result.area_total_m2)} 专有面积 exclusive area",
        f"参与表决 Taking part: {result.participating_headcount} 户, "
        f"{_m2(result.participating_area_m2)} (未参与 did not take part: "
        f"{result.absent_headcount} 户, {_m2(result.absent_area_m2)})",
        line("人数 headcount", str(result.participating_headcount), str(result.owners_total),
             result.quorum_headcount_ratio, ">=", qt, result.quorum_headcount_margin,
             result.quorum_headcount_met),
        line("面积 area", _m2(result.participating_area_m2), _m2(result.area_total_m2),
             result.quorum_area_ratio, ">=", qt, result.quorum_area_margin,
             result.quorum_area_met),
        f"  法定人数 Quorum: {_ok(result.quorum_met)} "
        f"(需 needs >= {result.quorum_headcount_needed} 户 and "
        f"{_m2_needed(result.quorum_area_needed_m2, False)})",
        f"同意 Agree: {result.agree_headcount} 户, {_m2(result.agree_area_m2)}; "
        f"反对 oppose: {result.oppose_headcount} 户, {_m2(result.oppose_area_m2)}; "
        f"弃权 abstain: {result.abstain_headcount} 户, {_m2(result.abstain_area_m2)}",
        line("人数 headcount", str(result.agree_headcount), str(result.participating_headcount),
             result.approval_headcount_ratio, op, at, result.approval_headcount_margin,
             result.approval_headcount_met),
        line("面积 area", _m2(result.agree_area_m2), _m2(result.participating_area_m2),
             result.approval_area_ratio, op, at, result.approval_area_margin,
             result.approval_area_met),
        f"  同意须 Agreement needs >= {result.approval_headcount_needed} 户 and "
        f"{_m2_needed(result.approval_area_needed_m2, result.approval_strict)}",
        f"结果 Result: {'通过 PASSED' if result.passed else '未通过 NOT PASSED'}",
    ]  # fmt: skip
    return "\n".join(lines)


def turnout_map(
    project: Project,
    votes: pd.DataFrame,
    *,
    site_id: str,
    by: str = "turnout",
    lang: str = "zh",
    source: str | None = None,
) -> folium.Map:
    """The project map with its buildings coloured by turnout or approval.

    See `gridgis.report.map.turnout.turnout_map` (imported here on first use, as it
    needs folium).
    """
    from gridgis.report.map.turnout import turnout_map as _turnout_map

    return _turnout_map(project, votes, site_id=site_id, by=by, lang=lang, source=source)
