"""The inputs of a check read from files: study area, city with POIs, population, units.

Shared by ``geoplan check``, ``geoplan suggest`` and batch runs (:mod:`geoplan.batch`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city import City, load_city
from geoplan.io.population import read_population


def study_area(
    boundary: Path | tuple[float, float, float, float] | None, district: str | None
) -> Path | tuple[float, float, float, float] | BaseGeometry | None:
    """``--boundary FILE`` (or a lon/lat bbox) or ``--district NAME`` (not both)."""
    if boundary is not None and district is not None:
        raise LayerError("give --boundary FILE or --district NAME, not both")
    if district is None:
        return boundary
    from geoplan.io.districts import district_boundary

    return district_boundary(district)


def load_study_city(
    osm: str,
    *,
    boundary: Path | tuple[float, float, float, float] | None,
    district: str | None,
    crs: str | None,
    include_private: bool,
    facilities: list[Path] | None,
    facilities_mode: str,
    quiet: bool,
) -> tuple[City, list[str]]:
    """The city of ``check`` / ``suggest``: OSM layers in the study area, then POI exports."""
    city = load_city(
        osm,
        boundary=study_area(boundary, district),
        crs=int(crs) if crs and crs.isdigit() else crs,
        include_private=include_private,
        progress=None if not quiet else False,
    )
    notes: list[str] = []
    if facilities:
        from geoplan.facilities import with_pois

        city, reports = with_pois(city, facilities, mode=facilities_mode)  # type: ignore[arg-type]
        notes = [r.summary() for r in reports]
    return city, notes


def population_inputs(
    population: Path | None, column: str
) -> tuple[gpd.GeoDataFrame | None, Path | None]:
    """``--population``: a vector layer (read) or a GeoTIFF path (read by the check)."""
    if population is None:
        return None, None
    if population.suffix.lower() in (".tif", ".tiff"):
        return None, population
    return read_population(population, column=column), None


def units_layer(
    city: City, path: Path | None, name_col: str | None, grid_m: float | None
) -> gpd.GeoDataFrame:
    """The units of the per-unit table: a polygon layer (names from ``name_col``) or a grid."""
    from geoplan.io.plan_layers import read_plan_layer
    from geoplan.scoring.units import grid_units

    if path is None:
        assert grid_m is not None
        if not 50 <= grid_m <= 5000:
            raise LayerError(f"--units-grid {grid_m:g} m is out of range [50, 5000] m")
        return grid_units(city.boundary_polygon, city.crs, cell_m=grid_m)
    gdf = read_plan_layer(path, geometry_types=("Polygon",), kind="units").gdf.to_crs(city.crs)
    if name_col is not None and name_col not in gdf.columns:
        raise LayerError(
            f"{path}: no column {name_col!r} (--unit-name); columns are "
            f"{[c for c in gdf.columns if c != 'geometry']}"
        )
    col = name_col or ("name" if "name" in gdf.columns else None)
    names = gdf[col].astype(str).to_numpy() if col else np.arange(len(gdf)).astype(str)
    return gpd.GeoDataFrame({"unit": names}, geometry=gdf.geometry.values, crs=city.crs)


def built_up_arg(value: str | Path | None, city: City) -> BaseGeometry | str:
    """``--built-up``: a polygon file (read into the city's CRS), ``osm`` or ``study-area``."""
    from geoplan.io.boundary import read_area

    if value is None or str(value) == "osm":
        return "osm"
    if str(value) in ("study-area", "study_area"):
        return "study_area"
    p = Path(value)
    if not p.exists():
        raise LayerError(
            f"{p}: --built-up file not found; give a 建成区 polygon file, 'osm' (derived, the "
            "default) or 'study-area'"
        )
    return read_area(p, city.crs)
