import pytest

from gridgis.core.settings import (
    default_settings,
    load_settings,
    settings_from_toml,
    settings_to_toml,
)
from gridgis.errors import SettingsError


def test_defaults_carry_source_tags_from_domain_notes():
    s = default_settings()
    assert s.rules.fire_lane_clear_width_m.value == 4.0
    assert s.rules.fire_lane_clear_width_m.source == "S"
    assert s.rules.bikes_per_charging_port.value == 3
    assert s.site_types["parking_shed"].area_per_capacity_m2.source == "D"
    assert s.cost_items["charging_port"].rate_cny.source == "E"
    assert 150 <= s.cost_items["charging_port"].rate_cny.value <= 400
    table = s.sourced_table()
    assert table and all(row["source"] in {"S", "D", "E"} for row in table)
    assert {"parking_shed", "vegetable_garden", "activity_room"} <= set(s.site_types)


def test_override_one_key_keeps_the_rest():
    s = settings_from_toml("[rules.shed_setback_from_openings_m]\nvalue = 8.0\n")
    assert s.rules.shed_setback_from_openings_m.value == 8.0
    assert s.rules.shed_setback_from_openings_m.source == "S"  # tag kept from defaults
    assert s.rules.fire_lane_clear_width_m.value == 4.0


def test_new_site_type_from_settings_not_code():
    text = """
[cost_items.pavilion]
label_zh = "凉亭"
label_en = "pavilion"
basis = "area"
rate_cny = { value = 900, source = "E" }

[site_types.pavilion]
label_zh = "凉亭"
label_en = "pavilion"
capacity_unit = "persons"
area_per_capacity_m2 = { value = 1.5, source = "E" }
service_radius_m = { value = 200, source = "E" }
consultation_distance_m = { value = 10, source = "E" }
min_area_m2 = { value = 9, source = "E" }
min_width_m = { value = 3, source = "E" }
cost_items = ["pavilion", "bench"]
"""
    s = settings_from_toml(text)
    assert s.site_types["pavilion"].cost_items == ("pavilion", "bench")


def test_round_trip_through_toml(tmp_path):
    s = settings_from_toml('[general]\nlanguage = "en"\n')
    path = tmp_path / "settings.toml"
    path.write_text(settings_to_toml(s), encoding="utf-8")
    assert load_settings(path) == s


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[rules]\nfire_lane_width = 4\n", r"unknown setting 'rules\.fire_lane_width'"),
        ("[colours]\nx = 1\n", r"unknown setting 'colours'"),
        ('[general]\nlanguage = "fr"\n', r"general\.language.*'fr'"),
        (
            '[rules.fire_lane_clear_width_m]\nvalue = "wide"\n',
            r"rules\.fire_lane_clear_width_m\.value.*'wide'",
        ),
        ('[rules.fire_lane_clear_width_m]\nsource = "X"\n', r"source.*'X'"),
        ('[site_types.parking_shed]\ncost_items = ["gold"]\n', r"names 'gold'"),
        ("[rules.fire_lane_clear_width_m]\nvalue = -4\n", r"fire_lane_clear_width_m must be >= 0"),
        ("[rules\nbroken", r"not valid TOML"),
    ],
)
def test_bad_settings_name_the_key(text, match):
    with pytest.raises(SettingsError, match=match):
        settings_from_toml(text, source="my.toml")


def test_unreadable_settings_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot read settings"):
        load_settings(tmp_path / "nope.toml")
