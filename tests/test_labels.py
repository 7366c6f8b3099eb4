import math

import pandas as pd
import pytest

from gridgis.core.settings import default_settings
from gridgis.report.labels import (
    DASH,
    clean_text,
    count,
    money,
    name_in,
    number,
    type_label,
    unit_label,
)


def test_name_in_reads_settings_objects_features_and_mappings():
    settings = default_settings()
    shed = settings.site_types["parking_shed"]
    assert name_in(shed, "zh") == "非机动车停车棚"
    assert name_in(shed, "en") == "e-bike parking shed"
    item = next(iter(settings.cost_items.values()))
    assert name_in(item, "en") == item.label_en
    row = pd.Series({"name": "1号楼", "name_en": "Building 1"})
    assert (name_in(row.to_dict(), "zh"), name_in(row.to_dict(), "en")) == ("1号楼", "Building 1")


@pytest.mark.parametrize(
    ("obj", "lang", "expected"),
    [
        ({"name": "1号楼", "name_en": float("nan")}, "en", "1号楼"),  # NaN: the other language
        ({"name": "  ", "name_en": "Building 1"}, "zh", "Building 1"),  # blank counts as missing
        ({"label_en": "Canopy"}, "zh", "Canopy"),
        ({"name": None}, "zh", "-"),
        ({}, "en", "-"),
    ],
)
def test_name_in_falls_back(obj, lang, expected):
    assert name_in(obj, lang, default="-") == expected


def test_type_label_prefers_the_catalog_then_settings_then_the_key():
    settings = default_settings()
    assert type_label("parking_shed", "zh", settings) == "非机动车棚"  # the catalog's term
    custom = settings.site_types["parking_shed"].model_copy(
        update={"label_zh": "快递柜", "label_en": "Parcel lockers"}
    )
    settings.site_types["parcel_lockers"] = custom
    assert type_label("parcel_lockers", "en", settings) == "Parcel lockers"
    assert type_label("parcel_lockers", "zh", settings) == "快递柜"
    assert type_label("parcel_lockers", "zh") == "parcel_lockers"


def test_units():
    assert [unit_label(u, "zh") for u in ("bikes", "plots", "persons", "m2")] == [
        "辆", "块", "人", "m²",
    ]  # fmt: skip
    assert unit_label("bikes", "en") == "bikes"
    assert unit_label("nonsense", "zh") == "nonsense"
    assert count(12, "bikes", "en") == "12 bikes"
    assert count(1234.6, "none", "zh") == "1,235"  # a unit with no text: the number alone


@pytest.mark.parametrize(
    ("amount", "decimals", "zh", "en"),
    [
        (61767.6, 2, "61,767.60 元", "CNY 61,767.60"),
        (61767.6, 0, "61,768 元", "CNY 61,768"),
        (-0.3, 0, "0 元", "CNY 0"),  # never "-0"
        (-1500, 0, "-1,500 元", "CNY -1,500"),
        ("12.5", 1, "12.5 元", "CNY 12.5"),
    ],
)
def test_money_has_one_convention_per_language(amount, decimals, zh, en):
    assert money(amount, "zh", decimals=decimals) == zh
    assert money(amount, "en", decimals=decimals) == en


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, "n/a", ""])
def test_missing_values_show_a_dash(missing):
    assert money(missing, "zh") == DASH
    assert number(missing) == DASH
    assert count(missing, "bikes", "en") == DASH


def test_clean_text():
    assert clean_text(pd.NA) is None
    assert clean_text(" B1\n") == "B1"
    assert clean_text(0) == "0"
