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

import hashlib
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
import shapely.geometry
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

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
    where the data cannot say. ``geometries`` holds coverage areas (metric CRS) for maps and
    ``layers`` their description (:class:`geoplan.names.CoverageLayer`, same keys).
    """

    name: str
    per_home: pd.DataFrame
    summary: pd.DataFrame
    geometries: dict[str, BaseGeometry] = field(default_factory=dict)
    layers: dict[str, CoverageLayer] = field(default_factory=dict)


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


_PARTS_TREES: OrderedDict[int, tuple[BaseGeometry, NDArray[np.object_], shapely.STRtree]] = (
    OrderedDict()
)


def _parts_tree(a: BaseGeometry) -> tuple[NDArray[np.object_], shapely.STRtree]:
    """The parts of ``a`` and their STRtree (kept for the residential land, the study area)."""
    got = _PARTS_TREES.get(id(a))
    if got is not None and got[0] is a:
        _PARTS_TREES.move_to_end(id(a))
        return got[1], got[2]
    parts = shapely.get_parts(a)
    tree = shapely.STRtree(parts)
    _PARTS_TREES[id(a)] = (a, parts, tree)
    if len(_PARTS_TREES) > 8:
        _PARTS_TREES.popitem(last=False)
    return parts, tree


def overlap_area(a: BaseGeometry, b: BaseGeometry) -> float:
    """Area (m²) of ``a ∩ b`` for two valid (multi)polygons, overlaying only parts that meet.

    The parts of a valid multipolygon do not overlap, so the area of the intersection is the sum
    over every pair of parts whose extents meet (STRtree) — work that grows with the area
    covered, not with the product of the two whole geometries (a city's residential land and a
    coverage union each have thousands of parts). Equal to ``intersection(a, b).area`` up to
    the order of the sum (~1e-15 relative).

    Parameters
    ----------
    a, b
        Areas (metric CRS).

    Returns
    -------
    float
        m².
    """
    pa, tree = _parts_tree(a)
    pb = shapely.get_parts(b)
    if pa.size == 0 or pb.size == 0:
        return 0.0
    if pa.size == 1 and pb.size == 1:
        return float(shapely.area(shapely.intersection(a, b)))
    ib, ia = tree.query(pb, predicate="intersects")
    if not ia.size:
        return 0.0
    # a part of a lying wholly inside a part of b counts whole, without an overlay
    shapely.prepare(pb)
    whole = shapely.contains_properly(pb[ib], pa[ia])
    cut = shapely.area(shapely.intersection(pa[ia[~whole]], pb[ib[~whole]]))
    return float(np.sum(shapely.area(pa[ia[whole]])) + np.sum(cut))


def buffer_share(
    sources: Sequence[BaseGeometry] | NDArray[np.object_],
    radius_m: float | NDArray[np.float64],
    land: BaseGeometry,
) -> tuple[float | None, BaseGeometry]:
    """Share of ``land`` area inside the union of ``radius_m`` buffers around ``sources``.

    Returns the share (None if ``land`` is empty) and the union of buffers.

    Parameters
    ----------
    sources
        Facility geometries (metric CRS).
    radius_m
        One radius, or one per source (m).
    land
        Residential land (metric CRS).

    Returns
    -------
    tuple
        ``(share of the land covered or None, the cover)``.
    """
    cover = union_of_buffers(np.asarray(sources, dtype=object), radius_m)
    area = land.area
    if area <= 0:
        return None, cover
    return overlap_area(land, cover) / area, cover


def residential_land(residential: gpd.GeoDataFrame) -> BaseGeometry:
    """Union of the residential parcels (metric CRS), memoised by content.

    Parameters
    ----------
    residential
        Residential land polygons (metric CRS).

    Returns
    -------
    BaseGeometry
    """
    return union_of_buffers(np.asarray(residential.geometry.values, dtype=object), 0.0)


#: content-keyed memo of unions (scenario re-runs recompute only what changed); bounded LRU
_UNIONS: OrderedDict[str, BaseGeometry] = OrderedDict()


_UNIONS_MAX = 256


def _union_key(geoms: NDArray[np.object_], radius_m: float | F64) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    h.update(b"".join(shapely.to_wkb(geoms)))
    h.update(
        np.ascontiguousarray(np.broadcast_to(np.asarray(radius_m, float), geoms.shape)).tobytes()
    )
    return h.hexdigest()


def _compute_union(geoms: NDArray[np.object_], radius_m: float | F64) -> BaseGeometry:
    if np.all(np.asarray(radius_m) == 0):
        return polygon_union(geoms)
    return shapely.union_all(shapely.buffer(geoms, radius_m, quad_segs=16))


#: a plain union whose polygons meet more than this many others on average is overlaid whole
_MEETS_PER_POLYGON = 20

_CHUNK = 4096


def polygon_union(geoms: NDArray[np.object_]) -> BaseGeometry:
    """Union of (multi)polygons, overlaying only the ones that meet.

    Polygons that touch or overlap no other (most residential parcels, park outlines) are kept as
    they are; each group of polygons that meet is overlaid alone (``union_all``). Groups do not
    meet one another, so their parts form a valid multipolygon: the same ground as
    ``shapely.union_all(geoms)`` (symmetric difference 0 m² on the test cities, area to ~1e-15),
    at a cost that follows the overlaps instead of the number of polygons (Chengdu 17×17:
    53,754 parcels, none meeting another, 7.5 → 0.4 s). Other geometry types, and polygons that
    meet many others, and invalid or empty ones, go to ``union_all`` whole.

    Parameters
    ----------
    geoms
        Polygons (metric CRS).

    Returns
    -------
    BaseGeometry
    """
    n = geoms.shape[0]
    tid = shapely.get_type_id(geoms)
    if (
        n < 2
        or not np.all((tid == 3) | (tid == 6))
        or shapely.is_empty(geoms).any()
        or not shapely.is_valid(geoms).all()
    ):
        return shapely.union_all(geoms)
    tree = shapely.STRtree(geoms)
    pairs_i, pairs_j = [], []
    total = 0
    for a in range(0, n, _CHUNK):
        i, j = tree.query(geoms[a : a + _CHUNK], predicate="intersects")
        total += i.shape[0]
        if total > _MEETS_PER_POLYGON * n:
            return shapely.union_all(geoms)
        pairs_i.append(i + a)
        pairs_j.append(j)
    i, j = np.concatenate(pairs_i), np.concatenate(pairs_j)
    graph = sp.coo_matrix((np.ones(i.shape[0], dtype=np.float32), (i, j)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    lab = label[order]
    starts = np.flatnonzero(np.concatenate([[True], lab[1:] != lab[:-1]]))
    pieces = [
        geoms[grp[0]] if grp.shape[0] == 1 else shapely.union_all(geoms[grp])
        for grp in np.split(order, starts[1:])
    ]
    parts = shapely.get_parts(np.asarray(pieces, dtype=object))
    parts = parts[~shapely.is_empty(parts)]
    if parts.shape[0] == 1:
        return parts[0]
    return shapely.multipolygons(parts)


def _remember(key: str, out: BaseGeometry) -> None:
    _UNIONS[key] = out
    if len(_UNIONS) > _UNIONS_MAX:
        _UNIONS.popitem(last=False)


def union_of_buffers(geoms: NDArray[np.object_], radius_m: float | F64) -> BaseGeometry:
    """Union of ``radius_m`` buffers (quad_segs=16) around ``geoms``; radius 0 = plain union.

    Memoised by content (WKB of the geometries and the radii), so re-running a scenario in which
    one layer changed does not redo the unions of the others. The result is the same geometry
    as computing it afresh.

    Parameters
    ----------
    geoms
        Geometries (metric CRS).
    radius_m
        One radius, or one per geometry (m).

    Returns
    -------
    BaseGeometry
    """
    if geoms.size == 0:
        return shapely.Polygon()
    key = _union_key(geoms, radius_m)
    hit = _UNIONS.get(key)
    if hit is not None:
        _UNIONS.move_to_end(key)
        return hit
    out = _compute_union(geoms, radius_m)
    _remember(key, out)
    return out


def prefetch_unions(jobs: Sequence[tuple[NDArray[np.object_], float]]) -> None:
    """Compute the buffer unions ``union_of_buffers`` will be asked for, on every core.

    GEOS releases the GIL inside ``buffer`` and ``union_all``, so independent unions (one per
    category and radius) run side by side in threads; each is the same call as
    :func:`union_of_buffers` makes, so the geometries are identical. Largest first.

    Parameters
    ----------
    jobs
        ``(geometries, radius m)`` pairs a check will ask for.
    """
    todo: dict[str, tuple[NDArray[np.object_], float]] = {}
    for g, r in jobs:
        if g.size:
            key = _union_key(g, r)
            if key not in _UNIONS:
                todo[key] = (g, r)
    workers = min(len(todo), os.cpu_count() or 1)
    if workers < 2:
        return
    order = sorted(todo, key=lambda k: -todo[k][0].size)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = pool.map(lambda k: _compute_union(*todo[k]), order)
        for key, out in zip(order, done, strict=True):
            _remember(key, out)


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
