"""Homes: the places coverage is measured from.

GB 50180-2018 measures life circles from where people live. geoplan uses, per residential parcel
(``landuse=residential``):

- the residential buildings mapped in it (one home per building, at a point inside its footprint),
  sharing the parcel's land area equally; or
- where a parcel has no mapped residential building, a regular grid of points (``spacing_m``)
  inside it, sharing its area equally (at least one point per parcel);
- residential buildings outside every parcel are homes too (counted by home, with no land area);
- when population points or cells are given (:func:`homes_from_population`), those instead, with
  their residents.

Coverage is then reported by count of homes, by residential land area (``area_m2`` weights) and,
where known, by residents.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city.model import City
from geoplan.io.population import residents_of

__all__ = ["homes_from_city", "homes_from_population"]

HOME_COLUMNS = ["home_id", "source", "parcel_osmid", "area_m2", "residents"]


def homes_from_city(city: City, *, spacing_m: float = 50.0) -> gpd.GeoDataFrame:
    """Homes of a city: residential buildings where mapped, else area-weighted land samples.

    Parameters
    ----------
    city
        A loaded city (metric CRS).
    spacing_m
        Grid spacing (m) of the sample points in parcels without mapped residential buildings.

    Returns
    -------
    GeoDataFrame of points in ``city.crs`` with ``home_id``, ``source`` ("building" /
    "land_sample" / "building_outside_parcel"), ``parcel_osmid``, ``area_m2`` (residential land
    area the home stands for, m²), ``floor_area_m2`` (building footprint × levels, levels 1 where
    not mapped; NaN for land samples) and ``residents`` (NaN: unknown).
    """
    if spacing_m <= 0:
        raise LayerError(f"spacing_m must be positive, got {spacing_m}")
    parcels = city.residential
    bld = city.buildings
    bpts = shapely.point_on_surface(bld.geometry.values) if len(bld) else np.zeros(0, dtype=object)
    parts: list[pd.DataFrame] = []
    geoms: list[np.ndarray] = []

    # which parcel each building lies in (first match)
    b_parcel = np.full(len(bld), -1, dtype=np.int64)
    if len(bld) and len(parcels):
        tree = shapely.STRtree(parcels.geometry.values)
        ib, ip = tree.query(bpts, predicate="within")
        order = np.argsort(ib, kind="stable")
        ib, ip = ib[order], ip[order]
        first = np.ones(ib.shape[0], dtype=bool)
        first[1:] = ib[1:] != ib[:-1]
        b_parcel[ib[first]] = ip[first]

    parcel_area = parcels.geometry.area.to_numpy() if len(parcels) else np.zeros(0)
    n_bld = np.bincount(b_parcel[b_parcel >= 0], minlength=len(parcels))

    inside = b_parcel >= 0
    levels = (
        pd.to_numeric(bld["levels"], errors="coerce").to_numpy(dtype=float)
        if "levels" in bld.columns
        else np.full(len(bld), np.nan)
    )
    floor = (
        shapely.area(bld.geometry.values)
        * np.where(np.isfinite(levels) & (levels > 0), levels, 1.0)
        if len(bld)
        else np.zeros(0)
    )
    if inside.any():
        pi = b_parcel[inside]
        parts.append(
            pd.DataFrame(
                {
                    "source": "building",
                    "parcel_osmid": parcels["osmid"].to_numpy()[pi],
                    "area_m2": parcel_area[pi] / n_bld[pi],
                    "floor_area_m2": floor[inside],
                }
            )
        )
        geoms.append(bpts[inside])
    if (~inside).any():
        parts.append(
            pd.DataFrame(
                {
                    "source": "building_outside_parcel",
                    "parcel_osmid": -1,
                    "area_m2": 0.0,  # no residential land: counts by home, not by area
                    "floor_area_m2": floor[~inside],
                },
                index=np.arange(int((~inside).sum())),
            )
        )
        geoms.append(bpts[~inside])

    empty = np.flatnonzero(n_bld == 0)
    if empty.size:
        pts, owner = _grid_points(parcels.geometry.values[empty], spacing_m)
        counts = np.bincount(owner, minlength=empty.size)
        parts.append(
            pd.DataFrame(
                {
                    "source": "land_sample",
                    "parcel_osmid": parcels["osmid"].to_numpy()[empty][owner],
                    "area_m2": parcel_area[empty][owner] / counts[owner],
                }
            )
        )
        geoms.append(pts)

    if not parts:
        return gpd.GeoDataFrame(
            {c: [] for c in HOME_COLUMNS}, geometry=gpd.GeoSeries([], crs=city.crs), crs=city.crs
        )
    df = pd.concat(parts, ignore_index=True)
    df.insert(0, "home_id", np.arange(len(df), dtype=np.int64))
    df["residents"] = np.nan
    return gpd.GeoDataFrame(df, geometry=np.concatenate(geoms), crs=city.crs)


def _grid_points(polys: np.ndarray, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Grid points (spacing, cell-centred) inside each polygon; its inner point if none.

    Every polygon's candidate centres at once, as ``np.arange`` lays them out (``start + i ·
    ((start + step) − start)``, row-major like ``np.meshgrid``), tested with one vectorised
    ``contains_xy``: the same points, in the same order, as a loop over the polygons.
    """
    polys = np.asarray(polys, dtype=object)
    n = polys.shape[0]
    if n == 0:
        return np.zeros(0, dtype=object), np.zeros(0, dtype=np.int64)
    s = float(spacing_m)
    minx, miny, maxx, maxy = shapely.bounds(polys).T
    sx = np.floor(minx / s) * s + s / 2
    sy = np.floor(miny / s) * s + s / 2
    nx = np.maximum(0, np.ceil((maxx - sx) / s)).astype(np.int64)
    ny = np.maximum(0, np.ceil((maxy - sy) / s)).astype(np.int64)
    dx, dy = (sx + s) - sx, (sy + s) - sy
    cnt = nx * ny
    owner = np.repeat(np.arange(n, dtype=np.int64), cnt)
    k = np.arange(int(cnt.sum()), dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    ix, iy = k % nx[owner], k // nx[owner]
    x = sx[owner] + ix * dx[owner]
    y = sy[owner] + iy * dy[owner]
    shapely.prepare(polys)
    ok = shapely.contains_xy(polys[owner], x, y)
    owner, x, y = owner[ok], x[ok], y[ok]
    pts = np.asarray(shapely.points(x, y), dtype=object)
    none = np.flatnonzero(np.bincount(owner, minlength=n) == 0)
    if none.size:  # no centre inside: the polygon's inner point, in its place
        pts = np.concatenate([pts, np.asarray(shapely.point_on_surface(polys[none]), dtype=object)])
        owner = np.concatenate([owner, none])
        order = np.argsort(owner, kind="stable")
        pts, owner = pts[order], owner[order]
    return pts, owner


def homes_from_population(
    points: gpd.GeoDataFrame,
    *,
    crs: object,
    column: str = "population",
    boundary: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Homes from population points or cells (e.g. a hexagon grid with residents).

    Cells become their inner point; ``residents`` is ``column``; ``area_m2`` is the cell area
    (0 for points). With ``boundary`` (metric CRS of ``crs``), points outside are dropped and
    cells cut by it keep the share of their residents that their area inside stands for; the
    totals are in ``attrs["population"]`` (``input``, ``inside``, ``dropped``, ``cut``).

    Parameters
    ----------
    points
        Population points or cells with a CRS.
    crs
        The city's metric CRS (of the homes returned and of ``boundary``).
    column
        The residents column.
    boundary
        The study area (metric CRS); ``None``: keep every feature whole.

    Returns
    -------
    GeoDataFrame
        Homes (points in ``crs``) with ``residents`` and ``area_m2`` (m²).
    """
    if column not in points.columns:
        raise LayerError(
            f"population layer has no column {column!r}; columns are {list(points.columns)}"
        )
    if points.crs is None:
        raise LayerError("population layer has no CRS; set one (e.g. EPSG:4326)")
    residents = residents_of(points, column, where="population layer")
    p = points.to_crs(crs)
    geom = np.asarray(p.geometry.values, dtype=object)
    area = shapely.area(geom)
    totals = {"input": float(residents.sum()), "dropped": 0, "cut": 0}
    if boundary is not None:
        shapely.prepare(boundary)
        is_pt = shapely.get_type_id(geom) == 0
        inside = shapely.intersection(geom, boundary)
        inside_area = shapely.area(inside)
        keep = np.where(is_pt, shapely.intersects(boundary, geom), inside_area > 0)
        frac = np.where(is_pt | (area <= 0), 1.0, inside_area / np.where(area > 0, area, 1.0))
        totals["dropped"] = int((~keep).sum())
        totals["cut"] = int((keep & ~is_pt & (frac < 1.0 - 1e-9)).sum())
        geom = np.where(is_pt, geom, inside)[keep]
        residents = (residents * frac)[keep]
        area = np.where(is_pt, 0.0, inside_area)[keep]
        p = p.iloc[np.flatnonzero(keep)]
    totals["inside"] = float(residents.sum())
    pts = np.where(shapely.get_type_id(geom) == 0, geom, shapely.point_on_surface(geom))
    out = gpd.GeoDataFrame(
        {
            "home_id": np.arange(len(p), dtype=np.int64),
            "source": "population",
            "parcel_osmid": -1,
            "area_m2": area,
            "residents": residents,
        },
        geometry=list(pts),
        crs=p.crs,
    )
    out.attrs["population"] = totals
    return out
