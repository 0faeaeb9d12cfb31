"""The headline indicators, one pure function each.

Every coverage indicator is measured two ways, reported side by side:

- **buffer** (服务半径, the official method): residential land area inside the union of
  straight-line radii around the facilities ÷ total residential land area (城市体检 2021;
  GB 50220-95 for bus stops over urban land);
- **network** (walking distance on the street network): the share of homes whose walking distance
  (:mod:`geoplan.network.access`) is within the radius — by count of homes, by the residential
  land area
  the homes stand for, and by residents where population is known.

Functions take plain inputs (GeoDataFrames in one metric CRS, arrays of distances in metres) and
return an :class:`IndicatorResult`: per-home values aligned to the homes index and a tidy summary
table. They never modify their inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.areas import (
    buffer_share,
    overlap_area,
    polygon_union,
    prefetch_unions,
    residential_land,
    union_of_buffers,
)
from geoplan.indicators.cover import Area
from geoplan.indicators.gaps import Reach
from geoplan.names import CoverageLayer, column_name, coverage_key, dist_column
from geoplan.network.access import EdgeAttachment, facility_sources, nearest_distance_m
from geoplan.network.graph import WalkNetwork

F64 = NDArray[np.float64]


SUMMARY_COLUMNS = [
    "indicator",
    "measure",
    "method",
    "basis",
    "value",
    "unit",
    "label_zh",
    "label_en",
    "note",
    "bound",
]


def inside_flags(cover: BaseGeometry, homes: gpd.GeoDataFrame) -> NDArray[np.bool_]:
    """Per-home buffer flag: the home point intersects the coverage area ``cover``.

    Parameters
    ----------
    cover
        A coverage area (metric CRS).
    homes
        Home points (metric CRS).

    Returns
    -------
    ndarray of bool
    """
    if cover.is_empty or len(homes) == 0:
        return np.zeros(len(homes), dtype=bool)
    shapely.prepare(cover)
    return np.asarray(shapely.intersects(cover, homes.geometry.values), dtype=bool)


def coverage_layer(
    measure: str,
    method: str,
    *,
    family: str,
    radius_m: float | None,
    label_zh: str,
    label_en: str,
    stem: str | None = None,
) -> CoverageLayer:
    """Describe a coverage area for readers (key from :func:`geoplan.names.coverage_key`).

    Parameters
    ----------
    measure, method
        Measure id and method (``buffer`` / ``network``).
    family
        ``bus``, ``park``, ``green`` or ``life_circle`` (its colour family).
    radius_m
        Its radius (m), ``None`` for a tiered one.
    label_zh, label_en
        Labels.
    stem
        Flag stem of a life circle (its key is then ``<stem>_<method>``).

    Returns
    -------
    CoverageLayer
    """
    key = column_name(stem, method=method) if stem else coverage_key(measure, method)
    return CoverageLayer(key, measure, method, family, radius_m, label_zh, label_en)


@dataclass
class IndicatorResult:
    """Per-home values (index aligned to the homes) and a tidy summary table.

    ``summary`` has the columns :data:`SUMMARY_COLUMNS`; ``value`` is NaN with ``note`` "no data"
    where the data cannot say. ``geometries`` holds coverage areas (metric CRS; a
    :class:`~geoplan.indicators.cover.Buffers` or :class:`~geoplan.indicators.cover.CellsArea`
    is built when first read) for maps and ``layers`` their description
    (:class:`geoplan.names.CoverageLayer`, same keys).
    """

    name: str
    per_home: pd.DataFrame
    summary: pd.DataFrame
    geometries: dict[str, Area] = field(default_factory=dict)
    layers: dict[str, CoverageLayer] = field(default_factory=dict)
    #: measure → the facilities and radii its buffer flags come from (gap causes read them)
    reach: dict[str, Reach] = field(default_factory=dict)
    #: measure → its grid cells that the buffer or walking covers (gap causes read them)
    per_cell: dict[str, CellFlags] = field(default_factory=dict)


@dataclass(frozen=True)
class CellFlags:
    """The grid cells of an area-based measure that the buffer or walking may cover.

    Every other inside cell of the grid is covered by neither.

    Attributes
    ----------
    spacing_m
        The grid's spacing (m).
    cells
        Row-major indices of the listed cells, increasing.
    buffer, network
        Per listed cell: its centre inside the buffer cover; within walking distance.
    """

    spacing_m: float
    cells: NDArray[np.int64]
    buffer: NDArray[np.bool_]
    network: NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Measure:
    """Which measure a summary row reports: its indicator, measure id, unit and labels.

    Attributes
    ----------
    indicator
        Indicator id of the registry (``park_coverage``).
    measure
        Measure id (``park_500``, ``bus_cov_300``; :mod:`geoplan.names`).
    label_zh, label_en
        Labels (follow the parameters: a 400 m green radius is "400米见绿").
    unit
        Unit of the value (``share`` 0–1, ``km/km2``, ``m2/person`` …).
    note
        Note of every row of this measure unless a row gives its own.
    """

    indicator: str
    measure: str
    label_zh: str
    label_en: str
    unit: str = "share"
    note: str = ""


def measure_row(
    m: Measure,
    method: str,
    basis: str,
    value: float | None,
    *,
    note: str | None = None,
    bound: float | None = None,
) -> dict[str, Any]:
    """One tidy row of :data:`SUMMARY_COLUMNS` (``value`` NaN for ``None``).

    Parameters
    ----------
    m
        The measure reported.
    method, basis
        ``buffer`` / ``network`` / ``area``; the denominator (:class:`geoplan.names.Basis`).
    value
        The figure in ``m.unit`` (``None``: no data).
    note
        Note of this row (default ``m.note``).
    bound
        Where the value cannot be measured but cannot exceed a known figure (a life circle with
        categories missing from the data: the share over the categories present), that upper
        bound; NaN otherwise.

    Returns
    -------
    dict
        The row.
    """
    return {
        "indicator": m.indicator,
        "measure": m.measure,
        "method": method,
        "basis": basis,
        "value": np.nan if value is None else float(value),
        "unit": m.unit,
        "label_zh": m.label_zh,
        "label_en": m.label_en,
        "note": m.note if note is None else note,
        "bound": np.nan if bound is None else float(bound),
    }


def no_data_rows(m: Measure, note: str) -> list[dict[str, Any]]:
    """A coverage measure that the data cannot give: its buffer and network rows, value NaN.

    Parameters
    ----------
    m
        The measure.
    note
        Why there is no figure (and the fix).

    Returns
    -------
    list of dict
    """
    return [
        measure_row(m, method, basis, None, note=note)
        for method, basis in (("buffer", "residential_area"), ("network", "homes"))
    ]


def summary_frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a DataFrame with the columns :data:`SUMMARY_COLUMNS`.

    Parameters
    ----------
    rows
        Rows of :func:`measure_row`.

    Returns
    -------
    DataFrame
    """
    return pd.DataFrame(list(rows), columns=SUMMARY_COLUMNS)


def bound_rows(rows: Iterable[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """Measured rows turned into upper bounds: ``value`` NaN, ``bound`` = the value, ``note``.

    For a share measured over fewer requirements than the indicator has (every further
    requirement can only lower it), so the true share is at most the value.

    Parameters
    ----------
    rows
        Measured rows.
    note
        Why only a bound is known (and the fix).

    Returns
    -------
    list of dict
    """
    out = []
    for r in rows:
        v = r["value"]
        out.append(r | {"value": np.nan, "bound": v, "note": note})
    return out


def _weighted_share(mask: NDArray[np.bool_], weights: F64) -> float | None:
    total = float(np.nansum(weights))
    if total <= 0:
        return None
    return float(np.nansum(weights[mask]) / total)


def network_shares(covered: NDArray[np.bool_], homes: gpd.GeoDataFrame) -> dict[str, float | None]:
    """Share of homes covered: by count, by residential land area, by residents (if known).

    Parameters
    ----------
    covered
        Per home: within the radius.
    homes
        The homes (``area_m2``, ``residents``).

    Returns
    -------
    dict of str to float or None
        ``homes``, ``residential_area``, ``residents`` (``None`` when not known).
    """
    n = covered.shape[0]
    out: dict[str, float | None] = {"homes": float(covered.mean()) if n else None}
    out["residential_area"] = _weighted_share(covered, homes["area_m2"].to_numpy(dtype=float))
    res = homes["residents"].to_numpy(dtype=float)
    out["residents"] = _weighted_share(covered, res) if np.isfinite(res).any() else None
    return out


def _share_rows(
    m: Measure,
    method: str,
    bases: tuple[str, ...],
    covered: NDArray[np.bool_],
    homes: gpd.GeoDataFrame,
    note: str | None,
) -> list[dict[str, Any]]:
    """Rows of the shares of :func:`network_shares` for ``bases`` (residents only if known)."""
    shares = network_shares(covered, homes)
    note = m.note if note is None else note
    return [
        measure_row(
            m,
            method,
            basis,
            shares[basis],
            note=note if shares[basis] is not None else (note or "no data"),
        )
        for basis in bases
        if not (basis == "residents" and shares[basis] is None)
    ]


def network_rows(
    m: Measure, covered: NDArray[np.bool_], homes: gpd.GeoDataFrame, *, note: str | None = None
) -> list[dict[str, Any]]:
    """Network rows of a measure: share of homes, of residential area and of residents covered.

    Parameters
    ----------
    m
        The measure.
    covered
        Per home: within the walking radius.
    homes
        The homes.
    note
        Note of the rows (default ``m.note``).

    Returns
    -------
    list of dict
    """
    return _share_rows(
        m, "network", ("homes", "residential_area", "residents"), covered, homes, note
    )


def buffer_home_rows(
    m: Measure, inside: NDArray[np.bool_], homes: gpd.GeoDataFrame, *, note: str | None = None
) -> list[dict[str, Any]]:
    """Buffer rows by homes and by residents: the share of homes (residents) inside the cover.

    The residential-land row of the buffer method is the area overlay itself; these two say how
    many homes and people the straight-line radii reach, next to the network rows.

    Parameters
    ----------
    m
        The measure.
    inside
        Per home: inside the buffer cover.
    homes
        The homes.
    note
        Note of the rows (default ``m.note``).

    Returns
    -------
    list of dict
    """
    return _share_rows(m, "buffer", ("homes", "residents"), inside, homes, note)


#: the area geometry, re-exported: callers import it from here as before
__all__ = [
    "SUMMARY_COLUMNS",
    "IndicatorResult",
    "Measure",
    "access_table",
    "bound_rows",
    "buffer_home_rows",
    "buffer_share",
    "category_geometries",
    "coverage_layer",
    "distances_of",
    "inside_flags",
    "measure_row",
    "network_rows",
    "network_shares",
    "no_data_rows",
    "overlap_area",
    "polygon_union",
    "prefetch_unions",
    "residential_land",
    "summary_frame",
    "union_of_buffers",
]


def category_geometries(
    facilities: gpd.GeoDataFrame,
    *,
    bus_stops: gpd.GeoDataFrame | None = None,
    parks: gpd.GeoDataFrame | None = None,
    green_min_area_m2: float = 400.0,
    park_min_area_m2: float = 0.0,
) -> dict[str, NDArray[np.object_]]:
    """Geometries per category: facility categories plus ``bus_stop``, ``park`` and ``green``.

    ``park`` = public green tagged as a park (``green_kind == "park"``) of at least
    ``park_min_area_m2``; ``green`` = any public green space of at least ``green_min_area_m2``
    (the 口袋公园 lower bound of "300米见绿").

    Parameters
    ----------
    facilities
        Facilities with ``category`` (metric CRS).
    bus_stops, parks
        Bus stops and public green (``green_kind``, ``area_m2``).
    green_min_area_m2, park_min_area_m2
        Least area (m²) of a ``green`` and a ``park``.

    Returns
    -------
    dict of str to ndarray
    """
    out: dict[str, NDArray[np.object_]] = {
        str(cat): np.asarray(g.geometry.values, dtype=object)
        for cat, g in facilities.groupby("category", sort=True)
    }
    if bus_stops is not None:
        out["bus_stop"] = np.asarray(bus_stops.geometry.values, dtype=object)
    if parks is not None:
        area = parks["area_m2"].to_numpy(dtype=float)
        is_park = (parks["green_kind"] == "park").to_numpy() & (area >= park_min_area_m2)
        out["park"] = np.asarray(parks.geometry.values[is_park], dtype=object)
        out["green"] = np.asarray(parks.geometry.values[area >= green_min_area_m2], dtype=object)
    return out


def access_table(
    net: WalkNetwork,
    homes: EdgeAttachment,
    geometries: Mapping[str, NDArray[np.object_]],
    *,
    limit_m: float | Mapping[str, float] = 1000.0,
    boundary_step_m: float = 2.0,
) -> pd.DataFrame:
    """Walking distance (m) from each home to the nearest facility of each category.

    Columns ``dist_<category>_m``; ``inf`` where none is within the category's limit. One bounded
    multi-source Dijkstra per category (see :mod:`geoplan.network.access`).

    Parameters
    ----------
    net
        The walk network.
    homes
        Home attachments.
    geometries
        Category → facility geometries (:func:`category_geometries`).
    limit_m
        Search limit (m), one or per category.
    boundary_step_m
        Spacing (m) of the outline points of polygon facilities.

    Returns
    -------
    DataFrame
        One ``dist_<category>_m`` column per category.
    """
    cols: dict[str, F64] = {}
    for cat, geoms in geometries.items():
        lim = limit_m.get(cat, 1000.0) if isinstance(limit_m, Mapping) else limit_m
        src = facility_sources(net, geoms, boundary_step_m=boundary_step_m)
        cols[dist_column(cat)] = nearest_distance_m(net, homes, src, limit_m=lim)
    return pd.DataFrame(cols)


def distances_of(table: pd.DataFrame, cat: str) -> F64:
    """Column ``dist_<cat>_m`` of a distance table, ``inf`` if the category is absent.

    Parameters
    ----------
    table
        The access table.
    cat
        A category.

    Returns
    -------
    ndarray
        Metres per home (``inf`` where absent).
    """
    col = dist_column(cat)
    if col in table.columns:
        return table[col].to_numpy(dtype=float)
    return np.full(len(table), np.inf)
