"""Owners' votes on a proposal, tallied by PRC Civil Code art. 278.

The register (`gridgis.meeting.register`) gives the quorum denominators
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
from collections.abc import Iterable
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

import pandas as pd

from gridgis.errors import GridGISError
from gridgis.meeting.register import (
    VOTE_CHOICES,
    Household,
    cell_text,
    columns,
    households,
    parse_rows,
    register_sites,
    site_positions,
    votes_from_entry,
)

__all__ = [
    "MATTERS",
    "QUORUM",
    "VOTE_CHOICES",
    "Matter",
    "Tally",
    "pq",
    "tally",
    "tally_all",
    "turnout_by_building",
    "votes_from_entry",
]

QUORUM = Fraction(2, 3)
_text = cell_text  # for gridgis.report.map.turnout until it imports register.cell_text


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

    Its words are ``meeting.matter.<name>`` in the locales (`gridgis.report.tally_text`).
    """

    name: str
    item: int | None
    threshold: Fraction
    strict: bool


MATTERS: dict[str, Matter] = {
    m.name: m
    for m in (
        Matter("change_of_use", 8, Fraction(3, 4), False),
        Matter("rebuild", 7, Fraction(3, 4), False),
        Matter("maintenance_fund_raise", 6, Fraction(3, 4), False),
        Matter("maintenance_fund_use", 5, Fraction(1, 2), True),
        Matter("other", None, Fraction(1, 2), True),
    )
}  # fmt: skip


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
        (``"3/4"``, ``"-1/232"``; None when `x` is None). The matter's words
        are added by `gridgis.report.tally_text.tally_dict`.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = float(value) if isinstance(value, Fraction) else value
            if f.name.endswith(("_ratio", "_margin", "_threshold")):
                out[f"{f.name}_exact"] = None if value is None else pq(value)
        return out


def pq(value: Fraction) -> str:
    """A fraction as ``\"p/q\"`` (``\"3/4\"``, ``\"0/1\"``)."""
    return f"{value.numerator}/{value.denominator}"


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


def _sum(rows: Iterable[Household]) -> tuple[int, Fraction]:
    rows = list(rows)
    return len(rows), sum((r.area for r in rows), Fraction(0))


def _tally_rows(rows: list[Household], site_id: str, matter: Matter, source: str | None) -> Tally:
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
    return _tally_rows(households(votes, site_id=site_id, source=source), site_id, kind, source)


def tally_all(
    votes: pd.DataFrame, *, matter: str = "change_of_use", source: str | None = None
) -> dict[str, Tally]:
    """Tally every site named in the register, in order of first appearance.

    Raises `GridGISError` as `tally` does, for the first site with a problem.
    """
    kind = _matter(matter)
    frame = columns(votes, source)
    out: dict[str, Tally] = {}
    for site in register_sites(frame):
        rows = parse_rows(frame, site_positions(frame, site, source), source)
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
    frame = columns(votes, source)
    if "building_id" not in frame.columns:
        where = f"{source}: " if source else ""
        raise GridGISError(
            f"{where}layer votes: turnout by building needs a 'building_id' column "
            f"(columns found: {', '.join(map(str, frame.columns))})"
        )
    rows = parse_rows(frame, site_positions(frame, site_id, source), source)
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
