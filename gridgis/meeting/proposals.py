"""Proposals for the residents' meeting: the proposed and approved sites, lettered A, B, C...

Examples
--------
>>> letter(0), letter(25), letter(26)
('A', 'Z', 'AA')
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridgis.analysis.result import SiteAnalysis

__all__ = ["PROPOSAL_STATUSES", "letter", "proposals"]

PROPOSAL_STATUSES = ("proposed", "approved")


def letter(i: int) -> str:
    """The letter of the `i`-th proposal (0-based): 0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def proposals(analysis: SiteAnalysis) -> gpd.GeoDataFrame:
    """The proposed and approved sites, lettered A, B, C... in site order.

    Parameters
    ----------
    analysis
        From `gridgis.analysis.engine.analyze_sites`.

    Returns
    -------
    geopandas.GeoDataFrame
        Rows of ``analysis.sites`` (same index) whose ``status`` is one of
        `PROPOSAL_STATUSES` or missing, with a ``letter`` column first.
    """
    sites = analysis.sites
    status = sites["status"] if "status" in sites else pd.Series(None, index=sites.index)
    status = status.astype(object).where(status.notna() & (status.astype(str) != ""), "proposed")
    out = sites[status.astype(str).isin(PROPOSAL_STATUSES).to_numpy()].copy()
    out.insert(0, "letter", [letter(i) for i in range(len(out))])
    return out
