"""Points along many lines at once, in numpy, as GEOS computes them.

``shapely.line_interpolate_point`` walks each line segment by segment (GEOS
``LengthLocationMap``); :func:`points_along` does the same walk for every sample at once — the
same running sums, comparisons and interpolation formula, so the coordinates are bit for bit
those of GEOS (tests compare them) — without building a shapely Point per sample.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


def running_sum_into(out: F64, values: F64, pos: I64) -> None:
    """``out[i] = out[i-1] + values[i-1]`` within runs (``pos`` = place in the run, 0 first).

    Summed one place at a time, in order, so each entry is the same float as a sequential
    running sum (``np.cumsum`` over the whole array and a per-run offset is not).

    Parameters
    ----------
    out
        Written in place: the running sums (``out[i]`` of a run's first place is left as it is).
    values
        Values summed.
    pos
        Place of each entry in its run (0 first).
    """
    if not pos.size:
        return
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(int(pos.max()) + 2))
    for j in range(1, int(pos.max()) + 1):
        at = order[bounds[j] : bounds[j + 1]]
        out[at] = out[at - 1] + values[at - 1]


def points_along(parts: NDArray[np.object_], rep: I64, dist: F64) -> tuple[F64, F64]:
    """Coordinates at ``dist`` (m) along line ``parts[rep]``, as GEOS interpolates them.

    Parameters
    ----------
    parts
        LineStrings (metric CRS).
    rep
        Index into ``parts`` of each point.
    dist
        Distance (m) along its line of each point.

    Returns
    -------
    tuple of ndarray
        ``(x, y)`` of the points (m).
    """
    xy, idx = shapely.get_coordinates(parts, return_index=True)
    a = np.flatnonzero(idx[1:] == idx[:-1])
    x0, y0, x1, y1 = xy[a, 0], xy[a, 1], xy[a + 1, 0], xy[a + 1, 1]
    sidx = idx[a]
    dx, dy = x1 - x0, y1 - y0
    seg_len = np.sqrt(dx * dx + dy * dy)
    # running length before each segment, summed one segment at a time as GEOS does
    first = np.ones(sidx.shape[0], dtype=bool)
    first[1:] = sidx[1:] != sidx[:-1]
    rs = np.flatnonzero(first)
    pos = np.arange(sidx.shape[0]) - np.repeat(rs, np.diff(np.append(rs, sidx.shape[0])))
    before = np.zeros(sidx.shape[0])
    running_sum_into(before, seg_len, pos)
    hi = np.searchsorted(sidx, np.arange(parts.shape[0]), side="right")[rep]
    # the first segment of the part whose end (before + seg_len, non-decreasing along the part)
    # passes dist: one binary search over (part, end) pairs, compared as complex numbers (real
    # part first, numpy's order), for every sample at once
    ends = sidx.astype(np.float64) + 1j * (before + seg_len)
    left = np.searchsorted(ends, rep.astype(np.float64) + 1j * dist, side="right")
    past_end = left >= hi
    s = np.minimum(left, np.maximum(hi - 1, 0))
    frac = np.where(past_end, 1.0, (dist - before[s]) / np.where(seg_len[s] > 0, seg_len[s], 1.0))
    px = np.where(frac <= 0, x0[s], np.where(frac >= 1, x1[s], (x1[s] - x0[s]) * frac + x0[s]))
    py = np.where(frac <= 0, y0[s], np.where(frac >= 1, y1[s], (y1[s] - y0[s]) * frac + y0[s]))
    return px, py


def length_share_near(
    lines: NDArray[np.object_],
    others: NDArray[np.object_],
    distance_m: float,
    *,
    at_least: float,
) -> NDArray[np.float64]:
    """Share (0–1) of each line's length within ``distance_m`` of any of ``others``.

    Only the pairs an STRtree finds within the distance are cut (no union of every buffer): each
    pair's piece of the line inside the other's buffer; the sum of a line's pieces bounds its
    share from above (overlapping pieces count twice), so the exact share — the line inside the
    union of its nearby buffers — is computed only for lines whose bound reaches ``at_least``.

    Parameters
    ----------
    lines
        Lines or rings (metric CRS).
    others
        Geometries to be near (same CRS).
    distance_m
        Distance (m).
    at_least
        Callers compare the share with this: exact where it can reach it, else a value below it.

    Returns
    -------
    ndarray of float
    """
    n = lines.shape[0]
    out = np.zeros(n)
    if n == 0 or others.shape[0] == 0:
        return out
    il, io = shapely.STRtree(others).query(lines, predicate="dwithin", distance=distance_m)
    if not il.size:
        return out
    zones = shapely.buffer(others[io], distance_m, quad_segs=4)
    pieces = shapely.intersection(lines[il], zones)
    total = shapely.length(lines)
    bound = np.bincount(il, weights=shapely.length(pieces), minlength=n)
    safe = np.where(total > 0, total, 1.0)
    out = np.where(total > 0, np.minimum(bound / safe, 1.0), 0.0)
    cand = np.flatnonzero((total > 0) & (bound >= at_least * total))
    if cand.size:
        # exact: the line inside the union of its nearby buffers (polygons union robustly;
        # line pieces cut from different buffers need not share vertices and would not)
        order = np.argsort(il, kind="stable")
        il_s, zones_s = il[order], zones[order]
        starts = np.searchsorted(il_s, cand)
        ends = np.searchsorted(il_s, cand, side="right")
        zone = np.array(
            [shapely.union_all(zones_s[a:b]) for a, b in zip(starts, ends, strict=True)],
            dtype=object,
        )
        out[cand] = shapely.length(shapely.intersection(lines[cand], zone)) / total[cand]
    return out
