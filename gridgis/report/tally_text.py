"""A vote tally in words: the plain-text report `gridgis tally` prints, and its JSON.

The words come from ``locales/<lang>/meeting.toml``. Without a language the
report is bilingual, each term in Chinese then English (``需 needs``), as the
residents' meeting and its minutes use both.

Examples
--------
>>> import pandas as pd
>>> from gridgis.meeting.tally import tally
>>> votes = pd.DataFrame({"site_id": "S1", "household": ["1", "2", "3"],
...                       "area_m2": "60", "vote": ["agree", "agree", "oppose"]})
>>> print(format_tally(tally(votes, site_id="S1"), lang="en").splitlines()[-1])
Result: NOT PASSED
>>> matter_label("other", "zh")
'其他共同决定事项'
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from gridgis.meeting.tally import MATTERS, Tally, pq
from gridgis.report.i18n import LANGS, t

__all__ = ["format_tally", "matter_label", "tally_dict"]

_ZH_ONLY = frozenset({"hh"})  # bilingual: "232 户" (the English unit is in the register line)
_EN_ONLY = frozenset({"and", "item", "item_other"})


def matter_label(matter: str, lang: str) -> str:
    """What a matter of `MATTERS` is, in `lang`."""
    return t(f"meeting.matter.{matter}", lang)


def tally_dict(result: Tally) -> dict[str, Any]:
    """`Tally.to_dict` plus the matter's words (``matter_zh``, ``matter_en``)."""
    words = {f"matter_{lang}": matter_label(result.matter, lang) for lang in LANGS}
    return result.to_dict() | words


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


def format_tally(result: Tally, *, site_name: str | None = None, lang: str | None = None) -> str:
    """A plain-text report of a tally, bilingual (`lang` None) or in `lang`.

    Each ratio is shown as a fraction and a percentage with its threshold,
    its margin in percentage points and whether it is met.
    """

    def w(key: str, **values: Any) -> str:
        if lang is not None:
            return t(f"meeting.tally.{key}", lang, **values)
        if key in _ZH_ONLY or key in _EN_ONLY:
            return t(f"meeting.tally.{key}", "zh" if key in _ZH_ONLY else "en", **values)
        return f"{t(f'meeting.tally.{key}', 'zh', **values)} {t(f'meeting.tally.{key}', 'en')}"

    r = result
    matter = MATTERS[r.matter]
    item = w("item", n=matter.item) if matter.item else w("item_other")
    labels = (
        " / ".join(matter_label(r.matter, x) for x in LANGS)
        if lang is None
        else matter_label(r.matter, lang)
    )
    op = ">" if r.approval_strict else ">="
    title = f"{r.site_id} {site_name}" if site_name else r.site_id

    def ok(met: bool) -> str:
        return w("met") if met else w("not_met")

    def line(label: str, num: str, den: str, ratio: Fraction | None, op: str, thr: Fraction,
             margin: Fraction | None, met: bool) -> str:  # fmt: skip
        frac = "—" if ratio is None else pq(ratio)
        return (
            f"  {w(label):<14}{num} / {den} = {frac} = {_pct(ratio)}; "
            f"{w('needs')} {op} {pq(thr)} ({_pct(thr)}); {w('margin')} {_pp(margin)}: {ok(met)}"
        )

    hh = w("hh")
    qt, at = r.quorum_threshold, r.approval_threshold
    lines = [
        f"{w('title')}: {title}",
        f"{w('matter')}: {labels} ({r.matter}, {item})",
        f"{w('register')}: {r.owners_total} {w('households')}, "
        f"{_m2(r.area_total_m2)} {w('exclusive_area')}",
        f"{w('taking_part')}: {r.participating_headcount} {hh}, "
        f"{_m2(r.participating_area_m2)} ({w('absent')}: "
        f"{r.absent_headcount} {hh}, {_m2(r.absent_area_m2)})",
        line("headcount", str(r.participating_headcount), str(r.owners_total),
             r.quorum_headcount_ratio, ">=", qt, r.quorum_headcount_margin,
             r.quorum_headcount_met),
        line("area", _m2(r.participating_area_m2), _m2(r.area_total_m2),
             r.quorum_area_ratio, ">=", qt, r.quorum_area_margin, r.quorum_area_met),
        f"  {w('quorum')}: {ok(r.quorum_met)} "
        f"({w('needs')} >= {r.quorum_headcount_needed} {hh} {w('and')} "
        f"{_m2_needed(r.quorum_area_needed_m2, False)})",
        f"{w('agree')}: {r.agree_headcount} {hh}, {_m2(r.agree_area_m2)}; "
        f"{w('oppose')}: {r.oppose_headcount} {hh}, {_m2(r.oppose_area_m2)}; "
        f"{w('abstain')}: {r.abstain_headcount} {hh}, {_m2(r.abstain_area_m2)}",
        line("headcount", str(r.agree_headcount), str(r.participating_headcount),
             r.approval_headcount_ratio, op, at, r.approval_headcount_margin,
             r.approval_headcount_met),
        line("area", _m2(r.agree_area_m2), _m2(r.participating_area_m2),
             r.approval_area_ratio, op, at, r.approval_area_margin, r.approval_area_met),
        f"  {w('agreement_needs')} >= {r.approval_headcount_needed} {hh} {w('and')} "
        f"{_m2_needed(r.approval_area_needed_m2, r.approval_strict)}",
        f"{w('result')}: {w('passed') if r.passed else w('failed')}",
    ]  # fmt: skip
    return "\n".join(lines)
