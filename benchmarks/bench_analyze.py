"""Benchmark the site-analysis engine against a naive per-site geopandas loop.

Generates a synthetic district (default 100,000 buildings, 1,000 sites; see
`synthetic.py`), then times in the same run:

- the engine, ``gridgis.analysis.engine.analyze_sites``, straight-line distances
  (the district without its paths layer), best of ``--repeat`` runs;
- the engine with the path network (walking distances), once;
- a naive loop that, for each site, asks geopandas for the distance to every
  building, the overlaps, the compound test and the setback: the way a
  script without spatial indexes would. It runs on ``--naive-sites`` sites and
  is scaled linearly to all sites (said in the output).

The last line is ``sites=... buildings=... engine_s=... naive_s=... ratio=...``
for the straight-line engine against the (scaled) naive loop, which also
measures straight lines. Run: ``.venv/bin/python benchmarks/bench_analyze.py``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gridgis.analysis.engine import analyze_sites
from gridgis.core.project import Project
from gridgis.core.schema import resolve_households

try:
    from synthetic import synthetic_district
except ModuleNotFoundError:  # run as a module from the repository root
    from benchmarks.synthetic import synthetic_district


def naive_loop(project: Project, n_sites: int) -> tuple[float, list[float]]:
    """Per-site geopandas loop over all buildings: seconds and households served."""
    settings = project.settings
    start = time.perf_counter()
    crs = project.metric_crs()
    buildings = project.layers["buildings"].to_crs(crs)
    compound = project.layers["compound"].to_crs(crs)
    sites = project.layers["sites"].iloc[:n_sites].to_crs(crs)
    households = resolve_households(buildings, per_floor=2)["households"]
    setback = settings.rules.shed_setback_from_openings_m.value
    rows = []
    for site in sites.itertuples():
        kind = settings.site_types[site.site_type]
        geom = site.geometry
        distance = buildings.distance(geom)
        served = distance <= kind.service_radius_m.value
        adjacent = distance <= kind.consultation_distance_m.value
        rows.append(
            {
                "area_m2": geom.area,
                "perimeter_m": geom.length,
                "households_served": households[served].sum(),
                "buildings_served": list(buildings.loc[served, "building_id"]),
                "households_adjacent": households[adjacent].sum(),
                "overlaps_building": bool(buildings.intersects(geom).any()),
                "inside_compound": bool(compound.contains(geom).any()),
                "setback_ok": bool(distance.min() >= setback),
                "cost_cny": geom.area * 350.0,
            }
        )
    return time.perf_counter() - start, [r["households_served"] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--sites", type=int, default=1_000)
    parser.add_argument("--naive-sites", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    project = synthetic_district(args.buildings, args.sites)
    print(f"generated district in {time.perf_counter() - t0:.1f} s: "
          + ", ".join(f"{k}={len(v)}" for k, v in project.layers.items()))  # fmt: skip
    paths = project.layers.pop("paths")

    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        result = analyze_sites(project)
        times.append(time.perf_counter() - t)
    engine_s = min(times)
    served = result.sites["households_served"].to_numpy()
    print(f"engine, straight line: best {engine_s:.3f} s of {args.repeat} "
          f"({', '.join(f'{x:.3f}' for x in times)}); mean households served per site "
          f"{served.mean():.0f}")  # fmt: skip

    project.layers["paths"] = paths
    t = time.perf_counter()
    walked = analyze_sites(project)
    network_s = time.perf_counter() - t
    methods = walked.sites["distance_method"].value_counts().to_dict()
    print(f"engine, walking network ({len(paths)} paths): {network_s:.3f} s; methods {methods}")
    del project.layers["paths"]

    n = min(args.naive_sites, args.sites)
    naive_part, naive_served = naive_loop(project, n)
    naive_s = naive_part * args.sites / n
    print(f"naive loop: {naive_part:.3f} s for {n} sites, scaled x{args.sites / n:g} "
          f"to {naive_s:.1f} s for {args.sites}")  # fmt: skip
    same = np.allclose(naive_served, served[:n])
    print(f"naive and engine households served agree on the {n} sites: {same}")
    if not same:
        raise SystemExit("the engine disagrees with the naive loop")
    print(f"sites={args.sites} buildings={args.buildings} engine_s={engine_s:.3f} "
          f"naive_s={naive_s:.2f} ratio={naive_s / engine_s:.0f}")  # fmt: skip


if __name__ == "__main__":
    main()
