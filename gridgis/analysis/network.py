"""Walking distances along the ``paths`` layer, and straight-line ones without it.

`build_network` turns the path lines (polygon paths contribute their outline)
into a graph: the linework is noded on a 1 mm grid, so crossing and touching
paths meet, and a line end that stops within ``snap_m`` of another path is
joined to it. Edges are weighted by their length.

`pair_distances` gives, for every (source, target) pair within a per-source
reach, the distance between the two geometries. With a network, a geometry
joins it at its nearest point (the straight *access leg*), and the distance is
access leg + shortest path (scipy's Dijkstra) + access leg. That can never be
less than the straight-line distance, so a spatial index over the straight-line
reach finds every candidate pair first. A pair whose two ends join different,
unconnected parts of the network falls back to the straight-line distance and
says so in ``method``.

All layers must be in one projected CRS in metres (see `gridgis.core.crs.to_metric`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely import LineString, Point
>>> net = build_network(gpd.GeoSeries([LineString([(0, 0), (100, 0), (100, 100)])]))
>>> pairs = pair_distances(gpd.GeoSeries([Point(0, 5)]), gpd.GeoSeries([Point(105, 100)]),
...                        max_distance_m=300.0, network=net)
>>> pairs[["distance_m", "method", "within"]].to_dict("records")
[{'distance_m': 210.0, 'method': 'network', 'within': True}]
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import GeometryArray
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import connected_components, dijkstra

from gridgis.core.crs import require_metric
from gridgis.errors import GridGISError

__all__ = ["PathNetwork", "build_network", "pair_arrays", "pair_distances"]

_GRID_M = 0.001  # noding precision: coordinates closer than this are one node
_MIN_WEIGHT = 1e-9  # scipy drops zero-weight edges; keep them as (almost) zero
_DIJKSTRA_CELLS = 10_000_000  # rows x nodes of one Dijkstra block (80 MB of float64)


@dataclass(frozen=True, eq=False)
class PathNetwork:
    """A noded path graph.

    Attributes
    ----------
    edges
        The noded LineStrings, one per edge.
    u, v
        Node ids at the start and end of each edge.
    length
        Edge lengths in metres.
    n_nodes
        Number of nodes.
    graph
        Sparse upper-triangular adjacency (edge lengths) of the undirected graph.
    component
        Connected-component label of each node.
    tree
        Spatial index over `edges`.
    crs
        CRS of the paths the network was built from (None if unknown).
    """

    edges: NDArray[np.object_]
    u: NDArray[np.intp]
    v: NDArray[np.intp]
    length: NDArray[np.float64]
    n_nodes: int
    graph: csr_array
    component: NDArray[np.intp]
    tree: shapely.STRtree
    crs: object = None

    def __len__(self) -> int:
        return len(self.edges)


def _linework(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """LineStrings of lines, multi-lines and polygon outlines; others dropped."""
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    kind = shapely.get_type_id(geoms)
    polygonal = np.isin(kind, (3, 6))
    geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
    parts = shapely.get_parts(geoms)
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]  # LineString, LinearRing
    if not len(parts):
        return np.empty(0, dtype=object)
    return shapely.linestrings(shapely.get_coordinates(parts), indices=_part_index(parts))


def _part_index(parts: NDArray[np.object_]) -> NDArray[np.intp]:
    return np.repeat(np.arange(len(parts)), shapely.get_num_coordinates(parts))


def _snap_bridges(lines: NDArray[np.object_], snap_m: float) -> NDArray[np.object_]:
    """Short segments joining line ends that stop within `snap_m` of another line."""
    if snap_m <= 0 or len(lines) < 2:
        return np.empty(0, dtype=object)
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    owner = np.tile(np.arange(len(lines)), 2)
    end_i, line_j = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=snap_m)
    keep = line_j != owner[end_i]
    end_i, line_j = end_i[keep], line_j[keep]
    gap = shapely.distance(ends[end_i], lines[line_j])
    keep = gap > _GRID_M
    return shapely.shortest_line(ends[end_i[keep]], lines[line_j[keep]])


def build_network(paths: gpd.GeoDataFrame | gpd.GeoSeries, *, snap_m: float = 0.5) -> PathNetwork:
    """Build the walking graph of a paths layer.

    Parameters
    ----------
    paths
        Path geometries (LineString, MultiLineString; polygons give their
        outline) in a metric CRS.
    snap_m
        A line end this close to another path (but not touching it) is joined
        to it by a short segment; 0 turns this off.

    Returns
    -------
    PathNetwork
        Empty (no edges) when `paths` holds no lines.
    """
    if snap_m < 0 or not np.isfinite(snap_m):
        raise GridGISError(f"snap_m must be a finite number >= 0, got {snap_m!r}")
    require_metric({"paths": paths})
    geoms = np.asarray(paths.geometry.array if hasattr(paths, "geometry") else paths, dtype=object)
    lines = _linework(geoms)
    lines = np.concatenate([lines, _snap_bridges(lines, snap_m)])
    if len(lines):
        noded = shapely.unary_union(lines, grid_size=_GRID_M)
        edges = shapely.get_parts(noded)
        edges = edges[np.isin(shapely.get_type_id(edges), (1, 2)) & ~shapely.is_empty(edges)]
    else:
        edges = np.empty(0, dtype=object)
    ends = np.concatenate(
        [
            shapely.get_coordinates(shapely.get_point(edges, 0)),
            shapely.get_coordinates(shapely.get_point(edges, -1)),
        ]
    ).reshape(-1, 2)
    inverse, n_nodes = _node_ids(np.round(ends / _GRID_M).astype(np.int64))
    n_edges = len(edges)
    u, v = inverse[:n_edges], inverse[n_edges:]
    length = shapely.length(edges).astype(float)
    graph = _adjacency(u, v, length, n_nodes)
    _, component = connected_components(graph, directed=False)
    return PathNetwork(
        edges=edges,
        u=u.astype(np.intp),
        v=v.astype(np.intp),
        length=length,
        n_nodes=n_nodes,
        graph=graph,
        component=component.astype(np.intp),
        tree=shapely.STRtree(edges),
        crs=getattr(paths, "crs", None),
    )


def _node_ids(xy: NDArray[np.int64]) -> tuple[NDArray[np.intp], int]:
    """Number equal (x, y) rows 0..n-1 (a lexsort: np.unique(axis=0) is 20x slower)."""
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any(xy[order[1:]] != xy[order[:-1]], axis=1)
    ids = np.empty(len(order), dtype=np.intp)
    ids[order] = np.cumsum(new) - 1
    return ids, int(new.sum())


def _adjacency(
    u: NDArray[np.intp], v: NDArray[np.intp], weight: NDArray[np.float64], n: int
) -> csr_array:
    """Upper-triangular sparse adjacency; parallel edges keep the shortest, loops dropped."""
    a, b = np.minimum(u, v), np.maximum(u, v)
    keep = a != b
    a, b, w = a[keep], b[keep], np.maximum(weight[keep], _MIN_WEIGHT)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    return coo_array((w[first], (a[first], b[first])), shape=(n, n)).tocsr()


def _with_virtual_nodes(
    network: PathNetwork, ends: NDArray[np.intp], weight: NDArray[np.float64]
) -> csr_array:
    """The network's graph plus ``k = len(ends) // 2`` virtual nodes numbered from ``n_nodes``.

    Virtual node ``n_nodes + r`` is tied to ``ends[r]`` and ``ends[k + r]`` with
    the matching weights. The same matrix as `_adjacency` of all the edges
    (network and virtual) would give, but reusing the network's graph: the
    virtual nodes number after every network node, so their edges go at the end
    of their rows, and only they need sorting (a new graph per call costs ~1 ms
    on a district's network, more than the one site's search).
    """
    base, n0 = network.graph, network.n_nodes
    k = len(ends) // 2
    a = np.asarray(ends, dtype=np.intp)
    b = np.tile(n0 + np.arange(k, dtype=np.intp), 2)
    w = np.maximum(weight, _MIN_WEIGHT)
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])  # an edge whose two ends are one node
    a, b, w = a[first], b[first], w[first]
    rows = np.concatenate([np.repeat(np.arange(n0, dtype=np.intp), np.diff(base.indptr)), a])
    order = np.argsort(rows, kind="stable")  # each row: its network edges, then virtual ones
    indptr = np.zeros(n0 + k + 1, dtype=np.intp)
    indptr[1 : n0 + 1] = np.cumsum(np.bincount(rows, minlength=n0))
    indptr[n0 + 1 :] = indptr[n0]
    indices = np.concatenate([base.indices, b])[order]
    data = np.concatenate([base.data, w])[order]
    return csr_array((data, indices, indptr), shape=(n0 + k, n0 + k))


@dataclass(frozen=True)
class _Attachment:
    edge: NDArray[np.intp]  # -1 where the geometry is empty
    offset: NDArray[np.float64]  # distance along the edge from its start
    leg: NDArray[np.float64]  # straight access leg, geometry to edge


def _attach(
    network: PathNetwork, geoms: NDArray[np.object_], which: NDArray[np.intp]
) -> _Attachment:
    """Where the geometries at positions `which` join the network (others: edge -1)."""
    n = len(geoms)
    edge = np.full(n, -1, dtype=np.intp)
    offset = np.full(n, np.nan)
    leg = np.full(n, np.nan)
    if len(which) and len(network):
        src, idx = network.tree.query_nearest(geoms[which], all_matches=False)
        src = which[src]
        g, e = geoms[src], network.edges[idx]
        dist = shapely.distance(g, e)
        nearest = shapely.line_locate_point(e, shapely.get_point(shapely.shortest_line(g, e), 1))
        # A side parallel to the path has many nearest points; GEOS picks one at
        # random (often a corner). Prefer the one facing the centroid when it is
        # also nearest: the middle of the side, where entrances usually are.
        central = shapely.line_locate_point(e, shapely.centroid(g))
        tie = shapely.distance(g, shapely.line_interpolate_point(e, central)) <= dist + 1e-6
        edge[src] = idx
        offset[src] = np.where(tie, central, nearest)
        leg[src] = dist
    return _Attachment(edge, offset, leg)


def _network_distances(
    network: PathNetwork,
    src_geoms: NDArray[np.object_],
    dst_geoms: NDArray[np.object_],
    i: NDArray[np.intp],
    j: NDArray[np.intp],
    reach: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Walking distance of pairs (i, j); also whether the pair is connected at all."""
    a = _attach(network, src_geoms, np.unique(i))
    b = _attach(network, dst_geoms, np.unique(j))
    ea, eb = a.edge[i], b.edge[j]
    connected = (ea >= 0) & (eb >= 0)
    connected[connected] = (
        network.component[network.u[ea[connected]]] == network.component[network.u[eb[connected]]]
    )
    dist = np.full(len(i), np.inf)
    if not connected.any():
        return dist, connected
    # each source joins the graph as a virtual node tied to both ends of its edge
    sources = np.unique(i[connected])
    n0, k = network.n_nodes, len(sources)
    virt = n0 + np.arange(k)
    se = a.edge[sources]
    graph = _with_virtual_nodes(
        network,
        np.concatenate([network.u[se], network.v[se]]),
        np.concatenate([a.offset[sources], network.length[se] - a.offset[sources]]),
    )
    row_of = np.full(len(src_geoms), -1, dtype=np.intp)
    row_of[sources] = np.arange(k)
    block = max(1, _DIJKSTRA_CELLS // (n0 + k))
    pair_rows = row_of[i]
    for start in range(0, k, block):
        rows = np.arange(start, min(start + block, k))
        limit = float(np.max(reach[sources[rows]] - a.leg[sources[rows]], initial=0.0))
        table = dijkstra(graph, directed=False, indices=virt[rows], limit=max(limit, 0.0) + 1e-6)
        sel = np.flatnonzero(connected & (pair_rows >= start) & (pair_rows < start + len(rows)))
        r, e = pair_rows[sel] - start, eb[sel]
        t = b.offset[j[sel]]
        via = np.minimum(
            table[r, network.u[e]] + t, table[r, network.v[e]] + (network.length[e] - t)
        )
        same = ea[sel] == e
        via[same] = np.minimum(via[same], np.abs(a.offset[i[sel][same]] - t[same]))
        dist[sel] = a.leg[i[sel]] + via + b.leg[j[sel]]
    return dist, connected


def _geometry_array(layer: gpd.GeoDataFrame | gpd.GeoSeries) -> GeometryArray:
    """The layer's geometries with their CRS (one column lookup, then cheap ``crs`` access)."""
    return layer.geometry.array


def pair_arrays(
    src: NDArray[np.object_],
    dst: NDArray[np.object_],
    reach: NDArray[np.float64],
    network: PathNetwork | None,
    sources: GeometryArray,
) -> dict[str, NDArray]:
    """The columns of `pair_distances` as arrays, sorted (numpy: a frame sort costs more).

    `src` holds the geometries of `sources`, whose CRS is checked against the
    network's when the network is used.
    """
    ok = ~(shapely.is_missing(src) | shapely.is_empty(src))
    # envelopes grown by the reach, then one exact distance per candidate: about
    # twice as fast as the tree's dwithin predicate followed by a distance call
    xmin, ymin, xmax, ymax = shapely.bounds(src[ok]).T
    r = reach[ok]
    i, j = shapely.STRtree(dst).query(shapely.box(xmin - r, ymin - r, xmax + r, ymax + r))
    i = np.flatnonzero(ok)[i]
    straight = shapely.distance(src[i], dst[j])
    near = straight <= reach[i]
    i, j, straight = i[near], j[near], straight[near]
    dist = straight.copy()
    method = np.full(len(i), "straight_line", dtype=object)
    if network is not None and len(network) and len(i):
        require_metric({"sources": sources, "paths": network})
        walked, connected = _network_distances(network, src, dst, i, j, reach)
        dist = np.where(connected, walked, straight)
        method[connected] = "network"
    order = np.lexsort((j, dist, i))  # by source, then distance, then target; stable
    i, j, straight, dist, method = i[order], j[order], straight[order], dist[order], method[order]
    return {
        "source": i,
        "target": j,
        "straight_m": straight,
        "distance_m": dist,
        "method": method,
        "within": dist <= reach[i],
    }


def _reach(max_distance_m: ArrayLike, n: int) -> NDArray[np.float64]:
    """`max_distance_m` as one reach per source; raise on a bad value."""
    try:
        reach = np.broadcast_to(np.asarray(max_distance_m, dtype=float), (n,)).copy()
    except ValueError as exc:
        raise GridGISError(
            f"max_distance_m must be one number or one per source ({n}), got {max_distance_m!r}"
        ) from exc
    bad = np.isnan(reach) | (reach < 0)
    if bad.any():
        raise GridGISError(
            f"max_distance_m must be >= 0 for every source, got {float(reach[bad][0])!r} "
            f"at position {int(np.flatnonzero(bad)[0])}"
        )
    return reach


def pair_distances(
    sources: gpd.GeoDataFrame | gpd.GeoSeries,
    targets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_distance_m: ArrayLike,
    network: PathNetwork | None = None,
) -> pd.DataFrame:
    """Distances of the (source, target) pairs within straight-line reach.

    Parameters
    ----------
    sources, targets
        Geometries in one metric CRS.
    max_distance_m
        Reach in metres: one number, or one per source (positional).
    network
        Walk along this network; None (or an empty network) measures straight
        lines, edge to edge (0 when the geometries touch or overlap).

    Returns
    -------
    DataFrame
        One row per candidate pair (straight-line distance within reach):
        ``source`` and ``target`` (positions), ``straight_m``, ``distance_m``
        (walking distance when ``method`` is ``"network"``, inf when the
        network search stopped at the reach), ``method`` (``"network"`` or
        ``"straight_line"``, the fallback for pairs the network does not
        connect) and ``within`` (``distance_m <= reach``). Sorted by source,
        then distance.
    """
    src_array, dst_array = _geometry_array(sources), _geometry_array(targets)
    require_metric({"sources": src_array, "targets": dst_array})
    src, dst = np.asarray(src_array, dtype=object), np.asarray(dst_array, dtype=object)
    reach = _reach(max_distance_m, len(src))
    return pd.DataFrame(pair_arrays(src, dst, reach, network, src_array))
