"""The selected site's panel beside the map: its numbers, checks, itemised cost and funding.

The numbers are a row of ``ctx.analysis().sites`` (the library's analysis);
`site_figures` picks those the panel shows, `site_panel` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from app.context import Context, building_names, plain, site_title
from app.views.checks import checks_list
from gridgis.core.project import Project
from gridgis.report.i18n import t
from gridgis.report.labels import money, name_in, type_label, unit_label

__all__ = ["View", "buildings_text", "cost_table", "site_figures", "site_panel"]


@dataclass
class View:
    """What the panel functions need of one run."""

    lang: str
    ctx: Context
    analysed: bool

    @property
    def project(self) -> Project:
        return self.ctx.project

    def type_name(self, kind: str) -> str:
        return type_label(kind, self.lang, self.project.settings)


def site_figures(row: pd.Series) -> dict[str, Any]:
    """The numbers the panel shows for one analysed site, as the analysis gives them."""
    figures = {
        "area_m2": float(row["area_m2"]),
        "capacity": int(row["capacity"]),
        "capacity_unit": str(row["capacity_unit"]),
        "cost_cny": float(row["cost_cny"]),
        "households_served": int(row["households_served"]),
        "households_adjacent": int(row["households_adjacent"]),
    }
    if row["capacity_unit"] == "bikes":
        figures["charging_ports"] = int(row["charging_ports"])
    return figures


def buildings_text(view: View, ids: list[Any]) -> str:
    """``B1 1栋, B2 2栋`` (a dash for none)."""
    names = building_names(view.ctx.path, view.lang)
    return ", ".join(names.get(str(b), str(b)) for b in ids) or "—"


def cost_table(row: pd.Series, lang: str) -> None:
    """The site's cost line items, with units and the source tag of each rate."""
    items = row["cost_items"]
    if not items:
        return
    table = pd.DataFrame(
        [
            {
                t("cost.item", lang): name_in(item, lang, str(item["item"])),
                t("cost.quantity", lang): f"{item['quantity']:,.2f} "
                + unit_label(item["unit"], lang),
                t("cost.rate", lang): f"{item['rate_cny']:,.2f}",
                t("cost.amount", lang): f"{item['amount_cny']:,.2f}",
                t("cost.source", lang): item["source"],
            }
            for item in items
        ]
    )
    # st.table, not st.dataframe: the data grid's 1.2 MB of browser code held back the
    # whole first paint (map included) until it had loaded
    st.table(table.set_index(t("cost.item", lang)))


def site_panel(view: View, row: pd.Series) -> None:
    """The site's title, then (when analysed) its numbers, checks, cost and funding."""
    lang, project = view.lang, view.project
    status = row.get("status") or "proposed"
    st.markdown(
        f"#### {plain(site_title(row, lang, project))}\n"
        f"{view.type_name(str(row['site_type']))} · {t(f'map.{status}', lang)}"
    )
    if not view.analysed:
        return
    fig = site_figures(row)
    unit = unit_label(fig["capacity_unit"], lang)
    a, b = st.columns(2)
    a.metric(t("site.area", lang), f"{fig['area_m2']:,.1f} m²")
    b.metric(t("site.capacity", lang), f"{fig['capacity']} {unit}")
    a.metric(t("site.cost", lang), money(fig["cost_cny"], lang))
    b.metric(t("site.served", lang), t("site.hh_value", lang, n=fig["households_served"]))
    if "charging_ports" in fig:
        a.metric(t("site.ports", lang), f"{fig['charging_ports']}")
    b.metric(t("site.adjacent", lang), t("site.hh_value", lang, n=fig["households_adjacent"]))
    method = t(f"site.method_{str(row['distance_method']).replace('+', '_and_')}", lang)
    served = buildings_text(view, row["buildings_served"])
    adjacent = buildings_text(view, row["buildings_adjacent"])
    served = t("site.served_buildings", lang, ids=served, method=method)
    adjacent = t("site.adjacent_buildings", lang, ids=adjacent)
    st.caption(f"{served}  \n{adjacent}")
    unknown = list(row.get("buildings_unknown") or [])
    if unknown:
        st.warning(t("site.unknown_buildings", lang, ids=buildings_text(view, unknown)))
    checks_list(list(row["checks"]), lang)
    st.markdown(f"**{t('site.cost_items', lang)}**")
    cost_table(row, lang)
    per = row["per_household_cny"]
    funding = t(
        "site.funding",
        lang,
        residents=f"{row['residents_cny']:,.0f}",
        subsidy=f"{row['subsidy_cny']:,.0f}",
        per="—" if pd.isna(per) else f"{per:,.0f}",
    )
    if row["cost_items"]:
        funding = f"{t('cost.source_help', lang)}  \n{funding}"  # one element, one message
    st.caption(funding)
