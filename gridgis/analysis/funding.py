"""Split a cost between other sources, residents and a matching street subsidy.

The model (seeds: 游家渡14号院, residents 40,000 + street 200,000): other
sources (community micro-renewal fund, owners' committee common revenue,
property company) reduce the cost first; residents raise ``R`` of the rest
and the street adds ``subsidy_multiple x R``, capped at ``subsidy_cap_cny``,
so that ``R + subsidy = remainder``:

- cap not binding: ``R = remainder / (1 + multiple)`` (rounded up to the
  cent, so the street never matches more than ``multiple x R``);
- cap binding: ``subsidy = cap`` and ``R = remainder - cap``.

All arithmetic is in integer cents: ``residents + subsidy + other == cost``
holds exactly to the cent. The ``funding.resident_share`` setting is not used
by this model (the share follows from the multiple: ``1 / (1 + multiple)``).

Examples
--------
>>> import pandas as pd
>>> from gridgis.core.settings import default_settings
>>> cost = pd.Series([40000.0, 1_000_000.0])
>>> split_funding(cost, pd.Series([100, 0]), settings=default_settings()).to_dict("list")
{'residents_cny': [10000.0, 800000.0], 'subsidy_cny': [30000.0, 200000.0], \
'other_cny': [0.0, 0.0], 'per_household_cny': [100.0, nan], 'subsidy_capped': [False, True]}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridgis.core.settings import Settings
from gridgis.errors import GridGISError

__all__ = ["FUNDING_COLUMNS", "split_funding", "split_plan_funding"]

FUNDING_COLUMNS = (
    "residents_cny",
    "subsidy_cny",
    "other_cny",
    "per_household_cny",
    "subsidy_capped",
)

_I = np.ndarray


def _to_cents(raw: np.ndarray, index: pd.Index, name: str) -> _I:
    """`raw` (float) in whole cents, checked finite and >= 0 (`index` names a bad entry)."""
    bad = ~np.isfinite(raw) | (raw < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        where = index[first]
        msg = f"{name} must be finite and >= 0, got {float(raw[first])!r} at index {where!r}"
        raise GridGISError(msg)
    return np.floor(raw * 100.0 + 0.5).astype(np.int64)


def _aligned(value: pd.Series | float, index: pd.Index, name: str) -> np.ndarray:
    """`value` as floats on `index`: a Series sharing it, or one number for every entry."""
    if isinstance(value, pd.Series):
        if not value.index.equals(index):
            msg = f"{name} must have the index of cost_cny, got {value.index[:5].tolist()!r}"
            raise GridGISError(msg)
        return value.to_numpy(dtype=float)
    return np.full(len(index), float(value))


def _split(cost: _I, other: _I, settings: Settings) -> tuple[_I, _I, _I, np.ndarray]:
    """Residents, subsidy and other (cents) and whether the cap bound."""
    multiple = float(settings.funding.subsidy_multiple.value)
    cap = int(np.floor(settings.funding.subsidy_cap_cny.value * 100.0 + 0.5))
    other = np.minimum(other, cost)  # other sources never pay more than the cost
    rest = cost - other
    residents = np.ceil(rest / (1.0 + multiple) * (1.0 - 1e-12)).astype(np.int64)
    subsidy = rest - residents
    capped = subsidy > cap
    subsidy = np.where(capped, cap, subsidy)
    residents = rest - subsidy
    return residents, subsidy, other, capped


def _per_household(residents: _I, households: np.ndarray) -> np.ndarray:
    ok = np.isfinite(households) & (households > 0)
    out = np.full(len(residents), np.nan)
    out[ok] = np.ceil(residents[ok] / households[ok] - 1e-9) / 100.0
    return out


def _frame(
    residents: _I, subsidy: _I, other: _I, per_household: np.ndarray, capped: np.ndarray, index
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "residents_cny": residents / 100.0,
            "subsidy_cny": subsidy / 100.0,
            "other_cny": other / 100.0,
            "per_household_cny": per_household,
            "subsidy_capped": capped.astype(bool),
        },
        index=index,
        copy=False,
    )


def split_funding(
    cost_cny: pd.Series,
    households_served: pd.Series,
    *,
    settings: Settings,
    other_cny: pd.Series | float = 0,
) -> pd.DataFrame:
    """Split each site's cost into residents' part, street subsidy and other sources.

    Parameters
    ----------
    cost_cny
        Cost per site (e.g. `gridgis.analysis.cost.site_costs`), finite and >= 0.
    households_served
        Households served per site, same index; NaN or 0 gives a NaN share.
    settings
        ``funding.subsidy_multiple`` and ``funding.subsidy_cap_cny`` (the cap
        applies to each site on its own; see `split_plan_funding`).
    other_cny
        Money from other sources per site (same index) or one amount for every
        site; the part above a site's cost is not used.

    Returns
    -------
    DataFrame
        Index of `cost_cny`; ``residents_cny``, ``subsidy_cny``, ``other_cny``
        (the part used), ``per_household_cny`` (residents / households, rounded
        up to the cent so the households raise at least the residents' part)
        and ``subsidy_capped`` (bool). The first three add up to the cost, to
        the cent.

    Raises
    ------
    GridGISError
        A cost or other amount is negative or not finite, or a Series does not
        share the index of `cost_cny`.
    """
    # numpy arrays throughout, one frame at the end: pandas' per-call overhead dominated
    index = cost_cny.index
    cost = _to_cents(cost_cny.to_numpy(dtype=float), index, "cost_cny")
    other = _to_cents(_aligned(other_cny, index, "other_cny"), index, "other_cny")
    households = _aligned(households_served, index, "households_served")
    residents, subsidy, other, capped = _split(cost, other, settings)
    per_household = _per_household(residents, households)
    return _frame(residents, subsidy, other, per_household, capped, index)


def split_plan_funding(
    cost_cny: pd.Series,
    *,
    households: float,
    settings: Settings,
    other_cny: pd.Series | float = 0,
) -> pd.DataFrame:
    """Split the cost of a whole plan (several sites) with the cap applied once.

    Parameters
    ----------
    cost_cny
        Cost per site of the plan.
    households
        Distinct households the plan serves (a household served by two sites
        counts once, so this is not the sum of the sites' households).
    settings
        ``funding.subsidy_multiple`` and ``funding.subsidy_cap_cny``.
    other_cny
        Other money per site (same index as `cost_cny`) or one amount for the
        whole plan.

    Returns
    -------
    DataFrame
        One row, index ``["plan"]``, the columns of `split_funding`.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridgis.core.settings import default_settings
    >>> cost = pd.Series([150_000.0, 150_000.0])
    >>> split_plan_funding(cost, households=300, settings=default_settings()).to_dict("records")
    [{'residents_cny': 100000.0, 'subsidy_cny': 200000.0, 'other_cny': 0.0, \
'per_household_cny': 333.34, 'subsidy_capped': True}]
    """
    index = cost_cny.index
    if isinstance(other_cny, pd.Series):
        other_total = _to_cents(_aligned(other_cny, index, "other_cny"), index, "other_cny")
    else:  # one amount: named as entry 0 if bad
        other_total = _to_cents(np.array([float(other_cny)]), pd.RangeIndex(1), "other_cny")
    cost_cents = _to_cents(cost_cny.to_numpy(dtype=float), index, "cost_cny")
    cost = np.array([cost_cents.sum()], dtype=np.int64)
    other = np.array([other_total.sum()], dtype=np.int64)
    residents, subsidy, other, capped = _split(cost, other, settings)
    per_household = _per_household(residents, np.array([float(households)]))
    return _frame(residents, subsidy, other, per_household, capped, pd.Index(["plan"]))
