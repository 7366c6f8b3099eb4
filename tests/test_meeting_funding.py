"""The meeting's money: each proposal's split and the whole plan's (`proposal_funding`)."""

from __future__ import annotations

import pandas as pd
import pytest

from gridgis.analysis.engine import prepare
from gridgis.analysis.funding import split_funding, split_plan_funding
from gridgis.core.project import open_project
from gridgis.core.settings import settings_from_toml
from gridgis.errors import GridGISError
from gridgis.meeting.funding import proposal_funding
from gridgis.meeting.proposals import proposals

from .conftest import DATA


@pytest.fixture(scope="module")
def prepared():
    return prepare(open_project(DATA / "dongsi180"))


@pytest.fixture(scope="module")
def props(prepared):
    """Every sample site as a proposal: SITE1's and SITE3's buildings overlap."""
    sites = prepared.project.layers["sites"].assign(status="proposed")
    return proposals(prepared.analyze(sites))


def test_each_proposal_is_split_on_its_own(prepared, props):
    per, _ = proposal_funding(prepared, props, other_cny=1000.0)
    want = split_funding(
        props["cost_cny"].astype(float),
        props["households_served"],
        settings=prepared.settings,
        other_cny=1000.0,
    )
    pd.testing.assert_frame_equal(per, want)
    assert list(per.index) == list(props.index)


def test_the_plan_counts_households_once_and_applies_the_cap_once(prepared, props):
    _, plan = proposal_funding(prepared, props)
    assert len(props) == 3
    assert plan["households"] < props["households_served"].sum()  # shared buildings
    assert plan["households"] == prepared.households_in(
        {b for ids in props["buildings_served"] for b in ids}
    )
    assert plan["cost_cny"] == pytest.approx(props["cost_cny"].sum())
    want = split_plan_funding(
        props["cost_cny"].astype(float),
        households=plan["households"],
        settings=prepared.settings,
    ).iloc[0]
    for column in ("residents_cny", "subsidy_cny", "other_cny", "per_household_cny"):
        assert plan[column] == pytest.approx(want[column])
    total = plan["residents_cny"] + plan["subsidy_cny"] + plan["other_cny"]
    assert total == pytest.approx(plan["cost_cny"], abs=0.005)


def test_a_meetings_own_settings_and_other_money_are_used(prepared, props):
    _, default = proposal_funding(prepared, props)
    generous = settings_from_toml('[funding]\nsubsidy_multiple = { value = 9, source = "E" }\n')
    _, more = proposal_funding(prepared, props, settings=generous)
    assert more["residents_cny"] < default["residents_cny"]
    per, covered = proposal_funding(prepared, props, other_cny=1e9)
    assert (per["residents_cny"] == 0).all() and covered["residents_cny"] == 0
    with pytest.raises(GridGISError, match=r"other_cny must be finite and >= 0, got -1\.0"):
        proposal_funding(prepared, props, other_cny=-1.0)
