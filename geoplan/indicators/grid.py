"""Regular point grids over a polygon and the polygon of covered cells (metric CRS)."""

from __future__ import annotations

import hashlib
import warnings
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.coverage import F64


def grid_cells(
    poly: BaseGeometry, spacing_m: float
) -> tuple[F64, tuple[int, int], NDArray[np.bool_]]:
    """Regular grid over ``poly``'s bounds.

    Returns the centres (row-major, rows from the south), the grid's (rows, cols) and which
    centres lie inside ``poly``.
    """
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    return xy, (ys.shape[0], xs.shape[0]), _inside(poly, xs, ys)


#: cells per side of the blocks :func:`_inside` decides whole
_BLOCK = 32


def _inside(poly: BaseGeometry, xs: F64, ys: F64) -> NDArray[np.bool_]:
    """``contains_xy(poly, x, y)`` over the grid of centres ``xs`` × ``ys`` (row-major).

    Decided by blocks of ``_BLOCK``² cells: a block whose box (spanning its centres) lies
    properly inside ``poly`` is inside whole, one not meeting it is outside whole, and only the
    centres of blocks crossing the boundary are tested one by one — the same answer as testing
    every centre, with work that follows the boundary's length instead of its bounding box.
    """
    ny, nx = ys.shape[0], xs.shape[0]
    inside = np.zeros((ny, nx), dtype=bool)
    if not nx or not ny:
        return inside.ravel()
    shapely.prepare(poly)
    r0 = np.arange(0, ny, _BLOCK)
    c0 = np.arange(0, nx, _BLOCK)
    br2, bc2 = np.meshgrid(r0, c0, indexing="ij")
    br, bc = br2.ravel(), bc2.ravel()
    r1, c1 = np.minimum(br + _BLOCK, ny), np.minimum(bc + _BLOCK, nx)
    boxes = shapely.box(xs[bc], ys[br], xs[c1 - 1], ys[r1 - 1])
    flat = ((r1 - br) < 2) | ((c1 - bc) < 2)  # a single row or column: tested point by point
    whole = ~flat & shapely.contains_properly(poly, boxes)
    meets = flat | shapely.intersects(poly, boxes)
    for k in np.flatnonzero(whole):
        inside[br[k] : r1[k], bc[k] : c1[k]] = True
    for k in np.flatnonzero(meets & ~whole):
        gx, gy = np.meshgrid(xs[bc[k] : c1[k]], ys[br[k] : r1[k]])
        inside[br[k] : r1[k], bc[k] : c1[k]] = shapely.contains_xy(poly, gx, gy)
    return inside.ravel()


def grid_points(poly: BaseGeometry, spacing_m: float) -> NDArray[np.object_]:
    """Grid points (``spacing_m``) inside ``poly``."""
    xy, _, inside = grid_cells(poly, spacing_m)
    return np.asarray(shapely.points(xy[inside]), dtype=object)


def cells_polygon(
    xy: F64,
    shape: tuple[int, int],
    inside: NDArray[np.bool_],
    covered: NDArray[np.bool_],
    spacing_m: float,
    boundary: BaseGeometry,
) -> BaseGeometry:
    """The covered grid cells as one (multi)polygon cut to ``boundary``, for maps (metric CRS).

    ``rasterio.features.shapes`` outlines each 4-connected run of covered cells; those outlines
    have disjoint interiors (they meet at most at corners), so they form a MultiPolygon as they
    are, without a union. Each is then cut to the boundary only where it crosses it: an outline
    inside one part of the boundary is kept whole (the area work follows the boundary's length,
    not the whole grid). The result covers exactly the same ground as the union of the cells
    cut to ``boundary``.
    """
    from rasterio.features import shapes
    from rasterio.transform import from_origin

    mask = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    mask[np.flatnonzero(inside)[covered]] = 1
    grid = mask.reshape(shape)[::-1]  # rows from the north for the raster transform
    x0 = xy[0, 0] - spacing_m / 2
    y1 = xy[-1, 1] + spacing_m / 2
    feats: list[dict[str, Any]] = []
    corner: list[tuple[int, int]] = []
    cells = from_origin(0.0, 0.0, 1.0, -1.0)  # outlines in cell units: (column, row) corners
    with warnings.catch_warnings():  # rasterio's internal Affine `*` (affine >= 2.4)
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        # only the windows holding covered cells are outlined (a sparse study area's grid is
        # mostly empty); each outline is then placed as the whole raster's transform would
        for r0, r1, c0, c1 in _windows(grid.astype(bool)):
            win = np.ascontiguousarray(grid[r0:r1, c0:c1])
            for g, _ in shapes(win, mask=win == 1, transform=cells):
                feats.append(g)
                corner.append((c0, r0))
    if not feats:
        return shapely.Polygon()
    place = (np.asarray(corner, dtype=np.float64), x0, y1, float(spacing_m))
    return _cut_to(_polygons(feats, place), boundary)


#: windows are cut only along empty bands at least this many cells wide, and only while they
#: hold more than ``_WINDOW_MIN_CELLS`` cells (each window costs one outlining call)
_WINDOW_GAP = 8
_WINDOW_MIN_CELLS = 256 * 256


def _windows(mask: NDArray[np.bool_]) -> list[tuple[int, int, int, int]]:
    """Rectangles (row0, row1, col0, col1) covering every True cell, cut along empty bands.

    Recursive XY cut: runs of covered rows (or, failing that, columns) separated by an empty band
    of at least ``_WINDOW_GAP`` lines are windows of their own; no 4-connected run of cells
    crosses an empty line, and windows lie apart, so their outlines never meet.
    """
    out: list[tuple[int, int, int, int]] = []
    todo = [(0, mask.shape[0], 0, mask.shape[1])]
    while todo:
        r0, r1, c0, c1 = todo.pop()
        sub = mask[r0:r1, c0:c1]
        rows = np.flatnonzero(sub.any(axis=1))
        if not rows.size:
            continue
        cols = np.flatnonzero(sub.any(axis=0))
        r0, r1, c0, c1 = r0 + rows[0], r0 + rows[-1] + 1, c0 + cols[0], c0 + cols[-1] + 1
        if (r1 - r0) * (c1 - c0) <= _WINDOW_MIN_CELLS:
            out.append((int(r0), int(r1), int(c0), int(c1)))
            continue
        rcut = np.flatnonzero(np.diff(rows) > _WINDOW_GAP)
        ccut = np.flatnonzero(np.diff(cols) > _WINDOW_GAP)
        if rcut.size:
            starts = np.concatenate([[rows[0]], rows[rcut + 1]]) + (r0 - rows[0])
            ends = np.concatenate([rows[rcut], [rows[-1]]]) + (r0 - rows[0]) + 1
            todo += [(int(a), int(b), int(c0), int(c1)) for a, b in zip(starts, ends, strict=True)]
        elif ccut.size:
            starts = np.concatenate([[cols[0]], cols[ccut + 1]]) + (c0 - cols[0])
            ends = np.concatenate([cols[ccut], [cols[-1]]]) + (c0 - cols[0]) + 1
            todo += [(int(r0), int(r1), int(a), int(b)) for a, b in zip(starts, ends, strict=True)]
        else:
            out.append((int(r0), int(r1), int(c0), int(c1)))
    return out


def _polygons(
    feats: list[dict[str, Any]],
    place: tuple[F64, float, float, float] | None = None,
) -> NDArray[np.object_]:
    """GeoJSON-like polygons as shapely Polygons, built in one vectorised call per kind.

    The same rings in the same order as ``shapely.geometry.shape`` of each (exactly equal).
    ``place`` = (window corner (column, row) per feature, x0, y1, cell size): coordinates in
    cell units of a window, placed as the affine transform of the whole raster computes them
    (``x0 + column · size``, ``y1 + row · −size``, the same floats).
    """
    rings = [r for g in feats for r in g["coordinates"]]
    owner = np.repeat(np.arange(len(feats)), [len(g["coordinates"]) for g in feats])
    counts = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    coords = np.array([c for r in rings for c in r], dtype=np.float64)
    if place is not None:
        corner, x0, y1, size = place
        at = corner[np.repeat(owner, counts)]
        coords = np.column_stack(
            [x0 + (at[:, 0] + coords[:, 0]) * size, y1 + (at[:, 1] + coords[:, 1]) * -size]
        )
    lr = shapely.linearrings(coords, indices=np.repeat(np.arange(len(rings)), counts))
    return np.asarray(shapely.polygons(lr, indices=owner), dtype=object)


#: pieces of each outline cut to a boundary, by (boundary, outline) content digest: a scenario
#: redraws a coverage map whose outlines are mostly those of the baseline; bounded
_CUTS: dict[tuple[bytes, bytes], NDArray[np.object_]] = {}
_CUTS_MAX = 200_000
_TREES: dict[bytes, tuple[NDArray[np.object_], shapely.STRtree]] = {}


def _cut_to(regions: NDArray[np.object_], boundary: BaseGeometry) -> BaseGeometry:
    """Polygons with disjoint interiors, each cut to ``boundary`` where it crosses it."""
    if not shapely.is_valid(shapely.multipolygons(regions)):  # not disjoint after all
        return shapely.intersection(shapely.union_all(regions), boundary)
    bkey = hashlib.sha1(shapely.to_wkb(boundary), usedforsecurity=False).digest()
    keys = [
        (bkey, hashlib.sha1(b, usedforsecurity=False).digest())
        for b in shapely.to_wkb(regions, hex=False)
    ]
    got = [_CUTS.get(k) for k in keys]
    miss = np.asarray([g is None for g in got], dtype=bool)
    if miss.any():
        fresh = _cut_now(regions[miss], boundary, bkey)
        if len(_CUTS) + len(fresh) > _CUTS_MAX:
            _CUTS.clear()
        for i, pieces in zip(np.flatnonzero(miss).tolist(), fresh, strict=True):
            got[i] = pieces
            _CUTS[keys[i]] = pieces
    parts = np.concatenate([g for g in got if g is not None])
    if parts.size == 0:
        return shapely.Polygon()
    return shapely.multipolygons(parts) if parts.size > 1 else parts[0]


def _cut_now(
    regions: NDArray[np.object_], boundary: BaseGeometry, bkey: bytes
) -> list[NDArray[np.object_]]:
    """Per outline, its polygon pieces inside ``boundary``: itself when inside one part."""
    if bkey not in _TREES:
        bparts = np.asarray(shapely.get_parts(boundary), dtype=object)
        shapely.prepare(bparts)
        if len(_TREES) > 4:
            _TREES.clear()
        _TREES[bkey] = (bparts, shapely.STRtree(bparts))
    bparts, tree = _TREES[bkey]
    ir, _ = tree.query(regions, predicate="within")
    whole = np.zeros(regions.shape[0], dtype=bool)
    whole[ir] = True
    # the others against the parts they meet (parts of a valid boundary meet at points at most)
    cross = np.flatnonzero(~whole)
    i, j = tree.query(regions[cross], predicate="intersects")
    parts, k = shapely.get_parts(
        shapely.intersection(regions[cross][i], bparts[j]), return_index=True
    )
    ok = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    owner = cross[i[k[ok]]]
    parts = parts[ok]
    order = np.argsort(owner, kind="stable")
    cuts = np.split(parts[order], np.searchsorted(owner[order], np.arange(1, regions.shape[0])))
    return [regions[r : r + 1] if whole[r] else cuts[r] for r in range(regions.shape[0])]
