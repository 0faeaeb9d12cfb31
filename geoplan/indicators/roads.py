"""Roads: 路网密度 (centreline km per km²), intersection density, 道路面积率."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan import _threads as threads
from geoplan._lines import points_along
from geoplan._memo import boundary_key, per_geometry
from geoplan.indicators.coverage import F64, IndicatorResult, Measure, measure_row, summary_frame
from geoplan.network.graph import WalkNetwork
from geoplan.rules import taxonomy as tx
from geoplan.rules.datafile import indicator_default

I64 = NDArray[np.int64]


#: length inside a boundary per (boundary, line) content digest: 路网密度 and 道路面积率 cut
#: mostly the same roads, and a scenario that adds roads cuts only the new ones; bounded
_LENGTHS: dict[tuple[bytes, bytes], float] = {}


_LENGTHS_MAX = 2_000_000


def _length_inside(lines: NDArray[np.object_], boundary: BaseGeometry) -> F64:
    """:func:`_length_inside_now`, remembered per line: the same floats, each cut once.

    The length of a line inside the boundary does not depend on the other lines.
    """
    lines = np.asarray(lines, dtype=object)
    if not lines.size:
        return np.zeros(0)
    got = per_geometry(
        _LENGTHS,
        boundary_key(boundary),
        lines,
        lambda g: _length_inside_now(g, boundary).tolist(),
        max_size=_LENGTHS_MAX,
    )
    out = np.asarray(got, dtype=np.float64)
    return out


def _length_inside_now(lines: NDArray[np.object_], boundary: BaseGeometry) -> F64:
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
    cross = np.flatnonzero(~inside)
    if cross.size:
        length[cross] = _length_in_parts(lines[cross], boundary)
    return length


def _length_in_parts(lines: NDArray[np.object_], boundary: BaseGeometry) -> F64:
    """Length (m) of each line inside ``boundary``, overlaying only the parts it meets.

    A built-up area is a multipolygon of thousands of parts: a line meeting one part is cut by
    that part alone (the same set as cutting by the whole, without overlaying every part); a
    line meeting several is cut by the whole.
    """
    parts = shapely.get_parts(boundary)
    if parts.shape[0] < 2:
        return np.asarray(shapely.length(shapely.intersection(lines, boundary)), dtype=float)
    # parts as the query side: GEOS prepares each (large) part once and tests the lines near it,
    # instead of testing each line against unprepared parts of thousands of vertices
    pi, li = shapely.STRtree(lines).query(parts, predicate="intersects")
    o = np.lexsort((pi, li))
    li, pi = li[o], pi[o]
    hits = np.bincount(li, minlength=lines.shape[0])
    out = np.zeros(lines.shape[0])
    one = np.flatnonzero(hits == 1)
    if one.size:
        part_of = np.empty(lines.shape[0], dtype=np.int64)
        part_of[li] = pi
        out[one] = shapely.length(
            threads.rows(shapely.intersection, lines[one], parts[part_of[one]])
        )
    many = np.flatnonzero(hits > 1)
    if many.size:
        # cut by the multipolygon of the parts the line meets (the others do not touch it)
        sel = np.flatnonzero(np.isin(li, many))
        order = sel[np.argsort(li[sel], kind="stable")]
        line_ids, inv = np.unique(li[order], return_inverse=True)
        own = shapely.multipolygons(parts[pi[order]], indices=inv)
        mp = np.empty(lines.shape[0], dtype=object)
        mp[line_ids] = own
        out[many] = shapely.length(threads.rows(shapely.intersection, lines[many], mp[many]))
    return out


def at_fraction(lines: NDArray[np.object_], frac: F64, which: I64 | None = None) -> F64:
    """(x, y) at ``frac`` of the length along ``lines[which]`` (default: each line once).

    Bit for bit ``shapely.line_interpolate_point(lines[which], frac, normalized=True)`` (GEOS
    interpolates at ``frac × length``), computed in numpy without a Point per place.

    Parameters
    ----------
    lines
        LineStrings (metric CRS).
    frac
        Fraction (0–1) of each line's length.
    which
        Index of the line of each fraction (default: one per line).

    Returns
    -------
    ndarray
        ``(n, 2)`` x, y (m).
    """
    rep = np.arange(lines.shape[0], dtype=np.int64) if which is None else which
    x, y = points_along(lines, rep, frac * shapely.length(lines)[rep])
    out = np.column_stack([x, y])
    # roads cut into several pieces by the boundary: GEOS walks from piece to piece
    multi = np.flatnonzero(shapely.get_type_id(lines)[rep] != 1)
    if multi.size:
        pts = shapely.line_interpolate_point(lines[rep[multi]], frac[multi], normalized=True)
        out[multi] = shapely.get_coordinates(pts)
    return out


def _number_in(values: pd.Series, pattern: str) -> pd.Series:
    """The first number ``pattern`` finds in each value's text (NaN: none).

    Read once per distinct value: a city's ``width`` / ``lanes`` tags hold a few hundred values
    over 10⁵ ways.
    """
    text = values.astype(str)
    distinct = pd.Series(text.unique())
    found = pd.to_numeric(distinct.str.extract(pattern)[0], errors="coerce")
    return text.map(dict(zip(distinct, found, strict=True))).astype(float)


def carriageway_weights(
    roads: gpd.GeoDataFrame, *, pair_distance_m: float | None = None, min_angle_deg: float = 150.0
) -> F64:
    """Weight of each road way in centreline length: 0.5 for one carriageway of a divided road.

    Rule (documented for 路网密度): OSM maps a divided road as two one-way ways. A one-way way
    (``oneway`` yes/1/-1) whose midpoint lies within ``pair_distance_m`` of another one-way way
    of the same grade running the opposite way (direction angle ≥ ``min_angle_deg``) is one of a
    pair: each counts half its length, so the pair counts once. Every other way counts fully.
    ``pair_distance_m`` defaults to the registry's (``road_density`` in ``indicators.yaml``).

    Parameters
    ----------
    roads
        Road ways (metric CRS) with ``oneway``.
    pair_distance_m
        Greatest distance (m) between the two carriageways of one road.
    min_angle_deg
        Least angle between their directions (opposite ways).

    Returns
    -------
    ndarray
        0.5 or 1 per way.
    """
    if pair_distance_m is None:
        pair_distance_m = float(indicator_default("road_density", "pair_distance_m"))
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
    mids = shapely.points(at_fraction(geoms, np.full(idx.size, 0.5)))
    # local direction at the midpoint
    d = at_fraction(geoms, np.full(idx.size, 0.55)) - at_fraction(geoms, np.full(idx.size, 0.45))
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
    dj = at_fraction(geoms, np.clip(s + 0.05, 0, 1), j) - at_fraction(
        geoms, np.clip(s - 0.05, 0, 1), j
    )
    dj[rev[j]] *= -1
    di = d[i]
    cos = (di * dj).sum(axis=1) / (np.linalg.norm(di, axis=1) * np.linalg.norm(dj, axis=1) + 1e-12)
    paired = np.unique(i[cos <= np.cos(np.radians(min_angle_deg))])
    w[idx[paired]] = 0.5
    return w


@dataclass(frozen=True, slots=True)
class RoadDensityParams:
    """Parameters of :func:`road_density` in a check (defaults: ``indicators.yaml``).

    Attributes
    ----------
    pair_distance_m
        The two one-way carriageways of a divided road within this distance (m) count once.
    """

    pair_distance_m: float


@dataclass(frozen=True, slots=True)
class IntersectionParams:
    """Parameters of :func:`intersection_density` in a check (defaults: ``indicators.yaml``).

    Attributes
    ----------
    tolerance_m
        Road nodes within this distance (m) are one intersection.
    """

    tolerance_m: float


def road_density(
    roads: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    *,
    grades: Sequence[str] | None = None,
    include_links: bool = False,
    pair_distance_m: float | None = None,
) -> IndicatorResult:
    """路网密度 (km/km²): centreline length of city roads inside the boundary ÷ boundary area.

    GB 50220-95 counts 快速路, 主干路, 次干路, 支路 and excludes roads inside compounds (``service``
    → internal, see ``road_grades.yaml``). Divided roads count once (:func:`carriageway_weights`);
    ``*_link`` ramps are excluded unless ``include_links``. Reported in total and by grade.

    Parameters
    ----------
    roads
        Road ways (metric CRS) with ``grade``, ``highway``, ``oneway``.
    boundary
        The area (metric CRS).
    grades
        Grades counted (default: those counting in density, ``road_grades.yaml``).
    include_links
        Count ``*_link`` ramps.
    pair_distance_m
        See :func:`carriageway_weights` (default: the registry's).

    Returns
    -------
    IndicatorResult
        km/km² in total and by grade.
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
        measure_row(
            Measure(
                "road_density", "road_density", "路网密度", "Road network density", unit="km/km2"
            ),
            "centreline",
            "boundary_area",
            total,
            note=f"divided roads counted once; links {'in' if include_links else 'out'}",
        )
    )
    raw = float(length.sum() / 1000.0 / area_km2) if area_km2 else None
    rows.append(
        measure_row(
            Measure(
                "road_density",
                "road_density_all_carriageways",
                "路网密度（双幅路按两条计）",
                "Road density, both carriageways counted",
                unit="km/km2",
            ),
            "way_sum",
            "boundary_area",
            raw,
            note="for comparison",
        )
    )
    grade_arr = r["grade"].to_numpy()
    for key in counted:
        m = grade_arr == key
        v = float((length[m] * w[m]).sum() / 1000.0 / area_km2) if area_km2 else None
        rows.append(
            measure_row(
                Measure(
                    "road_density",
                    f"road_density:{key}",
                    f"路网密度·{g[key].label_zh}",
                    f"Road density · {g[key].label_en}",
                    unit="km/km2",
                ),
                "centreline",
                "boundary_area",
                v,
            )
        )
    return IndicatorResult("road_density", pd.DataFrame(), summary_frame(rows))


def intersection_density(
    net: WalkNetwork,
    boundary: BaseGeometry,
    *,
    highways: Iterable[str] | None = None,
    tolerance_m: float | None = None,
) -> IndicatorResult:
    """交叉口密度 (per km²): road intersections inside the boundary ÷ boundary area.

    An intersection is a node where three or more road edges meet (OSMnx ``streets_per_node``
    ≥ 3) on the network restricted to road classes (``road_grades.yaml``); nodes within
    ``tolerance_m`` of each other (the two carriageways of a divided road) are merged into one,
    as ``osmnx.consolidate_intersections`` does.

    Parameters
    ----------
    net
        The walk network (metric CRS).
    boundary
        The area (metric CRS).
    highways
        Road classes counted (default: ``road_grades.yaml`` without links).
    tolerance_m
        Nodes this close are one intersection (default: the registry's).

    Returns
    -------
    IndicatorResult
        Intersections per km².
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
    if tolerance_m is None:
        tolerance_m = float(indicator_default("intersection_density", "tolerance_m"))
    n = _count_clusters(pts, tolerance_m)
    v = n / (boundary.area / 1e6) if boundary.area else None
    row = measure_row(
        Measure(
            "intersection_density",
            "intersection_density",
            "交叉口密度",
            "Intersection density",
            unit="per_km2",
        ),
        "network",
        "boundary_area",
        v,
        note=f"{n} intersections (≥3 road edges; merged within {tolerance_m:g} m)",
    )
    return IndicatorResult("intersection_density", pd.DataFrame(), summary_frame([row]))


def _count_clusters(pts: NDArray[np.object_], tolerance_m: float) -> int:
    """Count groups of points chained by gaps ≤ ``tolerance_m``.

    Connected components of the "within tolerance" graph — the parts of the union of
    ``tolerance_m / 2`` buffers.
    """
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

    Parameters
    ----------
    roads
        Road ways (metric CRS).
    boundary
        The area (metric CRS).
    residents
        Residents of the area, for 人均道路面积 (``None``: no data).

    Returns
    -------
    IndicatorResult
        Road area ratio (share) and road area per resident (m²/person).
    """
    g = tx.road_grades()
    r = roads.loc[roads["grade"].isin([k for k, v in g.items() if v.counts_in_density])]
    width = _number_in(r["width"], r"([\d.]+)")
    lanes = _number_in(r["lanes"], r"(\d+)")
    default = r["grade"].map({k: v.default_width_m for k, v in g.items()})
    w = carriageway_weights(r)
    est = width.fillna(lanes * 3.5).fillna(default * w).to_numpy(dtype=float)
    length = _length_inside(r.geometry.values, boundary)
    area = float((length * est).sum())
    ratio = area / boundary.area if boundary.area else None
    rows = [
        measure_row(
            Measure("road_area_ratio", "road_area_ratio", "道路面积率", "Road area ratio"),
            "centreline×width",
            "boundary_area",
            ratio,
            note="widths from OSM width/lanes, else defaults",
        ),
        measure_row(
            Measure(
                "road_area_per_resident",
                "road_area_per_resident",
                "人均道路面积",
                "Road area per resident",
                unit="m2/person",
            ),
            "centreline×width",
            "residents",
            area / residents if residents else None,
            note="" if residents else "no data: needs population",
        ),
    ]
    return IndicatorResult("road_area_ratio", pd.DataFrame(), summary_frame(rows))
