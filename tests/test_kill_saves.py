"""kill -9 at random points of saves (real processes): the project is wholly old or wholly new.

A helper process imports gridgis once, then for each run forks a child that
saves in a loop (the register, or a whole folder project changing several
layers) and kills it with SIGKILL after a random delay. This test process
then opens the project as the app would and checks it.
"""

import hashlib
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from gridgis.core.project import Project, open_project, save_project
from gridgis.core.settings import settings_from_toml
from gridgis.core.store import VotesStore
from gridgis.core.store.files import JOURNAL, leftovers
from gridgis.meeting.register import read_register

from .conftest import DATA

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.name != "posix", reason="fork and SIGKILL"),
]
RUNS = 50

# argv: mode, project path, runs, seed. Prints "killed <run>" after each kill, waits for a line.
KILLER = textwrap.dedent(
    """
    import os, random, signal, sys, time
    import pandas as pd
    from gridgis.core.project import open_project, save_project
    from gridgis.core.store import VotesStore
    mode, path, runs, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    if mode == "register":
        store = VotesStore(path)
        b1 = store.load().query("building_id == 'B1'")
        states = [b1.assign(vote="agree"), b1.assign(vote="oppose")]

        def save(i):
            now = store.load()
            seen = store.revision(now, site_id="SITE3", building_id="B1")
            store.replace_building("SITE3", "B1", states[i % 2], expected=seen)
    else:
        states = [open_project(f"{path}.a", validate=False), open_project(f"{path}.b",
                                                                          validate=False)]

        def save(i):
            save_project(states[i % 2], path)
    save(0)  # warm up (and a known start)
    print("ready", flush=True)
    for run in range(runs):
        pid = os.fork()
        if pid == 0:
            i = rng.randrange(2)
            while True:
                save(i)
                i += 1
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", run, flush=True)
        sys.stdin.readline()
    """
)


def _run(mode: str, path: Path, check) -> dict[str, int]:
    seed = random.randrange(1 << 30)
    outcomes: dict[str, int] = {}
    with subprocess.Popen(
        [sys.executable, "-c", KILLER, mode, str(path), str(RUNS), str(seed)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as child:  # fmt: skip
        assert child.stdin is not None and child.stdout is not None
        try:
            assert child.stdout.readline().strip() == "ready"
            for run in range(RUNS):
                assert child.stdout.readline().split() == ["killed", str(run)], f"seed {seed}"
                found = check()
                outcomes[found] = outcomes.get(found, 0) + 1
                child.stdin.write("\n")
                child.stdin.flush()
            assert child.wait(timeout=60) == 0
        finally:
            child.kill()
    print(mode, "seed", seed, outcomes)
    return outcomes


def test_kill_during_register_saves_leaves_the_old_or_the_new_register(tmp_path):
    work = shutil.copytree(DATA / "dongsi180", tmp_path / "p")
    others = VotesStore(work).load().query("building_id != 'B1'")
    other_rows = sorted(map(tuple, others.drop(columns="rev").to_numpy().tolist()))

    def check() -> str:
        temps = "temps" if leftovers(work) else "clean"
        register = read_register(open_project(work))  # opens as the app does
        assert len(register) == 308
        votes = set(register.query("building_id == 'B1'")["vote"])
        assert votes in ({"agree"}, {"oppose"}), votes
        rest = register.query("building_id != 'B1'").drop(columns="rev")
        assert sorted(map(tuple, rest.to_numpy().tolist())) == other_rows
        assert not leftovers(work)  # the open removed what a killed save left
        return f"{votes.pop()}/{temps}"

    outcomes = _run("register", work, check)
    assert sum(outcomes.values()) == RUNS
    assert {o.split("/")[0] for o in outcomes} == {"agree", "oppose"}  # both old and new seen


def _two_states(tiny_layers, tmp_path) -> tuple[Path, dict[str, str], dict[str, str]]:
    a = Project(layers={k: v.copy() for k, v in tiny_layers.items()})
    a.layers["votes"] = pd.DataFrame(
        {"site_id": ["S1"] * 2, "household": ["1-101", "1-102"], "area_m2": ["70.5", "80"],
         "vote": ["agree", ""]}
    )  # fmt: skip
    b = Project(layers={k: v.copy() for k, v in a.layers.items()},
                settings=settings_from_toml('[general]\nlanguage = "en"'))  # fmt: skip
    b.layers["buildings"]["households"] = [30, 60]
    b.layers["sites"]["name"] = "新车棚"
    b.layers["paths"]["width_m"] = 5.0
    b.layers["microgrids"]["leader"] = "李叔叔"
    b.layers["compound"]["name"] = "改名小区"
    b.layers["votes"]["vote"] = ["oppose", "agree"]
    path = tmp_path / "proj"
    hashes = []
    for name, state in (("a", a), ("b", b)):
        folder = save_project(state, Path(f"{path}.{name}"))
        hashes.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                       for p in folder.iterdir() if not p.name.startswith(".")})  # fmt: skip
    assert all(hashes[0][k] != hashes[1][k] for k in hashes[0]), "every file changes"
    save_project(a, path)
    return path, hashes[0], hashes[1]


def test_kill_during_whole_project_saves_leaves_it_wholly_old_or_wholly_new(tiny_layers, tmp_path):
    path, old, new = _two_states(tiny_layers, tmp_path)

    def check() -> str:
        state = "journal" if (path / JOURNAL).exists() else "temps" if leftovers(path) else "clean"
        project = open_project(path)  # finishes a committed save, removes leftovers
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                 for p in path.iterdir() if not p.name.startswith(".")}  # fmt: skip
        assert files in (old, new), {
            k: (v == old.get(k), v == new.get(k)) for k, v in files.items()
        }
        which = "old" if files == old else "new"
        assert project.layers["compound"]["name"].iloc[0] == ("测试小区 <b>x</b>" if which == "old"
                                                              else "改名小区")  # fmt: skip
        hidden = sorted(p.name for p in path.iterdir() if p.name.startswith("."))
        assert hidden == [".gridgis.lock"] or hidden == [], hidden  # nothing accumulates
        return f"{which}/{state}"

    outcomes = _run("project", path, check)
    assert sum(outcomes.values()) == RUNS
    assert {o.split("/")[0] for o in outcomes} == {"old", "new"}
