"""The headline indicators, one pure function each.

Every coverage indicator is measured two ways, reported side by side:

- **buffer** (服务半径, the official method): residential land area inside the union of
  straight-line radii around the facilities ÷ total residential land area (城市体检 2021;
  GB 50220-95 for bus stops over urban land);
- **network** (walking distance on the street network): the share of homes whose walking distance
  (:mod:`geoplan.access`) is within the radius — by count of homes, by the residential land area
  the homes stand for, and by residents where population is known.

Functions take plain inputs (GeoDataFrames in one metric CRS, arrays of distances in metres) and
return an :class:`IndicatorResult`: per-home values aligned to the homes index and a tidy summary
table. They never modify their inputs.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from . import taxonomy as tx
from .access import EdgeAttachment, facility_sources, nearest_distance_m
from .network import WalkNetwork
from .targets import LifeCircles, load_life_circles

__all__ = [
    "SUMMARY_COLUMNS",
    "IndicatorResult",
    "access_table",
    "bus_stop_coverage",
    "column_name",
    "green_cover_ratio",
    "green_land_ratio",
    "intersection_density",
    "life_circle_coverage",
    "park_area_per_resident",
    "park_coverage",
    "road_area_ratio",
    "road_density",
    "themed_circle_coverage",
]

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
]

#: pseudo-categories served by layers other than ``facilities``
LAYER_CATEGORIES = ("bus_stop", "park", "green")


def column_name(stem: str, *, radius_m: float | None = None, method: str | None = None) -> str:
    """The one place output column names are made: ``bus_cov_500_network``, ``dist_park_m``."""
    parts = [stem]
    if radius_m is not None:
        parts.append(f"{radius_m:g}")
    if method is not None:
        parts.append(method)
    return "_".join(parts)


@dataclass
class IndicatorResult:
    """Per-home values (index aligned to the homes) and a tidy summary table.

    ``summary`` has the columns :data:`SUMMARY_COLUMNS`; ``value`` is NaN with ``note`` "no data"
    where the data cannot say. ``geometries`` holds coverage areas (metric CRS) for maps.
    """

    name: str
    per_home: pd.DataFrame
    summary: pd.DataFrame
    geometries: dict[str, BaseGeometry] = field(default_factory=dict)


def _row(
    indicator: str,
    measure: str,
    method: str,
    basis: str,
    value: float | None,
    unit: str,
    label_zh: str,
    label_en: str,
    note: str = "",
) -> dict[str, Any]:
    return {
        "indicator": indicator,
        "measure": measure,
        "method": method,
        "basis": basis,
        "value": np.nan if value is None else float(value),
        "unit": unit,
        "label_zh": label_zh,
        "label_en": label_en,
        "note": note,
    }


def _no_data_rows(
    indicator: str, measure: str, label_zh: str, label_en: str, note: str
) -> list[dict[str, Any]]:
    """A coverage measure that the data cannot give: its buffer and network rows, value NaN."""
    return [
        _row(indicator, measure, method, basis, None, "share", label_zh, label_en, note)
        for method, basis in (("buffer", "residential_area"), ("network", "homes"))
    ]


def _summary(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=SUMMARY_COLUMNS)


# --------------------------------------------------------------------------------------------
# shares


def _weighted_share(mask: NDArray[np.bool_], weights: F64) -> float | None:
    total = float(np.nansum(weights))
    if total <= 0:
        return None
    return float(np.nansum(weights[mask]) / total)


def network_shares(covered: NDArray[np.bool_], homes: gpd.GeoDataFrame) -> dict[str, float | None]:
    """Share of homes covered: by count, by residential land area, by residents (if known)."""
    n = covered.shape[0]
    out: dict[str, float | None] = {"homes": float(covered.mean()) if n else None}
    out["residential_area"] = _weighted_share(covered, homes["area_m2"].to_numpy(dtype=float))
    res = homes["residents"].to_numpy(dtype=float)
    out["residents"] = _weighted_share(covered, res) if np.isfinite(res).any() else None
    return out


def _network_rows(
    indicator: str,
    measure: str,
    covered: NDArray[np.bool_],
    homes: gpd.GeoDataFrame,
    label_zh: str,
    label_en: str,
    note: str = "",
) -> list[dict[str, Any]]:
    shares = network_shares(covered, homes)
    rows = []
    for basis, v in shares.items():
        if basis == "residents" and v is None:
            continue
        rows.append(
            _row(
                indicator,
                measure,
                "network",
                basis,
                v,
                "share",
                label_zh,
                label_en,
                note if v is not None else (note or "no data"),
            )
        )
    return rows


def buffer_share(
    sources: Sequence[BaseGeometry] | NDArray[np.object_],
    radius_m: float | NDArray[np.float64],
    land: BaseGeometry,
) -> tuple[float | None, BaseGeometry]:
    """Share of ``land`` area inside the union of ``radius_m`` buffers around ``sources``.

    Returns the share (None if ``land`` is empty) and the union of buffers.
    """
    cover = union_of_buffers(np.asarray(sources, dtype=object), radius_m)
    area = land.area
    if area <= 0:
        return None, cover
    return float(shapely.intersection(land, cover).area / area), cover


def _land(residential: gpd.GeoDataFrame) -> BaseGeometry:
    return union_of_buffers(np.asarray(residential.geometry.values, dtype=object), 0.0)


#: content-keyed memo of unions (scenario re-runs recompute only what changed); bounded LRU
_UNIONS: OrderedDict[str, BaseGeometry] = OrderedDict()
_UNIONS_MAX = 256


def union_of_buffers(geoms: NDArray[np.object_], radius_m: float | F64) -> BaseGeometry:
    """Union of ``radius_m`` buffers (quad_segs=16) around ``geoms``; radius 0 = plain union.

    Memoised by content (WKB of the geometries and the radii), so re-running a scenario in which
    one layer changed does not redo the unions of the others. The result is the same geometry
    as computing it afresh.
    """
    if geoms.size == 0:
        return shapely.Polygon()
    h = hashlib.sha1(usedforsecurity=False)
    h.update(b"".join(shapely.to_wkb(geoms)))
    h.update(
        np.ascontiguousarray(np.broadcast_to(np.asarray(radius_m, float), geoms.shape)).tobytes()
    )
    key = h.hexdigest()
    hit = _UNIONS.get(key)
    if hit is not None:
        _UNIONS.move_to_end(key)
        return hit
    if np.all(np.asarray(radius_m) == 0):
        out = shapely.union_all(geoms)
    else:
        out = shapely.union_all(shapely.buffer(geoms, radius_m, quad_segs=16))
    _UNIONS[key] = out
    if len(_UNIONS) > _UNIONS_MAX:
        _UNIONS.popitem(last=False)
    return out


# --------------------------------------------------------------------------------------------
# access table


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
    boundary_step_m: float = 25.0,
) -> pd.DataFrame:
    """Walking distance (m) from each home to the nearest facility of each category.

    Columns ``dist_<category>_m``; ``inf`` where none is within the category's limit. One bounded
    multi-source Dijkstra per category (see :mod:`geoplan.access`).
    """
    cols: dict[str, F64] = {}
    for cat, geoms in geometries.items():
        lim = limit_m.get(cat, 1000.0) if isinstance(limit_m, Mapping) else limit_m
        src = facility_sources(net, geoms, boundary_step_m=boundary_step_m)
        cols[column_name(f"dist_{cat}", method=None) + "_m"] = nearest_distance_m(
            net, homes, src, limit_m=lim
        )
    return pd.DataFrame(cols)


def _dist(table: pd.DataFrame, cat: str) -> F64:
    col = f"dist_{cat}_m"
    if col in table.columns:
        return table[col].to_numpy(dtype=float)
    return np.full(len(table), np.inf)


# --------------------------------------------------------------------------------------------
# life circles


def _requirement_met(
    table: pd.DataFrame,
    cat: str,
    alternatives: Mapping[str, Sequence[str]],
    radius_m: float,
) -> NDArray[np.bool_]:
    d = _dist(table, cat)
    for alt in alternatives.get(cat, ()):
        d = np.minimum(d, _dist(table, alt))
    return np.asarray(d <= radius_m)


def _buffer_union(
    geoms: Mapping[str, NDArray[np.object_]],
    cats: Sequence[str],
    radius_m: float,
) -> BaseGeometry:
    parts = [g for c in cats for g in geoms.get(c, np.zeros(0, dtype=object))]
    return union_of_buffers(np.asarray(parts, dtype=object), radius_m)


def _circle_rows(
    indicator: str,
    key: str,
    label_zh: str,
    label_en: str,
    cats: Sequence[str],
    alternatives: Mapping[str, Sequence[str]],
    radius_m: float,
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    land: BaseGeometry,
    geoms: Mapping[str, NDArray[np.object_]],
) -> tuple[list[dict[str, Any]], dict[str, NDArray[np.bool_]], dict[str, BaseGeometry]]:
    cat_labels = tx.categories()
    rows: list[dict[str, Any]] = []
    per_home: dict[str, NDArray[np.bool_]] = {}
    geo: dict[str, BaseGeometry] = {}
    have = [c for c in cats if any(len(geoms.get(x, ())) for x in (c, *alternatives.get(c, ())))]
    missing = [c for c in cats if c not in have]
    all_net = np.ones(len(homes), dtype=bool)
    all_buf: BaseGeometry | None = None
    for cat in cats:
        lab = cat_labels.get(cat)
        czh = lab.label_zh if lab else cat
        cen = lab.label_en if lab else cat
        group = [cat, *alternatives.get(cat, ())]
        measure = f"{key}:{cat}"
        if cat in missing:
            rows += _no_data_rows(
                indicator,
                measure,
                f"{label_zh}·{czh}",
                f"{label_en} · {cen}",
                "no data: no facility of this category in the data",
            )
            continue
        met = _requirement_met(table, cat, alternatives, radius_m)
        all_net &= met
        per_home[column_name(f"lc_{key}_{cat}", method="network")] = met
        rows += _network_rows(
            indicator, measure, met, homes, f"{label_zh}·{czh}", f"{label_en} · {cen}"
        )
        cover = _buffer_union(geoms, group, radius_m)
        share = float(shapely.intersection(land, cover).area / land.area) if land.area else None
        rows.append(
            _row(
                indicator,
                measure,
                "buffer",
                "residential_area",
                share,
                "share",
                f"{label_zh}·{czh}",
                f"{label_en} · {cen}",
            )
        )
        all_buf = cover if all_buf is None else shapely.intersection(all_buf, cover)
    note = ""
    if missing:
        note = "excludes categories with no data: " + ", ".join(missing)
    if not have:
        rows += _no_data_rows(
            indicator, key, label_zh, label_en, "no data: no required category has a facility"
        )
        return rows, per_home, geo
    per_home[column_name(f"lc_{key}_complete", method="network")] = all_net
    rows += _network_rows(indicator, key, all_net, homes, label_zh, label_en, note)
    assert all_buf is not None
    share = float(shapely.intersection(land, all_buf).area / land.area) if land.area else None
    rows.append(
        _row(indicator, key, "buffer", "residential_area", share, "share", label_zh, label_en, note)
    )
    geo[f"{key}_complete_buffer"] = all_buf
    return rows, per_home, geo


def life_circle_coverage(
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    geometries: Mapping[str, NDArray[np.object_]],
    *,
    circles: LifeCircles | None = None,
    levels: Sequence[str] = ("5min", "10min", "15min"),
    radius_m: Mapping[str, float] | None = None,
) -> IndicatorResult:
    """生活圈覆盖率: per level and category, and for every required category of the level.

    GB 50180-2018 (levels 5 / 10 / 15 min ≈ 300 / 500 / 1000 m; categories from
    ``life_circles.yaml``). A category with no facility in the data is reported as "no data",
    not 0 %; the all-category share then covers the categories that have data and says so.

    Parameters
    ----------
    table
        :func:`access_table` output for ``homes`` (metres).
    homes
        Homes (``area_m2``, ``residents``), same order as ``table``.
    residential
        Residential land polygons (metric CRS) for the buffer method.
    geometries
        Facility geometries per category (:func:`category_geometries`), for the buffer method.
    circles
        Life-circle definitions (default: the bundled ``life_circles.yaml``).
    levels
        Levels to report.
    radius_m
        Override of each level's radius (m), e.g. ``{"15min": 800}``.
    """
    lc = circles or load_life_circles()
    land = _land(residential)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}
    for key in levels:
        lev = lc.levels[key]
        r = (radius_m or {}).get(key, lev.radius_m)
        rr, ph, gg = _circle_rows(
            "life_circle",
            key,
            lev.label_zh,
            lev.label_en,
            lev.required,
            lev.alternatives,
            r,
            table,
            homes,
            land,
            geometries,
        )
        rows += rr
        per_home.update(ph)
        geo.update(gg)
    return IndicatorResult(
        "life_circle", pd.DataFrame(per_home, index=homes.index), _summary(rows), geo
    )


def themed_circle_coverage(
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    geometries: Mapping[str, NDArray[np.object_]],
    *,
    name: str,
    radius_m: float | None = None,
    circles: LifeCircles | None = None,
) -> IndicatorResult:
    """Themed circles of the plans (15分钟健身圈, 阅读圈, 医疗圈, 养老服务圈 …).

    Share of homes reaching every category of the circle within ``radius_m`` (default from
    ``life_circles.yaml``), both methods.
    """
    lc = circles or load_life_circles()
    c = lc.circles[name]
    r = c.radius_m if radius_m is None else radius_m
    key = f"{name}_{r:g}"
    rows, ph, geo = _circle_rows(
        "circle",
        key,
        c.label_zh,
        c.label_en,
        c.categories,
        c.alternatives,
        r,
        table,
        homes,
        _land(residential),
        geometries,
    )
    return IndicatorResult("circle", pd.DataFrame(ph, index=homes.index), _summary(rows), geo)


# --------------------------------------------------------------------------------------------
# parks and green


def park_coverage(
    homes: gpd.GeoDataFrame,
    home_att: EdgeAttachment,
    net: WalkNetwork,
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    tiers: Sequence[tuple[float, float]] = ((5000.0, 500.0), (2000.0, 300.0)),
    green_radius_m: float = 300.0,
    green_min_area_m2: float = 400.0,
    park_radius_m: float = 500.0,
    park_min_area_m2: float = 5000.0,
    boundary_step_m: float = 25.0,
) -> IndicatorResult:
    """公园绿地服务半径覆盖率 and "300米见绿、500米见园".

    - service coverage: parks ≥ 5000 m² serve 500 m, 2000–5000 m² serve 300 m (``tiers`` =
      ``(min_area_m2, radius_m)``, largest first; smaller parks do not count); buffer = residential
      land within a tier radius of a park's boundary ÷ residential land (城市体检 2021);
    - 300米见绿: any public green space ≥ ``green_min_area_m2`` within ``green_radius_m``;
    - 500米见园: a park (``green_kind == "park"``) ≥ ``park_min_area_m2`` within ``park_radius_m``.

    Park size uses the whole feature's area (``area_m2``), also for parks cut by the boundary.
    Network distances reach parks at their edge (:func:`geoplan.access.facility_sources`).
    """
    land = _land(residential)
    area = parks["area_m2"].to_numpy(dtype=float)
    is_park = (parks["green_kind"] == "park").to_numpy()
    geoms = np.asarray(parks.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}

    def net_within(mask: NDArray[np.bool_], radius: float) -> NDArray[np.bool_]:
        src = facility_sources(net, geoms[mask], boundary_step_m=boundary_step_m)
        return np.asarray(nearest_distance_m(net, home_att, src, limit_m=radius) <= radius)

    # service-radius coverage, tiered
    upper = np.inf
    covered = np.zeros(len(homes), dtype=bool)
    radii = np.zeros(len(parks))
    for min_area, radius in sorted(tiers, key=lambda t: -t[0]):
        m = is_park & (area >= min_area) & (area < upper)
        radii[m] = radius
        covered |= net_within(m, radius)
        upper = min_area
    served = radii > 0
    per_home[column_name("park_service", method="network")] = covered
    lzh, len_ = "公园绿地服务半径覆盖率", "Park service-radius coverage"
    tier_note = "; ".join(f"≥{a:g} m² → {r:g} m" for a, r in tiers)
    if not served.any():
        rows += _no_data_rows(
            "park_service_coverage", "park_service", lzh, len_, "no data: no park in a size tier"
        )
    else:
        share, cover = buffer_share(geoms[served], radii[served], land)
        geo["park_service_buffer"] = cover
        rows.append(
            _row(
                "park_service_coverage",
                "park_service",
                "buffer",
                "residential_area",
                share,
                "share",
                lzh,
                len_,
                tier_note,
            )
        )
        rows += _network_rows(
            "park_service_coverage", "park_service", covered, homes, lzh, len_, tier_note
        )

    for ind, measure, mask, radius, zh, en in (
        (
            "green_300m",
            f"green_{green_radius_m:g}",
            area >= green_min_area_m2,
            green_radius_m,
            "300米见绿",
            "Green space within 300 m",
        ),
        (
            "park_500m",
            f"park_{park_radius_m:g}",
            is_park & (area >= park_min_area_m2),
            park_radius_m,
            "500米见园",
            "Park within 500 m",
        ),
    ):
        if not mask.any():
            rows += _no_data_rows(ind, measure, zh, en, "no data: no such green space")
            continue
        cov = net_within(mask, radius)
        per_home[column_name(measure, method="network")] = cov
        share, cover = buffer_share(geoms[mask], radius, land)
        geo[f"{measure}_buffer"] = cover
        rows.append(_row(ind, measure, "buffer", "residential_area", share, "share", zh, en))
        rows += _network_rows(ind, measure, cov, homes, zh, en)
    return IndicatorResult(
        "park_coverage", pd.DataFrame(per_home, index=homes.index), _summary(rows), geo
    )


def green_land_ratio(parks: gpd.GeoDataFrame, boundary: BaseGeometry) -> IndicatorResult:
    """绿地率 (OSM approximation): area of public green (parks and other green, overlaps counted
    once) inside the boundary ÷ boundary area. CJJ/T 85-2017 counts G1+G2+G3 share+XG; OSM rarely
    maps 附属绿地 (green inside compounds), so this is a lower bound."""
    g = shapely.union_all(parks.geometry.values) if len(parks) else shapely.Polygon()
    v = float(shapely.intersection(g, boundary).area / boundary.area) if boundary.area else None
    row = _row(
        "green_land_ratio",
        "green_land_ratio",
        "area",
        "boundary_area",
        v,
        "share",
        "绿地率（OSM近似）",
        "Green land ratio (OSM approximation)",
        "lower bound: OSM rarely maps green inside compounds",
    )
    return IndicatorResult("green_land_ratio", pd.DataFrame(), _summary([row]))


def park_area_per_resident(parks: gpd.GeoDataFrame, residents: float | None) -> IndicatorResult:
    """人均公园绿地面积 (m²/person): park area in the boundary ÷ residents (needs population)."""
    park_area = float(
        parks.loc[parks["green_kind"] == "park", "area_in_boundary_m2"].sum()
        if "area_in_boundary_m2" in parks
        else parks.loc[parks["green_kind"] == "park"].area.sum()
    )
    v = park_area / residents if residents else None
    row = _row(
        "park_area_per_resident",
        "park_area_per_resident",
        "area",
        "residents",
        v,
        "m2/person",
        "人均公园绿地面积",
        "Park area per resident",
        "" if v is not None else "no data: needs population",
    )
    return IndicatorResult("park_area_per_resident", pd.DataFrame(), _summary([row]))


# --------------------------------------------------------------------------------------------
# bus stops


def bus_stop_coverage(
    homes: gpd.GeoDataFrame,
    home_att: EdgeAttachment,
    net: WalkNetwork,
    stops: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    *,
    radii_m: Sequence[float] = (300.0, 500.0),
    grid_spacing_m: float = 100.0,
) -> IndicatorResult:
    """公交站点覆盖率 at each radius, over built-up (boundary) land, residential land and homes.

    GB 50220-95: area within 300 m of a stop ≥ 50 % of urban land, within 500 m ≥ 90 %;
    中发〔2016〕6号 and the seed plans: 500 m coverage = 100 %.

    - buffer / boundary_area: boundary area within ``r`` of a stop ÷ boundary area;
    - buffer / residential_area: the official residential-land version;
    - network / homes, residential_area, residents: walking distance from homes;
    - network / boundary_area: share of a ``grid_spacing_m`` grid of points over the boundary
      within walking distance ``r`` (each point walks straight to its nearest street first).
    """
    land = _land(residential)
    geoms = np.asarray(stops.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}
    grid_xy, grid_shape, grid_inside = _grid_cells(boundary, grid_spacing_m)
    grid = shapely.points(grid_xy[grid_inside])
    from .access import attach_points

    src = facility_sources(net, geoms)
    rmax = max(radii_m)
    # a grid point farther than rmax from every street cannot be covered: bounded search
    grid_att = attach_points(net, grid, max_distance_m=rmax)
    d_home = nearest_distance_m(net, home_att, src, limit_m=rmax)
    d_grid = np.full(grid.shape[0], np.inf)
    d_grid[grid_att.owner] = nearest_distance_m(net, grid_att, src, limit_m=rmax)
    for r in radii_m:
        ind, measure = "bus_stop_coverage", f"bus_cov_{r:g}"
        zh, en = f"公交站点{r:g}米覆盖率", f"Bus stop {r:g} m coverage"
        if geoms.size == 0:
            rows += _no_data_rows(ind, measure, zh, en, "no data: no bus stop in the data")
            continue
        share_land, cover = buffer_share(geoms, r, land)
        share_all = float(shapely.intersection(boundary, cover).area / boundary.area)
        geo[f"{measure}_buffer"] = cover
        rows.append(_row(ind, measure, "buffer", "boundary_area", share_all, "share", zh, en))
        rows.append(_row(ind, measure, "buffer", "residential_area", share_land, "share", zh, en))
        cov = d_home <= r
        per_home[column_name(measure, method="network")] = cov
        rows += _network_rows(ind, measure, cov, homes, zh, en)
        gcov = d_grid <= r
        rows.append(
            _row(
                ind,
                measure,
                "network",
                "boundary_area",
                float(gcov.mean()) if gcov.size else None,
                "share",
                zh,
                en,
                f"{grid_spacing_m:g} m grid",
            )
        )
        if gcov.any():  # covered grid cells as one polygon, for maps
            geo[f"{measure}_network"] = _cells_polygon(
                grid_xy, grid_shape, grid_inside, gcov, grid_spacing_m, boundary
            )
    return IndicatorResult(
        "bus_stop_coverage", pd.DataFrame(per_home, index=homes.index), _summary(rows), geo
    )


def _grid_cells(
    poly: BaseGeometry, spacing_m: float
) -> tuple[F64, tuple[int, int], NDArray[np.bool_]]:
    """Centres of a regular grid over ``poly``'s bounds (row-major, rows from the south),
    the grid's (rows, cols) and which centres lie inside ``poly``."""
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    shapely.prepare(poly)
    inside = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
    return xy, (ys.shape[0], xs.shape[0]), inside


def _grid(poly: BaseGeometry, spacing_m: float) -> NDArray[np.object_]:
    """Grid points (``spacing_m``) inside ``poly``."""
    xy, _, inside = _grid_cells(poly, spacing_m)
    return np.asarray(shapely.points(xy[inside]), dtype=object)


def _cells_polygon(
    xy: F64,
    shape: tuple[int, int],
    inside: NDArray[np.bool_],
    covered: NDArray[np.bool_],
    spacing_m: float,
    boundary: BaseGeometry,
) -> BaseGeometry:
    """Union of the covered grid cells as polygons (raster → vector with rasterio.features)."""
    from rasterio.features import shapes
    from rasterio.transform import from_origin

    mask = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    mask[np.flatnonzero(inside)[covered]] = 1
    grid = mask.reshape(shape)[::-1]  # rows from the north for the raster transform
    x0 = xy[0, 0] - spacing_m / 2
    y1 = xy[-1, 1] + spacing_m / 2
    tr = from_origin(x0, y1, spacing_m, spacing_m)
    with warnings.catch_warnings():  # rasterio's internal Affine `*` (affine >= 2.4)
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        polys = [shapely.geometry.shape(g) for g, v in shapes(grid, mask=grid == 1, transform=tr)]
    return shapely.intersection(shapely.union_all(polys), boundary)


# --------------------------------------------------------------------------------------------
# roads


def _length_inside(lines: NDArray[np.object_], boundary: BaseGeometry) -> F64:
    """Length (m) of each line inside ``boundary``, stretches a way runs twice counted once.

    Lines crossing the boundary are intersected with it; non-simple lines inside are only
    dissolved with themselves (``union(line, line)``): the same lengths without overlaying the
    boundary (a multipolygon of thousands of vertices in a large study area).
    """
    shapely.prepare(boundary)
    inside = shapely.contains_properly(boundary, lines)
    length = shapely.length(lines)
    # only a line that is not simple can run over itself
    twice = inside & ~shapely.is_simple(lines)
    if twice.any():
        length[twice] = shapely.length(shapely.union(lines[twice], lines[twice]))
    if (~inside).any():
        length[~inside] = shapely.length(shapely.intersection(lines[~inside], boundary))
    return length


def carriageway_weights(
    roads: gpd.GeoDataFrame, *, pair_distance_m: float = 40.0, min_angle_deg: float = 150.0
) -> F64:
    """Weight of each road way in centreline length: 0.5 for one carriageway of a divided road.

    Rule (documented for 路网密度): OSM maps a divided road as two one-way ways. A one-way way
    (``oneway`` yes/1/-1) whose midpoint lies within ``pair_distance_m`` of another one-way way
    of the same grade running the opposite way (direction angle ≥ ``min_angle_deg``) is one of a
    pair: each counts half its length, so the pair counts once. Every other way counts fully.
    """
    n = len(roads)
    w = np.ones(n)
    if n == 0:
        return w
    oneway = roads["oneway"].astype(str).isin(["yes", "1", "true", "-1"]).to_numpy()
    idx = np.flatnonzero(oneway)
    if idx.size < 2:
        return w
    geoms = roads.geometry.values[idx]
    rev = roads["oneway"].astype(str).to_numpy()[idx] == "-1"
    mids = shapely.line_interpolate_point(geoms, 0.5, normalized=True)
    # local direction at the midpoint
    a = shapely.line_interpolate_point(geoms, 0.45, normalized=True)
    b = shapely.line_interpolate_point(geoms, 0.55, normalized=True)
    d = shapely.get_coordinates(b) - shapely.get_coordinates(a)
    d[rev] *= -1
    tree = shapely.STRtree(geoms)
    i, j = tree.query(mids, predicate="dwithin", distance=pair_distance_m)
    grades = roads["grade"].to_numpy()[idx]
    keep = (i != j) & (grades[i] == grades[j])
    i, j = i[keep], j[keep]
    if i.size == 0:
        return w
    # direction of the other way near the projected point
    s = shapely.line_locate_point(geoms[j], mids[i], normalized=True)
    pa = shapely.line_interpolate_point(geoms[j], np.clip(s - 0.05, 0, 1), normalized=True)
    pb = shapely.line_interpolate_point(geoms[j], np.clip(s + 0.05, 0, 1), normalized=True)
    dj = shapely.get_coordinates(pb) - shapely.get_coordinates(pa)
    dj[rev[j]] *= -1
    di = d[i]
    cos = (di * dj).sum(axis=1) / (np.linalg.norm(di, axis=1) * np.linalg.norm(dj, axis=1) + 1e-12)
    paired = np.unique(i[cos <= np.cos(np.radians(min_angle_deg))])
    w[idx[paired]] = 0.5
    return w


def road_density(
    roads: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    *,
    grades: Sequence[str] | None = None,
    include_links: bool = False,
    pair_distance_m: float = 40.0,
) -> IndicatorResult:
    """路网密度 (km/km²): centreline length of city roads inside the boundary ÷ boundary area.

    GB 50220-95 counts 快速路, 主干路, 次干路, 支路 and excludes roads inside compounds (``service``
    → internal, see ``road_grades.yaml``). Divided roads count once (:func:`carriageway_weights`);
    ``*_link`` ramps are excluded unless ``include_links``. Reported in total and by grade.
    """
    g = tx.road_grades()
    counted = (
        list(grades) if grades is not None else [k for k, v in g.items() if v.counts_in_density]
    )
    r = roads
    if not include_links:
        r = r.loc[~r["highway"].astype(str).str.endswith("_link")]
    r = r.loc[r["grade"].isin(counted)]
    length = _length_inside(r.geometry.values, boundary)
    w = carriageway_weights(r, pair_distance_m=pair_distance_m)
    area_km2 = boundary.area / 1e6
    rows = []
    total = float((length * w).sum() / 1000.0 / area_km2) if area_km2 else None
    rows.append(
        _row(
            "road_density",
            "road_density",
            "centreline",
            "boundary_area",
            total,
            "km/km2",
            "路网密度",
            "Road network density",
            f"divided roads counted once; links {'in' if include_links else 'out'}",
        )
    )
    raw = float(length.sum() / 1000.0 / area_km2) if area_km2 else None
    rows.append(
        _row(
            "road_density",
            "road_density_all_carriageways",
            "way_sum",
            "boundary_area",
            raw,
            "km/km2",
            "路网密度（双幅路按两条计）",
            "Road density, both carriageways counted",
            "for comparison",
        )
    )
    grade_arr = r["grade"].to_numpy()
    for key in counted:
        m = grade_arr == key
        v = float((length[m] * w[m]).sum() / 1000.0 / area_km2) if area_km2 else None
        rows.append(
            _row(
                "road_density",
                f"road_density:{key}",
                "centreline",
                "boundary_area",
                v,
                "km/km2",
                f"路网密度·{g[key].label_zh}",
                f"Road density · {g[key].label_en}",
            )
        )
    return IndicatorResult("road_density", pd.DataFrame(), _summary(rows))


def intersection_density(
    net: WalkNetwork,
    boundary: BaseGeometry,
    *,
    highways: Iterable[str] | None = None,
    tolerance_m: float = 15.0,
) -> IndicatorResult:
    """交叉口密度 (per km²): road intersections inside the boundary ÷ boundary area.

    An intersection is a node where three or more road edges meet (OSMnx ``streets_per_node``
    ≥ 3) on the network restricted to road classes (``road_grades.yaml``); nodes within
    ``tolerance_m`` of each other (the two carriageways of a divided road) are merged into one,
    as ``osmnx.consolidate_intersections`` does.
    """
    hw = (
        set(highways)
        if highways is not None
        else {k for k in tx.load_yaml("road_grades.yaml")["highway"] if not k.endswith("_link")}
    )
    m = np.isin(net.edge_highway.astype(str), list(hw))
    deg = np.bincount(np.concatenate([net.edge_u[m], net.edge_v[m]]), minlength=net.n_nodes)
    nodes = np.flatnonzero(deg >= 3)
    pts = shapely.points(net.x[nodes], net.y[nodes])
    shapely.prepare(boundary)
    pts = pts[shapely.contains(boundary, pts)]
    n = _count_clusters(pts, tolerance_m)
    v = n / (boundary.area / 1e6) if boundary.area else None
    row = _row(
        "intersection_density",
        "intersection_density",
        "network",
        "boundary_area",
        v,
        "per_km2",
        "交叉口密度",
        "Intersection density",
        f"{n} intersections (≥3 road edges; merged within {tolerance_m:g} m)",
    )
    return IndicatorResult("intersection_density", pd.DataFrame(), _summary([row]))


def _count_clusters(pts: NDArray[np.object_], tolerance_m: float) -> int:
    """Groups of points chained by gaps ≤ ``tolerance_m`` (connected components of the
    "within tolerance" graph — the parts of the union of ``tolerance_m / 2`` buffers)."""
    if pts.size == 0:
        return 0
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    i, j = shapely.STRtree(pts).query(pts, predicate="dwithin", distance=tolerance_m)
    g = coo_matrix((np.ones(i.shape[0]), (i, j)), shape=(pts.size, pts.size))
    return int(connected_components(g, directed=False)[0])


def road_area_ratio(
    roads: gpd.GeoDataFrame, boundary: BaseGeometry, *, residents: float | None = None
) -> IndicatorResult:
    """道路面积率 and 人均道路面积 from centrelines × width.

    Width: OSM ``width`` (m), else ``lanes`` × 3.5 m, else the grade's default width
    (``road_grades.yaml``) — halved for one carriageway of a divided road.
    """
    g = tx.road_grades()
    r = roads.loc[roads["grade"].isin([k for k, v in g.items() if v.counts_in_density])]
    width = pd.to_numeric(r["width"].astype(str).str.extract(r"([\d.]+)")[0], errors="coerce")
    lanes = pd.to_numeric(r["lanes"].astype(str).str.extract(r"(\d+)")[0], errors="coerce")
    default = r["grade"].map({k: v.default_width_m for k, v in g.items()})
    w = carriageway_weights(r)
    est = width.fillna(lanes * 3.5).fillna(default * w).to_numpy(dtype=float)
    length = _length_inside(r.geometry.values, boundary)
    area = float((length * est).sum())
    ratio = area / boundary.area if boundary.area else None
    rows = [
        _row(
            "road_area_ratio",
            "road_area_ratio",
            "centreline×width",
            "boundary_area",
            ratio,
            "share",
            "道路面积率",
            "Road area ratio",
            "widths from OSM width/lanes, else defaults",
        ),
        _row(
            "road_area_per_resident",
            "road_area_per_resident",
            "centreline×width",
            "residents",
            area / residents if residents else None,
            "m2/person",
            "人均道路面积",
            "Road area per resident",
            "" if residents else "no data: needs population",
        ),
    ]
    return IndicatorResult("road_area_ratio", pd.DataFrame(), _summary(rows))


#: ESA WorldCover 2021 classes counted as vegetation: tree cover, shrubland, grassland,
#: herbaceous wetland, mangroves (cropland 40 is not urban greening)
WORLDCOVER_GREEN = (10, 20, 30, 90, 95)


def green_cover_ratio(
    raster: str | Any,
    boundary: BaseGeometry,
    *,
    crs: Any,
    classes: Sequence[int] = WORLDCOVER_GREEN,
    ndvi_min: float = 0.3,
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
    """
    import rasterio
    import rasterio.mask

    from ._errors import InputFileError

    opened = isinstance(raster, str | bytes) or hasattr(raster, "__fspath__")
    try:
        ds: Any = rasterio.open(raster) if opened else raster
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(f"{raster}: cannot open as a raster ({exc}); pass a GeoTIFF") from exc
    try:
        if ds.crs is None:
            raise InputFileError(f"{raster}: raster has no CRS; save it with one (e.g. EPSG:4326)")
        geom = gpd.GeoSeries([boundary], crs=crs).to_crs(ds.crs).iloc[0]
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
    row = _row(
        "green_cover_ratio",
        "green_cover_ratio",
        "raster",
        "boundary_area",
        v,
        "share",
        "绿化覆盖率",
        "Green cover ratio",
        "" if v is not None else "no data: the raster does not cover the boundary",
    )
    return IndicatorResult("green_cover_ratio", pd.DataFrame(), _summary([row]))
