"""Refused values are told in the user's language, naming the feature and the field."""

from __future__ import annotations

import shutil

import pytest

from gridgis.core.store import ProjectStore
from gridgis.errors import ValidationError
from gridgis.report.problems import problem_message

from .conftest import REPO


@pytest.fixture
def buildings(tmp_path):
    shutil.copytree(REPO / "data" / "dongsi180", tmp_path / "p")
    return ProjectStore(tmp_path / "p").layer("buildings")


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        ("abc", "应为数字", "must be a number"),
        (3.5, "应为整数", "must be a whole number"),
        (-2, "应不小于 0", "must be at least 0"),
    ],
)
def test_a_refused_households_value_in_both_languages(buildings, value, zh, en):
    rev = int(buildings.get("B1")["rev"])
    with pytest.raises(ValidationError) as caught:
        buildings.update("B1", expected_rev=rev, households=value)
    (problem,) = caught.value.problems
    assert problem_message(problem, "zh").startswith("B1 的「户数」：")
    assert zh in problem_message(problem, "zh") and "must" not in problem_message(problem, "zh")
    assert problem_message(problem, "en").startswith("B1, Households: ")
    assert en in problem_message(problem, "en")
    assert int(buildings.get("B1")["rev"]) == rev  # nothing was written
    assert buildings.get("B1")["households"] == 84


def test_a_problem_without_code_keeps_its_english(buildings):
    from gridgis.errors import Problem

    p = Problem("something odd", layer="buildings", feature="B2", field="name")
    assert problem_message(p, "zh") == "B2 的「名称」：something odd"
