"""Golden corners (金角银边): the leftover spaces of a compound, found and ranked.

`find_corners` takes each compound polygon and removes

- buildings, grown by ``corners.building_clearance_m`` (a walkway and drip
  line: a modest 2 m by default, not the 6 m shed setback, which would rule
  out gardens; each candidate reports ``nearest_building_m`` instead, and a
  shed is suggested only where it meets ``rules.shed_setback_from_openings_m``);
- fire lanes, kept ``rules.fire_lane_clear_width_m`` wide (or their
  ``width_m`` when wider; polygon lanes as drawn);
- other paths by their ``width_m`` (``corners.path_width_fallback_m`` when
  missing; polygon paths as drawn);
- existing sites (except those with ``status`` rejected).

What is left is cut along the buildings' facades (their clearance edges) and
the flat ends of paths, each extended until it meets the wall or another
obstacle: the lines a planner reads a site plan by. Pieces thinner than
``corners.min_width_m`` or smaller than ``corners.min_area_m2`` merge into the
neighbour they share most edge with; non-convex pieces are opened by half the
minimum width (necks narrower than that split them); pieces of at least the
minimum area and width are the candidates. Each is a

- ``corner``: hard sides (the compound boundary, or a building's clearance)
  in two directions at least 30 degrees apart, each at least
  ``max(min_width_m, sqrt(area) / 4)`` long: the boundary on two sides meeting
  at an angle, or a nook between buildings and the boundary;
- ``edge``: a strip along the boundary (at least ``corners.edge_strip_aspect``
  times longer than wide, with boundary along half its length), or any other
  space touching the boundary over that side length (银边);
- ``open``: the rest.

The score is the weighted mean (``corners.weight_*``) of usable area
(``min(area, useful_area_m2) / useful_area_m2``), compactness (area / minimum
rotated rectangle area: 1 for a rectangle) and the households of the same
compound within ``corners.reach_m`` (straight line, edge to edge), each
weighted ``1 - distance / reach_m`` and taken relative to the best candidate;
rank 1 is the best. The suggested site type is the first of
``corners.suggest_types`` whose minimum area and width the candidate meets; a
type with the ``bike_stalls`` rule also needs the shed setback and at least
one stall, and ``bikes`` is then its `gridgis.analysis.stalls.layout` count. `compare_spaces`
shows what the survey found (``spaces`` of kind golden_corner or neglected)
beside what the tool found, and what took the rest; `candidate_to_site`
adopts a candidate as a site.

The steps live in the modules of this package: `zones` (what is kept clear and
the free space left), `pieces` (cutting and merging), `classify` (kind,
neighbours, households, suggested type), `find` (`find_corners`) and `adopt`
(`candidate_to_site`, `compare_spaces`); `geometry` holds their array helpers;
`memo` keeps their results for a rerun (`suggest`, `stall_layout`).

Examples
--------
>>> from gridgis.core.project import open_project
>>> corners = find_corners(open_project("data/dongsi180"))
>>> list(corners.columns[:4])
['candidate_id', 'rank', 'score', 'kind']
"""

from __future__ import annotations

from gridgis.analysis.corners.adopt import BLOCKERS, candidate_to_site, compare_spaces
from gridgis.analysis.corners.find import CANDIDATE_COLUMNS, SURVEY_KINDS, find_corners
from gridgis.analysis.corners.memo import CornerMemo, stall_layout, suggest, with_sites

__all__ = [
    "BLOCKERS",
    "CANDIDATE_COLUMNS",
    "SURVEY_KINDS",
    "CornerMemo",
    "candidate_to_site",
    "compare_spaces",
    "find_corners",
    "stall_layout",
    "suggest",
    "with_sites",
]
