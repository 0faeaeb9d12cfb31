"""Independent brute-force reference computations for the indicator tests.

Nothing here calls the geoplan function it is used to check. Network distances use a plain
networkx graph in which every edge is split at the attachment points; areas use per-feature
geopandas buffers and ``geopandas.overlay``; counts use plain Python loops.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from tolerances import QUAD_SEGS

SOURCE = ("super-source",)


# ------------------------------------------------------------------------------------------
# network distances


def split_graph(
    edges: Sequence[tuple[int, int, float]],
    cuts: dict[int, set[float]],
) -> nx.Graph:
    """Undirected networkx graph of ``edges`` (u, v, length_m), each edge split at ``cuts[e]``.

    Graph nodes are ``("n", node)`` for network nodes and ``("cut", edge, t)`` for a point at
    fraction ``t`` of edge ``edge`` (from ``u``); each piece weighs ``(t_b − t_a) · length_m``.
    Parallel pieces keep the shorter weight.
    """
    g = nx.Graph()
    for e, (u, v, length) in enumerate(edges):
        ts = sorted(cuts.get(e, ()))
        chain = [("n", u), *(("cut", e, t) for t in ts), ("n", v)]
        pos = [0.0, *ts, 1.0]
        for k in range(len(chain) - 1):
            w = (pos[k + 1] - pos[k]) * length
            a, b = chain[k], chain[k + 1]
            if g.has_edge(a, b):
                w = min(w, g[a][b]["weight"])
            g.add_edge(a, b, weight=w)
    return g


def reference_distances(
    edges: Sequence[tuple[int, int, float]],
    homes: Iterable[tuple[int, float, float]],
    sources: Iterable[tuple[int, float, float, float]],
    *,
    cutoff_m: float | None = None,
) -> np.ndarray:
    """Walking distance (m) from each home to the nearest source, by networkx Dijkstra.

    Parameters
    ----------
    edges
        ``(u, v, length_m)`` per network edge.
    homes
        ``(edge, t, offset_m)`` per home: the home stands ``offset_m`` off edge ``edge`` at
        fraction ``t``.
    sources
        ``(edge, t0, t1, offset_m)`` per facility attachment: a point (``t0 == t1``) reached
        after a straight walk of ``offset_m``, or a stretch ``[t0, t1]`` of an edge inside a
        polygon facility (offset 0): every cut point in the stretch is joined to the super
        source.

    Returns
    -------
    ndarray: distance per home, ``inf`` if unreachable or beyond ``cutoff_m``.
    """
    homes = list(homes)
    sources = list(sources)
    cuts: dict[int, set[float]] = defaultdict(set)
    for e, t, _ in homes:
        cuts[e].add(t)
    for e, t0, t1, _ in sources:
        cuts[e].add(t0)
        cuts[e].add(t1)
    g = split_graph(edges, cuts)
    for e, t0, t1, off in sources:
        for t in cuts[e]:
            if t0 <= t <= t1:
                node = ("cut", e, t)
                w = off
                if g.has_edge(SOURCE, node):
                    w = min(w, g[SOURCE][node]["weight"])
                g.add_edge(SOURCE, node, weight=w)
    if not sources:
        return np.full(len(homes), np.inf)
    dist = nx.single_source_dijkstra_path_length(g, SOURCE, cutoff=cutoff_m, weight="weight")
    out = np.array([dist.get(("cut", e, t), math.inf) + off for e, t, off in homes])
    if cutoff_m is not None:
        out[out > cutoff_m] = np.inf
    return out


def edges_of(net: object) -> list[tuple[int, int, float]]:
    """``(u, v, length_m)`` per edge of a WalkNetwork, in edge-index order (its input arrays)."""
    return list(
        zip(
            net.edge_u.tolist(),  # type: ignore[attr-defined]
            net.edge_v.tolist(),  # type: ignore[attr-defined]
            net.edge_length_m.tolist(),  # type: ignore[attr-defined]
            strict=True,
        )
    )


def attachment_rows(att: object) -> tuple[list[tuple[int, float, float]], list]:
    """(homes rows, sources rows) views of an attachment, for :func:`reference_distances`."""
    e = att.edge.tolist()  # type: ignore[attr-defined]
    t0 = att.t0.tolist()  # type: ignore[attr-defined]
    t1 = att.t1.tolist()  # type: ignore[attr-defined]
    off = att.offset_m.tolist()  # type: ignore[attr-defined]
    return list(zip(e, t0, off, strict=True)), list(zip(e, t0, t1, off, strict=True))


def compare_within(
    ref: np.ndarray, got: np.ndarray, limit_m: float, margin_m: float
) -> tuple[int, float]:
    """Compare two distance arrays under a search limit.

    Returns the number of homes on which they disagree about being within ``limit_m`` (homes
    within ``margin_m`` of the limit are not judged) and the max abs difference over the homes
    both call within.
    """
    ref = np.where(ref > limit_m, np.inf, ref)
    near = np.zeros(ref.shape, dtype=bool)
    if np.isfinite(limit_m):
        near = np.abs(np.where(np.isfinite(ref), ref, 0.0) - limit_m) <= margin_m
    fin_r, fin_g = np.isfinite(ref), np.isfinite(got)
    disagree = int(((fin_r != fin_g) & ~near).sum())
    both = fin_r & fin_g
    diff = float(np.max(np.abs(ref[both] - got[both]))) if both.any() else 0.0
    return disagree, diff


# ------------------------------------------------------------------------------------------
# attachment


def brute_force_nearest_edge(
    points: Sequence[BaseGeometry], edge_geoms: Sequence[BaseGeometry]
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the smallest distance to any edge geometry (no spatial index)."""
    geoms = np.asarray(edge_geoms, dtype=object)
    best = np.empty(len(points))
    arg = np.empty(len(points), dtype=np.int64)
    for i, p in enumerate(points):
        d = shapely.distance(geoms, p)
        arg[i] = int(np.argmin(d))
        best[i] = float(d[arg[i]])
    return best, arg


# ------------------------------------------------------------------------------------------
# areas


def buffer_cover_share(
    geoms: Sequence[BaseGeometry],
    radius_m: float | Sequence[float],
    land_polys: Sequence[BaseGeometry],
    *,
    quad_segs: int = QUAD_SEGS,
    crs: object = None,
) -> float:
    """Share of the land (union of ``land_polys``) inside the union of per-feature buffers.

    Each feature is buffered on its own (GeoSeries.buffer), the buffers are dissolved and the
    land is intersected with them by ``geopandas.overlay``.
    """
    radii = np.broadcast_to(np.asarray(radius_m, dtype=float), (len(geoms),))
    bufs = [
        gpd.GeoSeries([g], crs=crs).buffer(r, quad_segs=quad_segs).iloc[0]
        for g, r in zip(geoms, radii, strict=True)
    ]
    cover = gpd.GeoDataFrame({"k": [1]}, geometry=[shapely.union_all(bufs)], crs=crs)
    land = gpd.GeoDataFrame({"k": [1] * len(land_polys)}, geometry=list(land_polys), crs=crs)
    land = land.dissolve(by="k")
    if land.area.sum() == 0:
        return math.nan
    inter = gpd.overlay(land, cover, how="intersection", keep_geom_type=True)
    return float(inter.area.sum() / land.area.sum())


def intersection_of_covers_share(
    covers: Sequence[BaseGeometry], land_polys: Sequence[BaseGeometry]
) -> float:
    """Share of the land inside every one of ``covers`` (overlaid one after another)."""
    land = gpd.GeoDataFrame(geometry=[shapely.union_all(list(land_polys))])
    total = float(land.area.sum())
    cur = land
    for c in covers:
        cur = gpd.overlay(cur, gpd.GeoDataFrame(geometry=[c]), how="intersection")
        if cur.empty:
            return 0.0
    return float(cur.area.sum() / total)


# ------------------------------------------------------------------------------------------
# roads and intersections


def direction_at(line: BaseGeometry, point: BaseGeometry) -> np.ndarray:
    """Unit direction of the segment of ``line`` nearest to ``point`` (first part if multi)."""
    parts = list(getattr(line, "geoms", [line]))
    best = None
    for part in parts:
        c = np.asarray(part.coords)
        for a, b in itertools.pairwise(c):
            seg = shapely.LineString([a, b])
            d = seg.distance(point)
            if best is None or d < best[0]:
                best = (d, b - a)
    assert best is not None
    v = best[1]
    return v / (np.linalg.norm(v) or 1.0)


def divided_pairs(
    roads: pd.DataFrame, *, pair_distance_m: float = 40.0, min_angle_deg: float = 150.0
) -> set[int]:
    """Row positions of one-way ways with an opposite one-way way of the same grade nearby.

    Brute force over every pair of one-way ways: the midpoint of way i lies within
    ``pair_distance_m`` of way j and the local directions (segment containing i's midpoint vs
    segment of j nearest to it, reversed for ``oneway=-1``) differ by at least
    ``min_angle_deg``.
    """
    ow = roads["oneway"].astype(str).to_numpy()
    geoms = roads.geometry.to_numpy()
    grade = roads["grade"].to_numpy()
    idx = [i for i in range(len(roads)) if ow[i] in ("yes", "1", "true", "-1")]
    sign = {i: (-1.0 if ow[i] == "-1" else 1.0) for i in idx}
    cos_max = math.cos(math.radians(min_angle_deg))
    out: set[int] = set()
    for i in idx:
        gi = geoms[i]
        mid = shapely.line_interpolate_point(gi, 0.5, normalized=True)
        di = direction_at(gi, mid) * sign[i]
        for j in idx:
            if j == i or grade[j] != grade[i]:
                continue
            if geoms[j].distance(mid) > pair_distance_m:
                continue
            dj = direction_at(geoms[j], mid) * sign[j]
            if float(di @ dj) <= cos_max:
                out.add(i)
                break
    return out


def cluster_count(xy: np.ndarray, tolerance_m: float) -> int:
    """Number of single-linkage clusters of points joined when within ``tolerance_m``."""
    n = xy.shape[0]
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i in range(n):
        d = np.hypot(xy[i + 1 :, 0] - xy[i, 0], xy[i + 1 :, 1] - xy[i, 1])
        for j in np.flatnonzero(d <= tolerance_m) + i + 1:
            ri, rj = find(i), find(int(j))
            if ri != rj:
                parent[ri] = rj
    return len({find(i) for i in range(n)})


def brute_force_entrances(
    polys: Sequence[BaseGeometry], net: object, gates: Sequence[BaseGeometry], gate_m: float = 5.0
) -> list[BaseGeometry]:
    """Each polygon's access geometry, by plain loops: a MultiPoint of its entrances, or itself.

    Entrances: every point where an edge of ``net`` meets the polygon's outline, and every gate
    within ``gate_m`` of the outline (the rule of ``geoplan.network.gates``, re-done with one
    shapely call per edge and per gate).
    """
    out: list[BaseGeometry] = []
    edges = list(net.edge_geometry)  # type: ignore[attr-defined]
    for poly in polys:
        ring = poly.boundary
        pts: set[tuple[float, float]] = set()
        for e in edges:
            if e.intersects(ring):
                pts |= {
                    (float(x), float(y)) for x, y in shapely.get_coordinates(e.intersection(ring))
                }
        for g in gates:
            if ring.distance(g) <= gate_m:
                pts.add((g.x, g.y))
        out.append(shapely.MultiPoint(sorted(pts)) if pts else poly)
    return out
