"""Chinese map coordinate systems: GCJ-02 (AMap / Gaode, Tencent) and BD-09 (Baidu).

GCJ-02 is WGS84 with a state-mandated, non-linear offset (of the order of 100–700 m) applied inside
mainland China; BD-09 is a further rotation/shift of GCJ-02. Neither is an EPSG CRS, so they are
handled here as explicit array transforms.

The forward transform (WGS84 → GCJ-02) is the widely published ``eviltransform`` /
``coordtransform`` formula. The inverse has no closed form; :func:`gcj02_to_wgs84` inverts it
by fixed-point iteration to below 1e-7 degrees (≈ 1 cm). Points outside mainland China (rough
bounding box, as in the published implementations) are returned unchanged.

All functions take and return longitude / latitude arrays in degrees (vectorised with NumPy).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02, m


_EE = 0.00669342162296594323  # its first eccentricity squared


_X_PI = math.pi * 3000.0 / 180.0


Arr = NDArray[np.float64]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point lies in the rough mainland-China box in which GCJ-02 is offset.

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.

    Returns
    -------
    ndarray of bool
    """
    x, y = _arrays(lon, lat)
    return (x > 72.004) & (x < 137.8347) & (y > 0.8293) & (y < 55.8271)


def _delta(lon: Arr, lat: Arr) -> tuple[Arr, Arr]:
    x = lon - 105.0
    y = lat - 35.0
    sq = np.sqrt(np.abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sq
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sq
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """WGS84 → GCJ-02 (degrees). Points outside China are unchanged.

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.

    Returns
    -------
    lon, lat : ndarray
        Coordinates (degrees, GCJ-02).
    """
    x, y = _arrays(lon, lat)
    dlon, dlat = _delta(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-9) -> tuple[Arr, Arr]:
    """GCJ-02 → WGS84 (degrees), exact inverse by fixed-point iteration (error < ``tol_deg``).

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.
    tol_deg
        Stop when the round trip is within this (degrees).

    Returns
    -------
    lon, lat : ndarray
        Coordinates (degrees, WGS84).
    """
    gx, gy = _arrays(lon, lat)
    wx, wy = gx.copy(), gy.copy()
    for _ in range(30):
        fx, fy = wgs84_to_gcj02(wx, wy)
        ex, ey = fx - gx, fy - gy
        wx, wy = wx - ex, wy - ey
        if (
            float(np.max(np.abs(ex), initial=0.0)) < tol_deg
            and float(np.max(np.abs(ey), initial=0.0)) < tol_deg
        ):
            break
    return wx, wy


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """GCJ-02 → BD-09 (degrees), Baidu's published formula.

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.

    Returns
    -------
    lon, lat : ndarray
        Coordinates (degrees, BD-09).
    """
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 → GCJ-02 (degrees), Baidu's published approximate inverse (error ≈ 1e-6°).

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.

    Returns
    -------
    lon, lat : ndarray
        Coordinates (degrees, GCJ-02).
    """
    bx, by = _arrays(lon, lat)
    x = bx - 0.0065
    y = by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """WGS84 → BD-09 (degrees).

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.

    Returns
    -------
    lon, lat : ndarray
        Coordinates (degrees, BD-09).
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Arr, Arr]:
    """BD-09 → WGS84 (degrees).

    Parameters
    ----------
    lon, lat
        Coordinates (degrees); arrays or scalars.

    Returns
    -------
    lon, lat : ndarray
        Coordinates (degrees, WGS84).
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
