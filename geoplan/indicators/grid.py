"""Regular point grids over a polygon and the polygon of covered cells (metric CRS)."""

from __future__ import annotations

import warnings

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
    shapely.prepare(poly)
    inside = shapely.contains_xy(poly, xy[:, 0], xy[:, 1])
    return xy, (ys.shape[0], xs.shape[0]), inside


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
