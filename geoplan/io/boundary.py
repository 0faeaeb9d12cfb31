"""Study boundaries and other area polygons: read, checked (valid, lon/lat order, overlap)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputFileError, LayerError
from geoplan.io.projection import WGS84

BoundaryLike: TypeAlias = (
    BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | str | Path | tuple[float, ...]
)


def read_area(area: BoundaryLike, crs: pyproj.CRS) -> BaseGeometry:
    """A polygon (file, GeoDataFrame, shapely WGS84 polygon or lon/lat bbox) in ``crs``.

    Checked like a study boundary (valid polygon, latitudes, CRS); used for the built-up area.

    Parameters
    ----------
    area
        A polygon file, GeoDataFrame, shapely WGS84 polygon or lon/lat bbox.
    crs
        Metric CRS of the result.

    Returns
    -------
    BaseGeometry
        A valid (multi)polygon in ``crs``.
    """
    wgs = read_boundary(area)
    return gpd.GeoSeries([wgs], crs=WGS84).to_crs(crs).iloc[0]


def read_boundary(boundary: BoundaryLike) -> BaseGeometry:
    """Study boundary as one valid WGS84 (multi)polygon, or a one-line error naming the source.

    Parameters
    ----------
    boundary
        A shapely WGS84 polygon, a ``(min_lon, min_lat, max_lon, max_lat)`` bbox, a
        GeoDataFrame with a CRS, or a vector file.

    Returns
    -------
    BaseGeometry
        A valid (multi)polygon in WGS84 degrees.
    """
    what = "boundary"
    if isinstance(boundary, BaseGeometry):
        geom = boundary
    elif isinstance(boundary, tuple | list):
        if len(boundary) != 4 or not all(isinstance(v, int | float) for v in boundary):
            raise LayerError("boundary bbox must be (min_lon, min_lat, max_lon, max_lat)")
        x0, y0, x1, y1 = (float(v) for v in boundary)
        if not (x0 < x1 and y0 < y1):
            raise LayerError(
                f"boundary bbox {tuple(boundary)} is empty; "
                "give (min_lon, min_lat, max_lon, max_lat)"
            )
        geom = shapely.box(x0, y0, x1, y1)
    elif isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        if boundary.crs is None:
            raise LayerError("boundary GeoDataFrame has no CRS; set one with .set_crs(EPSG)")
        geom = shapely.union_all(boundary.to_crs(WGS84).geometry.values)
    else:
        geom, what = _read_boundary_file(Path(boundary))
    return _check_boundary(geom, what)


#: a study area less covered by the data than this gets a warning
WARN_DATA_SHARE = 0.95
#: a study area less covered by the data than this is refused
MIN_DATA_SHARE = 0.50


def check_overlap(
    bnd: BaseGeometry, data_bbox: tuple[float, float, float, float] | None, src: Path
) -> float:
    """The share of the study area inside the data's extent; refused when under half.

    Parameters
    ----------
    bnd
        The study area (WGS84 degrees).
    data_bbox
        The extent of the OSM data (header bbox, else the objects'), WGS84; ``None``: unknown.
    src
        The OSM file, for the message.

    Returns
    -------
    float
        Share (0–1) of the study area's area inside the extent, measured in a local equal-area
        frame (degrees scaled by the cosine of the latitude); 1.0 when the extent is unknown.

    Raises
    ------
    LayerError
        The study area lies outside the data (with a hint when longitude and latitude look
        swapped), or less than :data:`MIN_DATA_SHARE` of it lies inside: every figure would be
        measured on the part the extract happens to hold.
    """
    if data_bbox is None:
        return 1.0
    box = shapely.box(*data_bbox)
    if not bnd.intersects(box):
        b = ", ".join(f"{v:.4f}" for v in data_bbox)
        flipped = shapely.transform(bnd, lambda xy: xy[:, ::-1])
        if flipped.intersects(shapely.box(*data_bbox)):
            raise LayerError(
                f"the boundary lies outside {src.name} (data extent {b}) but would fit with "
                "longitude and latitude swapped: 经纬度是否颠倒? put longitude first"
            )
        raise LayerError(
            f"the boundary lies entirely outside {src.name} (data extent {b}); pass a boundary "
            "inside the extract, or an extract that covers the study area"
        )
    # the cosine of the latitude scales both areas alike: the share is a plain area ratio
    share = float(shapely.intersection(bnd, box).area / bnd.area) if bnd.area > 0 else 1.0
    if share < MIN_DATA_SHARE:
        b = ", ".join(f"{v:.4f}" for v in data_bbox)
        raise LayerError(
            f"only {share:.1%} of the study area lies inside {src.name} (data extent {b}); "
            "every figure would describe that part only: pass an extract that covers the whole "
            "study area (e.g. the province's from download.geofabrik.de) or a smaller boundary"
        )
    return share


def _read_boundary_file(path: Path) -> tuple[BaseGeometry, str]:
    if not path.exists():
        raise InputFileError(
            f"{path}: boundary file not found; pass a GeoPackage/GeoJSON/Shapefile"
        )
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder; pass the boundary file itself")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own DataSourceError types
        raise InputFileError(f"{path}: cannot read boundary ({exc}); pass a vector file") from exc
    if gdf.empty:
        raise LayerError(f"{path}: boundary layer is empty; draw at least one polygon")
    if gdf.crs is None:
        b = gdf.total_bounds
        hint = (
            "the coordinates look like metres: save it with its projected CRS"
            if max(abs(b[0]), abs(b[2])) > 360 or max(abs(b[1]), abs(b[3])) > 90
            else "save it with a CRS (e.g. EPSG:4326)"
        )
        raise LayerError(f"{path}: boundary layer has no CRS; {hint}")
    g = gdf.geometry
    if g.is_empty.all():
        raise LayerError(f"{path}: boundary layer has only empty geometries")
    _check_lonlat(gdf.to_crs(WGS84).total_bounds, str(path))
    return shapely.union_all(gdf.to_crs(WGS84).geometry.values), str(path)


def _check_lonlat(bounds: NDArray[np.float64], what: str) -> None:
    """Refuse latitudes beyond ±90 (longitude and latitude swapped 经纬度颠倒)."""
    x0, y0, x1, y1 = (float(v) for v in bounds)
    if not (np.isfinite([x0, y0, x1, y1]).all()) or y0 < -90 or y1 > 90:
        raise LayerError(
            f"{what}: latitudes {y0:.4f}–{y1:.4f} are outside ±90°; 经纬度是否颠倒? "
            "(longitude and latitude swapped) — put longitude first"
        )


def _check_boundary(geom: BaseGeometry, what: str) -> BaseGeometry:
    if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise LayerError(
            f"{what}: must be a polygon, got {geom.geom_type}; draw the study area as a polygon"
        )
    _check_lonlat(np.asarray(geom.bounds, dtype=float), what)
    if not geom.is_valid:
        repaired = polygonal(shapely.make_valid(geom))
        other = polygonal(geom.buffer(0))
        a, b = repaired.area, other.area
        if a > 0 and abs(a - b) <= 0.001 * a:  # a sliver or spike: both repairs agree
            return repaired
        reason = shapely.is_valid_reason(geom)
        raise LayerError(
            f"{what}: the polygon is invalid ({reason}) and its area is ambiguous (a bow-tie: "
            f"{a:.6g} or {b:.6g} square degrees); fix it in your GIS (QGIS: Vector ▸ Geometry "
            "Tools ▸ Fix Geometries) and pass it again"
        )
    return geom


def polygonal(g: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a geometry (make_valid may return collections).

    Parameters
    ----------
    g
        A geometry (any type).

    Returns
    -------
    BaseGeometry
        Its polygons (an empty Polygon when it has none).
    """
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()
