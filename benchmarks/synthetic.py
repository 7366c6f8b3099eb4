"""A synthetic Chengdu district for benchmarks: compounds of walk-up slabs.

Each compound is a 130 x 110 m block holding 3 rows x 2 slabs of 40 x 11 m
(6 buildings, 28-84 households each), a 4 m fire lane through the middle
(joining the streets) and a footpath across; the district is a square grid of
compounds with 20 m streets whose centre lines are roads.
Sites are 10 x 6 m to 20 x 8 m rectangles in the leftover corners. Everything
is vectorised and deterministic (seeded).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridgis.core.project import Project

__all__ = ["synthetic_district"]

BLOCK_W, BLOCK_H, STREET = 130.0, 110.0, 20.0
ORIGIN = (395000.0, 3385000.0)  # EPSG:4544 metres, south-west Chengdu
SLAB_X = (10.0, 70.0)  # two slabs per row, 40 m long
SLAB_Y = (12.0, 46.0, 80.0)  # three rows, 11 m deep, 23 m apart
TYPES = np.array(["parking_shed", "vegetable_garden", "activity_room"])


def synthetic_district(n_buildings: int = 100_000, n_sites: int = 1_000, seed: int = 0) -> Project:
    """Build a Project with about `n_buildings` buildings and `n_sites` sites.

    Parameters
    ----------
    n_buildings
        Buildings wanted (rounded up to whole compounds of 6).
    n_sites
        Candidate sites, spread over the compounds.
    seed
        Random seed for household counts, site sizes and types.
    """
    rng = np.random.default_rng(seed)
    n_blocks = -(-n_buildings // 6)
    side = int(np.ceil(np.sqrt(n_blocks)))
    bi = np.arange(n_blocks)
    bx = ORIGIN[0] + (bi % side) * (BLOCK_W + STREET)
    by = ORIGIN[1] + (bi // side) * (BLOCK_H + STREET)
    compound = shapely.box(bx, by, bx + BLOCK_W, by + BLOCK_H)

    sx, sy = np.meshgrid(np.array(SLAB_X), np.array(SLAB_Y))
    sx, sy = sx.ravel(), sy.ravel()
    x0 = (bx[:, None] + sx[None, :]).ravel()[:n_buildings]
    y0 = (by[:, None] + sy[None, :]).ravel()[:n_buildings]
    buildings = shapely.box(x0, y0, x0 + 40.0, y0 + 11.0)
    households = rng.choice([28, 42, 56, 84], size=n_buildings)

    # the fire lane crosses the compound and meets the street centre lines
    lane_x = bx + BLOCK_W / 2 - 2.0
    half = STREET / 2
    lanes = shapely.linestrings(
        np.stack([np.stack([lane_x, by - half], 1), np.stack([lane_x, by + BLOCK_H + half], 1)], 1)
    )
    rows = int(np.ceil(n_blocks / side))
    west, south = ORIGIN[0] - half, ORIGIN[1] - half
    east, north = west + side * (BLOCK_W + STREET), south + rows * (BLOCK_H + STREET)
    sy_ = south + np.arange(rows + 1) * (BLOCK_H + STREET)
    sx_ = west + np.arange(side + 1) * (BLOCK_W + STREET)
    streets = np.concatenate(
        [
            shapely.linestrings(np.stack([np.stack([np.full_like(sy_, west), sy_], 1),
                                          np.stack([np.full_like(sy_, east), sy_], 1)], 1)),
            shapely.linestrings(np.stack([np.stack([sx_, np.full_like(sx_, south)], 1),
                                          np.stack([sx_, np.full_like(sx_, north)], 1)], 1)),
        ]
    )  # fmt: skip
    walk_y = by + 32.0
    walks = shapely.linestrings(
        np.stack([np.stack([bx + 2, walk_y], 1), np.stack([bx + BLOCK_W - 2, walk_y], 1)], 1)
    )

    site_block = rng.integers(0, n_blocks, n_sites)
    w = rng.uniform(10.0, 20.0, n_sites)
    h = rng.uniform(6.0, 8.0, n_sites)
    corner = rng.integers(0, 2, n_sites)  # east edge or north strip of the compound
    cx = np.where(corner == 0, bx[site_block] + BLOCK_W - 2 - h, bx[site_block] + 10)
    cy = np.where(corner == 0, by[site_block] + 20, by[site_block] + BLOCK_H - 2 - h)
    sites = shapely.box(cx, cy, cx + np.where(corner == 0, h, w), cy + np.where(corner == 0, w, h))

    def frame(data: dict, geoms: np.ndarray) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4544").to_crs(4326)

    n_paths = 2 * n_blocks + len(streets)
    layers = {
        "compound": frame({"name": [f"小区{i}" for i in bi]}, compound),
        "buildings": frame(
            {"building_id": [f"B{i}" for i in range(n_buildings)], "households": households},
            buildings,
        ),
        "paths": frame(
            {
                "path_id": [f"P{i}" for i in range(n_paths)],
                "kind": np.repeat(
                    ["fire_lane", "footpath", "road"], [n_blocks, n_blocks, len(streets)]
                ),
                "width_m": np.repeat([4.0, 1.5, 7.0], [n_blocks, n_blocks, len(streets)]),
            },
            np.concatenate([lanes, walks, streets]),
        ),
        "sites": frame(
            {
                "site_id": [f"S{i}" for i in range(n_sites)],
                "site_type": TYPES[rng.integers(0, 3, n_sites)],
                "name": [f"候选{i}" for i in range(n_sites)],
            },
            sites,
        ),
    }
    return Project(layers=layers)
