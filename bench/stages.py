"""Benchmark stages, each run in a fresh child process by ``bench/run.py``.

``python bench/stages.py STAGE FILE [options]`` prints one JSON object on its last stdout line:
wall seconds per step and the child's peak resident memory (``ru_maxrss``, which counts C/C++
allocations too) after each step.

Stages:

- ``parse``: a plain pyosmium pass touching every object with node locations (``FileProcessor``
  ``.with_locations()``), the Python-side full-parse baseline;
- ``load``: ``load_city`` alone;
- ``e2e``: ``load_city`` → ``check_city`` (homes, access for every category, indicators,
  scorecard) → a second ``check_city`` on the loaded city with the same ``AccessCache`` (scenario
  re-run) and one without a cache;
- ``access``: the access step side by side on one graph and one facility category (geoplan,
  raw scipy csgraph, networkx, igraph), with correctness checks; writes the graph and sources to
  an ``.npz`` for the ``pandana`` stage;
- ``pandana``: Pandana ``Network`` / ``set_pois`` / ``nearest_pois`` on that ``.npz``;
- ``peers``: the OSMnx + networkx + GeoPandas pipeline beside geoplan (``bench/peers.py``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

#: distances must agree with networkx to this (metres)
DIST_TOL_M = 1e-6
#: Pandana stores float32 distances: agreement expected to this (metres)
PANDANA_TOL_M = 0.05


def peak_mb() -> float:
    """Peak resident memory of this process so far (MB; Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Steps:
    """Wall time and peak memory after each step."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, float]] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        out = fn()
        self.rows[name] = {"s": time.perf_counter() - t0, "peak_mb": peak_mb()}
        return out


# ---------------------------------------------------------------------------------------------


def stage_parse(path: str) -> dict[str, Any]:
    import osmium

    t0 = time.perf_counter()
    counts = {"n": 0, "w": 0, "r": 0}
    for o in osmium.FileProcessor(path).with_locations():
        counts[o.type_str()] = counts.get(o.type_str(), 0) + 1
    return {"s": time.perf_counter() - t0, "peak_mb": peak_mb(), "counts": counts}


def study_area(core: str, shift: str, n: int, *, merge: bool = False) -> Any:
    """The study boundary of a tiled file: the extract's core box repeated in every copy.

    ``core`` = "min_lon,min_lat,max_lon,max_lat" of one copy (degrees), ``shift`` = "dx,dy".
    Empty ``core``: ``None`` (load_city then takes the whole data extent). ``merge``: one box over
    all copies (copies whose core is their whole extent abut: one city).
    """
    if not core:
        return None
    import shapely

    x0, y0, x1, y1 = (float(v) for v in core.split(","))
    dx, dy = (float(v) for v in shift.split(","))
    if merge:
        return shapely.box(x0, y0, x1 + (n - 1) * dx, y1 + (n - 1) * dy)
    boxes = [
        shapely.box(x0 + i * dx, y0 + j * dy, x1 + i * dx, y1 + j * dy)
        for i in range(n)
        for j in range(n)
    ]
    return shapely.MultiPolygon(boxes)


def stage_load(path: str, boundary: Any) -> dict[str, Any]:
    from geoplan.city import load_city

    st = Steps()
    city = st.run("load_city", lambda: load_city(path, boundary=boundary, progress=False))
    return {
        "steps": st.rows,
        "load_seconds": city.report.seconds,
        "graph_nodes": city.network.n_nodes,
        "graph_edges": city.network.n_edges,
        "area_km2": city.area_km2,
        "peak_mb": peak_mb(),
    }


def stage_e2e(path: str, boundary: Any, *, reruns: bool = True) -> dict[str, Any]:
    from geoplan.city import load_city
    from geoplan.network.cache import AccessCache
    from geoplan.scoring.check import check_city

    st = Steps()
    city = st.run("load_city", lambda: load_city(path, boundary=boundary, progress=False))
    cache = AccessCache()
    res = st.run("check_city", lambda: check_city(city, cache=cache))
    rerun = cold = res
    if reruns:
        rerun = st.run("rerun_cached", lambda: check_city(city, cache=cache))
        cold = st.run("rerun_uncached", lambda: check_city(city))
    same = res.scorecard.equals(rerun.scorecard) and res.scorecard.equals(cold.scorecard)
    if not same:
        raise AssertionError("scorecard of a re-run differs from the first run")
    net = city.network
    return {
        "steps": st.rows,
        "load_seconds": city.report.seconds,
        "check_seconds": res.seconds,
        "rerun_cached_seconds": rerun.seconds,
        "rerun_uncached_seconds": cold.seconds,
        "graph_nodes": net.n_nodes,
        "graph_edges": net.n_edges,
        "area_km2": city.area_km2,
        "homes": len(res.homes),
        "facilities": len(city.facilities),
        "scorecard_rows": len(res.scorecard),
        "peak_mb": peak_mb(),
    }


# ---------------------------------------------------------------------------------------------
# access side by side


def _nearest_nodes(net: Any, geoms: Any) -> np.ndarray:
    """Graph node nearest (straight line, metric CRS) to each point: the facilities' snap."""
    import shapely
    from scipy.spatial import cKDTree

    xy = shapely.get_coordinates(shapely.centroid(geoms))
    _, idx = cKDTree(np.column_stack([net.x, net.y])).query(xy)
    return np.unique(np.asarray(idx, dtype=np.int64))


def _brute_home_distances(
    net: Any, homes: Any, sources: Any, node_dist: np.ndarray, limit: float
) -> np.ndarray:
    """Plain-Python reference for the home distances: per home, min over its edge's two end
    nodes (node distances from networkx) and over sources on the same edge, plus the offset."""
    by_edge: dict[int, list[int]] = {}
    for k, e in enumerate(sources.edge.tolist()):
        by_edge.setdefault(e, []).append(k)
    eu, ev, el = net.edge_u.tolist(), net.edge_v.tolist(), net.edge_length_m.tolist()
    s_t0, s_t1, s_off = sources.t0.tolist(), sources.t1.tolist(), sources.offset_m.tolist()
    nd = node_dist.tolist()
    out = []
    for e, t, off in zip(
        homes.edge.tolist(), homes.t0.tolist(), homes.offset_m.tolist(), strict=True
    ):
        length = el[e]
        best = min(nd[eu[e]] + t * length, nd[ev[e]] + (1.0 - t) * length)
        for k in by_edge.get(e, ()):
            gap = max(0.0, s_t0[k] - t, t - s_t1[k])
            best = min(best, s_off[k] + gap * length)
        d = best + off
        out.append(d if d <= limit else np.inf)
    return np.asarray(out)


def stage_access(
    path: str, boundary: Any, category: str, limit: float, npz: str, networkx_max_nodes: int
) -> dict[str, Any]:
    import igraph as ig
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra

    from geoplan.city import load_city
    from geoplan.city.homes import homes_from_city
    from geoplan.indicators.coverage import category_geometries
    from geoplan.network.access import (
        EdgeAttachment,
        attach_points,
        facility_sources,
        nearest_distance_m,
        node_distance_m,
    )

    city = load_city(path, boundary=boundary, progress=False)
    net = city.network
    csr = net.csr  # built once, shared by every tool (not timed)
    homes = homes_from_city(city)
    geoms = category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)[
        category
    ]
    n = net.n_nodes
    rows: dict[str, dict[str, Any]] = {}

    def timed(name: str, fn: Callable[[], Any], repeat: int = 3) -> Any:
        best, out = np.inf, None
        for _ in range(repeat):
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        rows[name] = {"s": best}
        return out

    # (a) geoplan on the real facilities: attach + one bounded Dijkstra + home lookup
    h_att = attach_points(net, homes.geometry.values)
    src = timed("geoplan attach facilities", lambda: facility_sources(net, geoms))
    nd_real = timed("geoplan node_distance_m", lambda: node_distance_m(net, src, limit_m=limit))
    d_homes = timed(
        "geoplan nearest_distance_m (homes)",
        lambda: nearest_distance_m(net, h_att, src, limit_m=limit, node_dist=nd_real),
    )
    # the same sources snapped to their nearest graph nodes, for a like-for-like comparison
    s_nodes = _nearest_nodes(net, geoms)
    first_edge = np.full(n, -1, dtype=np.int64)
    first_edge[net.edge_v[::-1]] = np.arange(net.n_edges)[::-1]
    first_edge[net.edge_u[::-1]] = np.arange(net.n_edges)[::-1]
    e = first_edge[s_nodes]
    t = (net.edge_v[e] == s_nodes).astype(np.float64)  # t=0 at edge_u, t=1 at edge_v
    z = np.zeros(s_nodes.shape[0])
    node_src = EdgeAttachment(e, t, t.copy(), z, np.arange(s_nodes.shape[0]))
    nd_geo = timed(
        "geoplan node_distance_m (node sources)",
        lambda: node_distance_m(net, node_src, limit_m=limit),
    )
    # (b) the floor: raw scipy csgraph multi-source Dijkstra
    nd_scipy = timed(
        "scipy dijkstra min_only (floor)",
        lambda: dijkstra(csr, directed=False, indices=s_nodes, min_only=True, limit=limit),
    )
    # (c) networkx on a Graph of the same edges
    nx_ok = n <= networkx_max_nodes
    if nx_ok:
        t0 = time.perf_counter()
        g = nx.from_scipy_sparse_array(csr)
        rows["networkx build Graph"] = {"s": time.perf_counter() - t0}
        sl = s_nodes.tolist()
        nd_nx_dict = timed(
            "networkx multi_source_dijkstra_path_length",
            lambda: nx.multi_source_dijkstra_path_length(g, sl, cutoff=limit, weight="weight"),
            repeat=1,
        )
        nd_nx = np.full(n, np.inf)
        nd_nx[list(nd_nx_dict)] = list(nd_nx_dict.values())
        # reference for the real (offset) sources: networkx with a virtual source node
        L = net.edge_length_m[src.edge]
        sn = np.concatenate([net.edge_u[src.edge], net.edge_v[src.edge]])
        sd = np.concatenate([src.offset_m + src.t0 * L, src.offset_m + (1.0 - src.t1) * L])
        g.add_node(-1)
        for a, w in zip(sn.tolist(), sd.tolist(), strict=True):
            if w <= limit and (not g.has_edge(-1, a) or g[-1][a]["weight"] > w):
                g.add_edge(-1, a, weight=w)
        ref = nx.single_source_dijkstra_path_length(g, -1, cutoff=limit, weight="weight")
        g.remove_node(-1)
        nd_ref = np.full(n, np.inf)
        ref.pop(-1)
        nd_ref[list(ref)] = list(ref.values())
    # (e) igraph: multi-source via a virtual node joined to the sources at weight 0
    t0 = time.perf_counter()
    coo = csr.tocoo()
    up = coo.row < coo.col
    gi = ig.Graph(
        n=n + 1,
        edges=np.column_stack(
            [
                np.concatenate([coo.row[up], np.full(s_nodes.shape[0], n)]),
                np.concatenate([coo.col[up], s_nodes]),
            ]
        ).tolist(),
    )
    wts = np.concatenate([coo.data[up], np.zeros(s_nodes.shape[0])]).tolist()
    rows["igraph build Graph"] = {"s": time.perf_counter() - t0}
    nd_ig = np.asarray(
        timed(
            "igraph distances (virtual source)",
            lambda: gi.distances(source=[n], weights=wts)[0],
            repeat=1,
        )
    )[:n]
    nd_ig[nd_ig > limit] = np.inf

    # ---- correctness
    def maxdiff(a: np.ndarray, b: np.ndarray) -> float:
        if not np.array_equal(np.isfinite(a), np.isfinite(b)):
            return float("inf")
        f = np.isfinite(a)
        return float(np.max(np.abs(a[f] - b[f]))) if f.any() else 0.0

    checks: dict[str, float] = {
        "geoplan(node sources) vs scipy": maxdiff(nd_geo, nd_scipy),
        "igraph vs scipy": maxdiff(nd_ig, nd_scipy),
    }
    if nx_ok:
        checks["scipy vs networkx"] = maxdiff(nd_scipy, nd_nx)
        checks["geoplan(node sources) vs networkx"] = maxdiff(nd_geo, nd_nx)
        checks["geoplan(real sources) vs networkx"] = maxdiff(nd_real, nd_ref)
        brute = _brute_home_distances(net, h_att, src, nd_ref, limit)
        checks["geoplan homes vs brute force"] = maxdiff(d_homes, brute)
        for r in (300.0, 500.0, 1000.0, limit):
            if int((d_homes <= r).sum()) != int((brute <= r).sum()):
                raise AssertionError(f"coverage within {r} m differs from the brute force")
            area = homes["area_m2"].to_numpy(dtype=float)
            a1, a2 = float(area[d_homes <= r].sum()), float(area[brute <= r].sum())
            if a1 != a2:
                raise AssertionError(f"covered area within {r} m differs: {a1} vs {a2}")
    bad = {k: v for k, v in checks.items() if not v <= DIST_TOL_M}
    if bad:
        raise AssertionError(f"distances disagree beyond {DIST_TOL_M} m: {bad}")

    np.savez(
        npz,
        x=net.x,
        y=net.y,
        u=net.edge_u,
        v=net.edge_v,
        w=net.edge_length_m,
        s_nodes=s_nodes,
        nd_scipy=nd_scipy,
        limit=limit,
    )
    return {
        "rows": rows,
        "checks": checks,
        "networkx": nx_ok,
        "graph_nodes": n,
        "facilities": len(geoms),
        "source_nodes": int(s_nodes.shape[0]),
        "homes": len(homes),
        "covered_homes_at_limit": int(np.isfinite(d_homes).sum()),
        "peak_mb": peak_mb(),
    }


def stage_pandana(npz: str) -> dict[str, Any]:
    import pandana
    import pandas as pd

    z = np.load(npz)
    limit = float(z["limit"])
    n = z["x"].shape[0]
    rows: dict[str, dict[str, float]] = {}
    nodes = pd.DataFrame({"x": z["x"], "y": z["y"]})
    edges = pd.DataFrame({"from": z["u"], "to": z["v"], "w": z["w"]})
    t0 = time.perf_counter()
    pnet = pandana.Network(
        nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]], twoway=True
    )
    rows["pandana Network (build)"] = {"s": time.perf_counter() - t0}
    s = z["s_nodes"]
    t0 = time.perf_counter()
    pnet.set_pois("cat", limit, 1, pd.Series(z["x"][s]), pd.Series(z["y"][s]))
    rows["pandana set_pois"] = {"s": time.perf_counter() - t0}
    t0 = time.perf_counter()
    res = pnet.nearest_pois(limit, "cat", num_pois=1)
    rows["pandana nearest_pois"] = {"s": time.perf_counter() - t0}
    d = res[1].reindex(np.arange(n)).to_numpy(dtype=np.float64, copy=True)
    d[d >= limit] = np.inf  # pandana fills "not found" with the search distance
    ref = z["nd_scipy"].copy()
    ref[ref >= limit] = np.inf
    both = np.isfinite(d) & np.isfinite(ref)
    return {
        "rows": rows,
        "max_abs_diff_m": float(np.max(np.abs(d[both] - ref[both]))) if both.any() else 0.0,
        "reach_mismatch_nodes": int((np.isfinite(d) != np.isfinite(ref)).sum()),
        "peak_mb": peak_mb(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["parse", "load", "e2e", "access", "pandana", "peers"])
    ap.add_argument("file")
    ap.add_argument("--category", default="restaurant")
    ap.add_argument("--limit", type=float, default=1200.0)
    ap.add_argument("--npz", default="")
    ap.add_argument("--networkx-max-nodes", type=int, default=2_000_000)
    ap.add_argument("--core", default="", help="study box of one copy: lon0,lat0,lon1,lat1")
    ap.add_argument("--shift", default="0,0", help="dx,dy between copies (degrees)")
    ap.add_argument("--n", type=int, default=1, help="copies per side")
    ap.add_argument("--no-rerun", action="store_true", help="e2e: skip the scenario re-runs")
    ap.add_argument("--merge", action="store_true", help="one study box over all copies")
    a = ap.parse_args(argv)
    bnd = study_area(a.core, a.shift, a.n, merge=a.merge)
    if a.stage == "parse":
        out = stage_parse(a.file)
    elif a.stage == "load":
        out = stage_load(a.file, bnd)
    elif a.stage == "e2e":
        out = stage_e2e(a.file, bnd, reruns=not a.no_rerun)
    elif a.stage == "peers":
        from peers import stage_peers

        out = stage_peers(a.file, bnd)
    elif a.stage == "access":
        out = stage_access(a.file, bnd, a.category, a.limit, a.npz, a.networkx_max_nodes)
    else:
        out = stage_pandana(a.file)
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
