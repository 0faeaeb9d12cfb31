"""Adding new roads and paths to a :class:`~geoplan.network.WalkNetwork` (scenario roads).

A new line joins the network where it touches it:

- every vertex of the line (its ends included) within ``snap_m`` of the network is moved onto it:
  onto a graph node if one is that close, else onto the nearest point of the nearest edge, which
  is split there;
- every crossing of the line with an existing edge becomes a node on both (the edge is split);
- the line is cut into edges at those nodes; its free ends become new nodes.

Lengths are haversine sums over the WGS84 coordinates of each edge's vertices, as
:func:`geoplan.network.build.build_walk_network` (and OSMnx) compute them; split edges get the
haversine
length of each piece. New nodes get negative ``node_osmid`` values; new edges carry the ``osmid``
and ``highway`` given for the line. The input network is never modified: a new one is returned.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyproj
import shapely
import shapely.ops
from numpy.typing import NDArray
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from geoplan.network.build import haversine_m
from geoplan.network.graph import WalkNetwork

#: split positions on one edge closer than this (m) are merged into one node
_MERGE_M = 0.5


def _to_wgs84(crs: pyproj.CRS) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(crs, 4326, always_xy=True)


def line_length_m(coords_xy: NDArray[np.float64], crs: pyproj.CRS) -> float:
    """Haversine length (m) of a polyline given in metric ``crs`` coordinates.

    Parameters
    ----------
    coords_xy
        (n, 2) vertices (m, ``crs``).
    crs
        Their metric CRS.

    Returns
    -------
    float
        Length (m), measured like the network's edges (haversine on WGS84).
    """
    lon, lat = _to_wgs84(crs).transform(coords_xy[:, 0], coords_xy[:, 1])
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return float(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())


@dataclass
class _Target:
    """Where an event on the new line joins the network: a node, or a position on an edge."""

    s: float  # distance along the new line (m)
    xy: tuple[float, float]  # coordinate of the joint (after snapping)
    node: int = -1  # existing node index, or -1
    edge: int = -1  # existing edge to split, or -1
    pos: float = 0.0  # distance along that edge (m, metric)


def add_lines(
    net: WalkNetwork,
    lines: Sequence[BaseGeometry] | NDArray[np.object_],
    *,
    snap_m: float = 5.0,
    highway: str | Sequence[str] = "footway",
    osmid: int | Sequence[int] | None = None,
) -> WalkNetwork:
    """A new network with ``lines`` (LineStrings in ``net.crs``, metres) joined to ``net``.

    Parameters
    ----------
    net
        The walk network; not modified.
    lines
        New roads / paths as shapely LineStrings (MultiLineStrings are split into parts) in the
        network's metric CRS.
    snap_m
        Vertices (and crossings) within this distance (m) of the network join it.
    highway
        OSM ``highway`` value of the new edges (one for all, or one per line).
    osmid
        Way id of each new line (default ``-1, -2, …``; negative ids mark scenario features).

    Returns
    -------
    WalkNetwork
        A new network; edges split by the new lines are replaced by their pieces.
    """
    geoms = np.asarray(lines, dtype=object)
    parts, idx = shapely.get_parts(geoms, return_index=True)
    hws = [highway] * len(geoms) if isinstance(highway, str) else list(highway)
    ids = list(range(-1, -len(geoms) - 1, -1)) if osmid is None else list(np.atleast_1d(osmid))
    out = _copy(net)
    for part, i in zip(parts, idx, strict=True):
        if part.geom_type != "LineString" or part.length <= 0:
            continue
        out = _add_one(out, part, snap_m=snap_m, highway=str(hws[i]), osmid=int(ids[i]))
    return out


def _copy(net: WalkNetwork) -> WalkNetwork:
    return WalkNetwork(
        crs=net.crs,
        node_osmid=net.node_osmid.copy(),
        x=net.x.copy(),
        y=net.y.copy(),
        lon=net.lon.copy(),
        lat=net.lat.copy(),
        edge_u=net.edge_u.copy(),
        edge_v=net.edge_v.copy(),
        edge_length_m=net.edge_length_m.copy(),
        edge_geometry=net.edge_geometry.copy(),
        edge_osmid=net.edge_osmid.copy(),
        edge_highway=net.edge_highway.copy(),
        meta={k: v for k, v in net.meta.items() if not k.startswith("_")},
    )


def _events(net: WalkNetwork, line: LineString, snap_m: float) -> list[_Target]:
    """Joints of ``line`` with ``net``: snapped vertices, crossings and free ends."""
    coords = shapely.get_coordinates(line)
    s_vert = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    node_pts = shapely.points(net.x, net.y)
    node_tree = shapely.STRtree(node_pts) if net.n_nodes else None
    edge_tree = shapely.STRtree(net.edge_geometry) if net.n_edges else None
    events: list[_Target] = []

    def join(p: Point, s: float, *, free_end: bool) -> None:
        if node_tree is not None:
            hit = node_tree.query_nearest(p, max_distance=snap_m, return_distance=False)
            if len(hit):
                k = int(hit[0])
                events.append(_Target(s, (float(net.x[k]), float(net.y[k])), node=k))
                return
        if edge_tree is not None:
            hit = edge_tree.query_nearest(p, max_distance=snap_m, return_distance=False)
            if len(hit):
                e = int(hit[0])
                g = net.edge_geometry[e]
                pos = float(g.project(p))
                q = g.interpolate(pos)
                events.append(_Target(s, (q.x, q.y), edge=e, pos=pos))
                return
        if free_end:
            events.append(_Target(s, (p.x, p.y)))

    last = coords.shape[0] - 1
    for i, (x, y) in enumerate(coords):
        join(Point(x, y), float(s_vert[i]), free_end=i in (0, last))

    # crossings with existing edges
    if edge_tree is not None:
        for e in edge_tree.query(line, predicate="intersects"):
            inter = shapely.intersection(line, net.edge_geometry[int(e)])
            for g in shapely.get_parts(inter):
                pts = (
                    [g]
                    if g.geom_type == "Point"
                    else [Point(c) for c in (g.coords[0], g.coords[-1])]
                )
                for p in pts:
                    s = float(line.project(p))
                    if any(abs(ev.s - s) <= snap_m for ev in events):
                        continue  # already joined there (a snapped vertex)
                    near = (
                        node_tree.query_nearest(p, max_distance=snap_m, return_distance=False)
                        if node_tree is not None
                        else []
                    )
                    if len(near):
                        k = int(near[0])
                        events.append(_Target(s, (float(net.x[k]), float(net.y[k])), node=k))
                    else:
                        pos = float(net.edge_geometry[int(e)].project(p))
                        events.append(_Target(s, (p.x, p.y), edge=int(e), pos=pos))
    events.sort(key=lambda ev: ev.s)
    return events


@dataclass
class _Edits:
    """New nodes (metric x, y) and new edges collected while adding one line."""

    n0: int
    new_xy: list[tuple[float, float]] = field(default_factory=list)
    u: list[int] = field(default_factory=list)
    v: list[int] = field(default_factory=list)
    geom: list[LineString] = field(default_factory=list)
    osmid: list[int] = field(default_factory=list)
    highway: list[str] = field(default_factory=list)

    def new_node(self, xy: tuple[float, float]) -> int:
        """Index of a new node at ``xy``.

        Parameters
        ----------
        xy
            Its coordinates (m, the network's CRS).

        Returns
        -------
        int
        """
        self.new_xy.append(xy)
        return self.n0 + len(self.new_xy) - 1

    def edge(self, u: int, v: int, geom: LineString, osmid: int, highway: str) -> None:
        """Record a new edge.

        Parameters
        ----------
        u, v
            Its end nodes.
        geom
            Its geometry (metric CRS), from ``u`` to ``v``.
        osmid
            Way id (negative for a planned road).
        highway
            Its ``highway`` value.
        """
        self.u.append(u)
        self.v.append(v)
        self.geom.append(geom)
        self.osmid.append(osmid)
        self.highway.append(highway)


def _add_one(
    net: WalkNetwork, line: LineString, *, snap_m: float, highway: str, osmid: int
) -> WalkNetwork:
    """``net`` with one new line joined: existing edges split at the joints, the line cut there."""
    events = _events(net, line, snap_m)
    ed = _Edits(net.n_nodes)
    keep = _split_existing(net, events, ed)
    _add_line(line, events, ed, osmid=osmid, highway=highway)
    return _assemble(net, ed, keep)


def _split_existing(net: WalkNetwork, events: list[_Target], ed: _Edits) -> NDArray[np.bool_]:
    """Split existing edges at the joints (positions within ``_MERGE_M`` merge); kept edges."""
    by_edge: dict[int, list[_Target]] = {}
    for ev in events:
        if ev.node < 0 and ev.edge >= 0:
            by_edge.setdefault(ev.edge, []).append(ev)
    keep = np.ones(net.n_edges, dtype=bool)
    for e, evs in by_edge.items():
        g = net.edge_geometry[e]
        glen = float(g.length)
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        cuts: list[tuple[float, int]] = []
        for ev in sorted(evs, key=lambda t: t.pos):
            if ev.pos <= _MERGE_M:
                ev.node = u
            elif ev.pos >= glen - _MERGE_M:
                ev.node = v
            elif cuts and ev.pos - cuts[-1][0] <= _MERGE_M:
                ev.node = cuts[-1][1]
            else:
                ev.node = ed.new_node(ev.xy)
                cuts.append((ev.pos, ev.node))
            ev.xy = _node_xy(net, ed.new_xy, ev.node)
        if not cuts:
            continue
        keep[e] = False
        bounds = [(0.0, u), *cuts, (glen, v)]
        for (a, na), (b, nb) in itertools.pairwise(bounds):
            piece = shapely.ops.substring(g, a, b)
            piece = _pin_ends(piece, _node_xy(net, ed.new_xy, na), _node_xy(net, ed.new_xy, nb))
            ed.edge(na, nb, piece, int(net.edge_osmid[e]), str(net.edge_highway[e]))
    return keep


def _add_line(
    line: LineString, events: list[_Target], ed: _Edits, *, osmid: int, highway: str
) -> None:
    """The new line itself, cut at its joints (a joint replaces a vertex it snapped)."""
    for ev in events:
        if ev.node < 0:
            ev.node = ed.new_node(ev.xy)
    coords = shapely.get_coordinates(line)
    s_vert = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
    pts: list[tuple[float, tuple[float, float], int]] = [(ev.s, ev.xy, ev.node) for ev in events]
    joint_s = np.array([ev.s for ev in events])
    for s, (x, y) in zip(s_vert, coords, strict=True):
        if joint_s.size and np.min(np.abs(joint_s - s)) <= 1e-9:
            continue
        pts.append((float(s), (float(x), float(y)), -1))
    pts.sort(key=lambda t: (t[0], t[2] < 0))
    seg: list[tuple[float, float]] = []
    start = -1
    for _, xy, node in pts:
        if not seg or seg[-1] != xy:
            seg.append(xy)
        if node >= 0:
            if start >= 0 and start != node and len(seg) >= 2:
                ed.edge(start, node, LineString(seg), osmid, highway)
            start, seg = node, [xy]


def _assemble(net: WalkNetwork, ed: _Edits, keep: NDArray[np.bool_]) -> WalkNetwork:
    """The new network: kept edges and nodes, then the new ones (haversine lengths)."""
    inv = _to_wgs84(net.crs)
    n0, new_xy = ed.n0, ed.new_xy
    nx_new = np.array([p[0] for p in new_xy], dtype=float)
    ny_new = np.array([p[1] for p in new_xy], dtype=float)
    lon_new, lat_new = inv.transform(nx_new, ny_new) if new_xy else (np.zeros(0), np.zeros(0))
    next_id = min(int(net.node_osmid.min()) if n0 else 0, 0) - 1
    geoms = np.asarray(ed.geom, dtype=object)
    lengths = np.array([_haversine_geom(g, inv) for g in ed.geom], dtype=float)
    return WalkNetwork(
        crs=net.crs,
        node_osmid=np.concatenate(
            [net.node_osmid, np.arange(next_id, next_id - len(new_xy), -1, dtype=np.int64)]
        ),
        x=np.concatenate([net.x, nx_new]),
        y=np.concatenate([net.y, ny_new]),
        lon=np.concatenate([net.lon, np.asarray(lon_new, dtype=float)]),
        lat=np.concatenate([net.lat, np.asarray(lat_new, dtype=float)]),
        edge_u=np.concatenate([net.edge_u[keep], np.asarray(ed.u, dtype=np.int64)]),
        edge_v=np.concatenate([net.edge_v[keep], np.asarray(ed.v, dtype=np.int64)]),
        edge_length_m=np.concatenate([net.edge_length_m[keep], lengths]),
        edge_geometry=np.concatenate([net.edge_geometry[keep], geoms]).astype(object),
        edge_osmid=np.concatenate([net.edge_osmid[keep], np.asarray(ed.osmid, dtype=np.int64)]),
        edge_highway=np.concatenate(
            [net.edge_highway[keep], np.asarray(ed.highway, dtype=object)]
        ).astype(object),
        meta={k: v for k, v in net.meta.items() if not k.startswith("_")},
    )


def _node_xy(net: WalkNetwork, new_xy: list[tuple[float, float]], k: int) -> tuple[float, float]:
    if k < net.n_nodes:
        return float(net.x[k]), float(net.y[k])
    return new_xy[k - net.n_nodes]


def _pin_ends(g: BaseGeometry, a: tuple[float, float], b: tuple[float, float]) -> LineString:
    c = shapely.get_coordinates(g)
    if c.shape[0] < 2:
        c = np.array([a, b])
    c[0], c[-1] = a, b
    return LineString(c)


def _haversine_geom(g: LineString, inv: pyproj.Transformer) -> float:
    c = shapely.get_coordinates(g)
    lon, lat = inv.transform(c[:, 0], c[:, 1])
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return float(haversine_m(lon[:-1], lat[:-1], lon[1:], lat[1:]).sum())
