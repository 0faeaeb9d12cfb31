"""Outlines of raster cells as polygons, cut to a boundary (metric CRS).

Shared by the coverage maps (:mod:`geoplan.indicators.grid`) and the derived built-up area
(:mod:`geoplan.rules.spatial`): ``rasterio.features.shapes`` outlines separate runs of cells,
whose interiors are disjoint, so they need no union; each is cut to the boundary only where it
crosses it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan import _threads as threads
from geoplan._memo import boundary_key, per_geometry

F64 = NDArray[np.float64]


def outline_polygons(
    feats: list[dict[str, Any]],
    place: tuple[F64, float, float, float] | None = None,
) -> NDArray[np.object_]:
    """GeoJSON-like polygons as shapely Polygons, built in one vectorised call per kind.

    The same rings in the same order as ``shapely.geometry.shape`` of each (exactly equal).
    ``place`` = (window corner (column, row) per feature, x0, y1, cell size): coordinates in
    cell units of a window, placed as the affine transform of the whole raster computes them
    (``x0 + column · size``, ``y1 + row · −size``, the same floats).

    Parameters
    ----------
    feats
        GeoJSON-like polygon features (``rasterio.features.shapes`` output).
    place
        Window corner per feature and the raster's ``x0``, ``y1`` and cell size, or ``None``
        (coordinates as given).

    Returns
    -------
    ndarray of Polygon
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


def cut_to(regions: NDArray[np.object_], boundary: BaseGeometry) -> BaseGeometry:
    """Polygons with disjoint interiors, each cut to ``boundary`` where it crosses it.

    Parameters
    ----------
    regions
        Polygons with disjoint interiors (metric CRS).
    boundary
        The boundary to cut to.

    Returns
    -------
    BaseGeometry
        The regions inside ``boundary``.
    """
    if not shapely.is_valid(shapely.multipolygons(regions)):  # not disjoint after all
        return shapely.intersection(shapely.union_all(regions), boundary)
    bkey = boundary_key(boundary)
    got = per_geometry(
        _CUTS, bkey, regions, lambda r: _cut_now(r, boundary, bkey), max_size=_CUTS_MAX
    )
    parts = np.concatenate(got)
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
        threads.rows(shapely.intersection, regions[cross][i], bparts[j]), return_index=True
    )
    ok = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    owner = cross[i[k[ok]]]
    parts = parts[ok]
    order = np.argsort(owner, kind="stable")
    cuts = np.split(parts[order], np.searchsorted(owner[order], np.arange(1, regions.shape[0])))
    return [regions[r : r + 1] if whole[r] else cuts[r] for r in range(regions.shape[0])]


def raster_overlap_error(path: object, crs: Any, bounds: Any, what: str) -> str:
    """The one-line error of a raster that does not overlap the study area, with the likely fix.

    A raster whose coordinates are metres but which declares a geographic CRS (EPSG:4326), or
    the reverse, does not "miss" the study area: its CRS is wrong, and the fix is to set the
    right one, not to look for another file.

    Parameters
    ----------
    path
        The raster file (for the message).
    crs
        The CRS the raster declares (rasterio / pyproj).
    bounds
        Its bounds ``(left, bottom, right, top)`` in that CRS.
    what
        What the raster should be (``a population raster``), for the fix.

    Returns
    -------
    str
    """
    left, bottom, right, top = (float(v) for v in bounds)
    box = f"({left:g}, {bottom:g}, {right:g}, {top:g})"
    geographic = bool(getattr(crs, "is_geographic", False))
    far = max(abs(left), abs(right)) > 180 or max(abs(bottom), abs(top)) > 90
    if geographic and far:
        return (
            f"{path}: the raster declares {crs} (degrees) but its coordinates {box} are metres: "
            "its CRS is wrong; set the right one (e.g. gdal_edit.py -a_srs EPSG:32648 FILE, "
            "the UTM zone it was made in)"
        )
    if not geographic and not far:
        return (
            f"{path}: the raster declares {crs} (metres) but its coordinates {box} look like "
            "degrees: its CRS is wrong; set it to EPSG:4326 (gdal_edit.py -a_srs EPSG:4326 FILE)"
        )
    return (
        f"{path}: the raster (bounds {box} in {crs}) does not overlap the study area; "
        f"pass {what} that covers it"
    )


def tiles_touched(
    boxes: NDArray[np.float64],
    *,
    origin: tuple[float, float],
    tile_m: float,
    shape: tuple[int, int],
    grow: int = 0,
) -> NDArray[np.bool_]:
    """Which tiles of a grid the boxes touch (each box grown by ``grow`` tiles), all at once.

    Tile ``(r, c)`` spans ``origin + (c, r) · tile_m`` to one tile further (rows from the
    south); boxes reaching past the grid mark its edge tiles. Each box adds +1 / -1 at its
    corners of a difference array summed along both axes: work in boxes plus tiles, not in the
    area each box covers.

    Parameters
    ----------
    boxes
        ``(n, 4)`` minx, miny, maxx, maxy (m); rows with NaN (empty geometries) are skipped.
    origin
        ``(x, y)`` of the grid's south-west corner (m).
    tile_m
        Tile side (m).
    shape
        ``(rows, columns)``.
    grow
        Tiles added around each box's tiles.

    Returns
    -------
    ndarray of bool
        ``shape``.
    """
    ny, nx = shape
    b = boxes[~np.isnan(boxes).any(axis=1)] if boxes.size else np.zeros((0, 4))

    def at(v: NDArray[np.float64], v0: float, n: int, step: int) -> NDArray[np.int64]:
        return np.clip(np.floor((v - v0) / tile_m).astype(np.int64) + step, 0, n - 1)

    c0, c1 = at(b[:, 0], origin[0], nx, -grow), at(b[:, 2], origin[0], nx, grow)
    r0, r1 = at(b[:, 1], origin[1], ny, -grow), at(b[:, 3], origin[1], ny, grow)
    diff = np.zeros((ny + 1, nx + 1), dtype=np.int64)
    np.add.at(diff, (r0, c0), 1)
    np.add.at(diff, (r0, c1 + 1), -1)
    np.add.at(diff, (r1 + 1, c0), -1)
    np.add.at(diff, (r1 + 1, c1 + 1), 1)
    out: NDArray[np.bool_] = diff.cumsum(axis=0).cumsum(axis=1)[:ny, :nx] > 0
    return out
