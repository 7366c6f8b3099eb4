"""Benchmark golden-corner finding on synthetic districts of growing size.

Generates synthetic districts (see `synthetic.py`: compounds of 6 slabs with
a fire lane, a footpath and streets; one site per 10 buildings) of 1,000,
2,000, 5,000 and 10,000 buildings and times ``gridgis.analysis.corners.find_corners``
on each, best of ``--repeat`` runs (this machine is shared: the best run is the
least disturbed one). One line per size, then a last line
``buildings=10000 corners_s=... growth=...`` where growth is the time at the
largest size over the time at the smallest (10x the buildings). The target is
under 10 s at 10,000 buildings. Run: ``.venv/bin/python benchmarks/bench_corners.py``.
"""

from __future__ import annotations

import argparse
import time

from gridgis.analysis.corners import find_corners

try:
    from synthetic import synthetic_district
except ModuleNotFoundError:  # run as a module from the repository root
    from benchmarks.synthetic import synthetic_district


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 2_000, 5_000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    times: dict[int, float] = {}
    for n in args.sizes:
        project = synthetic_district(n, max(n // 10, 1))
        runs = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            found = find_corners(project)
            runs.append(time.perf_counter() - t)
        times[n] = min(runs)
        kinds = found["kind"].value_counts()
        sheds = int((found["suggested_site_type"] == "parking_shed").sum())
        print(f"buildings={n:>6} compounds={len(project.layers['compound']):>5} "
              f"candidates={len(found):>6} (corner {kinds.get('corner', 0)}, edge "
              f"{kinds.get('edge', 0)}, open {kinds.get('open', 0)}; sheds {sheds}) "
              f"best {times[n]:.2f} s of {args.repeat} ({', '.join(f'{r:.2f}' for r in runs)}) "
              f"= {1000 * times[n] / n:.2f} ms per building")  # fmt: skip
    small, large = min(times), max(times)
    growth = times[large] / times[small]
    print(f"buildings={large} corners_s={times[large]:.2f} growth={growth:.1f}x for "
          f"{large / small:g}x the buildings (from {small})")  # fmt: skip


if __name__ == "__main__":
    main()
