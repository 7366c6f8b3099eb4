import json
import re
from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgis.cli import main
from gridgis.core.project import Project, open_project, read_project_layer, save_project
from gridgis.errors import GridGISError
from gridgis.meeting.register import votes_from_entry
from gridgis.meeting.tally import MATTERS, tally, tally_all, turnout_by_building
from gridgis.report.map.turnout import turnout_map
from gridgis.report.tally_text import format_tally, tally_dict

from .conftest import BAD, DATA

VOTES = DATA.parent / "tests" / "data" / "votes"
SAMPLE_VOTES = DATA / "dongsi180" / "votes.csv"


def register(*rows: tuple[object, str], site: str = "S1") -> pd.DataFrame:
    """A register of (area_m2, vote) rows, households H1, H2, ... ("" = did not take part)."""
    return pd.DataFrame(
        {
            "site_id": site,
            "household": [f"H{i}" for i in range(1, len(rows) + 1)],
            "area_m2": [area for area, _ in rows],
            "vote": [vote for _, vote in rows],
        }
    )


# --- quorum -------------------------------------------------------------------------------


def test_area_exactly_two_thirds_but_headcount_just_under_is_no_quorum():
    # 6 of 10 owners (3/5 < 2/3) hold 120 of 180 m2 (exactly 2/3)
    votes = register(*[("20", "agree")] * 6, *[("15", "")] * 4)
    t = tally(votes, site_id="S1")
    assert t.quorum_area_ratio == Fraction(2, 3) and t.quorum_area_margin == 0
    assert t.quorum_area_met
    assert t.quorum_headcount_ratio == Fraction(3, 5)
    assert t.quorum_headcount_margin == Fraction(3, 5) - Fraction(2, 3)
    assert not t.quorum_headcount_met and not t.quorum_met
    assert t.quorum_headcount_needed == 7
    assert t.approval_area_ratio == 1 and t.approval_headcount_ratio == 1  # everyone agreed ...
    assert not t.passed  # ... but without a quorum nothing passes


def test_exactly_two_thirds_of_both_is_a_quorum():
    t = tally(register(*[("50", "oppose")] * 6, *[("50", "")] * 3), site_id="S1")
    assert (t.quorum_area_ratio, t.quorum_headcount_ratio) == (Fraction(2, 3), Fraction(2, 3))
    assert t.quorum_met and t.quorum_headcount_needed == 6


def test_headcount_two_thirds_but_area_just_under_is_no_quorum():
    # 2 of 3 owners take part, holding 99.99 of 150 m2
    t = tally(register(("49.99", "agree"), ("50", "agree"), ("50.01", "")), site_id="S1")
    assert t.quorum_headcount_met and not t.quorum_area_met
    assert t.quorum_area_ratio == Fraction(9999, 15000)
    assert t.quorum_area_margin == Fraction(-1, 15000)
    assert not t.quorum_met and not t.passed


# --- approval -----------------------------------------------------------------------------


def test_exactly_three_quarters_of_both_passes_a_change_of_use():
    t = tally(register(*[("60", "agree")] * 3, ("60", "oppose")), site_id="S1")
    assert t.approval_area_ratio == Fraction(3, 4) and t.approval_area_margin == 0
    assert t.approval_headcount_ratio == Fraction(3, 4) and t.approval_headcount_margin == 0
    assert t.approval_area_met and t.approval_headcount_met
    assert t.passed
    assert t.approval_headcount_needed == 3 and t.approval_area_needed_m2 == 180


def test_just_under_three_quarters_on_area_only_fails():
    t = tally(register(*[("75", "agree")] * 3, ("75.01", "oppose")), site_id="S1")
    assert t.approval_headcount_ratio == Fraction(3, 4) and t.approval_headcount_met
    assert t.approval_area_ratio == Fraction(22500, 30001)
    assert t.approval_area_margin == Fraction(22500, 30001) - Fraction(3, 4) < 0
    assert not t.approval_area_met
    assert t.quorum_met and not t.passed


def test_just_under_three_quarters_on_headcount_only_fails():
    # 5 of 7 agree (< 3/4) but they hold 300 of 360 m2 (5/6)
    t = tally(register(*[("60", "agree")] * 5, ("30", "oppose"), ("30", "oppose")), site_id="S1")
    assert t.approval_area_met and not t.approval_headcount_met
    assert t.approval_headcount_ratio == Fraction(5, 7)
    assert not t.passed


def test_float_areas_are_read_as_the_decimals_they_show():
    # in floats (0.2 + 0.3 + 0.1) / 0.8 == 0.7499999999999999; exactly it is 3/4
    votes = register((0.2, "agree"), (0.3, "agree"), (0.1, "agree"), (0.2, "oppose"))
    assert (0.2 + 0.3 + 0.1) / 0.8 < 0.75
    t = tally(votes, site_id="S1")
    assert t.area_total_m2 == Fraction(4, 5)
    assert t.approval_area_ratio == Fraction(3, 4) and t.passed


def test_other_matter_needs_more_than_half():
    half = register(*[("80", "agree")] * 2, *[("80", "oppose")] * 2)
    t = tally(half, site_id="S1", matter="other")
    assert t.approval_area_ratio == Fraction(1, 2) and t.approval_headcount_ratio == Fraction(1, 2)
    assert t.approval_area_margin == 0 and not t.approval_area_met
    assert not t.passed
    assert t.approval_headcount_needed == 3  # the smallest count above 2 of 4
    over = register(*[("80", "agree")] * 3, *[("80", "oppose")] * 2)
    t = tally(over, site_id="S1", matter="other")
    assert t.approval_headcount_ratio == Fraction(3, 5) and t.passed
    # just over half of the heads but exactly half of the area: still fails
    split = register(("50", "agree"), ("50", "agree"), ("100", "oppose"))
    t = tally(split, site_id="S1", matter="other")
    assert t.approval_headcount_met and t.approval_area_ratio == Fraction(1, 2)
    assert not t.passed
    assert tally(split, site_id="S1", matter="other").approval_strict


def test_matters_and_their_thresholds():
    assert {k: (m.threshold, m.strict) for k, m in MATTERS.items()} == {
        "change_of_use": (Fraction(3, 4), False),
        "rebuild": (Fraction(3, 4), False),
        "maintenance_fund_raise": (Fraction(3, 4), False),
        "maintenance_fund_use": (Fraction(1, 2), True),  # art. 278 item 5: a majority matter
        "other": (Fraction(1, 2), True),
    }
    # 2 of 3 agree: passes a majority matter, not a matter 6-8
    votes = register(*[("70", "agree")] * 2, ("70", "oppose"))
    assert [tally(votes, site_id="S1", matter=m).passed for m in MATTERS] == [
        False, False, False, True, True,
    ]  # fmt: skip


def test_worst_case_at_bare_quorum_half_of_all_owners_decide_a_change_of_use():
    votes = register(*[("50", "agree")] * 6, *[("50", "oppose")] * 2, *[("50", "")] * 4)
    t = tally(votes, site_id="S1")
    assert t.quorum_headcount_ratio == Fraction(2, 3) and t.passed
    assert Fraction(t.agree_headcount, t.owners_total) == Fraction(1, 2)


def test_abstentions_count_toward_quorum_not_agreement():
    votes = register(("60", "agree"), ("60", "agree"), ("60", "abstain"), ("60", ""))
    t = tally(votes, site_id="S1")
    assert t.participating_headcount == 3 and t.abstain_headcount == 1
    assert t.quorum_met  # 3 of 4 took part: the abstainer makes the quorum
    assert t.agree_headcount == 2 and t.approval_headcount_ratio == Fraction(2, 3)
    assert not t.passed  # 2 of 3 participants < 3/4: abstaining is not agreeing
    stayed_home = tally(
        register(("60", "agree"), ("60", "agree"), ("60", ""), ("60", "")), site_id="S1"
    )
    assert not stayed_home.quorum_met  # 2 of 4 without the abstainer
    assert stayed_home.approval_headcount_ratio == 1


def test_non_participants_count_in_the_denominators_only():
    base = [("60", "agree")] * 6 + [("60", "oppose")] * 2
    a = tally(register(*base), site_id="S1")
    b = tally(register(*base, ("60", ""), ("90", None), ("70", float("nan"))), site_id="S1")
    assert (b.owners_total, b.area_total_m2) == (11, 700)
    assert (b.absent_headcount, b.absent_area_m2) == (3, 220)
    assert b.participating_headcount == a.participating_headcount == 8
    assert b.participating_area_m2 == a.participating_area_m2 == 480
    assert b.approval_area_ratio == a.approval_area_ratio == Fraction(3, 4)
    assert b.quorum_headcount_ratio == Fraction(8, 11) and a.quorum_headcount_ratio == 1
    assert b.passed and a.passed


def test_nobody_took_part():
    t = tally(register(("60", ""), ("60", "")), site_id="S1")
    assert t.participating_headcount == 0 and not t.quorum_met and not t.passed
    assert t.approval_area_ratio is None and t.approval_headcount_margin is None
    assert t.to_dict()["approval_area_ratio_exact"] is None


# --- errors -------------------------------------------------------------------------------


def test_household_listed_twice_is_an_error_naming_it_and_its_rows():
    votes = register(("60", "agree"), ("60", "oppose"), ("60", "agree"))
    votes.loc[2, "household"] = "H1"
    with pytest.raises(GridGISError, match=r"household 'H1' is listed twice \(rows 1 and 3\)"):
        tally(votes, site_id="S1")


def test_same_room_in_two_buildings_is_two_households_but_not_twice_in_one():
    votes = register(("60", "agree"), ("60", "agree"), ("60", "agree"))
    votes["household"] = "101"
    votes["building_id"] = ["B1", "B2", "B1"]
    with pytest.raises(
        GridGISError, match=r"'101' of building 'B1' is listed twice \(rows 1 and 3"
    ):
        tally(votes, site_id="S1")
    votes["building_id"] = ["B1", "B2", "B3"]
    assert tally(votes, site_id="S1").owners_total == 3


def test_household_listed_three_times():
    votes = register(*[("60", "agree")] * 3)
    votes["household"] = " 1-101"  # spaces around an id do not make another household
    with pytest.raises(GridGISError, match=r"'1-101' is listed 3 times \(rows 1, 2 and 3\)"):
        tally(votes, site_id="S1")


@pytest.mark.parametrize(
    ("area", "vote", "message"),
    [
        ("-3", "agree", r"feature row 2, field area_m2: area_m2 must be a number >= 0, got '-3'"),
        ("", "agree", r"feature row 2, field area_m2: area_m2 is empty"),
        (None, "agree", r"feature row 2, field area_m2: area_m2 is empty"),
        ("sixty", "agree", r"area_m2 must be a number >= 0, got 'sixty'"),
        ("inf", "agree", r"area_m2 must be a number >= 0, got 'inf'"),
        (-1.5, "agree", r"area_m2 must be a number >= 0, got -1\.5"),
        ("60", "maybe", r"feature row 2, field vote: vote 'maybe' is not one of agree, oppose"),
        ("60", "Agree", r"vote 'Agree' is not one of agree, oppose, abstain"),
    ],
)
def test_bad_rows_are_errors_naming_row_field_and_value(area, vote, message):
    votes = register(("60", "agree"), (area, vote))
    with pytest.raises(GridGISError, match=message):
        tally(votes, site_id="S1", source="votes.csv")


def test_every_problem_is_counted_the_first_named():
    votes = register(("60", "maybe"), ("-1", "agree"), ("", "no"))
    with pytest.raises(GridGISError, match=r"row 1, field vote: .*\(and 3 more problems"):
        tally(votes, site_id="S1")


def test_rows_of_other_sites_are_not_checked():
    votes = pd.concat([register(("60", "agree")), register(("-1", "maybe"), site="S2")])
    assert tally(votes.reset_index(drop=True), site_id="S1").passed
    with pytest.raises(GridGISError, match="row 2, field area_m2"):
        tally(votes.reset_index(drop=True), site_id="S2")


def test_site_with_no_rows():
    with pytest.raises(GridGISError, match=r"site_id='S9' has no rows .*sites in it: 'S1'"):
        tally(register(("60", "agree")), site_id="S9")


def test_missing_column_unknown_matter_and_zero_area():
    with pytest.raises(GridGISError, match=r"field area_m2: required column 'area_m2' is missing"):
        tally(register(("60", "agree")).drop(columns="area_m2"), site_id="S1")
    with pytest.raises(GridGISError, match=r"matter must be one of .*got 'garden'"):
        tally(register(("60", "agree")), site_id="S1", matter="garden")
    with pytest.raises(GridGISError, match=r"add up to 0 m2"):
        tally(register(("0", "agree"), ("0.00", "")), site_id="S1")


# --- property -----------------------------------------------------------------------------

areas = st.one_of(
    st.integers(min_value=0, max_value=300),
    st.decimals(min_value=0, max_value=300, places=2).map(str),
)
households = st.tuples(areas, st.sampled_from(["agree", "oppose", "abstain", ""]))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(households, min_size=1, max_size=40), matter=st.sampled_from(list(MATTERS)))
def test_never_passes_a_proposal_that_fails_either_count(rows, matter):
    area = [Fraction(Decimal(str(a))) for a, _ in rows]
    if sum(area) == 0:
        with pytest.raises(GridGISError):
            tally(register(*rows), site_id="S1", matter=matter)
        return
    t = tally(register(*rows), site_id="S1", matter=matter)
    # an independent count, from the raw rows
    took_part = [i for i, (_, v) in enumerate(rows) if v]
    agreed = [i for i, (_, v) in enumerate(rows) if v == "agree"]
    quorum_area = 3 * sum(area[i] for i in took_part) >= 2 * sum(area)
    quorum_heads = 3 * len(took_part) >= 2 * len(rows)
    m = MATTERS[matter]
    agree_area, part_area = sum(area[i] for i in agreed), sum(area[i] for i in took_part)
    if m.strict:  # more than half
        by_area = part_area > 0 and 2 * agree_area > part_area
        by_heads = 2 * len(agreed) > len(took_part)
    else:  # at least 3/4
        by_area = part_area > 0 and 4 * agree_area >= 3 * part_area
        by_heads = bool(took_part) and 4 * len(agreed) >= 3 * len(took_part)
    if not (quorum_area and quorum_heads):
        assert not t.passed and not t.quorum_met
    if not by_area or not by_heads:
        assert not t.passed
    assert t.passed == (quorum_area and quorum_heads and by_area and by_heads)
    assert (t.approval_area_met, t.approval_headcount_met) == (by_area, by_heads)
    assert t.owners_total == len(rows) and t.area_total_m2 == sum(area)
    assert t.participating_headcount == t.agree_headcount + t.oppose_headcount + t.abstain_headcount
    assert t.area_total_m2 == t.participating_area_m2 + t.absent_area_m2


# --- results as data ----------------------------------------------------------------------


def test_to_dict_is_json_with_floats_and_exact_fractions():
    t = tally(register(*[("60.5", "agree")] * 3, ("60.5", "oppose"), ("33.3", "")), site_id="S1")
    d = json.loads(json.dumps(tally_dict(t)))
    assert d["site_id"] == "S1" and d["matter"] == "change_of_use" and d["matter_item"] == 8
    assert d["owners_total"] == 5 and d["area_total_m2"] == pytest.approx(275.3)
    assert d["participating_headcount"] == 4 and d["agree_headcount"] == 3
    assert d["agree_area_m2"] == pytest.approx(181.5) and d["participating_area_m2"] == 242
    assert d["quorum_area_ratio_exact"] == "2420/2753"
    assert d["quorum_area_ratio"] == pytest.approx(2420 / 2753)
    assert d["approval_area_ratio_exact"] == "3/4" and d["approval_area_margin_exact"] == "0/1"
    assert d["quorum_headcount_margin_exact"] == "2/15"
    assert d["quorum_met"] is True and d["passed"] is True
    assert d["matter_zh"].startswith("改变共有部分的用途")
    assert d["matter_en"].startswith("changing the use of common parts")
    assert "matter_zh" not in t.to_dict()  # words come from the locales, not the count


def test_format_tally_shows_fractions_percentages_margins_and_result():
    text = format_tally(tally(register(*[("60", "agree")] * 2, ("60", "oppose")), site_id="S1"))
    assert "2 / 3 = 2/3 = 66.67%" in text
    assert "需 needs >= 3/4 (75.00%); 差额 margin -8.33 pp: 未达到 NOT met" in text
    assert text.rstrip().endswith("结果 Result: 未通过 NOT PASSED")
    zh = format_tally(tally(register(("60", "agree")), site_id="S1"), lang="zh")
    assert "需 >= 3/4" in zh and zh.endswith("结果: 通过") and "needs" not in zh
    en = format_tally(tally(register(("60", "agree")), site_id="S1"), lang="en")
    assert en.endswith("Result: PASSED") and "需" not in en


def test_tally_all_in_register_order():
    votes = read_project_layer(VOTES / "three_quarters.csv", "votes")
    results = tally_all(votes)
    assert list(results) == ["S1", "S2"]
    assert results["S1"].passed and not results["S2"].passed
    assert results["S2"].approval_headcount_ratio == Fraction(2, 3)
    assert all(t.matter == "other" for t in tally_all(votes, matter="other").values())


def test_turnout_by_building():
    votes = read_project_layer(VOTES / "three_quarters.csv", "votes")
    table = turnout_by_building(votes, site_id="S2")
    assert table["building_id"].tolist() == ["B1", "B2"]
    assert table[["owners", "participating", "agree", "abstain"]].to_numpy().tolist() == [
        [2, 2, 1, 1],
        [2, 1, 1, 0],
    ]
    assert table["turnout"].tolist() == [1.0, 0.5]
    assert table["approval"].tolist() == [0.5, 1.0]
    with pytest.raises(GridGISError, match="needs a 'building_id' column"):
        turnout_by_building(register(("60", "agree")), site_id="S1")


def test_votes_from_entry_builds_register_rows():
    b1 = votes_from_entry(
        "B1", [(1, 101, 52.4, "agree"), ("1", "102", "39.60", None), (2, 101, 50, "")],
        site_id="SITE3",
    )  # fmt: skip
    assert b1["household"].tolist() == ["B1-1-101", "B1-1-102", "B1-2-101"]
    assert b1["vote"].tolist() == ["agree", "", ""]
    assert b1["area_m2"].tolist() == [52.4, 39.6, 50.0]
    b2 = votes_from_entry("B2", [(1, 101, 60, "oppose")], site_id="SITE3")
    t = tally(pd.concat([b1, b2], ignore_index=True), site_id="SITE3")
    assert t.owners_total == 4 and t.area_total_m2 == Fraction("202")
    with pytest.raises(GridGISError, match=r"entry row 2: household 'B1-1-101' was already"):
        votes_from_entry("B1", [(1, 101, 50, "agree"), (1, 101, 50, "oppose")], site_id="S")
    with pytest.raises(GridGISError, match=r"entry row 1: vote 'yes' is not one of"):
        votes_from_entry("B1", [(1, 101, 50, "yes")], site_id="S")
    with pytest.raises(GridGISError, match=r"entry row 1: area_m2 must be a number >= 0"):
        votes_from_entry("B1", [(1, 101, -5, "agree")], site_id="S")
    with pytest.raises(GridGISError, match=r"expected \(unit, room, area_m2, vote\)"):
        votes_from_entry("B1", [(1, 101, 50)], site_id="S")


# --- the sample register ------------------------------------------------------------------


def test_sample_register_fails_narrowly_by_one_household():
    votes = read_project_layer(SAMPLE_VOTES, "votes")
    t = tally(votes, site_id="SITE3")
    assert (t.owners_total, t.area_total_m2) == (308, 14168)
    assert (t.participating_headcount, t.agree_headcount) == (232, 173)
    assert t.quorum_met
    assert t.approval_area_met and t.approval_area_ratio == Fraction(53319, 71020)
    assert t.approval_headcount_ratio == Fraction(173, 232) and t.approval_headcount_needed == 174
    assert not t.passed
    assert tally(votes, site_id="SITE3", matter="other").passed
    areas = votes["area_m2"].astype(float)
    assert areas.between(39, 53).all()
    # the exclusive areas fit in each building's floor area
    buildings = open_project(DATA / "dongsi180").layers["buildings"].set_index("building_id")
    by_building = areas.groupby(votes["building_id"]).sum()
    assert (by_building <= buildings["floor_area_m2"]).all()
    assert by_building.index.tolist() == ["B1", "B2", "B3", "B4"]


# --- the map ------------------------------------------------------------------------------


def test_turnout_map_colours_buildings(tiny_layers):
    votes = pd.concat(
        [
            votes_from_entry("B1", [(1, r, 60, "agree") for r in (101, 102, 201)], site_id="S1"),
            votes_from_entry("B2", [(1, 101, 60, "oppose"), (1, 102, 60, ""), (1, 201, 60, "")],
                             site_id="S1"),
        ],
        ignore_index=True,
    )  # fmt: skip
    tiny_layers["buildings"].loc[1, "name"] = "<b>2栋</b>"
    project = Project(layers=tiny_layers)
    html = turnout_map(project, votes, site_id="S1", by="turnout").get_root().render()
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda g: chr(int(g.group(1), 16)), html)
    assert '"_c": "#5aae61"' in text and '"_c": "#f4a582"' in text  # 3 of 3, 1 of 3
    assert "参与表决率" in text and "&lt;b&gt;2栋&lt;/b&gt;" in text and "<b>2栋" not in text
    # the layer control comes after the layer it lists (else Leaflet fails on the page)
    assert text.index('"_c": ') < text.index("L.control.layers")
    en = turnout_map(project, votes, site_id="S1", by="approval", lang="en").get_root().render()
    assert "Approval (of participants)" in en and '"_c": "#5aae61"' in en
    with pytest.raises(GridGISError, match=r"by must be one of turnout, approval, got 'x'"):
        turnout_map(project, votes, site_id="S1", by="x")
    tiny_layers["buildings"].loc[1, "name"] = "{{ 7*7 }}栋"  # never run as a template
    braces = turnout_map(Project(layers=tiny_layers), votes, site_id="S1", by="turnout")
    assert "49栋" not in braces.get_root().render()


# --- command line -------------------------------------------------------------------------


@pytest.fixture
def tiny_project(tiny_layers, tmp_path):
    return save_project(Project(layers=tiny_layers), tmp_path / "tiny")


def test_cli_tally_json(tiny_project, capsys):
    code = main(["tally", str(tiny_project), "--votes", str(VOTES / "three_quarters.csv"),
                 "--site", "S1", "--json"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert {k: d[k] for k in ("site_id", "matter", "owners_total", "area_total_m2")} == {
        "site_id": "S1", "matter": "change_of_use", "owners_total": 4, "area_total_m2": 240.0,
    }  # fmt: skip
    assert (d["participating_headcount"], d["participating_area_m2"]) == (4, 240.0)
    assert (d["agree_headcount"], d["agree_area_m2"]) == (3, 180.0)
    assert d["quorum_met"] is True and d["passed"] is True
    assert d["approval_headcount_ratio_exact"] == "3/4" and d["site_name"] == "车棚"


def test_cli_tally_text_and_matter(tiny_project, capsys):
    args = [
        "tally",
        str(tiny_project),
        "--votes",
        str(VOTES / "three_quarters.csv"),
        "--site",
        "S2",
    ]
    assert main(args) == 0  # a failed vote is still a report
    out = capsys.readouterr().out
    assert "表决结果 Vote tally: S2" in out and "2 / 3 = 2/3 = 66.67%" in out
    assert "未通过 NOT PASSED" in out
    assert main([*args, "--matter", "other"]) == 0
    out = capsys.readouterr().out
    assert "需 needs > 1/2 (50.00%)" in out and "通过 PASSED" in out and "NOT PASSED" not in out


def test_cli_tally_sample(capsys):
    assert main(["tally", str(DATA / "dongsi180"), "--site", "SITE3", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["owners_total"], d["participating_headcount"], d["agree_headcount"]) == (
        308,
        232,
        173,
    )
    assert d["area_total_m2"] == 14168.0 and d["agree_area_m2"] == pytest.approx(7997.85)
    assert d["quorum_met"] is True and d["passed"] is False
    assert d["site_name"] == "小区菜园 / Vegetable garden"
    assert main(["tally", str(DATA / "dongsi180"), "--votes", str(SAMPLE_VOTES),
                 "--site", "SITE3"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "173 / 232 = 173/232 = 74.57%" in out and "未通过 NOT PASSED" in out


@pytest.mark.parametrize(
    ("votes", "site", "message"),
    [
        (BAD / "votes_duplicate_household.csv", "S1",
         r"household '1-101' of building 'B1' is listed twice \(rows 1 and 2\)"),
        (VOTES / "negative_area.csv", "S1",
         r"negative_area\.csv: layer votes, feature row 2, field area_m2: .*got '-60\.00'"),
        (VOTES / "three_quarters.csv", "S7", r"site_id='S7' has no rows"),
        (VOTES / "missing.csv", "S1", r"--votes '.*missing\.csv': no such file"),
    ],
)  # fmt: skip
def test_cli_tally_bad_input_exits_2_with_one_line(tiny_project, capsys, votes, site, message):
    assert main(["tally", str(tiny_project), "--votes", str(votes), "--site", site]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
    assert err.startswith("gridgis tally: error: ")


def test_cli_tally_without_votes(tiny_project, capsys):
    assert main(["tally", str(tiny_project), "--site", "S1"]) == 2
    assert "the project has no votes layer; pass --votes FILE" in capsys.readouterr().err


def test_cli_tally_warns_on_unknown_site_and_reads_excel_csv(tiny_project, capsys):
    assert main(["tally", str(DATA / "dongsi180"), "--votes", str(VOTES / "excel_bom.csv"),
                 "--site", "S1", "--json"]) == 0  # fmt: skip
    out, err = capsys.readouterr()
    assert "site 'S1' is not in the project's sites layer" in err
    assert json.loads(out)["approval_area_ratio_exact"] == "3/4"
