"""Per-unit results (街道 / 社区 polygons or a square grid): residential land, homes, shares.

Units meet only the residential pieces and coverage parts under them (STRtree), never a
whole-city geometry; work derived from unchanged inputs is reused by identity across runs.
"""

from __future__ import annotations

import functools

import geopandas as gpd
import numpy as np
import pandas as pd
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
    # a scenario session compares every plan with the same baseline check on the same units
    done = _MEMO.get("shares", (units, result, city), lambda: _unit_shares(units, result, city))
    return done.copy()


def _unit_shares(units: gpd.GeoDataFrame, result: CheckResult, city: City) -> gpd.GeoDataFrame:
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


def unit_gap_causes(units: gpd.GeoDataFrame, result: CheckResult) -> pd.DataFrame:
    """Per unit, the buffer − walking gap of each explained measure split by cause.

    The homes of each unit (the first unit a home falls in) are split as in
    :func:`geoplan.indicators.gap_tables.gap_table`; a unit's rows of a measure and basis add up
    to its homes' buffer share minus its homes' walking share (on the residential-land basis the
    buffer share of the homes' land, not the land's own overlap, which the unit table reports).

    Parameters
    ----------
    units
        Unit polygons with a ``unit`` name column, in the city's metric CRS.
    result
        The check (its homes carry ``<measure>_gap_cause``).

    Returns
    -------
    DataFrame
        ``unit``, ``measure``, ``basis`` (``homes``, ``residential_area``), ``cause``,
        ``label_zh``, ``label_en``, ``gap_pp`` (percentage points of the unit's basis), ``homes``.
    """
    from geoplan.indicators.gap_tables import gap_cause_column
    from geoplan.indicators.gaps import cause_labels, cause_order
    from geoplan.rules.barriers import WALK_ONLY

    cols = ["unit", "measure", "basis", "cause", "label_zh", "label_en", "gap_pp", "homes"]
    homes = result.homes
    hu = _which_unit(units, homes)
    inside = hu >= 0
    n = len(units)
    names = units["unit"].to_numpy(dtype=object)
    labels = cause_labels()
    weights = {"homes": np.ones(len(homes))}
    if "area_m2" in homes:
        weights["residential_area"] = np.nan_to_num(homes["area_m2"].to_numpy(dtype=float))
    parts: list[pd.DataFrame] = []
    for col in [c for c in homes.columns if str(c).endswith("_gap_cause")]:
        measure = str(col)[: -len("_gap_cause")]
        if gap_cause_column(measure) != col:
            continue
        buf = homes[f"{measure}_buffer"].to_numpy(dtype=bool)
        walk = homes[f"{measure}_network"].to_numpy(dtype=bool)
        cat = np.where(buf & ~walk, homes[col].to_numpy(dtype=object), "")
        cat[walk & ~buf] = WALK_ONLY
        for basis, w in weights.items():
            total = np.bincount(hu[inside], weights=w[inside], minlength=n)
            for c in cause_order():
                sel = inside & (cat == c)
                if not sel.any():
                    continue
                pp = np.bincount(hu[sel], weights=w[sel], minlength=n)
                cnt = np.bincount(hu[sel], minlength=n)
                has = np.flatnonzero(cnt > 0)
                share = 100.0 * pp[has] / np.where(total[has] > 0, total[has], np.inf)
                parts.append(
                    pd.DataFrame(
                        {
                            "unit": names[has],
                            "measure": measure,
                            "basis": basis,
                            "cause": c,
                            "label_zh": labels[c][0],
                            "label_en": labels[c][1],
                            "gap_pp": -share if c == WALK_ONLY else share,
                            "homes": cnt[has],
                        }
                    )
                )
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]
