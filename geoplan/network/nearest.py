"""Nearest edge of many points at once: KD-tree candidates, exact numpy refinement.

Attaching points (homes, facilities, the samples along park boundaries, grid cells) to their
nearest edge was the largest part of the access step when done one GEOS call per point
(``STRtree.query_nearest`` + ``line_locate_point``). Here every edge is cut into its straight
segments, each segment is sampled at most ``step_m`` apart, and a :class:`scipy.spatial.cKDTree`
over the samples proposes, for each point, the segments of its ``k`` nearest samples. The exact
point–segment distance and projection are then computed in numpy with the formulas GEOS uses
(``Distance::pointToSegment``, ``LineSegment::projectionFactor``, ``LengthIndexOfPoint``), so the
result is the one of ``STRtree.query_nearest`` and ``shapely.line_locate_point``.

The answer is *certified*: every point of a segment lies within ``step_m / 2`` of one of its
samples, so a segment whose samples are all at least ``d_k`` away is at least ``d_k − step_m / 2``
away. When the best candidate is strictly nearer than that, no other segment can be nearer. For the
points that fail the test, every sample within (best candidate + ``step_m / 2``) is gathered by a
ball search — a superset of the segments that can be nearest — so the answer is exact either way.
Ties (a point equidistant from two edges) go to the lowest edge index.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from geoplan._lines import running_sum_into
from geoplan.network.graph import WalkNetwork

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: distance between samples along a segment (m); half of it bounds the certificate. Dense
#: networks (mean segment shorter than ``DENSE_SEGMENT_M``) take the fine step: their points sit
#: within metres of several streets, where a 5 m margin settles most queries at once (Helsinki
#: 18×18 facility points 0.64 → 0.31 s); sparse ones the coarse step, half the samples to index
#: (Chengdu 17×17: 29M → 15M samples, 9.9 → 6.5 s) with queries no slower. Exact either way.
SAMPLE_STEP_M = 10.0
SPARSE_STEP_M = 20.0
DENSE_SEGMENT_M = 40.0
#: nearest samples proposed first; points not certified by them get a ball search
K_FIRST = 8
#: points per block
CHUNK = 1 << 15


@dataclass(frozen=True)
class SegmentIndex:
    """The straight segments of a network's edges and a KD-tree over samples along them.

    Segments are ordered by edge, then along the edge. ``start_m`` is the length along the edge
    before the segment (summed segment by segment, as GEOS does), ``edge_length_m`` the
    geometric length of each edge (``shapely.length``).
    """

    x0: F64
    y0: F64
    x1: F64
    y1: F64
    edge: I64
    start_m: F64
    seg_len_m: F64
    edge_length_m: F64
    sample_seg: I64
    tree: cKDTree
    half_step_m: float


def _segment_lengths(x0: F64, y0: F64, x1: F64, y1: F64) -> F64:
    dx = x1 - x0
    dy = y1 - y0
    return np.sqrt(dx * dx + dy * dy)


def sample_step_m(net: WalkNetwork) -> float:
    """The sample step for ``net``: fine for dense networks, coarse for sparse ones (m).

    Parameters
    ----------
    net
        Walk network (metric CRS).

    Returns
    -------
    float
        Step (m) between the samples along edges the KD-tree indexes.
    """
    n_seg = int(shapely.get_num_coordinates(net.edge_geometry).sum()) - net.n_edges
    mean = float(net.edge_length_m.sum()) / max(n_seg, 1)
    return SAMPLE_STEP_M if mean < DENSE_SEGMENT_M else SPARSE_STEP_M


def segment_index(net: WalkNetwork, *, step_m: float | None = None) -> SegmentIndex:
    """The :class:`SegmentIndex` of ``net`` (built once, kept in ``net.meta``).

    Parameters
    ----------
    net
        Walk network (metric CRS).
    step_m
        Sample step (m; default :func:`sample_step_m`); the answers do not depend on it.

    Returns
    -------
    SegmentIndex
    """
    if step_m is None:
        got = net.meta.get("_segment_index")
        if isinstance(got, SegmentIndex):
            return got
        out = segment_index(net, step_m=sample_step_m(net))
        net.meta["_segment_index"] = out
        return out
    key = f"_segment_index_{step_m}"
    got = net.meta.get(key)
    if isinstance(got, SegmentIndex):
        return got
    xy, idx = shapely.get_coordinates(net.edge_geometry, return_index=True)
    idx = idx.astype(np.int64)
    same = idx[1:] == idx[:-1]
    a = np.flatnonzero(same)
    x0, y0 = xy[a, 0], xy[a, 1]
    x1, y1 = xy[a + 1, 0], xy[a + 1, 1]
    edge = idx[a]
    seg_len = _segment_lengths(x0, y0, x1, y1)
    # position of each segment along its edge; the start measure is summed in edge order,
    # one position at a time, so it equals GEOS's running sum bit for bit
    first = np.ones(edge.shape[0], dtype=bool)
    first[1:] = edge[1:] != edge[:-1]
    run_start = np.flatnonzero(first)
    pos = np.arange(edge.shape[0]) - np.repeat(run_start, np.diff(np.append(run_start, len(edge))))
    start = np.zeros(edge.shape[0])
    running_sum_into(start, seg_len, pos)
    edge_len = shapely.length(net.edge_geometry).astype(np.float64)
    # samples: both ends and points at most step_m apart
    pieces = np.maximum(1, np.ceil(seg_len / step_m).astype(np.int64))
    counts = pieces + 1
    rep = np.repeat(np.arange(edge.shape[0], dtype=np.int64), counts)
    j = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)).astype(float)
    # a start and a step per segment, repeated: no gather per sample
    sx = np.repeat(x0, counts) + j * np.repeat((x1 - x0) / pieces, counts)
    sy = np.repeat(y0, counts) + j * np.repeat((y1 - y0) / pieces, counts)
    tree = cKDTree(np.column_stack([sx, sy]), balanced_tree=False, compact_nodes=False)
    # the longest gap between samples is at most step_m; rounding of the sample positions adds
    # far less than a millimetre (under 5e-10 m from p0 + j/n · (p1 − p0) on Chengdu 17×17's
    # 17 M samples), covered by the margin
    half = float(np.max(seg_len / pieces, initial=0.0)) / 2.0 + 1e-6
    out = SegmentIndex(x0, y0, x1, y1, edge, start, seg_len, edge_len, rep, tree, half)
    net.meta[key] = out
    return out


def _distance(si: SegmentIndex, seg: I64, px: F64, py: F64) -> F64:
    """Distance (m) from points to segments, as GEOS ``Distance::pointToSegment`` computes it."""
    ax, ay, bx, by = si.x0[seg], si.y0[seg], si.x1[seg], si.y1[seg]
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    degenerate = len2 == 0
    safe = np.where(degenerate, 1.0, len2)
    pax = px - ax
    pay = py - ay
    r = (pax * dx + pay * dy) / safe
    s = ((ay - py) * dx - (ax - px) * dy) / safe
    pbx = px - bx
    pby = py - by
    out = np.abs(s) * np.sqrt(safe)
    at_a = degenerate | (r <= 0.0)
    at_b = ~at_a & (r >= 1.0)
    out[at_a] = np.sqrt(pax * pax + pay * pay)[at_a]
    out[at_b] = np.sqrt(pbx * pbx + pby * pby)[at_b]
    return out


def _along(si: SegmentIndex, seg: I64, px: F64, py: F64) -> F64:
    """Length (m) along the edge to the point's projection on the segment.

    As GEOS ``LengthIndexOfPoint`` computes it (``LineSegment::projectionFactor``, clamped).
    """
    ax, ay, bx, by = si.x0[seg], si.y0[seg], si.x1[seg], si.y1[seg]
    dx = bx - ax
    dy = by - ay
    len2 = dx * dx + dy * dy
    safe = np.where(len2 == 0, 1.0, len2)
    r = ((px - ax) * dx + (py - ay) * dy) / safe
    r = np.where((px == ax) & (py == ay), 0.0, np.where((px == bx) & (py == by), 1.0, r))
    start = si.start_m[seg]
    seg_len = si.seg_len_m[seg]
    return np.where(
        (len2 == 0) | (r <= 0.0), start, np.where(r <= 1.0, start + r * seg_len, start + seg_len)
    )


def nearest_edges(
    net: WalkNetwork,
    x: F64,
    y: F64,
    *,
    max_distance_m: float | None = None,
) -> tuple[I64, I64, F64, F64]:
    """Nearest edge of each point (metric CRS of ``net``).

    Parameters
    ----------
    net
        Walk network.
    x, y
        Point coordinates (m, ``net.crs``).
    max_distance_m
        Points farther than this from every edge are left out.

    Returns
    -------
    point, edge, distance_m, along_m
        For every point found (ascending ``point``): its nearest edge, the straight-line
        distance (m) to it and the length (m) along the edge's geometry to the nearest point
        (``shapely.line_locate_point``).
    """
    n = x.shape[0]
    empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
    if n == 0 or net.n_edges == 0:
        return empty
    si = segment_index(net)
    best_seg = np.empty(n, dtype=np.int64)
    best_d = np.empty(n)
    # blocks keep the temporaries small (reused memory instead of fresh pages per call)
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        best_seg[lo:hi], best_d[lo:hi] = _nearest_block(si, x[lo:hi], y[lo:hi], max_distance_m)
    keep = best_seg >= 0
    if max_distance_m is not None:
        keep &= best_d <= max_distance_m
    ip = np.flatnonzero(keep).astype(np.int64)
    seg = best_seg[ip]
    return ip, si.edge[seg], best_d[ip], _along(si, seg, x[ip], y[ip])


def _nearest_block(
    si: SegmentIndex, x: F64, y: F64, max_distance_m: float | None
) -> tuple[I64, F64]:
    """Nearest segment (-1: none within ``max_distance_m``) and its distance, for a block."""
    n = x.shape[0]
    h = si.half_step_m
    bound = np.inf if max_distance_m is None else float(max_distance_m) + h
    q = np.column_stack([x, y])
    n_samples = si.sample_seg.shape[0]
    big = np.iinfo(np.int64).max
    kk = min(K_FIRST, n_samples)
    # 1. the segments of the k nearest samples: the answer when certified
    dk, ik = si.tree.query(q, k=kk, distance_upper_bound=bound, workers=-1)
    dk = dk.reshape(n, kk)
    ik = ik.reshape(n, kk)
    found = ik < n_samples
    seg = si.sample_seg[np.where(found, ik, 0)]
    d = _distance(si, seg.ravel(), np.repeat(x, kk), np.repeat(y, kk)).reshape(n, kk)
    d[~found] = np.inf
    best_d = d.min(axis=1)
    best_seg = np.where(d == best_d[:, None], seg, big).min(axis=1)
    # every segment not proposed has all its samples at >= the k-th distance (inf when fewer
    # than k samples lie within the bound: the others are farther than max_distance_m)
    kth = dk[:, -1] if kk == K_FIRST else np.full(n, np.inf)
    ok = (best_d < kth - h) | ~np.isfinite(best_d)
    best_seg[~np.isfinite(best_d)] = -1
    # 2. the others: every sample within (best so far + h) — a superset of the nearest segments
    todo = np.flatnonzero(~ok)
    if todo.size:
        lists = si.tree.query_ball_point(q[todo], best_d[todo] + h, workers=-1, return_sorted=False)
        cnt = np.fromiter((len(v) for v in lists), dtype=np.int64, count=todo.size)
        flat = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(cnt.sum()))
        # a finite best always has its own sample inside the ball, so cnt > 0
        rep = np.repeat(todo, cnt)
        fseg = si.sample_seg[flat]
        fd = _distance(si, fseg, x[rep], y[rep])
        at = np.cumsum(cnt) - cnt
        dmin = np.minimum.reduceat(fd, at)
        smin = np.minimum.reduceat(np.where(fd == np.repeat(dmin, cnt), fseg, big), at)
        best_d[todo] = dmin
        best_seg[todo] = smin
    return best_seg, best_d
