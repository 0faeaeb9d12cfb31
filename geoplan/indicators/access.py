"""The access stage: walking distances for every source set the indicators ask for, computed once.

Each indicator of the registry declares the source sets it needs (:class:`Request`: geometries and
a search limit); :func:`compute_access` runs them all through one :class:`~geoplan.network.cache.
AccessCache` — one bounded multi-source Dijkstra per distinct source set, at the largest limit
any indicator asked for — and hands the indicators an :class:`Access` to read. Indicators never
run a search of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.grid import cells_near, centres_of, grid_axes, union_cells
from geoplan.network.access import EdgeAttachment, attach_xy, drop_edge_tree, edge_tree
from geoplan.network.cache import AccessCache, hash_arrays, network_key, per_feature
from geoplan.network.gates import Compounds, GateModel, gate_model, through_gates
from geoplan.network.graph import WalkNetwork
from geoplan.network.nearest import segment_index

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Request:
    """One source set an indicator needs distances to.

    Attributes
    ----------
    geoms
        Facility geometries (metric CRS of the network).
    limit_m
        Search radius (m); distances beyond are ``inf``.
    boundary_step_m
        Sampling step (m) along polygon boundaries (parks are reached at their edge).
    grid_spacing_m
        Also measure from a regular grid of points over the boundary at this spacing (m), for
        area-based network coverage; ``None`` for homes only.
    """

    geoms: NDArray[np.object_]
    limit_m: float
    boundary_step_m: float = 2.0
    grid_spacing_m: float | None = None


@dataclass(frozen=True)
class Grid:
    """Regular grid over the boundary: its axes, inside mask (row-major), spacing (m) and cells.

    ``xs`` / ``ys``: centre x of each column and centre y of each row (from the south). Only
    ``cells`` are listed: the inside cells that can be reached at all (near a street, or inside
    a gated compound). The others are farther than the search limit from every street, so their
    walking distance is ``inf``; a sparse study area's bounding box holds 10⁸ cells, nearly all
    of them such. Distances on the grid (:attr:`Access.grid_m`) follow the order of ``cells``;
    shares of the area divide by ``n_inside``.
    """

    xs: F64
    ys: F64
    inside: NDArray[np.bool_]
    spacing_m: float
    cells: NDArray[np.int64]
    n_inside: int

    @classmethod
    def over(cls, xs: F64, ys: F64, inside: NDArray[np.bool_], spacing_m: float) -> Grid:
        """The grid listing every inside cell.

        Parameters
        ----------
        xs, ys
            Centre x of each column, centre y of each row (m).
        inside
            Row-major mask of the cells inside the boundary.
        spacing_m
            Cell side (m).

        Returns
        -------
        Grid
        """
        cells = np.flatnonzero(inside).astype(np.int64)
        return cls(xs, ys, inside, spacing_m, cells, int(cells.shape[0]))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns).

        Returns
        -------
        tuple of int
        """
        return (int(self.ys.shape[0]), int(self.xs.shape[0]))

    @property
    def ends(self) -> F64:
        """The first and the last centre, ``[[x0, y0], [x1, y1]]`` (m).

        Returns
        -------
        ndarray
        """
        if not self.xs.size or not self.ys.size:
            return np.zeros((2, 2))
        return np.array([[self.xs[0], self.ys[0]], [self.xs[-1], self.ys[-1]]])

    def centres(self) -> F64:
        """Centres (x, y) of the listed cells, in the order of ``cells`` (m).

        Returns
        -------
        ndarray
            ``(n, 2)``.
        """
        return centres_of(self.xs, self.ys, self.cells)

    @property
    def points(self) -> NDArray[np.object_]:
        """The centres of the listed cells as points.

        Returns
        -------
        ndarray of Point
        """
        return np.asarray(shapely.points(self.centres()), dtype=object)


class GridDistances(Mapping[str, F64]):
    """Request key → distance (m) from each listed grid cell, laid out when read.

    The access cache keeps each request's distances per attached cell (what scenario re-runs
    reuse); a mapping that held them again laid out over every listed cell, ``inf`` where none
    attached, would double the largest arrays of a check (1.9 M cells × 36 requests: 0.55 GB on a
    sparse city). Here a request keeps the cached array and the cells it belongs to, and each
    read lays it out afresh; distances changed after the cache (through the gates of gated
    compounds) are kept laid out.
    """

    def __init__(self) -> None:
        self._laid: dict[str, F64] = {}
        self._parts: dict[str, tuple[int, NDArray[np.int64], F64]] = {}

    def put(self, key: str, d: F64) -> None:
        """Keep ``d``, one distance per listed cell.

        Parameters
        ----------
        key
            Request key.
        d
            Metres per listed cell.
        """
        self._parts.pop(key, None)
        self._laid[key] = d

    def scatter(self, key: str, n: int, at: NDArray[np.int64], d: F64) -> None:
        """Keep ``d`` (metres) as the distances of cells ``at`` of ``n``; the others are ``inf``.

        Parameters
        ----------
        key
            Request key.
        n
            Number of listed cells.
        at
            Positions of the cells ``d`` is for.
        d
            Metres per cell of ``at`` (kept, not copied).
        """
        self._laid.pop(key, None)
        self._parts[key] = (n, at, d)

    def __getitem__(self, key: str) -> F64:
        """Metres per listed cell for request ``key``.

        Parameters
        ----------
        key
            Request key.

        Returns
        -------
        ndarray
        """
        got = self._laid.get(key)
        if got is not None:
            return got
        n, at, d = self._parts[key]
        out = np.full(n, np.inf)
        out[at] = d
        return out

    def __iter__(self) -> Iterator[str]:
        """The request keys.

        Returns
        -------
        iterator of str
        """
        return iter([*self._laid, *self._parts])

    def __len__(self) -> int:
        """Number of requests.

        Returns
        -------
        int
        """
        return len(self._laid) + len(self._parts)


@dataclass
class Access:
    """Distances (m) from homes (and grid points) to each requested source set.

    Attributes
    ----------
    net
        The walk network.
    homes
        Home attachments (one per home, home order).
    home_m
        Request key → distance (m) from each home; ``inf`` beyond the request's limit.
    grid_m
        Request key → distance (m) from each listed grid cell (:attr:`Grid.cells` order;
        requests with a ``grid_spacing_m``); laid out when read (:class:`GridDistances`).
    grids
        Spacing (m) → the :class:`Grid` used.
    grid_spacing_of
        Request key → the spacing (m) of its grid.
    grid_att
        Spacing (m) → the listed cells' nearest-edge attachments (``owner`` = position in
        :attr:`Grid.cells`).
    """

    net: WalkNetwork
    homes: EdgeAttachment
    home_m: dict[str, F64] = field(default_factory=dict)
    grid_m: GridDistances = field(default_factory=GridDistances)
    grids: dict[float, Grid] = field(default_factory=dict)
    grid_spacing_of: dict[str, float] = field(default_factory=dict)
    grid_att: dict[float, EdgeAttachment] = field(default_factory=dict)

    def home(self, key: str) -> F64:
        """Distance (m) from each home to request ``key`` (``inf`` if it was not requested).

        Parameters
        ----------
        key
            A request key (``cat:school``, ``bus_stop`` …).

        Returns
        -------
        ndarray
            Metres per home.
        """
        got = self.home_m.get(key)
        return got if got is not None else np.full(len(self.homes), np.inf)


def compute_access(
    net: WalkNetwork,
    homes: EdgeAttachment,
    requests: Mapping[str, Request],
    *,
    boundary: BaseGeometry | None = None,
    cache: AccessCache | None = None,
    gates: GateModel | None = None,
    compounds: Compounds | None = None,
) -> Access:
    """Run every request through the cache: the one access stage of a check.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    homes
        Home attachments (:func:`geoplan.network.access.attach_points`).
    requests
        Key → :class:`Request`, gathered from the indicators.
    boundary
        Study boundary (metric CRS), needed by requests with a ``grid_spacing_m``.
    cache
        Content-keyed cache shared across runs (scenario re-runs).
    gates
        Homes inside gated compounds walk out through the entrances
        (:func:`geoplan.network.gates.through_gates`).
    compounds
        The gated compounds ``gates`` was built from: grid points inside one leave by its
        entrances too (area-based network coverage).

    Returns
    -------
    Access
    """
    cache = cache if cache is not None else AccessCache()
    acc = Access(net, homes)
    # one grid per spacing, attached once with the largest limit asked at that spacing (a point
    # farther than the limit from every street cannot be covered: the search is bounded)
    grid_limit: dict[float, float] = {}
    for req in requests.values():
        if req.grid_spacing_m is not None:
            sp = float(req.grid_spacing_m)
            grid_limit[sp] = max(grid_limit.get(sp, 0.0), float(req.limit_m))
    if grid_limit and boundary is None:
        raise ValueError("requests with a grid_spacing_m need the boundary")
    grid_att: dict[float, EdgeAttachment] = {}
    for sp, lim in grid_limit.items():
        assert boundary is not None
        acc.grids[sp], grid_att[sp] = _grid(net, boundary, sp, lim, cache, compounds)
        acc.grid_att[sp] = grid_att[sp]
    grid_gates: dict[float, GateModel | None] = {
        sp: None if compounds is None else gate_model(compounds, acc.grids[sp].centres(), a, net)
        for sp, a in grid_att.items()
    }
    _prefetch_sources(net, requests, cache)
    # the searches that follow do not read the edge STRtree: dropped, it is not resident at the
    # access step's peak (Helsinki 18×18: 112 MB; process peak 3,189–3,250 → 3,127–3,140 MB in
    # three pairs of runs); the gap causes build it again when they ask
    drop_edge_tree(net)
    # the searches the loop below would run one by one, on both cores
    jobs = []
    for req in requests.values():
        targets = [homes] if gates is None else [homes, gates.entrances]
        if req.grid_spacing_m is not None:
            targets.append(grid_att[float(req.grid_spacing_m)])
        for pts in targets:
            need = cache.needs_search(
                net, pts, req.geoms, limit_m=req.limit_m, boundary_step_m=req.boundary_step_m
            )
            if need is not None:
                # the sources again when the search runs (not all layers' sources held at once)
                jobs.append((need[0], partial(_sources_of, cache, net, req), float(req.limit_m)))
    cache.prefetch_searches(net, jobs)
    for key, req in requests.items():
        acc.home_m[key] = cache.point_distances(
            net, homes, req.geoms, limit_m=req.limit_m, boundary_step_m=req.boundary_step_m
        )
        if gates is not None:
            at_gates = cache.point_distances(
                net,
                gates.entrances,
                req.geoms,
                limit_m=req.limit_m,
                boundary_step_m=req.boundary_step_m,
            )
            acc.home_m[key] = through_gates(
                acc.home_m[key], at_gates, gates, limit_m=float(req.limit_m)
            )
        if req.grid_spacing_m is None:
            continue
        sp = float(req.grid_spacing_m)
        att = grid_att[sp]
        n_cells = acc.grids[sp].cells.shape[0]
        at_cells = cache.point_distances(
            net, att, req.geoms, limit_m=req.limit_m, boundary_step_m=req.boundary_step_m
        )
        acc.grid_m.scatter(key, n_cells, att.owner, at_cells)
        gm = grid_gates[sp]
        if gm is not None:
            at_gates = cache.point_distances(
                net,
                gm.entrances,
                req.geoms,
                limit_m=req.limit_m,
                boundary_step_m=req.boundary_step_m,
            )
            d = through_gates(acc.grid_m[key], at_gates, gm, limit_m=float(req.limit_m))
            acc.grid_m.put(key, d)
        acc.grid_spacing_of[key] = sp
    return acc


def _sources_of(cache: AccessCache, net: WalkNetwork, req: Request) -> EdgeAttachment:
    """The sources of ``req`` (from the cache)."""
    return cache.sources(net, req.geoms, boundary_step_m=req.boundary_step_m)[1]


def _prefetch_sources(
    net: WalkNetwork, requests: Mapping[str, Request], cache: AccessCache
) -> None:
    """Where the network reaches each request's facilities, on every core.

    Polygon and line layers go through the per-feature store (features shared by several
    requests, such as park size tiers, computed once, in chunks on threads); point layers run
    side by side. The work is GEOS intersections, KD-tree queries and numpy (all release the
    GIL); each result is what :meth:`AccessCache.sources` computes next, which then hits.
    """
    jobs = list({id(r.geoms): r for r in requests.values()}.values())
    if not jobs:
        return
    segment_index(net)  # built once, before the threads share them
    edge_tree(net)
    by_step: dict[float, list[NDArray[np.object_]]] = {}
    points = []
    for r in jobs:
        g = np.asarray(r.geoms, dtype=object)
        if per_feature(g):
            by_step.setdefault(float(r.boundary_step_m), []).append(g)
        else:
            points.append(r)
    for step, arrays in by_step.items():
        cache.prefetch_features(net, arrays, boundary_step_m=step)
    workers = min(len(points), os.cpu_count() or 1)
    if workers < 2:
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(
            pool.map(
                lambda r: cache.sources(net, r.geoms, boundary_step_m=r.boundary_step_m), points
            )
        )


def _grid(
    net: WalkNetwork,
    boundary: BaseGeometry,
    spacing_m: float,
    limit_m: float,
    cache: AccessCache,
    compounds: Compounds | None,
) -> tuple[Grid, EdgeAttachment]:
    """The grid over ``boundary`` and its attachment, kept in the cache by content.

    Lists the cells near a street (only those can attach within the limit) and those inside a
    gated compound (they walk out through its entrances).
    """
    inner = None if compounds is None or not len(compounds) else compounds.polygons
    key = hash_arrays(
        "grid",
        network_key(net),
        shapely.to_wkb(boundary),
        spacing_m,
        limit_m,
        inner if inner is not None else None,
    )
    got = cache.extra.get(key)
    if got is None:
        xs, ys, inside = grid_axes(boundary, spacing_m)
        boxes = shapely.bounds(net.edge_geometry) if net.n_edges else np.zeros((0, 4))
        cells = cells_near(xs, ys, inside, boxes, limit_m)
        if inner is not None:
            in_compounds = cells_near(xs, ys, inside, shapely.bounds(inner), 0.0)
            cells = union_cells(inside.shape[0], cells, in_compounds)
        grid = Grid(xs, ys, inside, spacing_m, cells, int(inside.sum()))
        xy = grid.centres()
        att = attach_xy(
            net, xy[:, 0], xy[:, 1], owner=np.arange(cells.shape[0]), max_distance_m=limit_m
        )
        got = (grid, att)
        cache.extra[key] = got
    return got


def merge_requests(
    parts: Mapping[str, Mapping[str, Request]],
) -> dict[str, Request]:
    """Requests of several indicators as one set: a key asked twice keeps its largest limit.

    Raises ``ValueError`` when two indicators use one key for different geometries.

    Parameters
    ----------
    parts
        Per indicator run: request key → :class:`Request`.

    Returns
    -------
    dict of str to Request
    """
    out: dict[str, Request] = {}
    for who, reqs in parts.items():
        for key, req in reqs.items():
            have = out.get(key)
            if have is None:
                out[key] = req
                continue
            if have.geoms.shape != req.geoms.shape or not all(
                a.equals_exact(b, 0.0) for a, b in zip(have.geoms, req.geoms, strict=True)
            ):
                raise ValueError(f"{who}: request {key!r} names other geometries")
            grid = have.grid_spacing_m if have.grid_spacing_m is not None else req.grid_spacing_m
            out[key] = Request(
                have.geoms,
                max(have.limit_m, req.limit_m),
                have.boundary_step_m,
                grid,
            )
    return out
