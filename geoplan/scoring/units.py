"""Per-unit results (街道 / 社区 polygons or a square grid): residential land, homes, shares.

Units meet only the residential pieces and coverage parts under them (STRtree), never a
whole-city geometry; work derived from unchanged inputs is reused by identity across runs.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._memo import IdentityMemo
from geoplan.city import City
from geoplan.indicators.coverage import residential_land
from geoplan.names import KEY_MEASURES, Method, coverage_key
from geoplan.scoring.check import CheckResult

#: per-unit work derived from unchanged inputs is reused across scenario runs (by identity)
_MEMO = IdentityMemo(maxsize=64)


def _pieces(
    units: NDArray[np.object_], parts: NDArray[np.object_]
) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """(unit index, geometry) of every non-empty intersection of a unit with one of ``parts``."""
    if units.size == 0 or parts.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    iu, ip = shapely.STRtree(parts).query(units, predicate="intersects")
    pieces = shapely.intersection(units[iu], parts[ip])
    keep = ~shapely.is_empty(pieces)
    return iu[keep].astype(np.int64), np.asarray(pieces[keep], dtype=object)


def _covered_area(
    owner: NDArray[np.int64], pieces: NDArray[np.object_], cover: BaseGeometry, n: int
) -> NDArray[np.float64]:
    """Per unit, the area of its residential pieces inside ``cover`` (parts via STRtree)."""
    parts = np.asarray(shapely.get_parts(cover), dtype=object)
    out = np.zeros(n)
    if pieces.size == 0 or parts.size == 0:
        return out
    i, j = shapely.STRtree(parts).query(pieces, predicate="intersects")
    a = shapely.area(shapely.intersection(pieces[i], parts[j]))
    np.add.at(out, owner[i], a)
    return out


def unit_shares(units: gpd.GeoDataFrame, result: CheckResult, city: City) -> gpd.GeoDataFrame:
    """Per unit: residential land (m²), homes, and each key measure's share by both methods.

    Parameters
    ----------
    units
        Unit polygons with a ``unit`` name column, in the city's metric CRS.
    result
        The check of ``city``.
    city
        The checked city.

    Returns
    -------
    GeoDataFrame
        ``unit``, ``residential_m2``, ``homes`` and ``<stem>_buffer`` (residential land of the
        unit inside the buffer cover ÷ its residential land) / ``<stem>_network`` (homes' area
        covered on foot ÷ homes' area) for each of :data:`geoplan.names.KEY_MEASURES`.
    """
    out = units[["unit"]].copy()
    ug = np.asarray(units.geometry.values, dtype=object)
    n = len(units)
    land = residential_land(city.residential)  # content-memoised: same object if unchanged
    owner, geo = _MEMO.get(
        "pieces",
        (units, land),
        functools.partial(_pieces, ug, np.asarray(shapely.get_parts(land), dtype=object)),
    )
    la = np.bincount(owner, weights=shapely.area(geo), minlength=n)
    out["residential_m2"] = la
    hu = _which_unit(units, result.homes)
    out["homes"] = np.bincount(hu[hu >= 0], minlength=n)
    for measure in KEY_MEASURES:
        buffer_col = coverage_key(measure, Method.BUFFER)
        network_col = coverage_key(measure, Method.NETWORK)
        cov = result.coverage.get(buffer_col)
        if cov is None:
            out[buffer_col] = np.nan
        else:
            ca = _MEMO.get(
                "covered", (units, geo, cov), functools.partial(_covered_area, owner, geo, cov, n)
            )
            out[buffer_col] = np.where(la > 0, ca / np.where(la > 0, la, 1), np.nan)
        if network_col in result.homes.columns:
            w = result.homes["area_m2"].to_numpy(dtype=float)
            w = np.where(w > 0, w, 0.0)
            ok = result.homes[network_col].to_numpy(dtype=bool)
            m = hu >= 0
            tot = np.bincount(hu[m], weights=w[m], minlength=n)
            cv = np.bincount(hu[m], weights=(w * ok)[m], minlength=n)
            out[network_col] = np.where(tot > 0, cv / np.where(tot > 0, tot, 1), np.nan)
        else:
            out[network_col] = np.nan
    return gpd.GeoDataFrame(out, geometry=units.geometry.values, crs=units.crs)


def _which_unit(units: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> NDArray[np.int64]:
    idx = np.full(len(homes), -1, dtype=np.int64)
    if len(homes) == 0 or len(units) == 0:
        return idx
    tree = shapely.STRtree(units.geometry.values)
    ih, iu = tree.query(homes.geometry.values, predicate="intersects")
    idx[ih[::-1]] = iu[::-1]  # first unit wins
    return idx
