"""Benchmark the analysis of one site, as the app does after each drawing.

The app keeps a `gridgis.analysis.engine.PreparedProject` per project and analyses
only the site just drawn. This times ``prepared.analyze(one_site)`` for a site
the memo has not seen (the memo is cleared before each call: the app's case
after a drawing) and for a site it holds (a rerun), on the sample compounds
and on a synthetic district, next to ``analyze_sites(project, one_site)``
without `prepared` (the baseline, measured in the same run); ``--profile``
lists where the time goes (cumulative ms per call of each gridgis function).

Run: ``.venv/bin/python benchmarks/bench_site.py [--profile]`` (about 20 s).
The last line is ``one_site_ms=... memo_hit_ms=... baseline_ms=... ratio=...``
(dongsi180; ratio = baseline / one_site).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from synthetic import synthetic_district  # noqa: E402

from gridgis.analysis.engine import PreparedProject, analyze_sites, prepare  # noqa: E402
from gridgis.core.project import open_project  # noqa: E402


def _time(fn, repeats: int) -> float:
    """Median milliseconds of `fn()` over `repeats` runs (after two warm-up runs)."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _fresh(prepared: PreparedProject, sites) -> None:
    """One analysis the memo cannot answer (as after a new drawing)."""
    prepared.memo.clear()
    prepared.analyze(sites)


def _profile(one, prepared, calls: int = 20) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        _fresh(prepared, one)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = [
        (cum / calls * 1000.0, f"{Path(file).name}:{line}({name})")
        for (file, line, name), (_, _, _, cum, _) in stats.items()
        if "/gridgis/" in file
    ]
    print("  profile (ms per call, cumulative, under cProfile):")
    for ms, where in sorted(rows, reverse=True)[:30]:
        print(f"  {ms:8.2f}  {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    projects = {
        "dongsi180": open_project(REPO / "data" / "dongsi180"),
        "shaxi_f": open_project(REPO / "data" / "shaxi_f.gpkg"),
        "district-5000": synthetic_district(5000, 50),
    }
    first = None
    for name, project in projects.items():
        sites = project.layers["sites"]
        one = sites.iloc[[0]][["site_id", "site_type", "geometry"]].reset_index(drop=True)
        start = time.perf_counter()
        prepared = prepare(project)
        prepare_ms = (time.perf_counter() - start) * 1000.0
        fast = _time(partial(_fresh, prepared, one), args.repeats)
        hit = _time(partial(prepared.analyze, one), args.repeats)
        base = _time(partial(analyze_sites, project, one), args.repeats)
        print(f"{name}: one new site {fast:.1f} ms prepared, {hit:.1f} ms from the memo, "
              f"{base:.1f} ms without prepare (ratio {base / fast:.1f}); "
              f"prepare once {prepare_ms:.0f} ms")  # fmt: skip
        if args.profile:
            _profile(one, prepared)
        first = first or (fast, hit, base)
    assert first is not None
    fast, hit, base = first
    print(f"one_site_ms={fast:.1f} memo_hit_ms={hit:.1f} baseline_ms={base:.1f} "
          f"ratio={base / fast:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
