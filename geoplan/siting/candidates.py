"""Candidate sites: points along streets, pocket-park plots beside them, or a planner's layer.

A candidate is a geometry in the city's metric CRS. Generated candidates stand on streets of the
grades that make the road network (主干路, 次干路, 支路; GB 50220-95): not on expressways (快速路,
no pedestrian access) and not on compound-internal or service roads (private land). Generated
park candidates are squares of the minimum park size set back beside those streets, kept only
where they touch no street, residential building or existing green; they are geometry, not land
the plan owns — a planner's layer of parcels (存量用地, vacant plots) is the intended input.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from geoplan._errors import LayerError
from geoplan.city import City
from geoplan.rules import taxonomy as tx

#: street grades a generated candidate may stand on
STREET_GRADES = ("arterial", "secondary", "local")


def _edge_grades(city: City) -> NDArray[np.object_]:
    """Road grade of every walk-network edge: the roads layer's (compound-internal applied)."""
    net = city.network
    by_osmid: dict[int, str] = {}
    roads = city.roads
    if len(roads) and "grade" in roads.columns:
        by_osmid = dict(
            zip(roads["osmid"].astype("int64"), roads["grade"].astype(str), strict=True)
        )
    return np.asarray(
        [
            by_osmid.get(int(o), tx.road_grade(str(h)) or "")
            for o, h in zip(net.edge_osmid, net.edge_highway, strict=True)
        ],
        dtype=object,
    )


def street_points(
    city: City, *, spacing_m: float, roads: str = "streets"
) -> tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.float64]]:
    """Points every ``spacing_m`` (m) along walkable ways inside the boundary.

    ``roads="streets"``: the grades of :data:`STREET_GRADES` only; ``"all"``: every edge of the
    walk network (footways, steps, service and compound roads, expressway links too) — for homes
    that only paths reach. Returns the points (metric CRS), the edge of each and its fraction
    ``t`` along the edge.

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    spacing_m
        Spacing (m) along each way.
    roads
        ``streets`` (the street grades) or ``all`` (every walk edge).

    Returns
    -------
    points : ndarray of Point
    edge : ndarray of int64
        The walk edge each point lies on.
    t : ndarray of float64
        Its fraction along the edge (0 at ``edge_u``).
    """
    if not spacing_m > 0:
        raise LayerError(
            f"--spacing (of generated candidates) must be a positive number of metres, not "
            f"{spacing_m:g}; e.g. --spacing 50"
        )
    if roads not in ("streets", "all"):
        raise LayerError(f"candidate roads must be streets or all, not {roads!r}")
    net = city.network
    ok = (
        np.isin(_edge_grades(city), STREET_GRADES)
        if roads == "streets"
        else np.ones(net.n_edges, dtype=bool)
    )
    bnd = city.boundary_polygon
    shapely.prepare(bnd)
    ok &= shapely.intersects(bnd, net.edge_geometry)
    edges = np.flatnonzero(ok)
    glen = shapely.length(net.edge_geometry[edges])
    n = np.maximum(1, np.ceil(glen / spacing_m).astype(np.int64))
    # interior points only (t in (0, 1)): the ends are shared by adjoining edges
    rep = np.repeat(np.arange(edges.size), n)
    k = np.arange(rep.size) - np.repeat(np.cumsum(n) - n, n)
    t = (k + 0.5) / n[rep]
    pts = shapely.line_interpolate_point(net.edge_geometry[edges[rep]], t, normalized=True)
    inside = shapely.contains(bnd, pts)
    return np.asarray(pts[inside], dtype=object), edges[rep][inside], t[inside]


def street_candidates(
    city: City, *, spacing_m: float = 50.0, roads: str = "streets"
) -> gpd.GeoDataFrame:
    """Point candidates along the streets (see :func:`street_points`).

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    spacing_m
        Spacing (m) along each way.
    roads
        ``streets`` (the street grades) or ``all`` (every walk edge).

    Returns
    -------
    GeoDataFrame
        Points in ``city.crs``.
    """
    pts, _, _ = street_points(city, spacing_m=spacing_m, roads=roads)
    return gpd.GeoDataFrame(
        {"source": np.full(pts.size, "street", dtype=object)},
        geometry=gpd.GeoSeries(pts, crs=city.crs),
        crs=city.crs,
    )


def park_plot_candidates(
    city: City,
    *,
    min_area_m2: float,
    spacing_m: float = 100.0,
    setback_m: float = 3.0,
    roads: str = "streets",
) -> gpd.GeoDataFrame:
    """Square plots of ``min_area_m2`` (m²) beside the streets, both sides, every ``spacing_m``.

    A plot is kept when it lies inside the boundary and touches no walk-network edge, residential
    building or existing park / green.

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    min_area_m2
        Plot area (m²).
    spacing_m
        Spacing (m) along each way.
    setback_m
        Gap (m) between the street and the plot.
    roads
        ``streets`` (the street grades) or ``all`` (every walk edge).

    Returns
    -------
    GeoDataFrame
        Square plots in ``city.crs``.
    """
    if not min_area_m2 > 0:
        raise LayerError(f"minimum park size must be positive (m²), not {min_area_m2}")
    net = city.network
    pts, edges, t = street_points(city, spacing_m=spacing_m, roads=roads)
    side = math.sqrt(min_area_m2 * 1.001)  # a hair larger: the area survives reprojection
    geoms = net.edge_geometry[edges]
    eps = np.minimum(0.01, 0.5 / np.maximum(shapely.length(geoms), 1.0))
    a = shapely.get_coordinates(
        shapely.line_interpolate_point(geoms, np.clip(t - eps, 0, 1), normalized=True)
    )
    b = shapely.get_coordinates(
        shapely.line_interpolate_point(geoms, np.clip(t + eps, 0, 1), normalized=True)
    )
    d = b - a
    norm = np.hypot(d[:, 0], d[:, 1])
    norm[norm == 0] = 1.0
    d /= norm[:, None]
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    xy = shapely.get_coordinates(pts)
    plots = []
    for sgn in (1.0, -1.0):
        c = xy + sgn * normal * (setback_m + side / 2)
        # square aligned with the street
        corners = [
            c + (dx * d + dy * normal) * side / 2 for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        rings = np.stack([*corners, corners[0]], axis=1)  # (n, 5, 2)
        plots.append(shapely.polygons(rings))
    cand = np.concatenate(plots)
    bnd = city.boundary_polygon
    shapely.prepare(bnd)
    keep = shapely.within(cand, bnd)
    blockers = [net.edge_geometry, city.buildings.geometry.values, city.parks.geometry.values]
    for layer in blockers:
        if len(layer) == 0:
            continue
        hit, _ = shapely.STRtree(np.asarray(layer, dtype=object)).query(
            cand, predicate="intersects"
        )
        keep[np.unique(hit)] = False
    cand = cand[keep]
    return gpd.GeoDataFrame(
        {"source": np.full(cand.size, "street_plot", dtype=object)},
        geometry=gpd.GeoSeries(cand, crs=city.crs),
        crs=city.crs,
    )


def layer_candidates(
    layer: gpd.GeoDataFrame,
    city: City,
    *,
    min_area_m2: float | None = None,
    where: str = "candidates",
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """A planner's candidate layer in the city's CRS, inside the boundary.

    Points are sites; polygons are parcels (the whole parcel is the site). With ``min_area_m2``
    (parks) only polygons of at least that area qualify. Returns the candidates (``source`` =
    ``layer``, ``layer_row`` = row in the file) and counts of what was dropped and why.

    Parameters
    ----------
    layer
        The planner's candidate sites (any CRS).
    city
        The loaded city (metric CRS).
    min_area_m2
        Polygons smaller than this (m²) are dropped.
    where
        Name of the layer, for messages.

    Returns
    -------
    candidates : GeoDataFrame
        In ``city.crs``, inside the boundary.
    counts : dict of str to int
        What was dropped and why.
    """
    if layer.crs is None:
        raise LayerError(f"{where}: the layer has no CRS; save it with one (e.g. EPSG:4326)")
    g = layer.to_crs(city.crs)
    geoms = np.asarray(g.geometry.values, dtype=object)
    rows = np.arange(len(g))
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    tid = np.where(valid, shapely.get_type_id(np.where(valid, geoms, shapely.Point(0, 0))), -1)
    drops = {"empty": int((~valid).sum())}
    if min_area_m2 is not None:
        poly = np.isin(tid, (3, 6))
        drops["not a polygon"] = int((valid & ~poly).sum())
        big = poly & (shapely.area(np.where(poly, geoms, shapely.Point(0, 0))) >= min_area_m2)
        drops[f"smaller than {min_area_m2:g} m²"] = int((poly & ~big).sum())
        valid &= big
    bnd = city.boundary_polygon
    shapely.prepare(bnd)
    inside = valid & shapely.intersects(bnd, np.where(valid, geoms, shapely.Point(0, 0)))
    drops["outside the study area"] = int((valid & ~inside).sum())
    out = gpd.GeoDataFrame(
        {"source": "layer", "layer_row": rows[inside]},
        geometry=gpd.GeoSeries(geoms[inside], crs=city.crs),
        crs=city.crs,
    )
    if out.empty:
        why = ", ".join(f"{v} {k}" for k, v in drops.items() if v)
        raise LayerError(f"{where}: no usable candidate site ({why or 'the layer is empty'})")
    return out, {k: v for k, v in drops.items() if v}
