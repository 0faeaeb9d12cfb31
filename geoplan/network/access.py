"""Network access: walking distance from every home to the nearest facility of a category.

The hot path runs on CSR arrays with :func:`scipy.sparse.csgraph.dijkstra`. All facilities of a
category become *one* virtual source node joined to the graph nodes they reach, with the walking
distance from the facility to each node as the joining weight; a single bounded Dijkstra search
(``limit=radius``) from that node then gives, for every graph node, the distance to the nearest
facility. This is exact multi-source Dijkstra with per-source start offsets, and costs one search
per category whatever the number of homes or facilities.

Points attach to the nearest **edge**, not node: a point is projected onto the edge's geometry
(metric CRS); the walking distance from the point to the edge's end nodes is the distance along the
edge (``t · length_m`` and ``(1 − t) · length_m``) plus the straight-line offset from the point to
the edge. Polygon facilities (parks, school grounds) are reached where the network meets them: the
parts of edges inside the polygon are sources at distance 0, and points every
``boundary_step_m`` along the boundary attach to their nearest edge with their offset — never at a
centroid. A home and a facility on the same edge also get their direct along-edge distance.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from geoplan._lines import points_along
from geoplan.network.graph import WalkNetwork
from geoplan.network.nearest import nearest_edges, segment_index

F64 = NDArray[np.float64]


I64 = NDArray[np.int64]


@dataclass(frozen=True)
class EdgeAttachment:
    """Places on network edges.

    The interval ``[t0, t1]`` (fractions of the edge from ``edge_u``) of edge ``edge``, reached from
    the feature ``owner`` after a straight walk of ``offset_m``.

    A point feature is a zero-length interval (``t0 == t1``); the part of an edge inside a park is
    an interval with ``offset_m == 0``.
    """

    edge: I64
    t0: F64
    t1: F64
    offset_m: F64
    owner: I64

    def __len__(self) -> int:
        """Number of intervals.

        Returns
        -------
        int
        """
        return int(self.edge.shape[0])

    @staticmethod
    def concat(parts: Sequence[EdgeAttachment]) -> EdgeAttachment:
        """The intervals of several attachments, in order.

        Parameters
        ----------
        parts
            Attachments (empty ones are skipped).

        Returns
        -------
        EdgeAttachment
            Their intervals concatenated; ``owner`` values are kept as they are.
        """
        parts = [p for p in parts if len(p)]
        if not parts:
            return _empty_attachment()
        return EdgeAttachment(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("edge", "t0", "t1", "offset_m", "owner")
            )
        )

    def point(self) -> EdgeAttachment:
        """These attachments, read as points (``t0 == t1``): the targets of a search.

        Returns
        -------
        EdgeAttachment
            ``self``.
        """
        return self


def _empty_attachment() -> EdgeAttachment:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return EdgeAttachment(zi, z, z, z, zi)


def edge_tree(net: WalkNetwork) -> shapely.STRtree:
    """The STRtree of ``net``'s edge geometries (built once, kept in ``net.meta``).

    Parameters
    ----------
    net
        Walk network (metric CRS).

    Returns
    -------
    shapely.STRtree
        Over ``net.edge_geometry``, in edge-index order.
    """
    tree = net.meta.get(_EDGE_TREE)
    if tree is None:
        tree = shapely.STRtree(net.edge_geometry)
        net.meta[_EDGE_TREE] = tree
    return tree


def drop_edge_tree(net: WalkNetwork) -> None:
    """Forget the STRtree :func:`edge_tree` kept; it builds it again when next asked.

    Parameters
    ----------
    net
        Walk network.
    """
    net.meta.pop(_EDGE_TREE, None)


#: where :func:`edge_tree` keeps the tree in ``net.meta``
_EDGE_TREE = "_edge_tree"


def attach_points(
    net: WalkNetwork,
    points: NDArray[np.object_] | Sequence[BaseGeometry],
    *,
    owner: I64 | None = None,
    max_distance_m: float | None = None,
) -> EdgeAttachment:
    """Attach points (metric CRS of ``net``) to their nearest edge.

    Parameters
    ----------
    net
        The walk network.
    points
        shapely Points in ``net.crs``.
    owner
        Feature index of each point (default ``0..n-1``).
    max_distance_m
        Points farther than this from every edge are left out (their ``owner`` is missing from
        the result); the nearest-edge search is bounded, which is much faster for grids.

    Notes
    -----
    The nearest edge comes from :func:`geoplan.network.nearest.nearest_edges` (KD-tree
    candidates, exact numpy refinement with GEOS's formulas): the same edge, distance and
    position as ``STRtree.query_nearest`` + ``shapely.line_locate_point``; a point equidistant
    from several edges takes the lowest edge index.

    Returns
    -------
    EdgeAttachment
        One zero-length interval per attached point; ``offset_m`` is the straight-line distance
        (m) from the point to the edge.
    """
    pts = np.asarray(points, dtype=object)
    n = pts.shape[0]
    if owner is None:
        owner = np.arange(n, dtype=np.int64)
    if n == 0 or net.n_edges == 0:
        return _empty_attachment()
    # empty (or missing) points attach nowhere
    valid = np.flatnonzero((shapely.get_type_id(pts) == 0) & ~shapely.is_empty(pts))
    px, py = shapely.get_x(pts[valid]), shapely.get_y(pts[valid])
    return attach_xy(net, px, py, owner=owner[valid], max_distance_m=max_distance_m)


def attach_xy(
    net: WalkNetwork, x: F64, y: F64, *, owner: I64, max_distance_m: float | None = None
) -> EdgeAttachment:
    """:func:`attach_points` for coordinates (m, ``net.crs``): no shapely Points are built.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    x, y
        Point coordinates (m, ``net.crs``).
    owner
        Feature index of each point.
    max_distance_m
        Points farther than this (m) from every edge are left out.

    Returns
    -------
    EdgeAttachment
        One zero-length interval per attached point; ``offset_m`` is its straight-line distance
        (m) to the edge.
    """
    if x.shape[0] == 0 or net.n_edges == 0:
        return _empty_attachment()
    ip, ie, dist, s = nearest_edges(net, x, y, max_distance_m=max_distance_m)
    glen = segment_index(net).edge_length_m[ie]
    t = np.where(glen > 0, s / np.where(glen > 0, glen, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return EdgeAttachment(ie.astype(np.int64), t, t.copy(), dist.astype(np.float64), owner[ip])


def _polygon_intervals(net: WalkNetwork, polys: NDArray[np.object_], owners: I64) -> EdgeAttachment:
    """Parts of edges lying inside polygons, as zero-offset intervals."""
    if polys.shape[0] == 0 or net.n_edges == 0:
        return _empty_attachment()
    tree = edge_tree(net)
    ip, ie = tree.query(polys, predicate="intersects")
    if ip.shape[0] == 0:
        return _empty_attachment()
    # an edge in a polygon's interior is inside whole (0 to 1): no overlay needed (in a city's
    # parks three pairs in four, 1.9 → 0.6 s at Helsinki 12×12)
    cp, ce = tree.query(polys, predicate="contains_properly")
    whole = EdgeAttachment(
        ce.astype(np.int64),
        np.zeros(ce.shape[0]),
        np.ones(ce.shape[0]),
        np.zeros(ce.shape[0]),
        owners[cp].astype(np.int64),
    )
    crossing = ~np.isin(ip * net.n_edges + ie, cp * net.n_edges + ce)
    ip, ie = ip[crossing], ie[crossing]
    return EdgeAttachment.concat([whole, _crossing_intervals(net, polys, owners, ip, ie)])


def _crossing_intervals(
    net: WalkNetwork, polys: NDArray[np.object_], owners: I64, ip: I64, ie: I64
) -> EdgeAttachment:
    """The parts inside polygon ``ip[i]`` of edge ``ie[i]`` (pairs that meet), as intervals."""
    if ip.shape[0] == 0:
        return _empty_attachment()
    geoms = net.edge_geometry[ie]
    inter = shapely.intersection(geoms, polys[ip])
    glen = shapely.length(geoms)
    # every part of every intersection, in order (a Point or LineString each; others skipped)
    parts, k = shapely.get_parts(inter, return_index=True)
    tid = shapely.get_type_id(parts)
    keep = ((tid == 0) | (tid == 1)) & ~shapely.is_empty(parts)
    parts, k, tid = parts[keep], k[keep], tid[keep]
    if not parts.size:
        return _empty_attachment()
    is_pt = tid == 0
    plen = np.where(is_pt, 0.0, shapely.length(parts))
    # a line part is located by its midpoint, not its ends: an end on a closed or self-touching
    # edge (a loop path) locates to its first visit and would span the whole loop
    probe = np.where(
        is_pt,
        parts,
        shapely.line_interpolate_point(np.where(is_pt, None, parts), 0.5, normalized=True),
    )
    m = shapely.line_locate_point(geoms[k], probe)
    lo = np.where(is_pt, m, m - plen / 2)
    hi = np.where(is_pt, m, m + plen / 2)
    L = np.where(glen[k] > 0, glen[k], 1.0)
    return EdgeAttachment(
        ie[k].astype(np.int64),
        np.clip(lo / L, 0.0, 1.0),
        np.clip(hi / L, 0.0, 1.0),
        np.zeros(k.shape[0]),
        owners[ip[k]].astype(np.int64),
    )


def facility_sources(
    net: WalkNetwork,
    geometries: NDArray[np.object_] | Sequence[BaseGeometry],
    *,
    boundary_step_m: float = 2.0,
) -> EdgeAttachment:
    """Where the walk network reaches each facility.

    Points attach to their nearest edge. Polygons (and lines) are reached (a) along every part
    of an edge inside them (distance 0) and (b) from points every ``boundary_step_m`` metres along
    their boundary, each attached to its nearest edge — a park is reached at its edge, not its
    centroid, and a large park does not count as one point.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    geometries
        Facility geometries in ``net.crs``: points, multipoints (a park's entrances), lines or
        polygons.
    boundary_step_m
        Spacing (m) of the outline samples of lines and polygons.

    Returns
    -------
    EdgeAttachment
        Intervals whose ``owner`` is the position of the facility in ``geometries``.
    """
    geoms = np.asarray(geometries, dtype=object)
    owners = np.arange(geoms.shape[0], dtype=np.int64)
    if geoms.shape[0] == 0:
        return _empty_attachment()
    tid = shapely.get_type_id(geoms)
    is_pt = tid == 0
    parts = [attach_points(net, geoms[is_pt], owner=owners[is_pt])]
    multi_pt = tid == 4
    if multi_pt.any():
        pts, idx = shapely.get_parts(geoms[multi_pt], return_index=True)
        parts.append(attach_points(net, pts, owner=owners[multi_pt][idx]))
    other = ~(is_pt | multi_pt)
    if other.any():
        og, oo = geoms[other], owners[other]
        parts.append(_polygon_intervals(net, og, oo))
        rings = shapely.boundary(og)
        rings = np.where(shapely.is_empty(rings) | (shapely.get_type_id(og) <= 1), og, rings)
        sx, sy, sidx = _sample_lines(rings, boundary_step_m)
        parts.append(attach_xy(net, sx, sy, owner=oo[sidx]))
    return EdgeAttachment.concat(parts)


def _sample_lines(lines: NDArray[np.object_], step_m: float) -> tuple[F64, F64, I64]:
    """Points every ``step_m`` along (multi)lines, at least one per line (its start): x, y, line.

    The points are those of ``shapely.line_interpolate_point`` at the same distances, computed
    in numpy with GEOS's walk along the segments (``LengthLocationMap``): the first segment whose
    running length passes the distance, then ``p0 + (p1 - p0) · fraction``.
    """
    parts, pidx = shapely.get_parts(lines, return_index=True)
    lengths = shapely.length(parts)
    counts = np.maximum(1, np.ceil(lengths / step_m).astype(np.int64))
    rep = np.repeat(np.arange(parts.shape[0]), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    dist = k * (lengths[rep] / counts[rep])
    x, y = points_along(parts, rep, dist)
    line = pidx[rep].astype(np.int64)
    # parts without a segment (a single vertex: GEOS gives that vertex; empty: no point)
    odd = np.flatnonzero(np.isin(rep, np.flatnonzero(shapely.get_num_points(parts) < 2)))
    if odd.size:
        pts = shapely.line_interpolate_point(parts[rep[odd]], dist[odd])
        ok = ~shapely.is_empty(pts)
        x[odd[ok]], y[odd[ok]] = shapely.get_x(pts[ok]), shapely.get_y(pts[ok])
        drop = odd[~ok]
        if drop.size:
            x, y, line = (np.delete(v, drop) for v in (x, y, line))
    return x, y, line


def _augmented_csr(net: WalkNetwork, src_nodes: I64, src_dist: F64) -> sp.csr_matrix:
    """The network CSR plus one virtual node (index n) with arcs to the source nodes."""
    base = net.csr
    n = net.n_nodes
    # keep the smallest start distance per node (nodes ascending); O(n + sources), no sort
    best = np.full(n, np.inf)
    np.minimum.at(best, src_nodes, src_dist)
    nodes = np.flatnonzero(best < np.inf)
    dist = best[nodes]
    indptr = np.concatenate([base.indptr, [base.indptr[-1] + nodes.shape[0]]])
    indices = np.concatenate([base.indices, nodes.astype(base.indices.dtype)])
    data = np.concatenate([base.data, dist])
    return sp.csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))


def node_distance_m(net: WalkNetwork, sources: EdgeAttachment, *, limit_m: float = np.inf) -> F64:
    """Walking distance (m) from each graph node to its nearest source (inf past ``limit_m``).

    Parameters
    ----------
    net
        Walk network (metric CRS).
    sources
        Source intervals (:func:`facility_sources`).
    limit_m
        Search radius (m): one bounded multi-source Dijkstra (scipy) stops there.

    Returns
    -------
    ndarray of float64
        One distance (m) per node; ``inf`` beyond ``limit_m`` or unreachable.
    """
    n = net.n_nodes
    if len(sources) == 0 or n == 0:
        return np.full(n, np.inf)
    L = net.edge_length_m[sources.edge]
    su = net.edge_u[sources.edge]
    sv = net.edge_v[sources.edge]
    src_nodes = np.concatenate([su, sv])
    src_dist = np.concatenate(
        [sources.offset_m + sources.t0 * L, sources.offset_m + (1.0 - sources.t1) * L]
    )
    keep = src_dist <= limit_m
    aug = _augmented_csr(net, src_nodes[keep], src_dist[keep])
    d = dijkstra(aug, directed=True, indices=n, limit=limit_m)
    return np.asarray(d[:n], dtype=np.float64)


def same_edge_pairs(a_edge: I64, b_edge: I64) -> tuple[I64, I64]:
    """Every (index into ``a_edge``, index into ``b_edge``) pair on the same edge.

    ``a`` bucketed by edge (a counting sort), no Python loop and no binary search: for each
    ``b`` the run of ``a`` with its edge, in stable edge order. Pairs come ordered by ``b``, then
    by position in ``a``.

    Parameters
    ----------
    a_edge, b_edge
        Edge index of each ``a`` and each ``b``.

    Returns
    -------
    a_index, b_index : ndarray of int64
        The pairs, as positions into ``a_edge`` and ``b_edge``.
    """
    z = np.zeros(0, dtype=np.int64)
    if not a_edge.size or not b_edge.size:
        return z, z
    m = int(max(a_edge.max(), b_edge.max())) + 1
    counts = np.bincount(a_edge, minlength=m)
    cnt_b = counts[b_edge]
    has = np.flatnonzero(cnt_b)
    if not has.size:
        return z, z
    order = np.argsort(a_edge, kind="stable")
    starts = np.cumsum(counts) - counts
    cnt = cnt_b[has]
    b_rep = np.repeat(has, cnt)
    k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return order[np.repeat(starts[b_edge[has]], cnt) + k].astype(np.int64), b_rep.astype(np.int64)


_Terms = tuple[I64, I64, F64, F64, F64]
#: (network, targets) → their end nodes and along-edge walks (a check asks for ~25 categories
#: from the same homes and grid); an entry goes when its targets do
_TERMS: dict[tuple[int, int], tuple[weakref.ref[WalkNetwork], _Terms]] = {}


def _target_terms(net: WalkNetwork, targets: EdgeAttachment) -> _Terms:
    """Each target's edge end nodes, edge length and walks along the edge to ``u`` and ``v``.

    ``t · L`` and ``(1 − t) · L``, as :func:`nearest_distance_m` adds them; computed once per
    (network, targets) object.
    """
    key = (id(net), id(targets))
    got = _TERMS.get(key)
    if got is not None and got[0]() is net:
        return got[1]
    e = targets.edge
    L = net.edge_length_m[e]
    t = targets.t0
    terms = (net.edge_u[e], net.edge_v[e], L, t * L, (1.0 - t) * L)
    _TERMS[key] = (weakref.ref(net), terms)
    weakref.finalize(targets, _TERMS.pop, key, None)
    return terms


def _min_into(out: F64, at: I64, values: F64) -> None:
    """``np.minimum.at(out, at, values)`` for ``at`` ascending: one ``reduceat`` per run.

    The same minima (a minimum is exact), without ``ufunc.at``'s per-element dispatch.
    """
    first = np.ones(at.shape[0], dtype=bool)
    first[1:] = at[1:] != at[:-1]
    starts = np.flatnonzero(first)
    idx = at[starts]
    out[idx] = np.minimum(out[idx], np.minimum.reduceat(values, starts))


def nearest_distance_m(
    net: WalkNetwork,
    homes: EdgeAttachment,
    sources: EdgeAttachment,
    *,
    limit_m: float = np.inf,
    node_dist: F64 | None = None,
) -> F64:
    """Walking distance (m) from each home to the nearest source, ``inf`` beyond ``limit_m``.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    homes
        Home attachments (zero-length intervals, one per home, ``owner`` = home index).
    sources
        Facility attachments from :func:`facility_sources`.
    limit_m
        Search radius in metres (the bounded Dijkstra stops there).
    node_dist
        Precomputed :func:`node_distance_m` for these sources (reused by scenarios).

    Returns
    -------
    ndarray of float64, one value per home attachment (in attachment order).
    """
    nh = len(homes)
    if nh == 0:
        return np.zeros(0)
    if len(sources) == 0:
        return np.full(nh, np.inf)
    if node_dist is None:
        node_dist = node_distance_m(net, sources, limit_m=limit_m)
    e = homes.edge
    t = homes.t0
    u, v, L, to_u, to_v = _target_terms(net, homes)
    best = np.minimum(node_dist[u] + to_u, node_dist[v] + to_v)

    # same-edge sources: direct along-edge distance
    s_idx, h_rep = same_edge_pairs(sources.edge, e)
    if h_rep.size:
        th = t[h_rep]
        gap = np.maximum(0.0, np.maximum(sources.t0[s_idx] - th, th - sources.t1[s_idx]))
        direct = sources.offset_m[s_idx] + gap * L[h_rep]
        _min_into(best, h_rep, direct)

    out = best + homes.offset_m
    out[out > limit_m] = np.inf
    return out


def reach_pairs(
    net: WalkNetwork,
    targets: EdgeAttachment,
    sources: EdgeAttachment,
    *,
    limit_m: float,
    max_cells: int = 15_000_000,
) -> tuple[I64, I64, F64]:
    """Every (source owner, target) pair within walking distance ``limit_m``, with the distance.

    Where :func:`nearest_distance_m` merges all sources into one virtual node (distance to the
    *nearest*), this keeps the sources apart: the reach of each candidate site, for siting
    (:mod:`geoplan.siting`). Distances follow the same rules as :func:`nearest_distance_m` (end
    nodes of each interval, along-edge offsets, same-edge direct walks), so for any one owner
    ``d[owner_pairs]`` equals ``nearest_distance_m(net, targets, sources_of_owner)``.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    targets
        Zero-length attachments (homes, grid points); the result's target index is the position
        in ``targets`` (not its ``owner``).
    sources
        Source intervals (:func:`facility_sources`); pairs are reported per ``sources.owner``.
    limit_m
        Search radius (m): each bounded Dijkstra stops there.
    max_cells
        Batch size bound: source end nodes per batch × network nodes (memory of one batch of
        :func:`scipy.sparse.csgraph.dijkstra` rows, 8 bytes each).

    Returns
    -------
    owner, target, distance_m
        One row per pair within ``limit_m`` (the shortest walk over the owner's intervals),
        sorted by owner then target.
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(targets) == 0 or len(sources) == 0 or net.n_nodes == 0:
        return empty
    L = net.edge_length_m
    he, ht, ho = targets.edge, targets.t0, targets.offset_m
    hl = L[he]
    hnodes, hinv = np.unique(np.concatenate([net.edge_u[he], net.edge_v[he]]), return_inverse=True)
    hu_i, hv_i = hinv[: he.size], hinv[he.size :]
    batch = max(1, int(min(max_cells // (2 * net.n_nodes), max_cells // len(targets))))
    own_parts, tgt_parts, dist_parts = [], [], []
    for a in range(0, len(sources), batch):
        se = sources.edge[a : a + batch]
        sl = L[se]
        su_d = sources.offset_m[a : a + batch] + sources.t0[a : a + batch] * sl
        sv_d = sources.offset_m[a : a + batch] + (1.0 - sources.t1[a : a + batch]) * sl
        nodes, ninv = np.unique(
            np.concatenate([net.edge_u[se], net.edge_v[se]]), return_inverse=True
        )
        d = dijkstra(net.csr, directed=True, indices=nodes, limit=limit_m)[:, hnodes]
        iu, iv = ninv[: se.size], ninv[se.size :]
        # source interval -> each target end node, then -> the target
        dn_u = np.minimum(d[iu][:, hu_i] + su_d[:, None], d[iv][:, hu_i] + sv_d[:, None])
        dn_v = np.minimum(d[iu][:, hv_i] + su_d[:, None], d[iv][:, hv_i] + sv_d[:, None])
        best = np.minimum(dn_u + ht * hl, dn_v + (1.0 - ht) * hl)
        # same-edge direct walks
        t_idx, s_rep = same_edge_pairs(he, se)
        if s_rep.size:
            th = ht[t_idx]
            s0 = sources.t0[a + s_rep]
            s1 = sources.t1[a + s_rep]
            gap = np.maximum(0.0, np.maximum(s0 - th, th - s1))
            direct = sources.offset_m[a + s_rep] + gap * hl[t_idx]
            np.minimum.at(best, (s_rep, t_idx), direct)
        best += ho
        r, c = np.nonzero(best <= limit_m)
        own_parts.append(sources.owner[a + r])
        tgt_parts.append(c.astype(np.int64))
        dist_parts.append(best[r, c])
    owner = np.concatenate(own_parts)
    target = np.concatenate(tgt_parts)
    dist = np.concatenate(dist_parts)
    # shortest per (owner, target)
    order = np.lexsort((dist, target, owner))
    owner, target, dist = owner[order], target[order], dist[order]
    first = np.ones(owner.size, dtype=bool)
    first[1:] = (owner[1:] != owner[:-1]) | (target[1:] != target[:-1])
    return owner[first], target[first], dist[first]
