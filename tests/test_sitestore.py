import multiprocessing
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely import box

from gridgis.core.io import list_layers, write_geojson
from gridgis.core.project import open_project
from gridgis.core.store import SiteStore
from gridgis.core.store import layer as layerstore
from gridgis.errors import ConflictError, ValidationError

from .conftest import DATA

# a 10 x 8 m box in the sample compound's north-east, in degrees
SHED = box(104.07020, 30.66950, 104.07030, 30.66957)


@pytest.fixture(params=["folder", "gpkg"])
def work(request, tmp_path):
    if request.param == "folder":
        return shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    return shutil.copy(DATA / "shaxi_f.gpkg", tmp_path / "p.gpkg")


def test_add_update_delete_restore(work):
    store = SiteStore(work)
    before = len(store.load())
    row = store.add(SHED, site_type="parking_shed", name="新车棚")
    assert row["site_id"] == "S1" and row["rev"] == 1
    assert len(store.load()) == before + 1
    changed = store.update("S1", expected_rev=1, name="东北角车棚", notes="<b>hi</b>")
    assert changed["rev"] == 2 and changed["name"] == "东北角车棚"
    project = open_project(work)  # the whole project still opens and validates
    assert "S1" in set(project.layers["sites"]["site_id"])
    store.delete("S1", expected_rev=2)
    assert "S1" not in set(store.load()["site_id"])
    back = store.restore(changed)
    assert back["rev"] == 3 and back["notes"] == "<b>hi</b>"
    assert store.load().set_index("site_id").loc["S1", "name"] == "东北角车棚"


def test_conflicts_are_detected_not_overwritten(work):
    laptop, tablet = SiteStore(work), SiteStore(work)
    row = laptop.add(SHED, site_type="parking_shed")
    laptop.update(row["site_id"], expected_rev=1, name="laptop's name")
    with pytest.raises(ConflictError, match=r"changed by another session \(revision 2, you"):
        tablet.update(row["site_id"], expected_rev=1, name="tablet's name")
    assert tablet.load().set_index("site_id").loc[row["site_id"], "name"] == "laptop's name"
    laptop.delete(row["site_id"])
    with pytest.raises(ConflictError, match="was deleted by another session"):
        tablet.update(row["site_id"], expected_rev=2, name="x")
    with pytest.raises(ConflictError, match="already taken"):
        laptop.add(SHED, site_type="parking_shed", site_id=laptop.load()["site_id"].iloc[0])


def test_bad_sites_are_refused_and_nothing_written(work):
    store = SiteStore(work)
    version = store.version()
    with pytest.raises(ValidationError, match="'helipad' is not one of"):
        store.add(SHED, site_type="helipad")
    bowtie = {"type": "Polygon", "coordinates": [[[104.07, 30.67], [104.0701, 30.6701],
              [104.0701, 30.67], [104.07, 30.6701], [104.07, 30.67]]]}  # fmt: skip
    with pytest.raises(ValidationError, match="Self-intersection"):
        store.add(bowtie, site_type="parking_shed")
    assert store.version() == version


def test_gpkg_keeps_other_layers_and_settings(tmp_path):
    path = shutil.copy(DATA / "shaxi_f.gpkg", tmp_path / "p.gpkg")
    layers = set(list_layers(path))
    SiteStore(path).add(SHED, site_type="vegetable_garden")
    assert set(list_layers(path)) == layers
    assert open_project(path).summary()["households"] == 70


def _add_many(args):
    path, who, n = args
    store = SiteStore(path)
    for k in range(n):
        store.add(box(104.0702 + k * 1e-5, 30.6695, 104.07025 + k * 1e-5, 30.66955),
                  site_type="parking_shed", name=f"{who}-{k}")  # fmt: skip


def test_two_processes_adding_at_once_lose_nothing(work):
    before = len(SiteStore(work).load())
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        pool.map(_add_many, [(str(work), "laptop", 6), (str(work), "tablet", 6)])
    sites = SiteStore(work).load()
    assert len(sites) == before + 12
    assert sites["site_id"].is_unique
    names = set(sites["name"])
    assert {f"laptop-{k}" for k in range(6)} | {f"tablet-{k}" for k in range(6)} <= names


def test_new_ids_skip_taken_ones(work):
    store = SiteStore(work)
    store.add(SHED, site_type="parking_shed", site_id="S2")
    assert store.new_site_id() == "S3"


def test_loads_reuse_the_last_read_until_the_file_changes(work):
    store = SiteStore(work)
    store.add(SHED, site_type="parking_shed", name="车棚")
    first = store.load()
    first.loc[0, "name"] = "changed in memory only"  # a copy: the next load is not affected
    again = SiteStore(work).load()
    assert again.equals(store.load()) and again.loc[0, "name"] != "changed in memory only"
    # another program rewrites the file (here: a project saved by another tool)
    project = open_project(work)
    sites = project.layers["sites"].assign(name="renamed elsewhere")
    if SiteStore(work).is_gpkg:
        from gridgis.core.io import update_gpkg

        update_gpkg({"sites": sites}, work)
    else:
        from gridgis.core.io import write_geojson

        write_geojson(sites, f"{work}/sites.geojson")
    assert set(store.load()["name"]) == {"renamed elsewhere"}
    if not SiteStore(work).is_gpkg:  # an editor that writes the file in place (same inode)
        path = Path(work) / "sites.geojson"
        text = path.read_text(encoding="utf-8")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text.replace("renamed elsewhere", "edited in place"))
        assert set(store.load()["name"]) == {"edited in place"}


def test_a_site_saved_while_the_project_is_locked_waits_for_the_lock(work):
    store = SiteStore(work)
    before = len(store.load())
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        pool.apply(_add_many, [(str(work), "warm-up", 0)])  # the worker has imported gridgis
        with store.locked():  # e.g. the settings page rewriting the whole project
            pending = pool.apply_async(_add_many, [(str(work), "tablet", 1)])
            pending.wait(timeout=2)
            assert not pending.ready() and len(store.load()) == before  # it waits
        pending.get(timeout=60)
    assert len(store.load()) == before + 1


def test_a_save_is_remembered_exactly_as_a_read_would_return_it(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    sites = open_project(work).layers["sites"]
    extra = sites.assign(households=range(len(sites)), share=0.5, paid=True)
    write_geojson(extra, work / "sites.geojson")  # numbers and booleans too
    store = SiteStore(work)

    def same_as_a_fresh_read() -> None:
        remembered = store.load()
        read = SiteStore(work)._read()
        gpd.pd.testing.assert_frame_equal(remembered, read)  # values, dtypes, order
        assert list(shapely.to_wkb(remembered.geometry.to_numpy())) == list(
            shapely.to_wkb(read.geometry.to_numpy())
        )

    odd = shapely.Polygon([(104.070213456789, 30.6695), (104.0702, 30.66957123456),
                           (104.0703, 30.6695)])  # fmt: skip
    row = store.add(odd, site_type="parking_shed", name='<b>车棚</b> "x"', notes="")
    same_as_a_fresh_read()
    store.update(row["site_id"], expected_rev=1, notes=None, name="改名")
    same_as_a_fresh_read()
    store.restore({**row, "rev": 5, "households": 12, "share": 0.25, "paid": True})
    same_as_a_fresh_read()
    store.add(SHED, site_type="activity_room")
    same_as_a_fresh_read()
    store.update("SITE1", expected_rev=1, name="first")  # numbers and booleans: no gaps
    same_as_a_fresh_read()
    for site_id in list(store.load()["site_id"]):
        store.delete(site_id)
    assert len(store.load()) == 0


def test_a_drawing_saved_in_the_sample_is_not_read_back(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    store = SiteStore(work)
    store.add(SHED, site_type="parking_shed")
    assert layerstore._READ[(str(work / "sites.geojson"), "sites")][0] == store._stamp()
