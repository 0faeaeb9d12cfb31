"""Adding paths to the walk network: shortest paths against distances computed by hand."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pyproj
import shapely
from conftest import ABS_TOL_PATH_M, EARTH_RADIUS_M

import geoplan
from geoplan.network.edit import add_lines


def hav(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance, written out independently of geoplan."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def _pair(net: geoplan.WalkNetwork) -> tuple[int, int]:
    """Two nodes in different components, 40–250 m apart, whose segment touches nothing else."""
    lab = net.component_labels
    tree = shapely.STRtree(net.edge_geometry)
    a_nodes = np.flatnonzero(lab == 0)
    pts = shapely.points(net.x, net.y)
    for b in np.flatnonzero(lab > 0):
        d = np.hypot(net.x[a_nodes] - net.x[b], net.y[a_nodes] - net.y[b])
        for a in a_nodes[np.argsort(d)][:20]:
            seg = shapely.LineString([(net.x[a], net.y[a]), (net.x[b], net.y[b])])
            if not 40 < seg.length < 250:
                continue
            near = tree.query(seg, predicate="dwithin", distance=6.0)
            ends = {int(a), int(b)}
            touch = {int(net.edge_u[e]) for e in near} | {int(net.edge_v[e]) for e in near}
            if (
                all(
                    {int(net.edge_u[e]), int(net.edge_v[e])} & ends
                    and not shapely.intersects(
                        net.edge_geometry[e],
                        seg.buffer(5.5).difference(
                            shapely.union(pts[a].buffer(6), pts[b].buffer(6))
                        ),
                    )
                    for e in near
                )
                and touch
            ):
                return int(a), int(b)
    raise AssertionError("no suitable pair")


def test_new_path_joins_two_disconnected_nodes(helsinki: geoplan.City) -> None:
    net = helsinki.network
    a, b = _pair(net)
    g0 = net.to_networkx()
    assert not nx.has_path(g0, a, b)
    line = shapely.LineString([(net.x[a], net.y[a]), (net.x[b], net.y[b])])
    new = add_lines(net, [line], snap_m=5.0)
    g1 = new.to_networkx()
    d = nx.shortest_path_length(g1, a, b, weight="length")
    expected = hav(net.lon[a], net.lat[a], net.lon[b], net.lat[b])
    assert abs(d - expected) <= ABS_TOL_PATH_M
    assert new.n_edges == net.n_edges + 1
    assert net.n_edges == g0.number_of_edges() // 2  # the input is unchanged


def test_path_end_splits_an_edge(helsinki: geoplan.City) -> None:
    """A path ending 3 m from the middle of an edge splits it there; distances by hand."""
    net = helsinki.network
    inv = pyproj.Transformer.from_crs(net.crs, 4326, always_xy=True)
    lengths = net.edge_length_m
    lab = net.component_labels
    tree = shapely.STRtree(net.edge_geometry)
    found = None
    for e in np.flatnonzero((lengths > 120) & (lab[net.edge_u] == 0)):
        geom = net.edge_geometry[e]
        q = geom.interpolate(0.5, normalized=True)
        p0 = geom.interpolate(0.49, normalized=True)
        nrm = math.hypot(q.x - p0.x, q.y - p0.y)
        for sign in (1.0, -1.0):
            ox, oy = -sign * (q.y - p0.y) / nrm, sign * (q.x - p0.x) / nrm
            end = (q.x + 3 * ox, q.y + 3 * oy)
            start = (q.x + 63 * ox, q.y + 63 * oy)
            path = shapely.LineString([start, end])
            near = set(tree.query(path.buffer(6.0), predicate="intersects").tolist())
            if near == {int(e)}:
                found = int(e), geom, q, start, path
                break
        if found:
            break
    assert found is not None
    e, geom, q, start, path = found
    new = add_lines(net, [path], snap_m=5.0)
    u = int(net.edge_u[e])
    start_node = int(
        np.flatnonzero((np.abs(new.x - start[0]) < 1e-6) & (np.abs(new.y - start[1]) < 1e-6))[0]
    )
    d = nx.shortest_path_length(new.to_networkx(), start_node, u, weight="length")
    # by hand: start -> q (the split point), then along the edge's vertices back to u
    coords = shapely.get_coordinates(geom)
    s = geom.project(q)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    back = [(q.x, q.y)] + [tuple(c) for c in coords[cum < s][::-1]]
    lonlat = [inv.transform(x, y) for x, y in [start, *back]]
    expected = sum(hav(*lonlat[i], *lonlat[i + 1]) for i in range(len(lonlat) - 1))
    # the original edge is now two pieces meeting at q
    assert new.n_edges == net.n_edges + 2
    assert abs(d - expected) <= ABS_TOL_PATH_M
