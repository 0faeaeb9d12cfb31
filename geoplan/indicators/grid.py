"""Regular point grids over a polygon and the polygon of covered cells (metric CRS)."""

from __future__ import annotations

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
    tr = from_origin(x0, y1, spacing_m, spacing_m)
    with warnings.catch_warnings():  # rasterio's internal Affine `*` (affine >= 2.4)
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        feats = [g for g, _ in shapes(grid, mask=grid == 1, transform=tr)]
    if not feats:
        return shapely.Polygon()
    return _cut_to(_polygons(feats), boundary)


def _polygons(feats: list[dict[str, Any]]) -> NDArray[np.object_]:
    """GeoJSON-like polygons as shapely Polygons, built in one vectorised call per kind.

    The same rings in the same order as ``shapely.geometry.shape`` of each (exactly equal).
    """
    rings = [r for g in feats for r in g["coordinates"]]
    owner = np.repeat(np.arange(len(feats)), [len(g["coordinates"]) for g in feats])
    counts = np.fromiter((len(r) for r in rings), dtype=np.int64, count=len(rings))
    coords = np.array([c for r in rings for c in r], dtype=np.float64)
    lr = shapely.linearrings(coords, indices=np.repeat(np.arange(len(rings)), counts))
    return np.asarray(shapely.polygons(lr, indices=owner), dtype=object)


def _cut_to(regions: NDArray[np.object_], boundary: BaseGeometry) -> BaseGeometry:
    """Polygons with disjoint interiors, each cut to ``boundary`` where it crosses it."""
    if not shapely.is_valid(shapely.multipolygons(regions)):  # not disjoint after all
        return shapely.intersection(shapely.union_all(regions), boundary)
    bparts = np.asarray(shapely.get_parts(boundary), dtype=object)
    shapely.prepare(bparts)
    tree = shapely.STRtree(bparts)
    ir, _ = tree.query(regions, predicate="within")
    whole = np.zeros(regions.shape[0], dtype=bool)
    whole[ir] = True
    # the others against the parts they meet (parts of a valid boundary meet at points at most)
    cross = np.flatnonzero(~whole)
    i, j = tree.query(regions[cross], predicate="intersects")
    cut = shapely.intersection(regions[cross][i], bparts[j])
    parts = shapely.get_parts(np.concatenate([regions[whole], cut]))
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    if parts.size == 0:
        return shapely.Polygon()
    return shapely.multipolygons(parts) if parts.size > 1 else parts[0]
