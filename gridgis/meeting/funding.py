"""The money of the proposals shown at a meeting: each proposal's split and the whole plan's.

Each proposal is split on its own (`gridgis.analysis.funding.split_funding`,
the cap per site); the plan is split once over the proposals' total cost, with
the cap applied once and the households counted once per building
(`PreparedProject.households_in`), so its per-household figure is not the
sum of the proposals'.

Examples
--------
>>> from gridgis.analysis.engine import prepare
>>> from gridgis.core.project import open_project
>>> from gridgis.meeting.proposals import proposals
>>> prepared = prepare(open_project("data/dongsi180"))
>>> per, plan = proposal_funding(prepared, proposals(prepared.analyze()))
>>> parts = per[["residents_cny", "subsidy_cny", "other_cny"]].to_numpy().sum()
>>> int(plan["households"]), round(float(plan["cost_cny"] - parts), 2)
(308, 0.0)
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridgis.analysis.engine import PreparedProject
from gridgis.analysis.funding import split_funding, split_plan_funding
from gridgis.core.settings import Settings

__all__ = ["proposal_funding"]


def proposal_funding(
    prepared: PreparedProject,
    proposals: gpd.GeoDataFrame,
    *,
    settings: Settings | None = None,
    other_cny: float = 0.0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Each proposal's funding split, and the whole plan's (cap applied once).

    Parameters
    ----------
    prepared
        The prepared project the proposals were analysed on.
    proposals
        Analysed sites (`gridgis.meeting.proposals.proposals`): ``cost_cny``,
        ``households_served`` and ``buildings_served``.
    settings
        The funding settings (e.g. a meeting's own subsidy multiple and cap);
        default: the prepared project's.
    other_cny
        Money from other sources for each proposal (CNY).

    Returns
    -------
    tuple
        The `split_funding` frame (index of `proposals`) and the plan's row:
        the `split_plan_funding` columns plus ``cost_cny`` (the total) and
        ``households`` (distinct households served).

    Raises
    ------
    GridGISError
        A cost or `other_cny` is negative or not finite.
    """
    settings = settings or prepared.settings
    cost = proposals["cost_cny"].astype(float)
    served_n = proposals["households_served"]
    per = split_funding(cost, served_n, settings=settings, other_cny=other_cny)
    served = {b for ids in proposals["buildings_served"] for b in ids}
    households = prepared.households_in(served)
    others = pd.Series(float(other_cny), index=cost.index)
    plan = split_plan_funding(cost, households=households, settings=settings, other_cny=others)
    row = plan.iloc[0].copy()
    row["cost_cny"] = float(cost.sum())
    row["households"] = households
    return per, row
