"""The votes register: one file per project, one reader, edits through the store."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from gridgis.core.io import list_layers
from gridgis.core.project import open_project, save_project
from gridgis.core.settings import settings_from_toml
from gridgis.core.store import VotesStore
from gridgis.errors import ConflictError
from gridgis.meeting.register import check_register, read_register
from gridgis.meeting.tally import tally

from .apptest import APP
from .conftest import DATA, REPO


def _rows(frame: pd.DataFrame) -> list[tuple[str, ...]]:
    cols = ["site_id", "building_id", "household", "area_m2", "vote"]
    return sorted(map(tuple, frame[cols].astype(str).to_numpy().tolist()))


def _cli_tally(path) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "gridgis.cli", "tally", str(path), "--site", "SITE3", "--json"],
        capture_output=True, text=True, timeout=120, check=True, cwd=REPO,
    )  # fmt: skip
    return json.loads(out.stdout)


@pytest.mark.parametrize("form", ["folder", "gpkg"])
def test_after_a_settings_save_every_reader_sees_the_same_register(workspace, tmp_path, form):
    from app import workspace as common  # open_sample
    from app.views import settings_table

    name = common.open_sample("dongsi180")
    path = workspace / name
    if form == "gpkg":  # the same project as one GeoPackage file (the register as a table)
        path = save_project(open_project(path), workspace / "dongsi180.gpkg")
    store = VotesStore(path)
    seen = store.revision(store.load(), site_id="SITE3", building_id="B1")
    b1 = store.load().query("building_id == 'B1'")
    flipped = b1.assign(vote=b1["vote"].replace({"oppose": "agree"}))  # edited on the Votes page
    store.replace_building("SITE3", "B1", flipped, expected=seen)
    settings = settings_from_toml('[general]\nlanguage = "en"')
    settings_table.write_settings(path, settings)  # what the Settings page's Save button calls
    page = VotesStore(path).load()  # what the Votes page reads
    opened = read_register(open_project(path))
    assert len(page) == 308 and _rows(page) == _rows(opened)
    if form == "folder":
        assert not (path / "votes.geojson").exists() and (path / "votes.csv").exists()
    else:
        assert "votes" in list_layers(path)
    mine = tally(page, site_id="SITE3")
    cli = _cli_tally(path)
    assert (cli["owners_total"], cli["agree_headcount"], cli["passed"]) == (
        mine.owners_total, mine.agree_headcount, mine.passed)  # fmt: skip
    assert mine.agree_headcount > 173  # the page's edit is what every reader counts
    assert open_project(path).settings == settings


def test_two_sessions_the_stale_edit_is_refused_and_nothing_is_lost(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    laptop, tablet = VotesStore(work), VotesStore(work)
    seen_laptop = laptop.revision(laptop.load(), site_id="SITE3", building_id="B2")
    seen_tablet = tablet.revision(tablet.load(), site_id="SITE3", building_id="B2")
    b2 = laptop.load().query("building_id == 'B2'")
    laptop.replace_building("SITE3", "B2", b2.assign(vote="agree"), expected=seen_laptop)
    with pytest.raises(ConflictError, match=r"building 'B2' of site 'SITE3' .* was changed by "
                       r"another session .* your entry was not saved"):  # fmt: skip
        tablet.replace_building("SITE3", "B2", b2.assign(vote="oppose"), expected=seen_tablet)
    now = VotesStore(work).load()
    assert set(now.query("building_id == 'B2'")["vote"]) == {"agree"} and len(now) == 308
    # another building is not a conflict: edits of different buildings both land
    seen_b3 = tablet.revision(now, site_id="SITE3", building_id="B3")
    b3 = now.query("building_id == 'B3'")
    tablet.replace_building("SITE3", "B3", b3.assign(vote="abstain"), expected=seen_b3)
    now = VotesStore(work).load()
    assert set(now.query("building_id == 'B2'")["vote"]) == {"agree"}
    assert set(now.query("building_id == 'B3'")["vote"]) == {"abstain"}
    check_register(now)
    row = now.iloc[0]
    tablet.set_vote("SITE3", row["household"], "oppose", expected_rev=int(row["rev"]),
                    building_id=row["building_id"])  # fmt: skip
    with pytest.raises(ConflictError, match=r"was changed by another session \(revision"):
        laptop.set_vote("SITE3", row["household"], "agree", expected_rev=int(row["rev"]),
                        building_id=row["building_id"])  # fmt: skip


def test_a_whole_register_import_is_refused_after_another_sessions_edit(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    store = VotesStore(work)
    seen = store.revision(store.load())
    b1 = store.load().query("building_id == 'B1'")
    VotesStore(work).replace_building("SITE3", "B1", b1, expected=store.revision(
        store.load(), site_id="SITE3", building_id="B1"))  # fmt: skip
    with pytest.raises(ConflictError, match="the votes register was changed"):
        store.replace(pd.read_csv(DATA / "dongsi180" / "votes.csv", dtype=str), expected=seen)


def test_one_file_per_folder_project_votes_geojson_is_migrated(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    csv = pd.read_csv(work / "votes.csv", dtype=str, keep_default_na=False)
    project = open_project(work)
    stale = project.layers["votes"].iloc[:5]  # what an old save_project left beside votes.csv
    from gridgis.core.io import write_geojson

    write_geojson(stale, work / "votes.geojson")
    assert len(open_project(work).layers["votes"]) == len(csv)  # votes.csv wins
    assert len(VotesStore(work).load()) == len(csv)
    (work / "votes.csv").unlink()  # only the old file: it is read...
    assert len(VotesStore(work).load()) == 5 and len(open_project(work).layers["votes"]) == 5
    store = VotesStore(work)
    store.replace(csv)  # ...and the next write makes votes.csv and moves it aside
    assert (work / "votes.csv").exists() and not (work / "votes.geojson").exists()
    assert (work / ".votes.geojson.bak").exists()
    assert _rows(read_register(work)) == _rows(csv)
    save_project(open_project(work))
    assert sorted(p.name for p in work.iterdir() if p.name.startswith("votes")) == ["votes.csv"]


# --- the Votes page: two sessions under AppTest --------------------------------------------


def _votes_page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page("app/pages/votes.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(("lang", "words"), [("en", "your entry was not saved"),
                                             ("zh", "你的录入没有保存")])  # fmt: skip
def test_votes_page_refuses_a_stale_entry_with_a_message(workspace, lang, words):
    first, second = _votes_page(lang), _votes_page(lang)
    path = workspace / "dongsi180"
    first.button(key="vote_apply").click().run()  # saves building B1 as it saw it
    assert not first.exception and not any(words in e.value for e in first.error)
    # another session (the store, as its page calls it) changes B1 after `second` loaded it
    store = VotesStore(path)
    b1 = store.load().query("building_id == 'B1'")
    store.replace_building("SITE3", "B1", b1.assign(vote="abstain"),
                           expected=store.revision(store.load(), site_id="SITE3",
                                                   building_id="B1"))  # fmt: skip
    second.button(key="vote_apply").click().run()
    assert not second.exception, [e.value for e in second.exception]
    errors = [e.value for e in second.error]
    assert any(words in e for e in errors), errors
    after = VotesStore(path).load()
    assert set(after.query("building_id == 'B1'")["vote"]) == {"abstain"}  # nothing lost
    assert len(after) == 308
