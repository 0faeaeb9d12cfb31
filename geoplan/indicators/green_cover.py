"""绿化覆盖率 from a land-cover (class) or NDVI raster."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.coverage import IndicatorResult, Measure, measure_row, summary_frame
from geoplan.rules.datafile import indicator_default

#: ESA WorldCover 2021 classes counted as vegetation: tree cover, shrubland, grassland,
#: herbaceous wetland, mangroves (cropland 40 is not urban greening); the registry's default
WORLDCOVER_GREEN: tuple[int, ...] = tuple(
    int(c) for c in indicator_default("green_cover_ratio", "classes")
)


@dataclass(frozen=True, slots=True)
class GreenCoverParams:
    """Parameters of :func:`green_cover_ratio` in a check (defaults: ``indicators.yaml``).

    Attributes
    ----------
    classes
        Land-cover classes counted as vegetation (an integer raster).
    ndvi_min
        NDVI from which a pixel counts as vegetation (a float raster).
    """

    classes: tuple[float, ...]
    ndvi_min: float


def green_cover_ratio(
    raster: str | Any,
    boundary: BaseGeometry,
    *,
    crs: Any,
    classes: Sequence[int] = WORLDCOVER_GREEN,
    ndvi_min: float | None = None,
) -> IndicatorResult:
    """绿化覆盖率: vegetated share of the boundary, from a land-cover or NDVI raster.

    CJJ/T 85-2017: vertical projection of all vegetation ÷ built-up area, counted once where
    layers overlap — which a raster does by construction. An integer raster is read as land-cover
    classes (default: ESA WorldCover vegetation classes); a float raster as NDVI (vegetated where
    ``≥ ndvi_min``). Pixels are counted when their centre lies in the boundary (rasterio mask);
    nodata pixels are left out of both numerator and denominator.

    Parameters
    ----------
    raster
        Path of a GeoTIFF (any CRS) or an open rasterio dataset.
    boundary
        Study boundary in ``crs``.
    crs
        CRS of ``boundary`` (the city's metric CRS).
    classes
        Land-cover classes counted as vegetation.
    ndvi_min
        NDVI threshold of vegetation (default: the registry's).

    Returns
    -------
    IndicatorResult
        One row, share of the boundary.
    """
    if ndvi_min is None:
        ndvi_min = float(indicator_default("green_cover_ratio", "ndvi_min"))
    import rasterio
    import rasterio.mask

    from geoplan._errors import InputFileError

    opened = isinstance(raster, str | bytes) or hasattr(raster, "__fspath__")
    try:
        ds: Any = rasterio.open(raster) if opened else raster
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(f"{raster}: cannot open as a raster ({exc}); pass a GeoTIFF") from exc
    try:
        if ds.crs is None:
            raise InputFileError(f"{raster}: raster has no CRS; save it with one (e.g. EPSG:4326)")
        geom = gpd.GeoSeries([boundary], crs=crs).to_crs(ds.crs).iloc[0]
        rb = ds.bounds
        if not geom.intersects(shapely.box(rb.left, rb.bottom, rb.right, rb.top)):
            from geoplan._raster import raster_overlap_error

            what = "a land-cover or NDVI raster"
            raise InputFileError(raster_overlap_error(raster, ds.crs, rb, what))
        with warnings.catch_warnings():  # rasterio's internal Affine `*` (affine >= 2.4)
            warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
            data, _ = rasterio.mask.mask(ds, [geom], crop=True, filled=False, indexes=1)
    finally:
        if opened:
            ds.close()
    valid = ~np.ma.getmaskarray(data)
    vals = np.ma.getdata(data)[valid]
    if vals.size == 0:
        v = None
    elif np.issubdtype(vals.dtype, np.floating):
        v = float((vals >= ndvi_min).mean())
    else:
        v = float(np.isin(vals, list(classes)).mean())
    row = measure_row(
        Measure("green_cover_ratio", "green_cover_ratio", "绿化覆盖率", "Green cover ratio"),
        "raster",
        "boundary_area",
        v,
        note="" if v is not None else "no data: the raster does not cover the boundary",
    )
    return IndicatorResult("green_cover_ratio", pd.DataFrame(), summary_frame([row]))


def landcover_class_area(
    raster: str | Path, boundary: BaseGeometry, *, crs: Any, value: int
) -> BaseGeometry:
    """Pixels of class ``value`` (ESA WorldCover 50 = built-up) as polygons in ``crs``.

    Cut to ``boundary`` (metric CRS ``crs``); empty for an NDVI (float) raster or one that does
    not overlap. Used to add built-up land cover to the derived built-up area (建成区).

    Parameters
    ----------
    raster
        A land-cover GeoTIFF (ESA WorldCover classes).
    boundary
        The area (in ``crs``).
    crs
        The city's metric CRS.
    value
        The class kept.

    Returns
    -------
    BaseGeometry
    """
    import rasterio
    import rasterio.mask
    from rasterio import features

    from geoplan._errors import InputFileError

    try:
        ds_open = rasterio.open(raster)
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(f"{raster}: cannot open as a raster ({exc}); pass a GeoTIFF") from exc
    with ds_open as ds:
        if ds.crs is None or not np.issubdtype(np.dtype(ds.dtypes[0]), np.integer):
            return shapely.Polygon()
        geom = gpd.GeoSeries([boundary], crs=crs).to_crs(ds.crs).iloc[0]
        rb = ds.bounds
        if not geom.intersects(shapely.box(rb.left, rb.bottom, rb.right, rb.top)):
            return shapely.Polygon()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
            data, tr = rasterio.mask.mask(ds, [geom], crop=True, filled=False, indexes=1)
            hit = (np.ma.getdata(data) == value) & ~np.ma.getmaskarray(data)
            polys = [
                shapely.geometry.shape(g)
                for g, v in features.shapes(hit.astype("uint8"), mask=hit, transform=tr)
                if v == 1
            ]
        src_crs = ds.crs
    if not polys:
        return shapely.Polygon()
    out = gpd.GeoSeries([shapely.union_all(polys)], crs=src_crs).to_crs(crs).iloc[0]
    return shapely.intersection(shapely.make_valid(out), boundary)
