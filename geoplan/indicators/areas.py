"""Areas of coverage: unions of buffers, overlaps with residential land (metric CRS).

The geometry the buffer method needs, kept apart from the rows and shares of
:mod:`geoplan.indicators.coverage`: the union of a facility set's radii (memoised by content,
only meeting polygons overlaid, big ones computed side by side on threads), the area it shares
with residential land (by pairs of parts through an STRtree), and the residential land itself.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

F64 = NDArray[np.float64]


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
