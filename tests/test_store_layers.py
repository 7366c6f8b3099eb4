"""core.store: per-feature writes to any layer, the lock, settings-only saves, leftovers."""

import shutil
import subprocess
import sys
import textwrap
import time

import pytest
from shapely import LineString, box

from gridgis.core.io import list_layers
from gridgis.core.project import open_project, save_project
from gridgis.core.settings import default_settings, settings_from_toml
from gridgis.core.store import LayerStore, ProjectStore, SiteStore, lock_path, project_lock
from gridgis.errors import ConflictError, ProjectError, ValidationError

from .conftest import DATA

LANE = LineString([(104.0700, 30.6690), (104.0705, 30.6690)])


@pytest.fixture(params=["folder", "gpkg"])
def work(request, tmp_path):
    if request.param == "folder":
        return shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    return shutil.copy(DATA / "shaxi_f.gpkg", tmp_path / "p.gpkg")


def test_any_layer_add_update_delete_restore_with_revisions(work):
    paths = ProjectStore(work).layer("paths")
    before = len(paths.load())
    row = paths.add(LANE, kind="fire_lane", width_m=4.0)
    assert row["rev"] == 1 and row["path_id"].startswith("P")
    changed = paths.update(row["path_id"], expected_rev=1, width_m=3.5)
    assert changed["rev"] == 2 and changed["width_m"] == 3.5
    with pytest.raises(ConflictError, match=r"path .* was changed by another session \(revision 2"):
        LayerStore(work, "paths").update(row["path_id"], expected_rev=1, width_m=9.0)
    stored = open_project(work).layers["paths"].set_index("path_id")
    assert stored.loc[row["path_id"], "width_m"] == 3.5
    paths.delete(row["path_id"], expected_rev=2)
    assert len(paths.load()) == before
    back = paths.restore(changed)
    assert back["rev"] == 3 and len(open_project(work).layers["paths"]) == before + 1
    with pytest.raises(ValidationError, match="'canal' is not one of"):
        paths.add(LANE, kind="canal")


def test_buildings_are_edited_one_at_a_time_and_other_layers_kept(work):
    tables = list_layers(work) if str(work).endswith(".gpkg") else None
    buildings = LayerStore(work, "buildings")
    first = buildings.load().iloc[0]
    bid, households = str(first["building_id"]), int(first["households"])
    buildings.update(bid, expected_rev=int(first["rev"]), households=households + 2)
    project = open_project(work)
    assert int(project.layers["buildings"].set_index("building_id").loc[bid, "households"]) == (
        households + 2
    )
    assert set(project.layers) >= {"compound", "buildings"}
    if tables is not None:
        assert sorted(list_layers(work)) == sorted(tables)


def test_unknown_layer_and_votes_have_no_feature_store(work):
    with pytest.raises(ProjectError, match="layer='roads' has no feature store"):
        LayerStore(work, "roads")
    with pytest.raises(ProjectError, match="VotesStore"):
        LayerStore(work, "votes")
    assert isinstance(ProjectStore(work).layer("sites"), SiteStore)


def test_saving_settings_writes_only_the_settings_and_only_changed_keys(work):
    store = ProjectStore(work)
    stamps = {p.name: p.stat().st_mtime_ns for p in work.parent.iterdir() if p.is_file()}
    if work.is_dir():
        stamps = {p.name: p.stat().st_mtime_ns for p in work.iterdir() if p.suffix == ".geojson"}
    settings = settings_from_toml("[rules]\nshed_block_gap_m = { value = 3.0 }")
    store.save_settings(settings)
    assert open_project(work).settings == settings
    if work.is_dir():
        assert (work / "settings.toml").read_text() == "[rules.shed_block_gap_m]\nvalue = 3.0\n"
        assert {p.name: p.stat().st_mtime_ns for p in work.iterdir()
                if p.suffix == ".geojson"} == stamps  # fmt: skip
    store.save_settings(default_settings())
    assert open_project(work).settings == default_settings()


def test_a_corrected_default_reaches_a_project_that_changed_another_key(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    ProjectStore(work).save_settings(settings_from_toml('[general]\nlanguage = "en"'))
    text = (work / "settings.toml").read_text()
    assert "fire_lane_clear_width_m" not in text  # so a later default applies to this project
    save_project(open_project(work))
    assert (work / "settings.toml").read_text() == text


CHILD = textwrap.dedent(
    """
    import sys, time
    from shapely import box
    from gridgis.core.store import SiteStore
    start = time.monotonic()
    try:
        SiteStore(sys.argv[1], timeout=float(sys.argv[2])).add(
            box(104.0702, 30.6695, 104.0703, 30.6696), site_type="parking_shed")
        print("saved")
    except Exception as exc:
        print(type(exc).__name__, exc)
    print(round(time.monotonic() - start, 2))
    """
)


def test_a_second_process_waits_for_the_lock_then_times_out_with_a_message(work):
    with project_lock(work):
        started = time.monotonic()
        out = subprocess.run([sys.executable, "-c", CHILD, str(work), "1.5"], capture_output=True,
                             text=True, timeout=120).stdout.splitlines()  # fmt: skip
    assert out[0].startswith("ProjectError another program is holding the project lock"), out
    assert str(lock_path(work)) in out[0] and "waited 1.5 s" in out[0]
    assert float(out[1]) >= 1.5 and time.monotonic() - started >= 1.5
    before = len(SiteStore(work).load())
    out = subprocess.run([sys.executable, "-c", CHILD, str(work), "5"], capture_output=True,
                         text=True, timeout=120).stdout.splitlines()  # fmt: skip
    assert out[0] == "saved" and len(SiteStore(work).load()) == before + 1


def test_the_lock_is_reentrant_in_a_thread(work):
    with project_lock(work), project_lock(work, timeout=0):
        SiteStore(work).add(box(104.0702, 30.6695, 104.0703, 30.6696), site_type="parking_shed")


def test_leftover_temp_files_are_removed_on_the_next_open_and_save(tmp_path):
    folder = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    junk = [".sites.geojson.1a2b3c4d.tmp", ".buildings.9f8e7d6c.tmp.geojson",
            ".settings.toml.k2j3h4g5.tmp"]  # fmt: skip
    for name in junk:
        (folder / name).write_text("half")
    (folder / ".keep-me").write_text("not ours")
    open_project(folder)
    assert not [n for n in junk if (folder / n).exists()] and (folder / ".keep-me").exists()
    for name in junk:
        (folder / name).write_text("half")
    SiteStore(folder).add(box(104.0702, 30.6695, 104.0703, 30.6696), site_type="parking_shed")
    assert not [n for n in junk if (folder / n).exists()]
    gpkg = shutil.copy(DATA / "shaxi_f.gpkg", tmp_path / "q.gpkg")
    gjunk = [tmp_path / ".q.0a1b2c3d.tmp.gpkg", tmp_path / ".q.0a1b2c3d.tmp.gpkg-journal"]
    other = tmp_path / ".other.0a1b2c3d.tmp.gpkg"  # another project's: not touched
    for path in (*gjunk, other):
        path.write_text("half")
    open_project(gpkg)
    assert not [p for p in gjunk if p.exists()] and other.exists()


def test_a_temp_file_of_a_live_writer_is_not_removed_by_an_open(tmp_path):
    folder = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    live = folder / ".sites.geojson.1a2b3c4d.tmp"
    with project_lock(folder):  # another program writing: its temp file is not a leftover
        live.write_text("being written")
        code = "import sys; import gridgis.core.project as p; p.open_project(sys.argv[1])"
        subprocess.run([sys.executable, "-c", code, str(folder)], check=True, timeout=120)
        assert live.exists()
    open_project(folder)
    assert not live.exists()


def test_a_blank_number_keeps_its_column_numeric(work):
    """A building drawn with no households yet (None) can be given them later."""
    store = LayerStore(work, "buildings")
    before = int(open_project(work).layers["buildings"]["households"].sum())
    poly = box(104.0655, 30.6555, 104.0657, 30.6557)
    fid = store.add(poly, name="new", households=None, units="", floors=None)["building_id"]
    stored = store.update(fid, expected_rev=1, households=56, units=2, floors=7)
    assert (stored["households"], stored["units"], stored["floors"]) == (56, 2, 7)
    reopened = open_project(work).layers["buildings"].set_index("building_id")
    assert reopened.loc[fid, "households"] == 56
    assert reopened["households"].dtype.kind in "if"  # numbers, not text
    assert int(reopened["households"].sum()) == before + 56
