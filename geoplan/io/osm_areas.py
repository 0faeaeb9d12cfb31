"""Areas of a column read: closed ways and multipolygon relations, built from node arrays.

The DuckDB column read (:mod:`geoplan.io.osm_columns`) has every way's node locations as
arrays, so the areas need no second decode of the file by libosmium: closed ways become
polygons in one vectorised call, and multipolygon relations are assembled from their member
ways with GEOS ``BuildArea`` (rings from the noded member lines, holes by even–odd nesting — the
rule libosmium's assembler follows, which ignores member roles for the geometry).

What libosmium does, and so what this does (tested object for object, geometrically equal, on
the shared cities, a clipped city and a Helsinki tile: ``tests/io/test_osm_areas.py``):

- a closed way (first and last node at one location, at least 4 node references, tagged, not
  ``area=no``) is an area with the way's tags; one whose ring is not valid (self-intersecting)
  is kept as it is and repaired with ``make_valid`` by the layer builder, as the rebuilt rings of
  the pyosmium path are; one with a missing node is left out;
- a ``type=multipolygon`` / ``type=boundary`` relation is an area with the relation's tags
  without ``type`` when every member way is in the file; a relation missing a member way is
  left out uncounted (libosmium never completes it), and so is one with a missing node; one
  whose member lines do not close into rings (an endpoint met an odd number of times) counts
  as failed.

Areas come closed ways first (file order), then relations (file order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

#: libosmium's undefined coordinate (``Location`` of a node missing from the file)
UNDEFINED = 2_147_483_647

Area = tuple[int, str, dict[str, str], bytes]


@dataclass
class NodeArrays:
    """Located node references of some ways: way ``i`` holds ``offsets[i]:offsets[i + 1]``.

    ``x`` / ``y`` are fixed point (1e-7 degree), :data:`UNDEFINED` where a node is missing.
    """

    offsets: NDArray[np.int64]
    x: NDArray[np.int64]
    y: NDArray[np.int64]

    def coords(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """The lon / lat (degrees) of the nodes of ``rows``, and the position of each's row.

        Parameters
        ----------
        rows
            Way indices (a way may repeat).

        Returns
        -------
        coords : ndarray of shape (n, 2)
        index : ndarray of int64
            For each coordinate, its position in ``rows``.
        """
        lens = self.offsets[rows + 1] - self.offsets[rows]
        index = np.repeat(np.arange(rows.shape[0]), lens)
        at = np.repeat(self.offsets[rows], lens) + (
            np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        )
        # == Location.lon / .lat: int32 fixed point / 1e7 in double
        return np.column_stack([self.x[at] / 1e7, self.y[at] / 1e7]), index

    def complete(self) -> NDArray[np.bool_]:
        """Whether every node of each way has a location.

        Returns
        -------
        ndarray of bool
        """
        missing = np.concatenate([[0], np.cumsum(self.x == UNDEFINED)])
        return np.asarray(missing[self.offsets[1:]] == missing[self.offsets[:-1]])


def closed_way_areas(
    nodes: NodeArrays,
    rows: NDArray[np.int64],
    ids: NDArray[np.int64],
    tags: Mapping[int, dict[str, str]] | Sequence[dict[str, str]],
) -> tuple[list[Area], NDArray[np.int64]]:
    """The closed ways among candidate area ways, as MultiPolygon WKB.

    Parameters
    ----------
    nodes
        Located nodes of the ways.
    rows
        The candidates (tagged with an area key, 4 or more node references), in file order.
    ids, tags
        OSM id of every way of ``nodes``; the tags of each candidate by row.

    Returns
    -------
    areas : list of (osmid, "way", tags, WKB)
        File order.
    rows : ndarray of int64
        The row of each area's way.
    """
    if not rows.size:
        return [], rows
    first, last = nodes.offsets[rows], nodes.offsets[rows + 1] - 1
    x, y = nodes.x, nodes.y
    located = (x[first] != UNDEFINED) & (x[last] != UNDEFINED)
    closed = located & (x[first] == x[last]) & (y[first] == y[last])
    whole = nodes.complete()[rows]
    keep = rows[closed & whole]
    coords, index = nodes.coords(keep)
    coords = _ring_as_libosmium(coords, nodes.offsets[keep + 1] - nodes.offsets[keep])
    rings = shapely.linearrings(coords, indices=index)
    polys = shapely.multipolygons(shapely.polygons(rings), indices=np.arange(keep.shape[0]))
    wkb = shapely.to_wkb(polys)
    out = [(int(ids[r]), "way", tags[r], w) for r, w in zip(keep.tolist(), wkb, strict=True)]
    return out, keep


def relation_areas(
    nodes: NodeArrays,
    ids: NDArray[np.int64],
    tags: list[dict[str, str]],
    member_offsets: NDArray[np.int64],
    member_rows: NDArray[np.int64],
) -> tuple[list[Area], int, NDArray[np.int64]]:
    """Multipolygon relations assembled from their member ways, as MultiPolygon WKB.

    Parameters
    ----------
    nodes
        Located nodes of the member ways (rows of ``nodes`` are way indices).
    ids, tags
        Relation ids and tags (``type`` already removed).
    member_offsets
        Relation ``i``'s member ways are ``member_rows[member_offsets[i]:member_offsets[i + 1]]``.
    member_rows
        Row in ``nodes`` of each member way; -1 where the way is not in the file.

    Returns
    -------
    areas : list of (osmid, "relation", tags, WKB)
        File order.
    failed : int
        Relations whose member lines do not close into rings (one with a missing node is left
        out uncounted, as libosmium does).
    last_member : ndarray of int64
        For each area, the last of its member ways in file order (libosmium completes the
        relation there).
    """
    n = ids.shape[0]
    none = np.zeros(0, dtype=np.int64)
    if not n:
        return [], 0, none
    rel_of = np.repeat(np.arange(n), np.diff(member_offsets))
    absent = np.bincount(rel_of[member_rows < 0], minlength=n) > 0
    has_members = np.diff(member_offsets) > 0
    lens = nodes.offsets[1:] - nodes.offsets[:-1]
    ok_row = nodes.complete() & (lens >= 2)
    present = member_rows >= 0
    broken = np.bincount(rel_of[present & ~ok_row[np.maximum(member_rows, 0)]], minlength=n) > 0
    # rings close when every member endpoint (as a location) is met an even number of times
    sel = np.flatnonzero(present & ok_row[np.maximum(member_rows, 0)])
    rows = member_rows[sel]
    first, last = nodes.offsets[rows], nodes.offsets[rows + 1] - 1
    ends_rel = np.concatenate([rel_of[sel], rel_of[sel]])
    ends = np.column_stack(
        [
            ends_rel,
            np.concatenate([nodes.x[first], nodes.x[last]]),
            np.concatenate([nodes.y[first], nodes.y[last]]),
        ]
    )
    _, inverse, counts = np.unique(ends, axis=0, return_inverse=True, return_counts=True)
    odd = np.bincount(ends_rel[(counts % 2 == 1)[inverse.ravel()]], minlength=n) > 0
    build = ~absent & has_members & ~broken & ~odd
    failed = int((~absent & has_members & ~broken & odd).sum())
    if not build.any():
        return [], failed, none
    take = np.flatnonzero(build[rel_of[sel]])
    coords, index = nodes.coords(rows[take])
    lines = shapely.linestrings(coords, indices=index)
    built = np.flatnonzero(build)  # the relations assembled (positions in ``ids``)
    # member lines of each built relation, then GEOS BuildArea (even-odd holes)
    line_rel = np.searchsorted(built, rel_of[sel][take])
    multi = shapely.multilinestrings(lines, indices=line_rel)
    areas = shapely.build_area(multi)
    parts, part_of = shapely.get_parts(areas, return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    kept = np.bincount(part_of[polygonal], minlength=built.shape[0]) > 0
    failed += int((~kept).sum())
    slot = np.searchsorted(np.flatnonzero(kept), part_of[polygonal])
    mp = shapely.multipolygons(parts[polygonal], indices=slot)
    wkb = shapely.to_wkb(as_libosmium(mp))
    out = [
        (int(ids[r]), "relation", tags[r], w)
        for r, w in zip(built[kept].tolist(), wkb, strict=True)
    ]
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, rel_of[present], member_rows[present])
    return out, failed, last[built[kept]]


def _ring_as_libosmium(coords: NDArray[np.float64], lens: NDArray[np.int64]) -> NDArray[np.float64]:
    """Closed rings one after the other, each counter-clockwise from its lowest vertex.

    :func:`as_libosmium` for polygons of one outer ring, on the coordinates (no polygon built
    twice).
    """
    if not lens.size:
        return coords
    n = coords.shape[0]
    off = np.concatenate([[0], np.cumsum(lens)])
    base = np.repeat(off[:-1], lens)
    m = np.repeat(lens - 1, lens)  # vertices of the ring without the closing one
    step = np.arange(n) - base
    # shoelace about each ring's first vertex: the sign of its area
    local = coords - coords[base]
    cross = np.append(local[:-1, 0] * local[1:, 1] - local[1:, 0] * local[:-1, 1], 0.0)
    twice = np.add.reduceat(cross, off[:-1]) - cross[off[1:] - 1]
    # clockwise rings read backwards (vertex j of the reversed ring is m - j mod m)
    j = np.where(np.repeat(twice < 0, lens), (m - step) % m, step)
    return _from_lowest(coords[base + j], lens)


def _from_lowest(coords: NDArray[np.float64], lens: NDArray[np.int64]) -> NDArray[np.float64]:
    """Closed rings one after the other, each rotated to start at its lowest (x, then y) vertex.

    Ring ``i`` has ``lens[i]`` coordinates, the last repeating the first.
    """
    off = np.concatenate([[0], np.cumsum(lens)])
    base = np.repeat(off[:-1], lens)
    m = np.repeat(lens - 1, lens)  # vertices of the ring without the closing one
    step = np.arange(coords.shape[0]) - base
    body = step < m
    x, y = coords[:, 0], coords[:, 1]
    min_x = np.minimum.reduceat(np.where(body, x, np.inf), off[:-1])
    at_min = body & (x == np.repeat(min_x, lens))
    min_y = np.minimum.reduceat(np.where(at_min, y, np.inf), off[:-1])
    lowest = np.flatnonzero(at_min & (y == np.repeat(min_y, lens)))
    ring = np.repeat(np.arange(lens.shape[0]), lens)
    first = lowest[np.concatenate([[True], ring[lowest][1:] != ring[lowest][:-1]])]
    return coords[base + (np.repeat(first - off[:-1], lens) + step) % m]


def as_libosmium(polys: NDArray[np.object_]) -> NDArray[np.object_]:
    """MultiPolygons with rings as libosmium writes them.

    Outer rings counter-clockwise and inner rings clockwise, each ring starting at its lowest
    (x, then y) vertex; the polygons of a multipolygon, and the inner rings of a polygon, in the
    order of those vertices. The same polygon either way; the same coordinate order keeps sums
    over the vertices (areas, lengths) equal to the last bit with the pyosmium read's.

    Parameters
    ----------
    polys
        MultiPolygons.

    Returns
    -------
    ndarray of MultiPolygon
    """
    if not polys.size:
        return polys
    oriented = shapely.orient_polygons(polys)
    typ, coords, (ring_off, poly_off, multi_off) = shapely.to_ragged_array(oriented)
    lens = np.diff(ring_off) - 1  # vertices of each ring without the closing one
    n_ring = lens.shape[0]
    rotated = _from_lowest(coords, lens + 1) if n_ring else coords
    # rings in libosmium's order: polygons by their outer ring's lowest vertex, then each
    # polygon's outer ring and its inner rings by theirs
    low = rotated[ring_off[:-1]]
    poly_of_ring = np.repeat(np.arange(poly_off.shape[0] - 1), np.diff(poly_off))
    multi_of_poly = np.repeat(np.arange(multi_off.shape[0] - 1), np.diff(multi_off))
    outer = poly_off[:-1]
    inner = np.ones(n_ring, dtype=bool)
    inner[outer] = False
    p_low = low[outer][poly_of_ring]
    ring_order = np.lexsort(
        (
            low[:, 1],
            low[:, 0],
            inner,
            poly_of_ring,
            p_low[:, 1],
            p_low[:, 0],
            multi_of_poly[poly_of_ring],
        )
    )
    poly_order = np.lexsort((low[outer][:, 1], low[outer][:, 0], multi_of_poly))
    rings_len = lens + 1
    new_len = rings_len[ring_order]
    new_off = np.concatenate([[0], np.cumsum(new_len)])
    src = np.repeat(ring_off[:-1][ring_order], new_len) + (
        np.arange(int(new_len.sum())) - np.repeat(new_off[:-1], new_len)
    )
    counts = np.diff(poly_off)[poly_order]
    new_poly_off = np.concatenate([[0], np.cumsum(counts)])
    return shapely.from_ragged_array(typ, rotated[src], (new_off, new_poly_off, multi_off))
