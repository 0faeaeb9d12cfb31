"""Choosing and applying a local metric CRS.

geoplan measures in metres. By default it picks the UTM zone of the study area's centre (as OSMnx
``projection.project_graph`` does); the user can pass any metric CRS instead, e.g. CGCS2000 /
3-degree Gauss-Krüger CM 114E (EPSG:4547) for Zhengzhou. Geographic CRSs are refused for analysis.
"""

from __future__ import annotations

import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from geoplan import _threads as threads
from geoplan._errors import CRSError

WGS84 = pyproj.CRS.from_epsg(4326)


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """WGS84 / UTM zone CRS containing (lon, lat) in degrees.

    Parameters
    ----------
    lon, lat
        A point (degrees).

    Returns
    -------
    pyproj.CRS
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


#: largest scale error (|k − 1|) a metric CRS may have over the study area: beyond it lengths and
#: areas are off by more than a planner would accept (Web Mercator at 30°N: +15 %)
MAX_SCALE_ERROR = 0.005


def metric_crs(
    crs: str | int | pyproj.CRS | None,
    *,
    lon: float,
    lat: float,
    bounds: tuple[float, ...] | None = None,
) -> pyproj.CRS:
    """Resolve the user's CRS (or ``None`` → automatic UTM) and check that it is metric.

    Parameters
    ----------
    crs
        EPSG code, CRS string or :class:`pyproj.CRS`; ``None`` for the UTM zone of (lon, lat).
    lon, lat
        Centre of the study area (degrees).
    bounds
        (min_lon, min_lat, max_lon, max_lat) of the study area: the scale error of a user's CRS
        is checked at its corners and centre.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.

    Raises
    ------
    CRSError
        If the CRS is unknown, geographic / not in metres, or distorts distances over the study
        area by more than :data:`MAX_SCALE_ERROR` (e.g. EPSG:3857).
    """
    if crs is None:
        return utm_crs(lon, lat)
    try:
        c = pyproj.CRS.from_user_input(f"EPSG:{crs}" if isinstance(crs, int) else crs)
    except pyproj.exceptions.CRSError as exc:
        raise CRSError(f"unknown CRS {crs!r}; pass an EPSG code such as 4547 or 32650") from exc
    if c.is_geographic or not c.axis_info or c.axis_info[0].unit_name not in ("metre", "meter"):
        raise CRSError(
            f"CRS {c.to_string()} is not metric; pass a projected CRS in metres "
            "(e.g. EPSG:4547 CGCS2000 / 3-degree Gauss-Kruger CM 114E), or omit --crs for UTM"
        )
    err = scale_error(c, lon=lon, lat=lat, bounds=bounds)
    if err > MAX_SCALE_ERROR:
        raise CRSError(
            f"CRS {c.to_string()} distorts distances by {100 * err:.1f} % over the study area "
            f"(more than {100 * MAX_SCALE_ERROR:.1f} %); pass a local projected CRS such as the "
            "CGCS2000 3-degree Gauss-Kruger zone of the city (e.g. EPSG:4547), or omit --crs "
            "for UTM"
        )
    return c


def scale_error(
    crs: pyproj.CRS, *, lon: float, lat: float, bounds: tuple[float, ...] | None = None
) -> float:
    """Largest |k − 1| of ``crs`` (meridional and parallel scale) at the centre and corners.

    Parameters
    ----------
    crs
        A projected CRS.
    lon, lat
        Centre of the study area (degrees).
    bounds
        Its lon/lat bounds, to check the corners too.

    Returns
    -------
    float
        Largest relative scale error (0.001 = 1 m per km).
    """
    pts = [(lon, lat)]
    if bounds is not None:
        x0, y0, x1, y1 = bounds[:4]
        pts += [(x0, y0), (x0, y1), (x1, y0), (x1, y1)]
    try:
        f = pyproj.Proj(crs).get_factors([p[0] for p in pts], [p[1] for p in pts])
    except (pyproj.exceptions.ProjError, RuntimeError):  # pragma: no cover - exotic CRSs
        return 0.0
    k = np.concatenate([np.asarray(f.meridional_scale), np.asarray(f.parallel_scale)])
    k = k[np.isfinite(k)]
    return float(np.max(np.abs(k - 1.0))) if k.size else 0.0


def to_metric(
    crs: pyproj.CRS, lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Project WGS84 lon/lat degrees to ``crs`` metres (vectorised).

    Parameters
    ----------
    crs
        Metric CRS.
    lon, lat
        Coordinates (degrees, WGS84).

    Returns
    -------
    x, y : ndarray of float64
        Coordinates (m, ``crs``).
    """
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    if lon.ndim != 1 or lon.shape[0] < _THREADS_MIN:
        return _project(crs, lon, lat)
    # PROJ releases the GIL: chunks on threads (geoplan._threads), a transformer each (they are
    # not thread-safe); each point's projection does not depend on the others (same bits)
    xy = threads.rows(lambda a, b: np.column_stack(_project(crs, a, b)), lon, lat)
    return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])


#: points below which one transform is cheaper than two threads
_THREADS_MIN = 100_000


def _project(
    crs: pyproj.CRS, lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = t.transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def geometries_to_metric(geoms: NDArray[np.object_], crs: pyproj.CRS) -> NDArray[np.object_]:
    """WGS84 geometries projected to ``crs`` vertex by vertex (:func:`to_metric`).

    The same coordinates as ``GeoSeries.to_crs`` (one PROJ transform per vertex, lon/lat order),
    on two threads for a city's hundreds of thousands of polygons.

    Parameters
    ----------
    geoms
        Geometries (degrees, WGS84); not modified.
    crs
        Metric CRS.

    Returns
    -------
    ndarray of geometries
        New geometries (m, ``crs``).
    """
    xy = shapely.get_coordinates(geoms)
    x, y = to_metric(crs, xy[:, 0], xy[:, 1])
    return np.asarray(shapely.set_coordinates(geoms.copy(), np.column_stack([x, y])), dtype=object)
