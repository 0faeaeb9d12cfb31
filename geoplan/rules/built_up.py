"""The built-up area (建成区) derived from OSM: urban land and street density on a raster.

:func:`built_up_area` applies ``taxonomy.yaml``'s ``built_up`` rule on a grid of cells in a metric
CRS; far-apart parts of the study area and far-apart clusters of data are rasterised apart, so
memory and time follow the area near the data. Also the numpy listings the raster steps share
(:func:`geojson_polygons`, street samples).
"""

from __future__ import annotations

import itertools
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from geoplan._fork import split_map
from geoplan._lines import F64, points_along
from geoplan._raster import cut_to, outline_polygons, tiles_touched
from geoplan.rules import taxonomy as tx

#: content-keyed memo of derived built-up areas (a scenario's plan city shares its baseline's)
_BUILT_UP: dict[str, BaseGeometry] = {}


def _reach_m(rule: tx.BuiltUpRule) -> float:
    """How far (m) a cell's verdict depends on land around it: window, closing, a cell margin."""
    return rule.street_window_m / 2 + rule.close_m + 2 * rule.cell_m


def _separate_groups(boundary: BaseGeometry, reach_m: float) -> list[BaseGeometry]:
    """The boundary's parts grouped so that groups lie more than ``reach_m`` apart."""
    parts = shapely.get_parts(boundary)
    if parts.shape[0] < 2:
        return [boundary]
    b = shapely.bounds(parts)
    boxes = shapely.box(b[:, 0] - reach_m, b[:, 1] - reach_m, b[:, 2] + reach_m, b[:, 3] + reach_m)
    i, j = shapely.STRtree(boxes).query(boxes, predicate="intersects")

    n = parts.shape[0]
    _, lab = connected_components(coo_matrix((np.ones(i.size), (i, j)), shape=(n, n)))
    if lab.max() == 0:
        return [boundary]
    return [shapely.multipolygons(parts[lab == k]) for k in range(int(lab.max()) + 1)]


def _data_groups(
    ug: NDArray[np.object_], rg: NDArray[np.object_], boundary: BaseGeometry, reach_m: float
) -> list[BaseGeometry]:
    """The study area near the data, grouped so that groups lie farther apart than any verdict.

    A cell can only be built-up within ``reach_m`` of urban land or a street: the window, the
    closing and a cell margin (:func:`_reach_m`). On a coarse grid (cells of ``4 · reach_m``,
    at least 1 km) the cells each geometry's bounding box touches are marked, grown by one cell,
    and split into connected parts (8-neighbours); each part, cut to ``boundary``, is a group.
    Data of two groups lie at least two coarse cells (8 reaches) apart, so each group's raster
    gives the cells the raster of the whole would. One group: ``[boundary]`` itself; no data:
    no group.
    """
    from rasterio import features
    from rasterio.transform import Affine
    from scipy import ndimage

    geoms = np.concatenate([ug, rg]) if ug.size or rg.size else np.zeros(0, dtype=object)
    b = shapely.bounds(geoms) if geoms.size else np.zeros((0, 4))
    b = b[~np.isnan(b).any(axis=1)]
    if not b.shape[0]:
        return []
    g = max(4.0 * reach_m, 1000.0)
    x0, y0, x1, y1 = boundary.bounds
    nx = int(np.ceil((x1 - x0) / g)) + 1
    ny = int(np.ceil((y1 - y0) / g)) + 1
    occupied = tiles_touched(b, origin=(x0, y0), tile_m=g, shape=(ny, nx), grow=1)
    lab, n = ndimage.label(occupied, structure=np.ones((3, 3), dtype=bool))
    if n <= 1:
        return [boundary]
    to_map = Affine(g, 0.0, x0, 0.0, g, y0)  # row r spans y0 + r·g … y0 + (r + 1)·g
    parts: dict[int, list[BaseGeometry]] = {}
    for geom, v in features.shapes(lab.astype(np.int32), mask=occupied, transform=to_map):
        parts.setdefault(int(v), []).append(shapely.geometry.shape(geom))
    groups = [shapely.intersection(shapely.union_all(p), boundary) for p in parts.values()]
    return [grp for grp in groups if not grp.is_empty]


def _window_sum(a: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Sum of ``a`` over the k×k window ``[i - k//2, i - k//2 + k)`` of each cell (0 outside)."""
    lo = k // 2
    hi = k - lo
    p = np.pad(a, ((lo + 1, hi), (lo + 1, hi)))
    s = p.cumsum(axis=0).cumsum(axis=1)
    ny, nx = a.shape
    return s[k : k + ny, k : k + nx] - s[:ny, k : k + nx] - s[k : k + ny, :nx] + s[:ny, :nx]


def _built_up_in(
    ug: NDArray[np.object_],
    rg: NDArray[np.object_],
    boundary: BaseGeometry,
    rule: tx.BuiltUpRule,
    extent: tuple[float, float, float, float] | None = None,
) -> BaseGeometry:
    """:func:`built_up_area` cut to ``boundary``, rasterised over ``extent``.

    ``extent`` defaults to the boundary's bounds; cells are on the lattice of multiples of
    ``rule.cell_m`` whatever the extent.
    """
    from rasterio import features
    from rasterio.transform import from_origin
    from scipy import ndimage

    c = rule.cell_m
    minx, miny, maxx, maxy = extent or boundary.bounds
    x0, y1 = np.floor(minx / c) * c, np.ceil(maxy / c) * c
    nx = int(np.ceil((maxx - x0) / c))
    ny = int(np.ceil((y1 - miny) / c))
    tr = from_origin(x0, y1, c, c)
    mask = np.zeros((ny, nx), dtype=bool)
    if ug.size:
        mask |= features.rasterize(
            ((g, 1) for g in geojson_polygons(ug)), out_shape=(ny, nx), transform=tr, dtype="uint8"
        ).astype(bool)
    if rg.size:
        sx, sy, _ = _line_samples(rg, step_m=5.0)
        col = np.floor((sx - x0) / c).astype(np.int64)
        row = np.floor((y1 - sy) / c).astype(np.int64)
        ok = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
        count = np.zeros((ny, nx), dtype=np.int64)
        np.add.at(count, (row[ok], col[ok]), 1)
        k = max(1, round(rule.street_window_m / c))
        # street length in the k×k window of each cell (the window of ndimage.uniform_filter:
        # k // 2 before, the rest after), by integer sums: exact, so a cell at the threshold
        # gets the same verdict whatever the raster's extent
        win = _window_sum(count, k)
        mask |= win * 5.0 * 1000.0 >= rule.street_density_km_km2 * (k * c) ** 2
    r = max(1, round(rule.close_m / c))
    disk = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
    closed = ndimage.binary_closing(np.pad(mask, r), structure=disk)[r:-r, r:-r]
    lab, n = ndimage.label(closed)
    if n:
        sizes = np.bincount(lab.ravel()) * c * c
        keep = sizes >= rule.min_part_m2
        keep[0] = False
        closed = keep[lab]
    feats = [
        g for g, v in features.shapes(closed.astype("uint8"), mask=closed, transform=tr) if v == 1
    ]
    if not feats:
        return shapely.Polygon()
    # the outlines of separate runs of cells have disjoint interiors: no union needed, each cut
    # to the boundary only where it crosses it (the same ground as the union cut to it)
    return cut_to(outline_polygons(feats), boundary)


def built_up_area(
    urban_land: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    rule: tx.BuiltUpRule | None = None,
) -> BaseGeometry:
    """The built-up area (建成区) derived from OSM, cut to ``boundary`` (metric CRS).

    On a ``rule.cell_m`` grid, a cell is built-up when urban land (land uses of 城市建设用地,
    public green, building footprints: ``urban_land``) covers its centre, or when the streets
    around it are urban-dense: at least ``rule.street_density_km_km2`` km of road per km² in a
    ``rule.street_window_m`` square window (OSM in China maps streets far more completely than
    land use). The mask is closed by ``rule.close_m`` (narrow gaps and streets between blocks are
    built-up land), parts under ``rule.min_part_m2`` are dropped, and the cells become polygons
    intersected with the study area. Empty when nothing urban is mapped. The rule lives in
    ``taxonomy.yaml`` (``built_up``).

    Parameters
    ----------
    urban_land
        Urban land-use areas and building footprints (metric CRS).
    roads
        Road centrelines, same CRS.
    boundary
        Study area, same CRS.
    rule
        The derivation's parameters (default: ``taxonomy.yaml``'s ``built_up``).

    Returns
    -------
    BaseGeometry
        (Multi)polygon in the same CRS.
    """
    import hashlib

    rule = rule or tx.built_up_rule()
    ug = np.asarray(urban_land.geometry.values, dtype=object)
    rg = np.asarray(roads.geometry.values, dtype=object)
    h = hashlib.sha1(usedforsecurity=False)
    for arr in (ug, rg):
        h.update(b"".join(shapely.to_wkb(arr)) if arr.size else b"-")
    h.update(shapely.to_wkb(boundary))
    h.update(repr(rule).encode())
    key = h.hexdigest()
    hit = _BUILT_UP.get(key)
    if hit is not None:
        return hit
    reach = _reach_m(rule)
    # far-apart parts of the study area, then far-apart clusters of data within each (a sparse
    # extract, a region of towns): memory and time follow the area near the data
    groups = [
        grp
        for part in _separate_groups(boundary, reach)
        for grp in _data_groups(ug, rg, part, reach)
    ]
    if not groups:
        out = shapely.Polygon()  # nothing urban mapped
    elif len(groups) == 1 and groups[0] is boundary:
        out = _built_up_in(ug, rg, boundary, rule)
    else:
        # far-apart parts of the study area (beyond the street window and the closing) are
        # rasterised one group at a time: the same cells on the same lattice, memory and time
        # proportional to the area covered instead of the parts' bounding box
        # each group's raster reaches as far around it as a verdict depends on (urban land may
        # run past the study area), within the raster of the whole
        tu = shapely.STRtree(ug) if ug.size else None
        tr_ = shapely.STRtree(rg) if rg.size else None
        gx0, gy0, gx1, gy1 = boundary.bounds
        jobs = []
        for grp in groups:
            bx0, by0, bx1, by1 = grp.bounds
            ext = (
                max(gx0, bx0 - reach),
                max(gy0, by0 - reach),
                min(gx1, bx1 + reach),
                min(gy1, by1 + reach),
            )
            box = shapely.box(*ext)
            sel_u = ug[tu.query(box)] if tu is not None else ug
            sel_r = rg[tr_.query(box)] if tr_ is not None else rg
            jobs.append((sel_u, sel_r, grp, ext))
        # the groups are independent: half of them in a forked child (the same function)
        pieces = split_map(
            lambda j: _built_up_in(j[0], j[1], j[2], rule, j[3]),
            jobs,
            costs=[(e[2] - e[0]) * (e[3] - e[1]) for *_, e in jobs],
        )
        pieces = [p for p in pieces if not p.is_empty]
        # groups lie farther apart than any verdict reaches: their parts never meet
        parts = shapely.get_parts(np.asarray(pieces, dtype=object)) if pieces else []
        if not len(parts):
            out = shapely.Polygon()
        elif shapely.is_valid(mp := shapely.multipolygons(parts)):
            out = mp
        else:
            out = shapely.union_all(pieces)
    if len(_BUILT_UP) > 64:
        _BUILT_UP.clear()
    _BUILT_UP[key] = out
    return out


def geojson_polygons(geoms: NDArray[np.object_]) -> list[dict[str, Any]]:
    """The polygons of ``geoms`` as GeoJSON-like dicts, coordinates listed by numpy.

    What ``__geo_interface__`` gives (the same rings, the same float coordinates), without a
    Python tuple per vertex: the input of ``rasterio.features.rasterize`` for large layers.

    Parameters
    ----------
    geoms
        Geometries (polygons are kept).

    Returns
    -------
    list of dict
        GeoJSON ``Polygon`` mappings.
    """
    polys = shapely.get_parts(geoms)
    polys = polys[(shapely.get_type_id(polys) == 3) & ~shapely.is_empty(polys)]
    if not polys.size:
        return []
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    xy = shapely.get_coordinates(rings).tolist()  # one list call for every vertex
    ends = np.cumsum(shapely.get_num_coordinates(rings)).tolist()
    coords = [xy[a:b] for a, b in itertools.pairwise([0, *ends])]
    first = np.searchsorted(ring_poly, np.arange(polys.size + 1)).tolist()
    return [{"type": "Polygon", "coordinates": coords[a:b]} for a, b in itertools.pairwise(first)]


def _line_samples(lines: NDArray[np.object_], step_m: float) -> tuple[F64, F64, Any]:
    """Points every ``step_m`` along lines (cell midpoints of each step): x, y, line part.

    The points of ``shapely.line_interpolate_point(…, normalized=True)``, computed in numpy
    (:func:`geoplan._lines.points_along`, bit for bit the same) without a Point per sample.
    """
    parts = shapely.get_parts(lines)
    lengths = shapely.length(parts)
    counts = np.maximum(1, np.round(lengths / step_m).astype(np.int64))
    rep = np.repeat(np.arange(parts.shape[0]), counts)
    k = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    x, y = points_along(parts, rep, (k + 0.5) / counts[rep] * lengths[rep])
    return x, y, rep
