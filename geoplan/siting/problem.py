"""What a siting run covers: demand points with weights, and which candidate reaches which.

Coverage follows the indicators exactly: buffers are the indicators' 16-segment buffers
(:func:`geoplan.indicators.coverage.union_of_buffers`) and a home is covered when its point
intersects one (:func:`~geoplan.indicators.coverage.inside_flags`); walking distances come from the
shared access engine (:func:`geoplan.network.access.facility_sources` for the sites,
:func:`~geoplan.network.access.reach_pairs` for each site's reach), the rules of
:func:`~geoplan.network.access.nearest_distance_m`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.indicators.grid import grid_points
from geoplan.io.compounds import Compounds
from geoplan.network.access import (
    EdgeAttachment,
    attach_points,
    facility_sources,
    nearest_distance_m,
    reach_pairs,
)
from geoplan.network.gates import GateModel, gate_model, through_gates
from geoplan.network.graph import WalkNetwork

F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Demand:
    """Demand points, their weights, and which the existing features already cover.

    ``total`` is the weight of the whole basis (the share's denominator): the sum of the
    weights, or for land the land's area when the points sample only its uncovered part.
    """

    points: NDArray[np.object_]
    weight: F64
    covered: NDArray[np.bool_]
    total: float


def home_weights(homes: gpd.GeoDataFrame, basis: str) -> F64:
    """Weight of each home for a basis: 1 (homes), its land (m²) or its residents.

    Parameters
    ----------
    homes
        Homes with ``area_m2`` and ``residents``.
    basis
        ``homes``, ``residential_area`` or ``residents``.

    Returns
    -------
    ndarray of float64
    """
    if basis == "homes":
        return np.ones(len(homes))
    if basis == "residential_area":
        return homes["area_m2"].to_numpy(dtype=float)
    if basis == "residents":
        res = homes["residents"].to_numpy(dtype=float)
        if not np.isfinite(res).any():
            raise LayerError(
                "basis 'residents' needs population: pass --population (census, cells or raster)"
            )
        return np.nan_to_num(res, nan=0.0)
    raise LayerError(f"basis {basis!r} is not one of homes, residential_area, residents")


def buffer_matrix(
    candidates: NDArray[np.object_], radius_m: float, points: NDArray[np.object_]
) -> sp.csr_matrix:
    """Candidate × point: the point intersects the candidate's 16-segment buffer.

    Parameters
    ----------
    candidates
        Candidate sites (metric CRS).
    radius_m
        Buffer radius (m).
    points
        Demand points.

    Returns
    -------
    scipy.sparse.csr_matrix
        Candidate × point, 1 where covered.
    """
    if candidates.size == 0 or points.size == 0:
        return sp.csr_matrix((candidates.size, points.size))
    buf = shapely.buffer(candidates, radius_m, quad_segs=16)
    ic, ip = shapely.STRtree(points).query(buf, predicate="intersects")
    return sp.csr_matrix(
        (np.ones(ic.size), (ic, ip)), shape=(candidates.size, points.size), dtype=float
    )


def network_matrix(
    net: WalkNetwork,
    candidates: NDArray[np.object_],
    radius_m: float,
    points: NDArray[np.object_],
    *,
    boundary_step_m: float,
    max_attach_m: float | None = None,
    compounds: Compounds | None = None,
) -> tuple[sp.csr_matrix, NDArray[np.bool_]]:
    """Candidate × point within walking distance ``radius_m``, and which points reach a street.

    Points attach to their nearest edge (within ``max_attach_m`` when given, as the network grid
    of the bus indicator); candidates become sources as any facility does. With ``compounds``,
    a point inside a gated compound reaches a candidate through one of its entrances, as in
    the check (:func:`geoplan.network.gates.through_gates`).

    Parameters
    ----------
    net
        Walk network (metric CRS).
    candidates
        Candidate sites.
    radius_m
        Walking radius (m).
    points
        Demand points.
    boundary_step_m
        Outline sample spacing (m) of polygon candidates.
    max_attach_m
        Points farther than this (m) from every street cannot be reached.
    compounds
        Gated compounds whose points leave by their entrances (``None``: every point walks to
        its nearest street).

    Returns
    -------
    A : scipy.sparse.csr_matrix
        Candidate × point, 1 where within walking distance.
    reachable : ndarray of bool
        Per point: it reaches a street.
    """
    att = attach_points(net, points, max_distance_m=max_attach_m)
    attached = np.zeros(points.size, dtype=bool)
    attached[att.owner] = True
    src = facility_sources(net, candidates, boundary_step_m=boundary_step_m)
    own, tgt, _ = reach_pairs(net, att, src, limit_m=radius_m)
    point = att.owner[tgt]
    gm = _gates(net, compounds, points, att)
    if gm is not None:
        own, point = _through_gates_pairs(net, src, gm, own, point, points.size, radius_m)
    A = sp.csr_matrix(
        (np.ones(own.size), (own, point)),
        shape=(candidates.size, points.size),
        dtype=float,
    )
    return A, attached


def _gates(
    net: WalkNetwork,
    compounds: Compounds | None,
    points: NDArray[np.object_],
    att: EdgeAttachment,
) -> GateModel | None:
    """The gate model of ``points`` (as the check builds it for homes and grid points)."""
    if compounds is None or not len(compounds) or points.size == 0:
        return None
    return gate_model(compounds, shapely.get_coordinates(points), att, net)


def _through_gates_pairs(
    net: WalkNetwork,
    src: EdgeAttachment,
    gm: GateModel,
    own: NDArray[np.int64],
    point: NDArray[np.int64],
    n_points: int,
    radius_m: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(candidate, point) pairs with the gates in the way.

    The direct pairs of points not blocked, plus every point whose walk to one of its entrances
    and on to the candidate is in reach.
    """
    blocked = np.zeros(n_points, dtype=bool)
    blocked[gm.blocked] = True
    keep = ~blocked[point]
    e_own, e_tgt, e_d = reach_pairs(net, gm.entrances, src, limit_m=radius_m)
    ent = gm.entrances.owner[e_tgt]
    # join candidate → entrance reaches with point → entrance walks on the entrance
    order = np.argsort(gm.pair_entrance, kind="stable")
    pe, ph, pm = gm.pair_entrance[order], gm.pair_home[order], gm.pair_m[order]
    lo, hi = np.searchsorted(pe, ent, "left"), np.searchsorted(pe, ent, "right")
    n = hi - lo
    rows = np.repeat(np.arange(ent.size), n)
    idx = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
    ok = pm[idx] + e_d[rows] <= radius_m  # the check's sum: walk to the gate + the network
    pairs = np.unique(
        np.column_stack(
            [
                np.concatenate([own[keep], e_own[rows][ok]]),
                np.concatenate([point[keep], ph[idx][ok]]),
            ]
        ),
        axis=0,
    )
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)


def network_covered(
    net: WalkNetwork,
    existing: NDArray[np.object_],
    radius_m: float,
    points: NDArray[np.object_],
    *,
    boundary_step_m: float,
    max_attach_m: float | None = None,
    compounds: Compounds | None = None,
) -> NDArray[np.bool_]:
    """Points within walking distance ``radius_m`` of an existing feature.

    With ``compounds``, points inside a gated compound walk out through its entrances, as the
    check's homes and grid points do.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    existing
        Existing features that count.
    radius_m
        Walking radius (m).
    points
        Demand points (same CRS).
    boundary_step_m
        Outline sample spacing (m) of polygon features.
    max_attach_m
        Points farther than this (m) from every street cannot be reached.
    compounds
        Gated compounds whose points leave by their entrances (``None``: none).

    Returns
    -------
    ndarray of bool
        Per point.
    """
    out = np.zeros(points.size, dtype=bool)
    if existing.size == 0 or points.size == 0:
        return out
    att = attach_points(net, points, max_distance_m=max_attach_m)
    src = facility_sources(net, existing, boundary_step_m=boundary_step_m)
    d = np.full(points.size, np.inf)
    d[att.owner] = nearest_distance_m(net, att, src, limit_m=radius_m)
    gm = _gates(net, compounds, points, att)
    if gm is not None:
        at_gates = nearest_distance_m(net, gm.entrances, src, limit_m=radius_m)
        d = through_gates(d, at_gates, gm, limit_m=radius_m)
    return np.asarray(d <= radius_m)


def network_grid(boundary: BaseGeometry, spacing_m: float) -> NDArray[np.object_]:
    """The grid of the bus indicator's network coverage of area (points inside ``boundary``).

    Parameters
    ----------
    boundary
        The area (metric CRS).
    spacing_m
        Grid spacing (m).

    Returns
    -------
    ndarray of Point
    """
    return grid_points(boundary, spacing_m)


def sample_area(gap: BaseGeometry, step_m: float) -> tuple[NDArray[np.object_], F64]:
    """Samples of ``gap`` on a ``step_m`` grid, weighted by the gap's area in each cell (m²).

    One more sample per part of the gap no grid point falls in (its inner point, weighted by
    its area), so no sliver is missed; weights sum to the gap's area.

    Parameters
    ----------
    gap
        The uncovered area (metric CRS).
    step_m
        Grid step (m).

    Returns
    -------
    points : ndarray of Point
    weights : ndarray of float64
        Area (m²) of the gap each point stands for.
    """
    if gap.is_empty or gap.area <= 1e-6:
        return np.zeros(0, dtype=object), np.zeros(0)
    minx, miny, maxx, maxy = gap.bounds
    x0, y0 = np.floor(minx / step_m) * step_m, np.floor(miny / step_m) * step_m
    xs = np.arange(x0, maxx, step_m)
    ys = np.arange(y0, maxy, step_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + step_m, gy.ravel() + step_m)
    tree = shapely.STRtree(cells)
    parts = shapely.get_parts(gap)
    parts = parts[shapely.area(parts) > 1e-6]
    ip, ic = tree.query(parts, predicate="intersects")
    pieces = shapely.intersection(parts[ip], cells[ic])
    area = shapely.area(pieces)
    keep = area > 1e-9
    pieces, area = pieces[keep], area[keep]
    pts = shapely.point_on_surface(pieces)
    return np.asarray(pts, dtype=object), area
