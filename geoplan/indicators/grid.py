"""Regular point grids over a polygon and the polygon of covered cells (metric CRS)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan import _threads as threads
from geoplan._raster import cut_to, outline_polygons, tiles_touched

F64 = NDArray[np.float64]


def grid_axes(poly: BaseGeometry, spacing_m: float) -> tuple[F64, F64, NDArray[np.bool_]]:
    """Regular grid over ``poly``'s bounds as its axes and inside mask.

    Returns the centre x of each column, the centre y of each row (from the south), and which
    centres lie inside ``poly`` (row-major). The centres themselves are ``(xs[col], ys[row])``;
    a large study area's bounding box holds tens of millions of cells, so they are not listed.

    Parameters
    ----------
    poly
        The area (metric CRS).
    spacing_m
        Cell side (m).

    Returns
    -------
    tuple
        ``(xs, ys, inside)``.
    """
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    return xs, ys, _inside(poly, xs, ys)


def grid_cells(
    poly: BaseGeometry, spacing_m: float
) -> tuple[F64, tuple[int, int], NDArray[np.bool_]]:
    """Regular grid over ``poly``'s bounds.

    Returns the centres (row-major, rows from the south), the grid's (rows, cols) and which
    centres lie inside ``poly`` (:func:`grid_axes` with every centre listed).

    Parameters
    ----------
    poly
        The area (metric CRS).
    spacing_m
        Cell side (m).

    Returns
    -------
    tuple
    """
    xs, ys, inside = grid_axes(poly, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    return xy, (ys.shape[0], xs.shape[0]), inside


def centres_of(xs: F64, ys: F64, cells: NDArray[np.int64]) -> F64:
    """Centres (x, y) of the row-major ``cells`` of the grid with axes ``xs`` × ``ys``.

    Parameters
    ----------
    xs, ys
        The grid's axes (m).
    cells
        Row-major cell indices.

    Returns
    -------
    ndarray
        ``(n, 2)`` x, y (m).
    """
    row, col = np.divmod(cells, xs.shape[0])
    return np.column_stack([xs[col], ys[row]])


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
    # the centres of the crossing blocks, tested in one call on both cores
    cut = np.flatnonzero(meets & ~whole)
    if cut.size:
        cells = []
        for k in cut:
            rr, cc = np.meshgrid(np.arange(br[k], r1[k]), np.arange(bc[k], c1[k]), indexing="ij")
            cells.append(rr.ravel() * nx + cc.ravel())
        at = np.concatenate(cells)
        row, col = np.divmod(at, nx)
        # the prepared polygon's point locator is built lazily: once here, before the threads
        shapely.contains_xy(poly, xs[:1], ys[:1])
        flags = threads.rows(lambda x, y: shapely.contains_xy(poly, x, y), xs[col], ys[row])
        inside.ravel()[at] = flags
    return inside.ravel()


def grid_points(poly: BaseGeometry, spacing_m: float) -> NDArray[np.object_]:
    """Grid points (``spacing_m``) inside ``poly``.

    Parameters
    ----------
    poly
        The area (metric CRS).
    spacing_m
        Cell side (m).

    Returns
    -------
    ndarray of Point
    """
    xs, ys, inside = grid_axes(poly, spacing_m)
    return np.asarray(shapely.points(centres_of(xs, ys, np.flatnonzero(inside))), dtype=object)


def cells_polygon(
    xy: F64,
    shape: tuple[int, int],
    cells: NDArray[np.int64],
    spacing_m: float,
    boundary: BaseGeometry,
) -> BaseGeometry:
    """The covered grid cells as one (multi)polygon cut to ``boundary``, for maps (metric CRS).

    ``xy``: the grid's centres, row-major from the south; only the first centre's x and the last
    centre's y are read (``Grid.ends``, the first and last centre, will do).

    ``rasterio.features.shapes`` outlines each 4-connected run of covered cells; those outlines
    have disjoint interiors (they meet at most at corners), so they form a MultiPolygon as they
    are, without a union. Each is then cut to the boundary only where it crosses it: an outline
    inside one part of the boundary is kept whole (the area work follows the boundary's length,
    not the whole grid). The result covers exactly the same ground as the union of the cells
    cut to ``boundary``.

    Parameters
    ----------
    xy
        The first and last cell centre, ``[[x0, y0], [x1, y1]]`` (m).
    shape
        ``(rows, columns)`` of the grid.
    cells
        Row-major indices of the covered cells (cells outside the boundary are cut away).
    spacing_m
        Cell side (m).
    boundary
        The study boundary (metric CRS).

    Returns
    -------
    BaseGeometry
    """
    from rasterio.features import shapes
    from rasterio.transform import from_origin

    mask = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    mask[cells] = 1
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
    return cut_to(outline_polygons(feats, place), boundary)


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


def cells_near(
    xs: F64,
    ys: F64,
    inside: NDArray[np.bool_],
    boxes: F64,
    reach_m: float,
    *,
    rows_per_block: int = 256,
) -> NDArray[np.int64]:
    """The inside cells whose centre lies within ``reach_m`` of some box (row-major indices).

    A superset, never a subset: every centre within ``reach_m`` of a box (a street's bounding
    box) is kept, and some farther ones (the test is by tiles of ``max(reach_m, 250)`` m, each
    kept when a box grown by ``reach_m`` touches it). Worked in blocks of rows: a sparse study
    area's box of 10⁸ cells is never listed.

    Parameters
    ----------
    xs, ys
        Centre x of each column, centre y of each row (m).
    inside
        Which centres lie inside the area, row-major (``len(ys) · len(xs)``).
    boxes
        ``(n, 4)`` minx, miny, maxx, maxy (m).
    reach_m
        Distance (m).
    rows_per_block
        Grid rows handled at once.

    Returns
    -------
    ndarray of int64
        Row-major cell indices, increasing (:func:`centres_of` gives their centres).
    """
    ny, nx = ys.shape[0], xs.shape[0]
    empty = np.zeros(0, dtype=np.int64)
    b = boxes[~np.isnan(boxes).any(axis=1)] if boxes.size else np.zeros((0, 4))
    if not nx or not ny or not b.shape[0]:
        return empty
    t = max(float(reach_m), 250.0)
    x0, y0 = float(xs[0]), float(ys[0])
    tnx = int((xs[-1] - x0) // t) + 1
    tny = int((ys[-1] - y0) // t) + 1
    grown = b + np.array([-reach_m, -reach_m, reach_m, reach_m])
    near_tile = tiles_touched(grown, origin=(x0, y0), tile_m=t, shape=(tny, tnx))
    col_tile = np.clip(np.floor((xs - x0) / t).astype(np.int64), 0, tnx - 1)
    row_tile = np.clip(np.floor((ys - y0) / t).astype(np.int64), 0, tny - 1)
    inside2 = inside.reshape(ny, nx)
    out = []
    for a in range(0, ny, rows_per_block):
        blk = inside2[a : a + rows_per_block]
        keep = blk & near_tile[row_tile[a : a + rows_per_block]][:, col_tile]
        if keep.any():
            out.append(np.flatnonzero(keep) + a * nx)
    return np.concatenate(out).astype(np.int64) if out else empty


def union_cells(n_cells: int, *cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Row-major cell indices in any of ``cells``, increasing (``np.union1d`` without a sort).

    Parameters
    ----------
    n_cells
        Cells of the grid (rows × columns).
    *cells
        Row-major cell indices.

    Returns
    -------
    ndarray of int64
    """
    mark = np.zeros(n_cells, dtype=bool)
    for c in cells:
        mark[c] = True
    return np.flatnonzero(mark).astype(np.int64)
