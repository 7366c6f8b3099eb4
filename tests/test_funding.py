"""Funding split: residents, matched street subsidy with a cap, other sources."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgis.analysis.funding import FUNDING_COLUMNS, split_funding, split_plan_funding
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.errors import GridGISError

DEFAULT = default_settings()  # multiple 3, cap 200,000


def _cents(x: float) -> int:
    return round(x * 100)


def _assert_adds_up(cost: pd.Series, out: pd.DataFrame) -> None:
    for key in cost.index:
        parts = out.loc[key, ["residents_cny", "subsidy_cny", "other_cny"]]
        assert sum(_cents(v) for v in parts) == _cents(cost[key])


def test_cap_not_binding_and_binding():
    cost = pd.Series([40_000.0, 1_000_000.0], index=["a", "b"])
    out = split_funding(cost, pd.Series([100, 400], index=["a", "b"]), settings=DEFAULT)
    assert tuple(out.columns) == FUNDING_COLUMNS
    # a: R = 40,000 / 4 = 10,000; subsidy 3 x R = 30,000 <= cap
    assert out.loc["a"].tolist() == [10_000.0, 30_000.0, 0.0, 100.0, False]
    # b: 3 x 250,000 = 750,000 > cap: subsidy 200,000, residents 800,000 = 2,000 each
    assert out.loc["b"].tolist() == [800_000.0, 200_000.0, 0.0, 2_000.0, True]
    assert out["subsidy_capped"].dtype == bool
    _assert_adds_up(cost, out)


def test_the_youjiadu_seed_with_multiple_five():
    # residents 40,000 + street 200,000 = 240,000
    s = settings_from_toml('[funding]\nsubsidy_multiple = { value = 5, source = "S" }\n')
    out = split_funding(pd.Series([240_000.0]), pd.Series([np.nan]), settings=s)
    assert out.loc[0, ["residents_cny", "subsidy_cny"]].tolist() == [40_000.0, 200_000.0]
    assert not out.loc[0, "subsidy_capped"]  # exactly at the cap
    assert math.isnan(out.loc[0, "per_household_cny"])


def test_other_sources_first_and_cents():
    cost = pd.Series([50_000.0, 100.01, 500.0, 10_000.0])
    other = pd.Series([10_000.0, 0.0, 800.0, 0.0])
    served = pd.Series([3, 7, 10, 0])
    out = split_funding(cost, served, settings=DEFAULT, other_cny=other)
    # 40,000 left: 10,000 + 30,000; 10,000 / 3 households = 3,333.34 (rounded up)
    assert out.loc[0].tolist() == [10_000.0, 30_000.0, 10_000.0, 3333.34, False]
    # 10,001 cents / 4 = 2,500.25 -> residents 25.01 (up), street 75.00 <= 3 x 25.01
    assert out.loc[1, ["residents_cny", "subsidy_cny"]].tolist() == [25.01, 75.0]
    assert out.loc[1, "per_household_cny"] == 3.58  # 25.01 / 7 = 3.5729 -> 3.58
    # other money above the cost is not used
    assert out.loc[2, ["residents_cny", "subsidy_cny", "other_cny"]].tolist() == [0, 0, 500.0]
    assert math.isnan(out.loc[3, "per_household_cny"])  # nobody served
    _assert_adds_up(cost, out)


def test_one_other_amount_for_every_site():
    cost = pd.Series([4_400.0, 400.0])
    out = split_funding(cost, pd.Series([1, 1]), settings=DEFAULT, other_cny=400)
    assert out["other_cny"].tolist() == [400.0, 400.0]
    assert out["residents_cny"].tolist() == [1_000.0, 0.0]


def test_plan_applies_the_cap_once():
    cost = pd.Series([150_000.0, 150_000.0])
    per_site = split_funding(cost, pd.Series([150, 150]), settings=DEFAULT)
    assert per_site["subsidy_cny"].sum() == 225_000.0  # 112,500 each, under the cap
    plan = split_plan_funding(cost, households=300, settings=DEFAULT, other_cny=pd.Series([0, 0]))
    assert list(plan.index) == ["plan"]
    # 300,000: 3 x 75,000 = 225,000 > 200,000 -> street 200,000, residents 100,000
    assert plan.loc["plan"].tolist() == [100_000.0, 200_000.0, 0.0, 333.34, True]
    plan = split_plan_funding(cost, households=300, settings=DEFAULT, other_cny=40_000)
    assert plan.loc["plan"].tolist() == [65_000.0, 195_000.0, 40_000.0, 216.67, False]


@given(
    st.lists(st.integers(min_value=0, max_value=10**10), min_size=1, max_size=5),
    st.floats(min_value=0, max_value=6),
    st.integers(min_value=0, max_value=10**8),
)
def test_parts_add_up_to_the_cent(cents, multiple, cap_cents):
    s = settings_from_toml(
        f'[funding]\nsubsidy_multiple = {{ value = {multiple!r}, source = "E" }}\n'
        f'subsidy_cap_cny = {{ value = {cap_cents / 100!r}, source = "E" }}\n'
    )
    cost = pd.Series([c / 100 for c in cents])
    out = split_funding(cost, pd.Series([10] * len(cents)), settings=s)
    _assert_adds_up(cost, out)
    residents = out["residents_cny"].map(_cents)
    subsidy = out["subsidy_cny"].map(_cents)
    assert (subsidy <= cap_cents).all()
    assert (subsidy <= multiple * residents + 1e-6).all()
    assert (residents >= 0).all()


def test_bad_inputs():
    with pytest.raises(
        GridGISError, match=r"cost_cny must be finite and >= 0, got -5.0 at index 'x'"
    ):
        split_funding(pd.Series([-5.0], index=["x"]), pd.Series([1], index=["x"]), settings=DEFAULT)
    with pytest.raises(GridGISError, match=r"households_served must have the index of cost_cny"):
        split_funding(pd.Series([5.0]), pd.Series([1], index=[3]), settings=DEFAULT)
    with pytest.raises(GridGISError, match=r"other_cny must be finite and >= 0, got nan"):
        split_funding(pd.Series([5.0]), pd.Series([1]), settings=DEFAULT, other_cny=float("nan"))
    one_site = pd.Series([5.0], index=["x"])
    with pytest.raises(GridGISError, match=r"other_cny must be .*, got -1.0 at index 0"):
        split_plan_funding(one_site, households=1, settings=DEFAULT, other_cny=-1)
