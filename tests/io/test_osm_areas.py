"""Areas from node arrays: closed ways and multipolygon relations, written as libosmium does.

The read of whole files against libosmium's assembler is in ``test_osm_columns.py`` (the
three shared cities and a clipped one, byte for byte); these are small hand-built cases.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplan.io.osm_areas import (
    UNDEFINED,
    NodeArrays,
    as_libosmium,
    closed_way_areas,
    relation_areas,
)


def _nodes(ways: list[list[tuple[float, float] | None]]) -> NodeArrays:
    """Ways of (lon, lat) nodes, None for a node missing from the file."""
    lens = [len(w) for w in ways]
    flat = [p for w in ways for p in w]
    x = np.array([UNDEFINED if p is None else round(p[0] * 1e7) for p in flat], dtype=np.int64)
    y = np.array([UNDEFINED if p is None else round(p[1] * 1e7) for p in flat], dtype=np.int64)
    return NodeArrays(np.concatenate([[0], np.cumsum(lens)]).astype(np.int64), x, y)


def _lowest_first_ccw(ring: shapely.LinearRing, *, ccw: bool) -> None:
    xy = [tuple(c) for c in ring.coords]
    assert xy[0] == xy[-1] and xy[0] == min(xy[:-1])  # starts (and ends) at its lowest vertex
    assert ring.is_ccw == ccw


def test_closed_ways_become_ccw_polygons_from_their_lowest_vertex() -> None:
    cw_square = [(0.002, 0.0), (0.0, 0.0), (0.0, 0.002), (0.002, 0.002), (0.002, 0.0)]
    ccw_tri = [(0.01, 0.01), (0.013, 0.01), (0.011, 0.012), (0.01, 0.01)]
    open_way = [(0.02, 0.0), (0.021, 0.0), (0.021, 0.001), (0.02, 0.001)]
    broken = [(0.03, 0.0), (0.031, 0.0), None, (0.03, 0.001), (0.03, 0.0)]
    nodes = _nodes([cw_square, ccw_tri, open_way, broken])
    ids = np.array([11, 12, 13, 14], dtype=np.int64)
    tags = [{"leisure": "park"}, {"building": "yes"}, {"landuse": "grass"}, {"amenity": "x"}]
    areas, rows = closed_way_areas(nodes, np.arange(4, dtype=np.int64), ids, tags)
    # the open way and the one with a missing node are left out (as libosmium leaves them)
    assert [a[0] for a in areas] == [11, 12] and rows.tolist() == [0, 1]
    assert [a[2] for a in areas] == tags[:2] and all(a[1] == "way" for a in areas)
    square = shapely.from_wkb(areas[0][3])
    assert square.geom_type == "MultiPolygon"
    assert shapely.equals(square, shapely.Polygon(cw_square))
    assert abs(square.area - 0.002 * 0.002) < 1e-15
    _lowest_first_ccw(square.geoms[0].exterior, ccw=True)
    _lowest_first_ccw(shapely.from_wkb(areas[1][3]).geoms[0].exterior, ccw=True)


def test_a_relation_of_split_rings_gets_its_hole_by_nesting() -> None:
    # outer 10 x 10 square split into two member ways; a 2 x 2 inner ring as one closed way
    d = 0.001
    outer_a = [(0.0, 0.0), (10 * d, 0.0), (10 * d, 10 * d)]
    outer_b = [(10 * d, 10 * d), (0.0, 10 * d), (0.0, 0.0)]
    inner = [(4 * d, 4 * d), (6 * d, 4 * d), (6 * d, 6 * d), (4 * d, 6 * d), (4 * d, 4 * d)]
    # a second relation whose ring does not close, a third missing a member way, a fourth
    # whose member way misses a node
    gap = [(0.1, 0.0), (0.11, 0.0), (0.11, 0.01)]
    gap_b = [(0.11, 0.01), (0.1, 0.01)]
    holed = [(0.2, 0.0), None, (0.21, 0.01), (0.2, 0.0)]
    nodes = _nodes([outer_a, outer_b, inner, gap, gap_b, holed])
    ids = np.array([101, 102, 103, 104], dtype=np.int64)
    tags = [{"leisure": "park"}] * 4
    offsets = np.array([0, 3, 5, 7, 8], dtype=np.int64)
    members = np.array([1, 2, 0, 3, 4, 0, -1, 5], dtype=np.int64)
    areas, failed, last = relation_areas(nodes, ids, tags, offsets, members)
    assert [a[0] for a in areas] == [101] and failed == 1  # the unclosed one counts as failed
    assert last.tolist() == [2]  # completed at its last member in file order
    park = shapely.from_wkb(areas[0][3])
    assert park.geom_type == "MultiPolygon" and len(park.geoms) == 1
    assert abs(park.area - (100 - 4) * d * d) < 1e-15  # by hand: 10 x 10 less the 2 x 2 hole
    poly = park.geoms[0]
    _lowest_first_ccw(poly.exterior, ccw=True)
    assert len(poly.interiors) == 1
    _lowest_first_ccw(poly.interiors[0], ccw=False)


def test_as_libosmium_keeps_each_polygon_and_orders_rings_and_parts() -> None:
    rng = np.random.default_rng(7)
    polys = []
    for k in range(40):
        cx, cy = rng.uniform(0, 1, 2)
        outer = shapely.Point(cx, cy).buffer(0.05, quad_segs=rng.integers(2, 6))
        holes = [shapely.Point(cx + dx, cy).buffer(0.01).exterior for dx in (-0.02, 0.02)]
        p = shapely.Polygon(outer.exterior.coords[::-1], [h.coords for h in holes])
        other = shapely.box(cx - 0.3, cy, cx - 0.25, cy + 0.05)
        polys.append(shapely.MultiPolygon([p, other] if k % 2 else [other, p]))
    got = as_libosmium(np.array(polys, dtype=object))
    for before, after in zip(polys, got, strict=True):
        assert shapely.equals(before, after)
        lows = [min(tuple(c) for c in g.exterior.coords) for g in after.geoms]
        assert lows == sorted(lows)  # parts by their lowest vertex
        for g in after.geoms:
            _lowest_first_ccw(g.exterior, ccw=True)
            inner_lows = [min(tuple(c) for c in r.coords) for r in g.interiors]
            assert inner_lows == sorted(inner_lows)
            for r in g.interiors:
                _lowest_first_ccw(r, ccw=False)
