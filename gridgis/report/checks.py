"""Check records in words: the one place a rule check becomes a sentence.

`gridgis.analysis.rules.check_sites` returns records without words
(``{rule, status, ok, severity, measured, needed, unit, ids, reason,
params}``); this module renders them in zh or en from the ``check.*`` keys of
``locales/<lang>/checks.toml``.

Examples
--------
>>> record = {"rule": "shed_setback", "status": "fail", "measured": 3.0,
...           "needed": 6.0, "unit": "m", "ids": ["B2"], "reason": None, "params": {}}
>>> check_message(record, "en")
'3.0 m from building B2, needs 6.0 m'
>>> check_message(record, "zh")
'距楼栋 B2 3.0 m，须 ≥ 6.0 m'
>>> check_message({"rule": "fire_lane_clear", "status": "not_checked",
...                "reason": "no_paths_layer"}, "en")
'no paths layer: fire lanes not checked'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from gridgis.analysis.result import SiteAnalysis
from gridgis.analysis.rules import check_summary
from gridgis.report.i18n import has, t, t_or

__all__ = ["check_message", "check_summary", "status_label", "with_messages", "worded"]


def _num(value: object) -> str:
    return "" if value is None else f"{float(value):.1f}"  # type: ignore[arg-type]


def _fields(check: Mapping[str, Any], lang: str) -> dict[str, Any]:
    params = dict(check.get("params") or {})
    measured, needed = check.get("measured"), check.get("needed")
    shown, need = _num(measured), _num(needed)
    if check.get("status") == "fail" and measured is not None and shown == need:
        shown = f"{float(measured):.2f}"  # "6.0 m, needs 6.0 m" would read as a pass
    ids = [str(i) for i in check.get("ids") or []]
    areas = list(params.pop("areas_m2", []) or [])
    sep = t("check.sep", lang)
    hits = sep.join(
        t("check.hit", lang, id=i, area=_num(a)) for i, a in zip(ids, areas, strict=False)
    )
    values = {k: _num(v) if isinstance(v, float) else v for k, v in params.items()}
    return values | {"measured": shown, "needed": need, "ids": sep.join(ids), "hits": hits}


def check_message(check: Mapping[str, Any], lang: str) -> str:
    """One check record as a sentence in `lang` (``"zh"`` or ``"en"``).

    A check not run reads its reason (``check.reason.<reason>``); a pass or
    fail reads ``check.<rule>.<reason>`` when the rule has a text for the
    reason (``not_applicable``), else ``check.<rule>.<status>``. A rule with
    no texts (added later) reads as ``"<rule>: <status>"``.
    """
    rule, status, reason = check.get("rule"), check.get("status"), check.get("reason")
    fields = _fields(check, lang)
    if status == "not_checked":
        key = f"check.reason.{reason}"
    elif reason and has(f"check.{rule}.{reason}", lang):
        key = f"check.{rule}.{reason}"
    else:
        key = f"check.{rule}.{status}"
    fallback = f"{rule}: {status_label(str(status), lang)}"
    try:
        return t_or(key, lang, fallback, **fields)
    except (KeyError, IndexError, ValueError):  # a text naming a field this record lacks
        return fallback


def status_label(status: str, lang: str) -> str:
    """``"pass"`` / ``"fail"`` / ``"not_checked"`` in words."""
    return t_or(f"check.status_{status}", lang, status)


def with_messages(checks: Iterable[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Copies of the records with a ``message`` in `lang` (the records are left unchanged)."""
    return [dict(c) | {"message": check_message(c, lang)} for c in checks]


def worded(result: SiteAnalysis, lang: str) -> SiteAnalysis:
    """`result` with a ``message`` in `lang` in every check record (for export).

    What ``gridgis analyze --lang LANG -o OUT.geojson`` writes and the app's
    site-plan download gives: ``worded(result, lang).features()``.
    """
    checks = result.sites["checks"].map(lambda cs: with_messages(cs, lang))
    return dataclasses.replace(result, sites=result.sites.assign(checks=checks))
