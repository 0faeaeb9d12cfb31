"""Buffer coverage on land cells: the share of an area within straight-line radii, without unions.

The buffer method's share is the area of ``land ∩ ⋃ buffers`` ÷ the land's area. The exact path
(:mod:`geoplan.indicators.areas`) overlays the union of every buffer, which at city scale is most
of a check (``union_all`` of 100k 500 m disks). Here the land is cut into square cells
(``cell_m``: about a million cells, 1–25 m; 10 m for 100 km²) and a cell counts as covered
when its centre lies within the radius of a facility: the share is covered cells ÷ land cells.
Work grows with the land, not with the overlaps of the disks.

- **Cells** (:func:`land_cells`): the cells whose centre lies in the land (GDAL's rasterisation
  rule, :func:`rasterio.features.rasterize` window by window, only where land is).
- **Distance** (:func:`covered_cells`): a KD-tree of the facilities' points — point facilities
  as they are, outlines of lines and polygons sampled every half cell (the distance to the
  samples exceeds the distance to the outline by at most ``(cell/4)² / (2 r)``, a few mm), cells
  inside a polygon at distance 0. Cells are first decided per block of 8 × 8 cells by the block
  centre's distance ± the block's half diagonal; only blocks the radius cuts are queried cell by
  cell (the same answers, a fifth of the queries).
- **Homes** (:func:`inside_buffers`): exactly the flags of the exact path (a point in the union
  of the ``quad_segs=16`` buffers): a point whose nearest facility is well inside the radius is
  in, one beyond the radius plus the buffer's simplification tolerance is out, and the few in
  between are tested against the buffers of the facilities near them. The nearest distance to
  a line or polygon comes from one KD-tree query of its outline sampled every ``r/50`` (never
  below the true distance, at most ``r/100`` above it: the band tested exactly widens by that),
  points inside a polygon large enough to hide them from its outline tested against it.

Error against the exact overlay: ≤ 0.1 pp on the shared cities at 10 m
(``tests/indicators/test_cells.py``); the exact path stays (``check --exact-areas``).
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geoplan._fork import split_map
from geoplan._memo import IdentityMemo
from geoplan._raster import tiles_touched

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
I32 = NDArray[np.int32]

#: cell side (m) of 100 km² (the residential land of a large city)
CELL_M = 10.0
#: largest cell side (m), from 625 km² up (a built-up area of a whole region)
MAX_CELL_M = 25.0
#: smallest cell side (m): small areas get finer cells, up to about this many
MIN_CELL_M = 1.0
TARGET_CELLS = 1_000_000
#: cells per side of a block decided at once
BLOCK = 8

_R = TypeVar("_R")
#: rasterisation window (cells per side)
_WINDOW = 2048
#: window (cells per side) when only the cells near some boxes are listed (a multiple of BLOCK)
NEAR_WINDOW = 256
#: a buffer with ``quad_segs=16`` lies between ``r·cos(π/64)`` and ``r`` of a point source
_CHORD = math.cos(math.pi / 64)
#: radius of the circle with the area of a ``quad_segs=16`` buffer of a point (÷ r): the cells
#: measure the same disk area as the exact path's 64-gons, not the larger true circles (+0.16 %)
_EQUAL_AREA = math.sqrt(32.0 / math.pi * math.sin(math.pi / 32.0))
#: GEOS simplifies a line or polygon's outline before buffering by up to ``r·0.01``
_SIMPLIFY = 0.02
#: outlines sampled every ``r·_SAMPLE`` (m) to find the points near a line or polygon facility
_SAMPLE = 0.02


@dataclass(frozen=True)
class LandCells:
    """Centres of the cells of a square grid whose centre lies in an area (metric CRS).

    Attributes
    ----------
    ix, iy
        Integer cell indices on the grid (cell ``(i, j)`` is centred at
        ``origin + (i + 0.5, j + 0.5) · cell_m``); 32 bits (a region's 30 M cells at 25 m
        take 12 bytes each with ``block_of``, the centres are computed when read).
    cell_m
        Cell side (m).
    origin
        Grid origin (m), a multiple of ``cell_m``.
    key
        Content key of the area and cell size.
    block_of
        Per cell, its block of :data:`BLOCK` × :data:`BLOCK` cells (index into ``block_xy``).
    block_xy
        Block centres (m).
    n_all
        Cells of the whole area: more than those listed when only the cells near some boxes
        were asked for (:func:`land_cells` ``near``); the others are counted, not listed.
    """

    ix: I32
    iy: I32
    cell_m: float
    origin: tuple[float, float]
    key: str
    block_of: I32
    block_xy: F64
    n_all: int = -1

    def __post_init__(self) -> None:
        """Every cell is listed unless told otherwise."""
        if self.n_all < 0:
            object.__setattr__(self, "n_all", int(self.ix.shape[0]))

    def centres_at(self, rows: I64 | slice) -> tuple[F64, F64]:
        """Centres (x, y; m) of the listed cells at ``rows``.

        Parameters
        ----------
        rows
            Positions in the listing.

        Returns
        -------
        tuple of ndarray
        """
        (ox, oy), c = self.origin, self.cell_m
        x = np.asarray(ox + (self.ix[rows] + 0.5) * c, dtype=np.float64)
        return x, np.asarray(oy + (self.iy[rows] + 0.5) * c, dtype=np.float64)

    def __len__(self) -> int:
        """Number of cells.

        Returns
        -------
        int
        """
        return int(self.ix.shape[0])


_CELLS: OrderedDict[str, LandCells] = OrderedDict()
_AREA_KEYS = IdentityMemo(maxsize=16)


def _area_key(area: BaseGeometry, cell_m: float) -> str:
    h = hashlib.sha1(shapely.to_wkb(area), usedforsecurity=False)
    h.update(str(float(cell_m)).encode())
    return h.hexdigest()


def cell_size_m(area_m2: float) -> float:
    """Cell side (m) for an area: about :data:`TARGET_CELLS` cells, between 1 and 25 m.

    Parameters
    ----------
    area_m2
        The area (m²).

    Returns
    -------
    float
        ``sqrt(area / 1e6)`` rounded to 0.5 m, between 1 and 25 m (10 m at 100 km²).
    """
    side = round(math.sqrt(max(area_m2, 0.0) / TARGET_CELLS) * 2) / 2
    return float(min(MAX_CELL_M, max(MIN_CELL_M, side)))


def land_cells(
    area: BaseGeometry, *, cell_m: float | None = None, near: F64 | None = None
) -> LandCells:
    """The cells whose centre lies in ``area`` (memoised by content).

    Parameters
    ----------
    area
        Residential land, a built-up area … (metric CRS, m).
    cell_m
        Cell side (m); ``None``: :func:`cell_size_m` of the area.
    near
        ``(n, 4)`` boxes (m): when they touch less than half of the windows of
        :data:`NEAR_WINDOW` cells that hold some of the area, only the cells of the windows
        they touch are listed and the rest counted (``n_all``): a sparse study area whose
        facilities reach a small part of it. Otherwise every cell is listed (one listing per
        area, shared by every cover).

    Returns
    -------
    LandCells
    """
    if cell_m is None:
        cell_m = cell_size_m(float(area.area))
    side = float(cell_m)
    # the same area object (residential_land is memoised by content) skips hashing its WKB
    key = _AREA_KEYS.get(f"cells:{side}", (area,), lambda: _area_key(area, side))
    windows = None if near is None else _near_windows(area, side, near, key)
    n_all = -1
    if windows is not None:
        n_all = _COUNTS.get(key, -1)
        if n_all < 0:
            n_all = _COUNTS[key] = _count(area, side)
        h = hashlib.sha1(key.encode(), usedforsecurity=False)
        h.update(np.packbits(windows).tobytes())
        key = h.hexdigest()
    got = _CELLS.get(key)
    if got is not None:
        _CELLS.move_to_end(key)
        return got
    out = _rasterise(area, cell_m, key, windows, n_all)
    _CELLS[key] = out
    if len(_CELLS) > 4:  # a check reads two (residential land, built-up area): ~40 MB each
        _CELLS.popitem(last=False)
    return out


def _frame(area: BaseGeometry, cell_m: float) -> tuple[float, float, int, int]:
    """Origin (m) and size (cells) of the cell grid over ``area``'s box."""
    x0, y0, x1, y1 = shapely.total_bounds(area)
    ox, oy = math.floor(x0 / cell_m) * cell_m, math.floor(y0 / cell_m) * cell_m
    return ox, oy, math.ceil((x1 - ox) / cell_m), math.ceil((y1 - oy) / cell_m)


def _near_windows(
    area: BaseGeometry, cell_m: float, near: F64, key: str
) -> NDArray[np.bool_] | None:
    """The windows of :data:`NEAR_WINDOW` cells the boxes touch (``None``: too many).

    ``None`` when they are half or more of the windows that meet the area (those are found
    once per area, ``key``: every share of the area asks).
    """
    if area.is_empty:
        return None
    ox, oy, nx, ny = _frame(area, cell_m)
    side = NEAR_WINDOW * cell_m
    shape = (-(-ny // NEAR_WINDOW), -(-nx // NEAR_WINDOW))
    touched = tiles_touched(near, origin=(ox, oy), tile_m=side, shape=shape)
    if touched.all():
        return None
    land = _LAND_WINDOWS.get(key)
    if land is None:
        land = _LAND_WINDOWS[key] = _windows_meeting(area, (ox, oy), side, shape)
    if not land.any():
        return None
    return touched if np.count_nonzero(touched & land) < 0.5 * np.count_nonzero(land) else None


def _windows_meeting(
    area: BaseGeometry, origin: tuple[float, float], side: float, shape: tuple[int, int]
) -> NDArray[np.bool_]:
    """Which windows (``side`` m, rows from the south) the area meets."""
    parts = shapely.get_parts(area)
    land = tiles_touched(shapely.bounds(parts), origin=origin, tile_m=side, shape=shape)
    r, c = np.nonzero(land)
    ox, oy = origin
    boxes = shapely.box(ox + c * side, oy + r * side, ox + (c + 1) * side, oy + (r + 1) * side)
    hit = np.unique(shapely.STRtree(parts).query(boxes, predicate="intersects")[0])
    land[:] = False
    land[r[hit], c[hit]] = True
    return land


#: content key of an area and cell size → the windows of NEAR_WINDOW cells it meets
_LAND_WINDOWS: dict[str, NDArray[np.bool_]] = {}
#: content key of an area and cell size → its number of cells
_COUNTS: dict[str, int] = {}


def _count(area: BaseGeometry, cell_m: float) -> int:
    """Number of cells whose centre lies in ``area`` (window by window, nothing listed)."""
    parts, wins = _land_windows(area, cell_m, _WINDOW)
    return sum(_on_both_cores(lambda w: int(_window_grid(parts, w, cell_m).sum()), parts, wins))


def _land_windows(
    area: BaseGeometry, cell_m: float, step: int, only: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.object_], list[_Window]]:
    """The area's polygon parts and the windows of ``step`` cells that meet them.

    Each window that meets the area (and is marked in ``only``, when given), rows of windows
    from the south.
    """
    parts = shapely.get_parts(area)
    parts = parts[~shapely.is_empty(parts)]
    if not parts.size:
        return parts, []
    ox, oy, nx, ny = _frame(area, cell_m)
    tree = shapely.STRtree(parts)
    wins = []
    for wy in range(0, ny, step):
        for wx in range(0, nx, step):
            if only is not None and not only[wy // step, wx // step]:
                continue
            w, h = min(step, nx - wx), min(step, ny - wy)
            bx0, by0 = ox + wx * cell_m, oy + wy * cell_m
            box = shapely.box(bx0, by0, bx0 + w * cell_m, by0 + h * cell_m)
            hit = tree.query(box, predicate="intersects")
            if hit.size:
                wins.append(_Window(wx, wy, w, h, bx0, by0, hit))
    return parts, wins


@dataclass(frozen=True)
class _Window:
    """A window of cells and the polygon parts that meet it.

    First column / row and width / height (cells), south-west corner (m).
    """

    wx: int
    wy: int
    w: int
    h: int
    x0: float
    y0: float
    hit: NDArray[np.intp]


def _window_grid(parts: NDArray[np.object_], win: _Window, cell_m: float) -> NDArray[np.uint8]:
    """A window rasterised: rows from the north, 1 where a cell's centre is in a part (GDAL)."""
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    return np.asarray(
        rasterize(
            _geojson(parts[win.hit]),
            out_shape=(win.h, win.w),
            transform=from_origin(win.x0, win.y0 + win.h * cell_m, cell_m, cell_m),
            fill=0,
            default_value=1,
            dtype="uint8",
        )
    )


def _geojson(polys: NDArray[np.object_]) -> list[dict[str, Any]]:
    """Polygons as GeoJSON-like dicts, their rings' coordinates taken as arrays.

    What ``__geo_interface__`` gives, without its Python loop over every vertex.
    """
    rings = shapely.get_rings(polys, return_index=True)
    xy, at = shapely.get_coordinates(rings[0], return_index=True)
    per_ring = np.bincount(at, minlength=rings[0].shape[0])
    coords = [c.tolist() for c in np.split(xy, np.cumsum(per_ring)[:-1])]
    per_poly = np.bincount(rings[1], minlength=polys.shape[0])
    out, i = [], 0
    for n in per_poly.tolist():
        out.append({"type": "Polygon", "coordinates": coords[i : i + n]})
        i += n
    return out


def _on_both_cores(
    fn: Callable[[_Window], _R], parts: NDArray[np.object_], wins: list[_Window]
) -> list[_R]:
    """``fn`` of every window, shared with a forked child by the vertices it rasterises.

    GDAL's rasterisation holds the GIL (two threads took longer than one), so the windows
    are split between this process and a forked copy; results come back in window order.
    """
    verts = shapely.get_num_coordinates(parts)
    costs = [float(verts[w.hit].sum()) + 0.01 * w.w * w.h for w in wins]
    return split_map(fn, wins, costs=costs)


def _rasterise(
    area: BaseGeometry,
    cell_m: float,
    key: str,
    windows: NDArray[np.bool_] | None = None,
    n_all: int = -1,
) -> LandCells:
    empty = np.zeros(0, dtype=np.int32)
    if shapely.is_empty(shapely.get_parts(area)).all():
        return LandCells(empty, empty, cell_m, (0.0, 0.0), key, empty, np.zeros((0, 2)))
    ox, oy, nx, ny = _frame(area, cell_m)
    # with ``windows``, only the windows a box touches: the others' cells are in ``n_all``
    step = _WINDOW if windows is None else NEAR_WINDOW
    parts, wins = _land_windows(area, cell_m, step, windows)

    def cells_of(win: _Window) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        row, col = np.nonzero(_window_grid(parts, win, cell_m))
        return (win.wx + col).astype(np.int32), (win.wy + (win.h - 1 - row)).astype(np.int32)

    got = _on_both_cores(cells_of, parts, wins)
    ix = np.concatenate([g[0] for g in got]) if got else empty
    iy = np.concatenate([g[1] for g in got]) if got else empty
    del got
    # blocks numbered in (column, row) order on the dense grid of blocks: a mark per block
    # and a running count instead of sorting a key per cell
    nby = -(-ny // BLOCK)
    blk = (ix // BLOCK).astype(np.int64) * nby + iy // BLOCK
    present = np.zeros(-(-nx // BLOCK) * nby, dtype=bool)
    present[blk] = True
    used = np.flatnonzero(present)
    rank = np.cumsum(present, dtype=np.int64) - 1
    block_of = rank[blk].astype(np.int32)
    del blk, rank, present
    side = BLOCK * cell_m
    bxy = np.column_stack([ox + (used // nby + 0.5) * side, oy + (used % nby + 0.5) * side])
    return LandCells(ix, iy, cell_m, (ox, oy), key, block_of, bxy, n_all)


@dataclass(frozen=True)
class _Sources:
    """Facility geometries of one radius as points: sample points and big polygons."""

    xy: F64
    points: F64
    polygons: NDArray[np.object_]


def _sources(geoms: NDArray[np.object_], step_m: float, radius_m: float) -> _Sources:
    """Points of ``geoms``: point facilities, outlines sampled every ``step_m``.

    ``xy`` holds the outline samples, ``points`` the point facilities (measured at the radius of
    the 64-gon's area, :data:`_EQUAL_AREA`).

    Polygons that can hold a disk of the radius (area ≥ π r²) are also kept whole: a cell inside
    one may be farther than the radius from its outline.
    """
    geoms = geoms[~shapely.is_empty(geoms)]
    tid = shapely.get_type_id(geoms)
    is_point = (tid == 0) | (tid == 4)
    points = shapely.get_coordinates(geoms[is_point])
    other = geoms[~is_point]
    pts = np.zeros((0, 2))
    if other.size:
        pts, polys = _outline_samples(other, shapely.get_type_id(other), step_m)
        big = polys[shapely.area(polys) >= math.pi * radius_m * radius_m * 0.99]
    else:
        big = np.zeros(0, dtype=object)
    return _Sources(
        np.asarray(pts, dtype=float).reshape(-1, 2), np.asarray(points, float).reshape(-1, 2), big
    )


def _outline_samples(
    geoms: NDArray[np.object_], tid: NDArray[np.int32], step_m: float
) -> tuple[F64, NDArray[np.object_]]:
    """Points on the outlines of ``geoms`` (lines; polygon rings) at most ``step_m`` apart.

    Every vertex and ``shapely.segmentize``'s points between; also the (multi)polygons.
    """
    poly = (tid == 3) | (tid == 6)
    lines = np.where(poly, shapely.boundary(geoms), geoms)
    lines = lines[~shapely.is_empty(lines)]
    return shapely.get_coordinates(shapely.segmentize(lines, step_m)), geoms[poly]


def _radius_groups(
    geoms: NDArray[np.object_], radius_m: float | F64
) -> list[tuple[NDArray[np.object_], float]]:
    radii = np.broadcast_to(np.asarray(radius_m, dtype=float), geoms.shape)
    return [(geoms[radii == r], float(r)) for r in np.unique(radii)]


def covered_cells(
    cells: LandCells, geoms: NDArray[np.object_], radius_m: float | F64
) -> NDArray[np.bool_]:
    """Per cell: its centre lies within ``radius_m`` of one of ``geoms`` (straight line).

    Parameters
    ----------
    cells
        Land cells (:func:`land_cells`).
    geoms
        Facility geometries (metric CRS): points, lines, polygons.
    radius_m
        One radius, or one per geometry (m).

    Returns
    -------
    ndarray of bool
        One flag per cell.
    """
    out = np.zeros(len(cells), dtype=bool)
    if geoms.size == 0 or len(cells) == 0:
        return out
    for g, r in _radius_groups(geoms, radius_m):
        src = _sources(g, cells.cell_m / 2.0, r)
        if src.points.shape[0]:
            out |= _within_blocks(cells, cKDTree(src.points), r * _EQUAL_AREA)
        if src.xy.shape[0]:
            out |= _within_blocks(cells, cKDTree(src.xy), r * _EQUAL_AREA)
        for p in src.polygons:
            out |= _inside_polygon(cells, p)
    return out


def _within_blocks(cells: LandCells, tree: cKDTree, r: float) -> NDArray[np.bool_]:
    """Cells within ``r`` of a tree point, decided per block where the block decides."""
    inv = cells.block_of
    half = BLOCK * cells.cell_m * math.sqrt(2.0) / 2.0
    d, _ = tree.query(cells.block_xy, k=1, distance_upper_bound=r + half, workers=-1)
    full = d + half <= r
    cut = (d - half <= r) & ~full
    out = full[inv]
    todo = np.flatnonzero(cut[inv])
    if todo.size:
        dc, _ = tree.query(
            np.column_stack(cells.centres_at(todo)),
            k=1,
            distance_upper_bound=r * (1 + 1e-12),
            workers=-1,
        )
        out[todo] = dc <= r
    return out


def _inside_polygon(cells: LandCells, poly: BaseGeometry) -> NDArray[np.bool_]:
    x0, y0, x1, y1 = poly.bounds
    # the columns and rows of the box, one cell wider, then the centres tested exactly
    (ox, oy), c = cells.origin, cells.cell_m
    i0, i1 = math.floor((x0 - ox) / c) - 1, math.ceil((x1 - ox) / c) + 1
    j0, j1 = math.floor((y0 - oy) / c) - 1, math.ceil((y1 - oy) / c) + 1
    sel = np.flatnonzero((cells.ix >= i0) & (cells.ix <= i1) & (cells.iy >= j0) & (cells.iy <= j1))
    x, y = cells.centres_at(sel)
    keep = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    sel, x, y = sel[keep], x[keep], y[keep]
    out = np.zeros(len(cells), dtype=bool)
    if sel.size:
        shapely.prepare(poly)
        out[sel] = shapely.contains_xy(poly, x, y)
    return out


def inside_buffers(
    x: F64, y: F64, geoms: NDArray[np.object_], radius_m: float | F64
) -> NDArray[np.bool_]:
    """Per point: inside the union of the ``quad_segs=16`` buffers of ``geoms`` (exact flags).

    The same answer as ``shapely.intersects(union_of_buffers(geoms, r), points)`` without the
    union: a point nearer than ``r·cos(π/64)`` to a point facility (``r·(cos(π/64) − 0.02)`` to
    another geometry) is inside that facility's buffer, one farther than ``r`` (``1.02 r``) is
    outside every buffer; a point in between is tested against the buffers of the facilities
    within that distance.

    Parameters
    ----------
    x, y
        Points (m, metric CRS).
    geoms
        Facility geometries (metric CRS).
    radius_m
        One radius, or one per geometry (m).

    Returns
    -------
    ndarray of bool
    """
    out = np.zeros(x.shape[0], dtype=bool)
    if geoms.size == 0 or x.shape[0] == 0:
        return out
    for g, r in _radius_groups(geoms, radius_m):
        g = g[~shapely.is_empty(g)]
        if not g.size:
            continue
        tid = shapely.get_type_id(g)
        is_point = tid == 0
        for sub, lo, hi in (
            (g[is_point], r * _CHORD, r),
            (g[~is_point], r * (_CHORD - _SIMPLIFY), r * (1 + _SIMPLIFY)),
        ):
            if sub.size:
                out |= _inside_one(x, y, sub, r, lo, hi, out)
    return out


def _inside_one(
    x: F64,
    y: F64,
    g: NDArray[np.object_],
    r: float,
    lo: float,
    hi: float,
    done: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    out = np.zeros(x.shape[0], dtype=bool)
    todo = np.flatnonzero(~done)
    if not todo.size:
        return out
    tid = shapely.get_type_id(g)
    xy = np.column_stack([x[todo], y[todo]])
    if np.all(tid == 0):
        d, _ = cKDTree(shapely.get_coordinates(g)).query(
            xy, k=1, distance_upper_bound=hi * 1.001, workers=-1
        )
        slack = 0.0
    elif np.any(tid == 7):
        tree = shapely.STRtree(g)
        (i, _), dist = tree.query_nearest(
            shapely.points(xy), max_distance=hi * 1.001, return_distance=True
        )
        d = np.full(todo.shape[0], np.inf)
        d[i] = dist
        slack = 0.0
    else:
        d, slack = _outline_distance(g, tid, xy, r, lo, hi * 1.001)
    sure = d <= lo
    out[todo[sure]] = True
    band = todo[(d > lo) & (d <= hi * 1.001 + slack)]
    if band.size:
        # shapely Points only for the few points tested against the buffers
        pts = shapely.points(x[band], y[band])
        tree = shapely.STRtree(g)
        pi, gi = tree.query(pts, predicate="dwithin", distance=hi * 1.001)
        # each facility buffered once, prepared, then tested against its points
        used, inv = np.unique(gi, return_inverse=True)
        buf = shapely.buffer(g[used], r, quad_segs=16)
        shapely.prepare(buf)
        hit = shapely.intersects(buf[inv], pts[pi])
        out[band[np.unique(pi[hit])]] = True
    return out


def _outline_distance(
    g: NDArray[np.object_],
    tid: NDArray[np.int32],
    xy: F64,
    r: float,
    lo: float,
    hi: float,
) -> tuple[F64, float]:
    """Distance (m) from each point to the outline samples of ``g`` (0 inside a big polygon).

    The outlines (lines, polygon rings) are sampled every ``s = r·_SAMPLE`` metres, so the
    sampled distance ``d`` is never below the true one and at most ``s/2`` above it: ``d ≤ lo``
    proves the point is within ``lo``, ``d > hi + s/2`` proves it is beyond ``hi``; the rest is
    tested exactly. A point inside a polygon is at distance 0 but may be far from its outline:
    only a polygon holding a disk of radius ``lo − s/2`` (area ≥ π (lo − s/2)²) can hide one
    whose sampled distance exceeds ``lo``, so the points are tested against those polygons.
    One KD-tree query replaces a nearest-geometry search per point.
    """
    step = r * _SAMPLE
    samples, polys = _outline_samples(g, tid, step)
    d, _ = cKDTree(samples).query(xy, k=1, distance_upper_bound=hi + step, workers=-1)
    reach = lo - step / 2.0
    big = (
        polys[shapely.area(polys) >= math.pi * reach * reach * (1.0 - 1e-9)] if reach > 0 else polys
    )
    if big.size:
        far = np.flatnonzero(d > lo)
        if far.size:
            i, _ = shapely.STRtree(big).query(shapely.points(xy[far]), predicate="intersects")
            d[far[np.unique(i)]] = 0.0
    return d, step / 2.0
