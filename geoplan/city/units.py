"""The units of a per-unit table: 街道 / 社区 polygons read from a file, or a square grid.

Both ``geoplan check --units`` / ``--units-grid`` (through :class:`~geoplan.city.study.Study`)
and a scenario's ``units:`` read their units here, so a units file means the same everywhere.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city.model import City

__all__ = ["GRID_RANGE_M", "grid_units", "units_from_frame", "units_layer"]

#: accepted cell sizes of a units grid (m)
GRID_RANGE_M = (50.0, 5000.0)


def grid_units(poly: BaseGeometry, crs: pyproj.CRS, *, cell_m: float = 500.0) -> gpd.GeoDataFrame:
    """Square cells over a polygon, cut to it.

    Parameters
    ----------
    poly
        The area to cover (metric CRS, ``crs``).
    crs
        The metric CRS of ``poly`` and of the cells.
    cell_m
        Cell side (m).

    Returns
    -------
    GeoDataFrame
        ``unit`` = ``"row_col"`` of each cell with area inside ``poly``; geometry = the cell cut
        to ``poly``, in ``crs``; ``attrs["grid_m"]`` = ``cell_m``.
    """
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    names = np.array([f"{r}_{c}" for r in range(len(ys)) for c in range(len(xs))])
    cut = shapely.intersection(cells, poly)
    keep = ~shapely.is_empty(cut) & (shapely.area(cut) > 0)
    out = gpd.GeoDataFrame({"unit": names[keep]}, geometry=cut[keep], crs=crs)
    out.attrs["grid_m"] = float(cell_m)  # squares, not 街道: per-街道 targets refuse them
    return out


def units_from_frame(
    gdf: gpd.GeoDataFrame, crs: pyproj.CRS, *, name_column: str | None, where: str
) -> gpd.GeoDataFrame:
    """Unit polygons of a layer already read: ``unit`` names from ``name_column``.

    Parameters
    ----------
    gdf
        Polygons with a CRS.
    crs
        The city's metric CRS (the result's).
    name_column
        Column holding the unit names; ``None``: ``name`` when present, else the row number.
    where
        The file the layer came from, for the error message.

    Returns
    -------
    GeoDataFrame
        ``unit`` (text) and the polygons in ``crs``.
    """
    gdf = gdf.to_crs(crs)
    if name_column is not None and name_column not in gdf.columns:
        raise LayerError(
            f"{where}: no column {name_column!r} (--unit-name); columns are "
            f"{[c for c in gdf.columns if c != 'geometry']}"
        )
    col = name_column or ("name" if "name" in gdf.columns else None)
    names = gdf[col].astype(str).to_numpy() if col else np.arange(len(gdf)).astype(str)
    return gpd.GeoDataFrame({"unit": names}, geometry=gdf.geometry.values, crs=crs)


#: columns an --areas file may name its areas in, in order of preference
AREA_NAME_COLUMNS = ("name", "名称", "unit", "area", "NAME", "Name")


def areas_layer(city: City, path: Path) -> gpd.GeoDataFrame:
    """The named parts of a study area (``--areas``: 老城区, 振中街道, 市辖区).

    Unlike units, areas are looked up by name, so a file whose names cannot be found is refused
    instead of numbering its rows (every target with an ``area:`` would then say "needs the
    boundary" while the file holds it).

    Parameters
    ----------
    city
        The loaded city (its metric CRS).
    path
        A polygon file (any CRS) with a name column (:data:`AREA_NAME_COLUMNS`).

    Returns
    -------
    GeoDataFrame
        ``unit`` (the name) and polygons in ``city.crs``.

    Raises
    ------
    LayerError
        No name column, or a row without a name.
    """
    from geoplan.io.plan_layers import read_plan_layer

    gdf = read_plan_layer(path, geometry_types=("Polygon",), kind="units").gdf
    col = next((c for c in AREA_NAME_COLUMNS if c in gdf.columns), None)
    if col is None:
        raise LayerError(
            f"{path}: --areas needs a column 'name' naming each area (老城区, 市辖区); columns "
            f"are {[c for c in gdf.columns if c != 'geometry']}"
        )
    blank = gdf[col].isna() | (gdf[col].astype(str).str.strip() == "")
    if blank.any():
        raise LayerError(
            f"{path}: row {int(np.flatnonzero(blank.to_numpy())[0])} of --areas has no "
            f"{col}; give every area its name"
        )
    return units_from_frame(gdf, city.crs, name_column=col, where=str(path))


def units_layer(
    city: City, path: Path | None, name_column: str | None, grid_m: float | None
) -> gpd.GeoDataFrame:
    """The units of a per-unit table: a polygon file or a grid over the study area.

    Parameters
    ----------
    city
        The loaded city (its metric CRS and study area).
    path
        A 街道 / 社区 polygon file (any CRS), or ``None`` for a grid.
    name_column
        Name column of ``path`` (default ``name`` when present, else row numbers).
    grid_m
        Grid cell side (m, 50 to 5000) when ``path`` is ``None``.

    Returns
    -------
    GeoDataFrame
        ``unit`` and polygons in ``city.crs``.
    """
    from geoplan.io.plan_layers import read_plan_layer

    if path is None:
        assert grid_m is not None
        lo, hi = GRID_RANGE_M
        if not lo <= grid_m <= hi:
            raise LayerError(f"--units-grid {grid_m:g} m is out of range [{lo:g}, {hi:g}] m")
        return grid_units(city.boundary_polygon, city.crs, cell_m=grid_m)
    gdf = read_plan_layer(path, geometry_types=("Polygon",), kind="units").gdf
    return units_from_frame(gdf, city.crs, name_column=name_column, where=str(path))
