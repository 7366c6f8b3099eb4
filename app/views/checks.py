"""The checks list beside the map: failures in red, *not checked* in grey, passes folded away.

A check record is ``{rule, status, ok, severity, measured, needed, ...}``
with status ``"pass"``, ``"fail"`` or ``"not_checked"``
(`gridgis.analysis.check_records`); its words come from
`gridgis.report.checks.check_message`. *Not checked* is its own state, shown
with its reason and never counted as passed: the all-clear banner appears
only when every check ran and passed (``check_summary(...)["all_clear"]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from app.context import plain
from gridgis.report.checks import check_message, check_summary
from gridgis.report.i18n import t, t_or

__all__ = ["by_status", "checks_list", "rule_name"]


def by_status(checks: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The checks grouped by status: ``{"fail": [...], "not_checked": [...], "pass": [...]}``."""
    out: dict[str, list[dict[str, Any]]] = {"fail": [], "not_checked": [], "pass": []}
    for check in checks:
        out[check["status"]].append(check)
    return out


def rule_name(check: dict[str, Any], lang: str) -> str:
    """The rule's name in `lang` (its key for rules added by later settings)."""
    rule = str(check.get("rule") or "")
    return t_or(f"rule.{rule}", lang, rule) if rule else ""


def _line(check: dict[str, Any], lang: str) -> str:
    rule, message = f"**{plain(rule_name(check, lang))}**", plain(check_message(check, lang))
    return t("check.line", lang, rule=rule, message=message)


def checks_list(checks: list[dict[str, Any]], lang: str) -> None:
    """Draw a site's checks: each failure, then what was not checked, then the passes."""
    groups = by_status(checks)
    for check in groups["fail"]:
        level = t(f"rule.severity_{check['severity']}", lang)
        rule, message = f"**{plain(rule_name(check, lang))}**", plain(check_message(check, lang))
        text = t("check.line_severity", lang, rule=rule, level=level, message=message)
        st.error(text, icon=":material/block:")
    if groups["not_checked"]:
        title = t("check.summary.not_checked", lang, n=len(groups["not_checked"]))
        lines = [f":gray[○ {_line(c, lang)}]" for c in groups["not_checked"]]
        st.markdown(f":gray[**{plain(title)}**]\n\n" + "\n\n".join(lines))  # one element
    if check_summary(checks)["all_clear"]:
        st.success(t("check.summary.all_clear", lang), icon=":material/check_circle:")
    if groups["pass"]:
        lines = [f":green[✓] {_line(c, lang)}" for c in groups["pass"]]
        with st.expander(t("site.passed", lang, n=len(groups["pass"]))):
            st.markdown("\n\n".join(lines))  # one element: each costs a message
