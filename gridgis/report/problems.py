"""Problems with an input said in the user's language.

The validator (`gridgis.core.validate`) writes each problem's message in English
and gives it a `code` with the values it quotes (`gridgis.errors.Problem`); this
module says it in Chinese or English from the locales (``[problem]``), naming
the feature and the field in the user's words. A problem without a code (or
with one the locales lack) keeps its English message.

Examples
--------
>>> import re

from gridgis.errors import ConflictError, GridGISError, Problem
>>> p = Problem("households must be >= 0, got -3", layer="buildings", feature="B2",
...             field="households", code="below_min", params=(("minimum", "0"), ("value", "-3")))
>>> problem_message(p, "zh")
'B2 的「户数」：应不小于 0，现在是 -3'
>>> problem_message(p, "en")
'B2, Households: must be at least 0, got -3'
>>> feature_label("building_id='B3' (row 4)")
'B3'
"""

from __future__ import annotations

import re

from gridgis.errors import ConflictError, GridGISError, Problem
from gridgis.report.i18n import has, t

__all__ = ["conflict_detail", "feature_label", "field_label", "problem_message", "problem_reason"]

_KEYED = re.compile(r"^\w+='(?P<fid>[^']*)'(?: \(row \d+\))?$")


def feature_label(feature: str | None) -> str:
    """The feature's id alone (``building_id='B3' (row 4)`` -> ``B3``); a row label as it is."""
    if not feature:
        return ""
    found = _KEYED.match(feature)
    return found.group("fid") if found else feature


def field_label(field: str | None, lang: str) -> str:
    """A field's name in `lang` (``households`` -> 户数); the field itself when unknown."""
    if not field:
        return ""
    for key in (f"problem.field_{field}", f"drawlayer.{field}"):
        if has(key, lang):
            return t(key, lang)
    return field


def problem_reason(problem: Problem, lang: str) -> str:
    """What is wrong, in `lang`, without where (the English message if no translation)."""
    key = f"problem.{problem.code}"
    if problem.code and has(key, lang):
        return t(key, lang, **dict(problem.params))
    return problem.message


def problem_message(problem: Problem, lang: str) -> str:
    """``<feature> 的「<field>」：<reason>`` (or ``<feature>, <Field>: <reason>``) in `lang`."""
    reason = problem_reason(problem, lang)
    feature = feature_label(problem.feature) or (t(f"drawlayer.{problem.layer}", lang)
                                  if problem.layer and has(f"drawlayer.{problem.layer}", lang)
                                  else "")  # fmt: skip
    field = field_label(problem.field, lang)
    if feature and field:
        return t("problem.where_field", lang, feature=feature, field=field, reason=reason)
    if feature or field:
        return t("problem.where", lang, where=feature or field, reason=reason)
    return reason


def conflict_detail(exc: GridGISError, lang: str) -> str:
    """Why a change was refused as a conflict, in `lang` (the English message if unknown).

    >>> conflict_detail(ConflictError("x", feature="B1", kind="changed", revision=3, expected=2),
    ...                 "zh")
    'B1 已被另一会话改过（现为第 3 版，你改的是第 2 版）'
    """
    if not isinstance(exc, ConflictError) or exc.kind not in ("changed", "deleted"):
        return str(exc)
    feature = exc.feature or ""
    if exc.kind == "deleted":
        return t("problem.conflict_deleted", lang, feature=feature)
    return t("problem.conflict_changed", lang, feature=feature, revision=exc.revision,
             expected=exc.expected)  # fmt: skip
