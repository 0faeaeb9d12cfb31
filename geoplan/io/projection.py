"""Choosing and applying a local metric CRS.

geoplan measures in metres. By default it picks the UTM zone of the study area's centre (as OSMnx
``projection.project_graph`` does); the user can pass any metric CRS instead, e.g. CGCS2000 /
3-degree Gauss-Krüger CM 114E (EPSG:4547) for Zhengzhou. Geographic CRSs are refused for analysis.
"""

from __future__ import annotations

import numpy as np
import pyproj
from numpy.typing import ArrayLike, NDArray

from geoplan._errors import CRSError

WGS84 = pyproj.CRS.from_epsg(4326)


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """WGS84 / UTM zone CRS containing (lon, lat) in degrees."""
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def metric_crs(crs: str | int | pyproj.CRS | None, *, lon: float, lat: float) -> pyproj.CRS:
    """Resolve the user's CRS (or ``None`` → automatic UTM) and check that it is metric.

    Raises
    ------
    CRSError
        If the CRS is unknown or geographic / not in metres.
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
    return c


def to_metric(
    crs: pyproj.CRS, lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Project WGS84 lon/lat degrees to ``crs`` metres (vectorised)."""
    t = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = t.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
