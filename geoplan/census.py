"""Census counts per polygon (街道 / 社区, 七普) distributed dasymetrically onto homes.

Each polygon's residents (the share of its area inside the study area) go to the homes inside
it: by floor area (building footprint × levels) where the polygon holds mapped residential
buildings, else by the residential land each home stands for. A polygon with no home inside keeps
its residents unassigned and is reported; homes outside every polygon get 0. Totals are kept:
input, inside the study area, assigned.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.io.population import residents_of

#: polygons holding on average at least this many homes are census units, not cells (auto mode)
CENSUS_MIN_HOMES = 5.0


def looks_like_census(polygons: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> bool:
    """Whether population polygons are census units (several homes each) rather than cells."""
    if len(polygons) == 0 or not shapely.get_type_id(polygons.geometry.values).min() >= 3:
        return False
    i, _ = shapely.STRtree(polygons.geometry.values).query(
        homes.geometry.values, predicate="within"
    )
    return bool(np.unique(i).size / len(polygons) >= CENSUS_MIN_HOMES)


def distribute_census(
    homes: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    *,
    column: str,
    boundary: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Homes with ``residents`` from census polygons (see the module docstring).

    Parameters
    ----------
    homes
        Homes of the city (:func:`geoplan.homes.homes_from_city`), metric CRS.
    polygons
        Census polygons with a residents column, any CRS.
    column
        The residents column (e.g. ``常住人口``).
    boundary
        Study boundary (metric CRS of ``homes``): a polygon cut by it keeps the residents of its
        area inside.

    Returns
    -------
    GeoDataFrame
        ``homes`` (a copy) with ``residents`` and ``census_unit`` (polygon row, -1 outside every
        polygon); ``attrs["population"]``: ``input``, ``inside``, ``assigned``, ``units``,
        ``units_without_homes``.
    """
    if polygons.crs is None:
        raise LayerError("census layer has no CRS; set one (e.g. EPSG:4326)")
    pop = residents_of(polygons, column, where="census layer")
    poly = np.asarray(polygons.to_crs(homes.crs).geometry.values, dtype=object)
    frac = np.ones(len(poly))
    if boundary is not None:
        area = shapely.area(poly)
        inside = shapely.area(shapely.intersection(poly, boundary))
        frac = np.where(area > 0, inside / np.where(area > 0, area, 1.0), 0.0)
    pop_in = pop * frac
    out = homes.copy()
    unit = np.full(len(out), -1, dtype=np.int64)
    ih, ip = shapely.STRtree(poly).query(out.geometry.values, predicate="within")
    unit[ih[::-1]] = ip[::-1]  # first polygon wins where polygons overlap
    floor = (
        out["floor_area_m2"].to_numpy(dtype=float)
        if "floor_area_m2" in out.columns
        else np.full(len(out), np.nan)
    )
    land = out["area_m2"].to_numpy(dtype=float)
    residents = np.zeros(len(out))
    empty = []
    for k in range(len(poly)):
        members = np.flatnonzero(unit == k)
        if members.size == 0:
            if pop_in[k] > 0:
                empty.append(k)
            continue
        f = floor[members]
        w = np.where(np.isfinite(f), f, 0.0) if np.isfinite(f).any() else land[members]
        if not np.isfinite(w).all() or w.sum() <= 0:
            w = np.ones(members.size)
        residents[members] = pop_in[k] * w / w.sum()
    out["residents"] = residents
    out["census_unit"] = unit
    out.attrs["population"] = {
        "input": float(pop.sum()),
        "inside": float(pop_in.sum()),
        "assigned": float(residents.sum()),
        "units": len(poly),
        "units_without_homes": len(empty),
    }
    return out
