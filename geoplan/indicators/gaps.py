"""Why the walking figure falls short of the buffer: the cause of each gap home.

A home is in the gap of a coverage measure when the buffer method covers it (it lies within the
radius of a facility, straight line) and walking does not (its walking distance is over the
radius). Its cause is looked for along the straight line from the home ``h`` to the nearest
facility ``F`` whose radius ``R`` covers it, in this order — the first that holds is the cause:

1. ``data_gap`` — the home's street and the facility's are on network components that are not
   joined, or the home's street ends within ``undershoot_m`` (5 m) of a street it does not join
   (a likely OSM undershoot; iD's "almost junction");
2. ``far_from_street`` — even a straight walk from the home's nearest street point ``p`` to the
   facility is too long: ``offset(h) + |p − F| > R`` (no walkable way near the home: unmapped or
   private compound paths);
3. a barrier cause of ``geoplan/data/barriers.yaml`` — ``water``, ``railway``, ``expressway``,
   ``wall`` — when the segment ``h–F`` crosses a barrier of that cause and every way past it is
   too long: for each place ``x`` where the walk network crosses the barrier (a bridge, a level
   crossing, an underpass, a gate) and each end or outer corner of it (walking round), the lower
   bound ``offset(h) + |p − x| + |x − F|`` exceeds ``R``;
4. ``other`` — the detour is long without a mapped barrier (the street layout).

Every bound above is a lower bound of the walking distance, so a cause is only named when that
barrier alone rules out a walk within the radius. The shares by cause of the homes (and of their
land and residents) add up to the buffer − walking gap of each measure; homes covered by walking
but not by the buffer (``walk_only``) and, on the residential-land basis, the difference between
the land-area buffer share and the homes' (``area_method``) are their own rows so the sum is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geoplan import _threads as threads
from geoplan.network.access import EdgeAttachment, attach_xy, edge_tree
from geoplan.network.graph import WalkNetwork
from geoplan.rules.barriers import AREA_METHOD, DATA_GAP, OTHER, WALK_ONLY, barrier_rules

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

FAR = "far_from_street"


@dataclass(frozen=True)
class Reach:
    """The facilities whose straight-line radius makes a measure's buffer cover.

    Attributes
    ----------
    geoms
        Facility geometries (metric CRS).
    radius_m
        Radius (m) of each facility (a tiered measure gives each its own).
    """

    geoms: NDArray[np.object_]
    radius_m: F64


@dataclass(frozen=True)
class BarrierIndex:
    """Barriers and where the walk network passes them, for one network.

    Attributes
    ----------
    causes
        Barrier cause keys in attribution order.
    trees
        Cause → STRtree of its barrier geometries.
    passes
        Cause → (n, 2) array of the points where a walk passes it (crossings, gates, ends, corners).
    component
        Connected-component label of each network node (0 = the largest).
    undershoot
        Per node: a dead end within ``undershoot_m`` of a street it does not join.
    """

    causes: tuple[str, ...]
    trees: dict[str, shapely.STRtree]
    passes: dict[str, F64]
    component: NDArray[np.int32]
    undershoot: NDArray[np.bool_]


def cause_labels() -> dict[str, tuple[str, str]]:
    """(zh, en) label of every cause key.

    Returns
    -------
    dict
    """
    out = barrier_rules().labels()
    out[FAR] = ("离步行道路过远（内部道路未入网）", "Far from a walkable street")
    return out


def cause_order() -> tuple[str, ...]:
    """Every cause key in attribution order, the table rows' order.

    Returns
    -------
    tuple of str
    """
    causes = tuple(c.key for c in barrier_rules().causes)
    return (DATA_GAP, FAR, *causes, OTHER, WALK_ONLY, AREA_METHOD)


def _ends_and_corners(geoms: NDArray[np.object_]) -> F64:
    """Ends of the linework (degree-1 points once noded) and convex-hull corners of areas."""
    out = [np.zeros((0, 2))]
    tid = shapely.get_type_id(geoms)
    lines = geoms[(tid == 1) | (tid == 5)]
    if lines.size:
        noded = shapely.get_parts(shapely.union_all(lines))
        ends = np.concatenate(
            [
                shapely.get_coordinates(shapely.get_point(noded, 0)),
                shapely.get_coordinates(shapely.get_point(noded, -1)),
            ]
        )
        if ends.size:
            _, inv, cnt = np.unique(
                np.round(ends, 3), axis=0, return_inverse=True, return_counts=True
            )
            out.append(ends[cnt[inv.ravel()] == 1])
    areas = geoms[(tid == 3) | (tid == 6)]
    if areas.size:
        out.append(shapely.get_coordinates(shapely.convex_hull(areas)))
    return np.concatenate(out)


def _crossings(net: WalkNetwork, geoms: NDArray[np.object_], skip_edge: NDArray[np.bool_]) -> F64:
    """Points where walk edges (not ``skip_edge``) meet the barrier geometries."""
    if not geoms.size or not net.n_edges:
        return np.zeros((0, 2))
    ib, ie = edge_tree(net).query(geoms, predicate="intersects")
    keep = ~skip_edge[ie]
    ib, ie = ib[keep], ie[keep]
    if not ib.size:
        return np.zeros((0, 2))
    inter = shapely.intersection(net.edge_geometry[ie], geoms[ib])
    return shapely.get_coordinates(inter)


def _undershoots(net: WalkNetwork, within_m: float) -> NDArray[np.bool_]:
    """Dead-end nodes within ``within_m`` of an edge that touches neither end of their own edge."""
    n = net.n_nodes
    out = np.zeros(n, dtype=bool)
    if not net.n_edges:
        return out
    deg = np.bincount(np.concatenate([net.edge_u, net.edge_v]), minlength=n)
    dead = np.flatnonzero(deg == 1)
    if not dead.size:
        return out
    # the other end of each dead end's one edge
    e_of = np.full(n, -1, dtype=np.int64)
    e_of[net.edge_u] = np.arange(net.n_edges)
    e_of[net.edge_v] = np.arange(net.n_edges)
    e = e_of[dead]
    other = np.where(net.edge_u[e] == dead, net.edge_v[e], net.edge_u[e])
    pts = shapely.points(net.x[dead], net.y[dead])
    ip, ie = edge_tree(net).query(pts, predicate="dwithin", distance=within_m)
    eu, ev = net.edge_u[ie], net.edge_v[ie]
    d, o = dead[ip], other[ip]
    touch = (eu == d) | (ev == d) | (eu == o) | (ev == o)
    out[d[~touch]] = True
    return out


def barrier_index(
    net: WalkNetwork, barriers: gpd.GeoDataFrame, gates: gpd.GeoDataFrame
) -> BarrierIndex:
    """Index the barriers of a city against its walk network.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    barriers, gates
        The city's barrier and gate layers (:mod:`geoplan.io.barriers`), same CRS.

    Returns
    -------
    BarrierIndex
    """
    rules = barrier_rules()
    causes = tuple(c.key for c in rules.causes)
    express = {"motorway", "motorway_link", "trunk", "trunk_link"}
    hw = np.asarray(net.edge_highway, dtype=object)
    is_express = np.isin(hw, list(express)) if hw.size else np.zeros(0, dtype=bool)
    no_skip = np.zeros(net.n_edges, dtype=bool)
    gate_xy = shapely.get_coordinates(np.asarray(gates.geometry.values, dtype=object))
    trees: dict[str, shapely.STRtree] = {}
    passes: dict[str, F64] = {}
    cause_col = barriers["cause"].to_numpy(dtype=object) if len(barriers) else np.zeros(0, object)
    all_geoms = np.asarray(barriers.geometry.values, dtype=object)
    for c in causes:
        geoms = all_geoms[cause_col == c]
        trees[c] = shapely.STRtree(geoms)
        pts = [
            _crossings(net, geoms, is_express if c == "expressway" else no_skip),
            _ends_and_corners(geoms) if geoms.size else np.zeros((0, 2)),
        ]
        if c == "wall":
            pts.append(gate_xy)
        passes[c] = np.concatenate(pts)
    return BarrierIndex(
        causes,
        trees,
        passes,
        net.component_labels if net.n_nodes else np.zeros(0, np.int32),
        _undershoots(net, rules.undershoot_m),
    )


def _nearest_cover(
    hx: F64, hy: F64, reach: Reach
) -> tuple[I64, NDArray[np.object_], F64, F64, F64]:
    """For each point: the facility covering it nearest by straight line, that point on it, R.

    Returns (facility index, facility geometry, fx, fy, radius); points no facility covers within
    its radius (a buffer drawn with arcs as chords) take the nearest facility.
    """
    pts = shapely.points(hx, hy)
    geoms = reach.geoms
    n = hx.shape[0]
    tree = shapely.STRtree(geoms)
    rmax = float(reach.radius_m.max()) * 1.01 + 1.0
    ip, ig = threads.query(tree, pts, predicate="dwithin", distance=rmax)
    d = threads.rows(shapely.distance, pts[ip], geoms[ig])
    excess = d - reach.radius_m[ig]
    # covering facilities first (excess <= 0, nearest), then the least excess
    order = np.lexsort((d, np.maximum(excess, 0.0), ip))
    ip, ig = ip[order], ig[order]
    first = np.ones(ip.shape[0], dtype=bool)
    first[1:] = ip[1:] != ip[:-1]
    fac = np.full(n, -1, dtype=np.int64)
    fac[ip[first]] = ig[first]
    miss = np.flatnonzero(fac < 0)
    if miss.size:
        fac[miss] = tree.query_nearest(pts[miss], return_distance=False)[1]
    g = geoms[fac]
    near = shapely.get_coordinates(
        shapely.get_point(threads.rows(shapely.shortest_line, pts, g), 1)
    )
    return fac, g, near[:, 0], near[:, 1], reach.radius_m[fac]


def classify_gaps(
    index: BarrierIndex,
    net: WalkNetwork,
    homes_xy: F64,
    homes_att: EdgeAttachment,
    reach: Reach,
) -> NDArray[np.object_]:
    """The cause of the gap of each home given (all assumed buffer-covered, not walk-covered).

    Parameters
    ----------
    index
        :func:`barrier_index` of the city.
    net
        Walk network (metric CRS).
    homes_xy
        (n, 2) home coordinates (m).
    homes_att
        Each home's attachment to its nearest edge (same order; ``owner`` = row in ``homes_xy``).
    reach
        The measure's facilities and radii.

    Returns
    -------
    ndarray of str
        One cause key per home (:func:`cause_order`).
    """
    n = homes_xy.shape[0]
    out = np.full(n, OTHER, dtype=object)
    if n == 0:
        return out
    if reach.geoms.size == 0 or net.n_edges == 0:
        out[:] = DATA_GAP
        return out
    hx, hy = homes_xy[:, 0], homes_xy[:, 1]
    _, fgeom, fx, fy, radius = _nearest_cover(hx, hy, reach)
    # the home's street point p and offset
    off = np.full(n, np.inf)
    px, py = hx.copy(), hy.copy()
    edge = np.full(n, -1, dtype=np.int64)
    own = homes_att.owner
    t = np.zeros(n)
    off[own] = homes_att.offset_m
    edge[own] = homes_att.edge
    t[own] = homes_att.t0
    ok = edge >= 0
    pt = shapely.line_interpolate_point(net.edge_geometry[edge[ok]], t[ok], normalized=True)
    px[ok], py[ok] = shapely.get_x(pt), shapely.get_y(pt)
    # the facility's street component: where its nearest point attaches
    fatt = attach_xy(net, fx, fy, owner=np.arange(n, dtype=np.int64))
    fcomp = np.full(n, -2, dtype=np.int64)
    fcomp[fatt.owner] = index.component[net.edge_u[fatt.edge]]
    hcomp = np.full(n, -1, dtype=np.int64)
    hcomp[ok] = index.component[net.edge_u[edge[ok]]]
    under = np.zeros(n, dtype=bool)
    under[ok] = index.undershoot[net.edge_u[edge[ok]]] | index.undershoot[net.edge_v[edge[ok]]]
    todo = np.ones(n, dtype=bool)

    # a point no street was found for within the search limit (a grid cell) is far from one
    out[~ok] = FAR
    todo &= ok
    data_gap = ok & ((hcomp != fcomp) | under)
    out[data_gap] = DATA_GAP
    todo &= ~data_gap

    p_pts = shapely.points(px, py)
    far = todo & (off + threads.rows(shapely.distance, p_pts, fgeom) > radius)
    out[far] = FAR
    todo &= ~far

    seg = shapely.linestrings(
        np.stack([np.column_stack([hx, hy]), np.column_stack([fx, fy])], axis=1)
    )
    for c in index.causes:
        cand = np.flatnonzero(todo)
        if not cand.size:
            break
        hit_i, _ = threads.query(index.trees[c], seg[cand], predicate="intersects")
        cand = np.unique(cand[hit_i])
        if not cand.size:
            continue
        xs = index.passes[c]
        blocked = np.ones(cand.shape[0], dtype=bool)
        if xs.shape[0]:
            slack = radius[cand] - off[cand]
            blocked = _no_pass_within(xs, px[cand], py[cand], fgeom[cand], slack)
        hit = cand[blocked]
        out[hit] = c
        todo[hit] = False
    return out


def _no_pass_within(
    xs: F64, px: F64, py: F64, fgeom: NDArray[np.object_], slack: F64
) -> NDArray[np.bool_]:
    """Per point: no pass ``x`` (crossing, gap, gate) with ``|p − x| + d(x, facility) <= slack``.

    The barrier blocks every detour that would still reach the facility in time. Every
    point's passes within its slack are listed at once and their detours measured in one
    vectorised call (a loop of small shapely calls per point was most of a sparse city's gap
    causes).
    """
    near = cKDTree(xs).query_ball_point(np.column_stack([px, py]), r=np.maximum(slack, 0.0))
    cnt = np.fromiter((len(v) for v in near), dtype=np.int64, count=px.shape[0])
    blocked = np.ones(px.shape[0], dtype=bool)
    # points in runs of at most _PAIRS_PER_RUN (point, pass) pairs: memory stays bounded where
    # thousands of crossings lie within the radius of each point
    ends = np.cumsum(cnt)
    lo = 0
    while lo < px.shape[0]:
        hi = max(lo + 1, int(np.searchsorted(ends, ends[lo] - cnt[lo] + _PAIRS_PER_RUN, "right")))
        k = np.arange(lo, hi)[cnt[lo:hi] > 0]
        lo = hi
        if not k.size:
            continue
        flat = np.fromiter(chain.from_iterable(near[i] for i in k), dtype=np.int64)
        rep = np.repeat(k, cnt[k])
        x = xs[flat]
        a = np.hypot(x[:, 0] - px[rep], x[:, 1] - py[rep])
        b = threads.rows(shapely.distance, shapely.points(x), fgeom[rep])
        at = np.cumsum(cnt[k]) - cnt[k]
        blocked[k] = np.minimum.reduceat(a + b, at) > slack[k]
    return blocked


#: (point, pass) pairs measured at once by :func:`_no_pass_within`
_PAIRS_PER_RUN = 1_000_000


def home_points(homes: gpd.GeoDataFrame) -> F64:
    """(n, 2) coordinates of home points (m).

    Parameters
    ----------
    homes
        Home points (metric CRS).

    Returns
    -------
    ndarray
    """
    return shapely.get_coordinates(np.asarray(homes.geometry.values, dtype=object))
