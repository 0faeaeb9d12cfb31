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
from geoplan.network.access import attach_points, facility_sources, nearest_distance_m, reach_pairs
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
) -> tuple[sp.csr_matrix, NDArray[np.bool_]]:
    """Candidate × point within walking distance ``radius_m``, and which points reach a street.

    Points attach to their nearest edge (within ``max_attach_m`` when given, as the network grid
    of the bus indicator); candidates become sources as any facility does.

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
    A = sp.csr_matrix(
        (np.ones(own.size), (own, att.owner[tgt])),
        shape=(candidates.size, points.size),
        dtype=float,
    )
    return A, attached


def network_covered(
    net: WalkNetwork,
    existing: NDArray[np.object_],
    radius_m: float,
    points: NDArray[np.object_],
    *,
    boundary_step_m: float,
    max_attach_m: float | None = None,
) -> NDArray[np.bool_]:
    """Points within walking distance ``radius_m`` of an existing feature.

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
    d = nearest_distance_m(net, att, src, limit_m=radius_m)
    out[att.owner] = d <= radius_m
    return out


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
