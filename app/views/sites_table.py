"""The sites page's table: one row per analysed site, numbers kept as numbers (they sort)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from app.views.checks import by_status, rule_name
from gridgis.core.project import Project
from gridgis.report.i18n import t
from gridgis.report.labels import type_label, unit_label

__all__ = ["column", "failed_rules", "sites_table"]


def column(key: str, lang: str) -> str:
    """The table's header for `key` in `lang`."""
    return t(f"sites.col_{key}", lang)


def failed_rules(checks: list[dict[str, Any]], lang: str) -> str:
    """The names of the rules a site fails (a dash for none)."""
    return "; ".join(rule_name(c, lang) for c in by_status(checks)["fail"]) or "—"


def sites_table(sites: pd.DataFrame, lang: str, project: Project) -> pd.DataFrame:
    """The analysed `sites` as the page shows them (headers in `lang`)."""

    def label(key: str) -> str:
        return column(key, lang)

    return pd.DataFrame(
        {
            label("site_id"): sites["site_id"].astype(str),
            label("name"): sites["name"].map(lambda v: v if isinstance(v, str) else ""),
            label("type"): sites["site_type"].map(
                lambda k: type_label(str(k), lang, project.settings)
            ),
            label("status"): sites["status"].map(
                lambda s: t(f"map.{s}", lang) if isinstance(s, str) and s else "—"
            ),
            label("area"): sites["area_m2"].round(1),
            label("capacity"): sites["capacity"].astype(int),
            label("unit"): sites["capacity_unit"].map(lambda u: unit_label(str(u), lang)),
            label("ports"): sites["charging_ports"].astype(int),
            label("cost"): sites["cost_cny"].round(2),
            label("served"): sites["households_served"].astype(int),
            label("adjacent"): sites["households_adjacent"].astype(int),
            label("per_household"): sites["per_household_cny"].round(2),
            label("failed"): sites["checks"].map(lambda checks: failed_rules(checks, lang)),
        }
    )
