"""Population density by 地段: the areas that carry their own resident counts.

The 城市体检's "人口密度超过每平方公里1.5万人的城市建设用地规模" reads the density of each 地段
(residents of a block over its area). A density needs an area that was counted as a whole: a
census polygon (街道 / 社区, 七普), a population cell (a hex or square grid with counts) or a
raster pixel (WorldPop / GHSL). Counts spread over homes are not densities: each home's share is a
product of the spreading, so :func:`density_units` only returns the layers counted by area.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.city.model import City
from geoplan.city.population import finest_level, raster_pixels

#: the 城市体检's threshold of a dense 地段 (人/平方公里)
DENSE_PER_KM2 = 15_000.0


def density_units(
    city: City,
    *,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    population_raster: str | Path | None = None,
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The areas with their own resident counts over the study area, and what they are.

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    population
        The population layer of the check (polygons: census units or cells; points have no area).
    population_column
        Its residents column.
    population_raster
        A population GeoTIFF (residents per pixel); wins over ``population`` as in the check.

    Returns
    -------
    units : GeoDataFrame or None
        Polygons in ``city.crs`` meeting the study area, with ``residents``, ``area_m2`` (the
        whole unit's) and ``density_per_km2``; ``None`` when the check has none.
    what : str
        What the units are (``"412 raster pixels (~100 m)"``), or why there are none.
    """
    bnd = city.boundary_polygon
    if population_raster is not None:
        cells, counts = raster_pixels(population_raster, boundary=bnd, crs=city.crs)
        keep = shapely.intersects(cells, bnd)
        units = gpd.GeoDataFrame({"residents": counts[keep]}, geometry=cells[keep], crs=city.crs)
        side = float(np.sqrt(np.median(shapely.area(cells)))) if len(cells) else 0.0
        what = f"{len(units):,} raster pixels with people (~{side:,.0f} m)"
        return _with_density(units), what
    if population is None:
        return None, "needs population counted by area (--population polygons or a raster)"
    if population.crs is None or population.empty:
        return None, "the population layer has no CRS or no rows"
    if shapely.get_type_id(population.geometry.values).min() < 3:
        return None, (
            "population points have no area: give 街道 / 社区 polygons, population cells as "
            "polygons, or a raster (--population-raster)"
        )
    polys = population.to_crs(city.crs)
    counts = pd.to_numeric(polys[population_column], errors="coerce").fillna(0.0).to_numpy()
    geoms = np.asarray(polys.geometry.values, dtype=object)
    keep = shapely.intersects(geoms, bnd) & (counts >= 0)
    # nested levels (a 区 total with its 街道): the finest, as the spreading of the census uses
    finest = np.zeros(keep.shape[0], dtype=bool)
    finest[keep] = finest_level(geoms[keep])
    left_out = int(keep.sum() - finest.sum())
    units = gpd.GeoDataFrame({"residents": counts[finest]}, geometry=geoms[finest], crs=city.crs)
    what = f"{len(units):,} population polygons (the layer's own counts and areas)"
    if left_out:
        what += f"; {left_out} containing others left out (a coarser level)"
    return _with_density(units), what


def _with_density(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``area_m2`` and ``density_per_km2`` (residents per km² of the whole unit)."""
    area = shapely.area(np.asarray(units.geometry.values, dtype=object))
    out = units.copy()
    out["area_m2"] = area
    out["density_per_km2"] = np.where(area > 0, out["residents"] / np.maximum(area, 1e-9) * 1e6, 0)
    return out
