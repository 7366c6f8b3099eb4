"""Benchmark the analysis of one site, as the app does after each drawing.

The app keeps a `gridgis.analysis.engine.PreparedProject` per project and analyses
only the site just drawn. This times ``analyze_sites(project, one_site,
prepared=...)`` on the sample compounds and on a synthetic district, next to
the same call without `prepared` (the baseline, measured in the same run),
and with ``--profile`` lists where the time goes (cumulative ms per call of
each gridgis function).

Run: ``.venv/bin/python benchmarks/bench_site.py [--profile]`` (about 20 s).
The last line is ``one_site_ms=... baseline_ms=... ratio=...`` (dongsi180).
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

from gridgis.analysis.engine import analyze_sites, prepare  # noqa: E402
from gridgis.core.project import Project, open_project  # noqa: E402


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


def _profile(project: Project, one, prepared, calls: int = 20) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        analyze_sites(project, one, prepared=prepared)
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
        fast = _time(partial(analyze_sites, project, one, prepared=prepared), args.repeats)
        base = _time(partial(analyze_sites, project, one), args.repeats)
        print(f"{name}: one site {fast:.1f} ms prepared, {base:.1f} ms without "
              f"(ratio {base / fast:.1f}); prepare once {prepare_ms:.0f} ms")  # fmt: skip
        if args.profile:
            _profile(project, one, prepared)
        first = first or (fast, base)
    assert first is not None
    print(f"one_site_ms={first[0]:.1f} baseline_ms={first[1]:.1f} ratio={first[1] / first[0]:.2f}")


if __name__ == "__main__":
    main()
