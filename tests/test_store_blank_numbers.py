"""A number field that is blank in every feature (all drawn, none typed yet) stays a number field.

GeoJSON has no type for a field that is null everywhere: it reads back as text,
and numbers written into it were saved as text ("24"). The store keeps the
layer's number fields numeric on read and on save.
"""

from __future__ import annotations

import json

import pytest
from shapely import box

from gridgis.core.project import new_project
from gridgis.core.store import LayerStore, ProjectStore
from gridgis.errors import ValidationError


def _drawn(tmp_path) -> LayerStore:
    new_project(tmp_path / "p", name="p", lon=104.07, lat=30.66)
    store = ProjectStore(tmp_path / "p").layer("buildings")
    for n in range(2):
        outline = box(104.07 + n * 0.001, 30.66, 104.0704 + n * 0.001, 30.6601)
        store.add(outline, fid=f"B{n + 1}", households=None, units=None, floors=None)
    return store


def _stored(store: LayerStore, field: str) -> list:
    text = (store.path / "buildings.geojson").read_text(encoding="utf-8")
    return [f["properties"].get(field) for f in json.loads(text)["features"]]


def test_households_typed_into_blank_buildings_are_numbers(tmp_path):
    store = _drawn(tmp_path)
    assert store.update("B1", expected_rev=1, households=24)["households"] == 24
    assert _stored(store, "households") == [24, None]
    fresh = LayerStore(store.path, "buildings")  # read again from the file, not the cache
    assert fresh.load()["households"].dtype.kind == "f"
    assert fresh.update("B2", expected_rev=1, households=36)["rev"] == 2
    assert _stored(store, "households") == [24, 36]


def test_a_ledger_into_blank_buildings_is_saved_as_numbers(tmp_path):
    store = _drawn(tmp_path)
    changes = {"B1": {"households": 24, "floor_area_m2": 1200.5}, "B2": {"households": 36}}
    store.update_many(changes, expected_revs={"B1": 1, "B2": 1})
    assert _stored(store, "households") == [24, 36]
    assert _stored(store, "floor_area_m2") == [1200.5, None]  # a field the update added
    assert store.load()["households"].tolist() == [24, 36]


def test_text_in_a_number_field_is_still_refused(tmp_path):
    store = _drawn(tmp_path)
    with pytest.raises(ValidationError, match="households"):
        store.update("B1", expected_rev=1, households="many")
    assert _stored(store, "households") == [None, None]
