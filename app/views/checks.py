"""The checks list beside the map: failures in red, *not checked* in grey, passes folded away.

A check record is ``{rule, status, ok, severity, message, ...}`` with status
``"pass"``, ``"fail"`` or ``"not_checked"``. *Not checked* is its own state,
shown with its reason and never counted as passed: the all-clear banner
appears only when every check ran and passed (`all_clear`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from app.context import plain
from gridgis.report.i18n import t, t_or

__all__ = [
    "STATUSES",
    "all_clear",
    "by_status",
    "check_message",
    "checks_list",
    "rule_name",
    "status_of",
]

STATUSES = ("fail", "not_checked", "pass")


def status_of(check: dict[str, Any]) -> str:
    """``"pass"``, ``"fail"`` or ``"not_checked"`` (records without a status: from ``ok``)."""
    status = check.get("status")
    if status in STATUSES:
        return str(status)
    if check.get("ok") is None:
        return "not_checked"
    return "pass" if check["ok"] else "fail"


def by_status(checks: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The checks grouped by `status_of`, every status present (in `STATUSES` order)."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in STATUSES}
    for check in checks:
        out[status_of(check)].append(check)
    return out


def all_clear(checks: Iterable[dict[str, Any]]) -> bool:
    """True when there are checks and every one of them ran and passed."""
    found = list(checks)
    return bool(found) and all(status_of(c) == "pass" for c in found)


def check_message(check: dict[str, Any], lang: str) -> str:
    """The check's message in `lang` (plain text, not escaped)."""
    if lang == "zh" and check.get("message_zh"):
        return str(check["message_zh"])
    return str(check.get("message") or "")


def rule_name(check: dict[str, Any], lang: str) -> str:
    """The rule's name in `lang` (its key for rules added by later settings)."""
    rule = str(check.get("rule") or "")
    return t_or(f"rule.{rule}", lang, rule) if rule else ""


def checks_list(checks: list[dict[str, Any]], lang: str) -> None:
    """Draw a site's checks: each failure, then what was not checked, then the passes."""
    groups = by_status(checks)
    for check in groups["fail"]:
        level = t(f"rule.severity_{check['severity']}", lang)
        text = f"**{plain(rule_name(check, lang))}** ({level}): {plain(check_message(check, lang))}"
        st.error(text, icon=":material/block:")
    if groups["not_checked"]:
        lines = [
            f":gray[○ **{plain(rule_name(c, lang))}**: {plain(check_message(c, lang))}]"
            for c in groups["not_checked"]
        ]
        title = t("site.not_checked", lang, n=len(groups["not_checked"]))
        st.markdown(f":gray[**{plain(title)}**]\n\n" + "\n\n".join(lines))  # one element
    if all_clear(checks):
        st.success(t("site.all_passed", lang), icon=":material/check_circle:")
    if groups["pass"]:
        lines = [
            f":green[✓] **{plain(rule_name(c, lang))}**: {plain(check_message(c, lang))}"
            for c in groups["pass"]
        ]
        with st.expander(t("site.passed", lang, n=len(groups["pass"]))):
            st.markdown("\n\n".join(lines))  # one element: each costs a message
