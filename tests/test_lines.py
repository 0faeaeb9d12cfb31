"""geoplan._lines.length_share_near against one union of every buffer, on real walls and parcels."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geoplan
from geoplan._lines import length_share_near, points_along


@pytest.mark.parametrize("at_least", [0.0, 0.1, 0.6])
def test_share_of_outlines_near_walls_equals_the_union_of_buffers(
    helsinki: geoplan.City, at_least: float
) -> None:
    """Helsinki's land-use and building outlines near its 250 walls and fences (5 m): exact
    where the share can reach ``at_least``, below it elsewhere."""
    walls = np.asarray(
        helsinki.barriers.geometry.values[helsinki.barriers["cause"] == "wall"], dtype=object
    )
    assert helsinki.urban_land is not None
    parcels = np.asarray(helsinki.urban_land.geometry.values, dtype=object)
    rings = np.asarray(shapely.boundary(parcels), dtype=object)
    assert walls.size >= 100 and rings.size >= 100
    zone = shapely.union_all(shapely.buffer(walls, 5.0, quad_segs=4))
    want = shapely.length(shapely.intersection(rings, zone)) / shapely.length(rings)
    got = length_share_near(rings, walls, 5.0, at_least=at_least)
    reach = want >= at_least
    assert got[reach] == pytest.approx(want[reach], abs=1e-9)
    assert (got[~reach] < at_least).all()
    assert (want > 0.1).sum() >= 3  # some outlines do run along walls


def test_points_along_are_those_of_geos(chengdu: geoplan.City) -> None:
    """Chengdu's street lines and a few made-up ones (a repeated vertex, a zero-length part):
    samples at vertices, inside segments, at and past the ends, in any order, bit for bit the
    points of ``shapely.line_interpolate_point``."""
    made = [
        shapely.LineString([(0, 0), (0, 0), (3, 4), (3, 4), (3, 10)]),
        shapely.LineString([(5, 5), (5, 5)]),
        shapely.LineString([(0, 0), (10, 0), (10, 10)]),
    ]
    parts = np.asarray(list(chengdu.network.edge_geometry[:400]) + made, dtype=object)
    length = shapely.length(parts)
    rng = np.random.default_rng(3)
    rep = rng.integers(0, parts.size, 6000)
    # uniform, at vertices' running lengths, at the end, beyond it
    dist = rng.uniform(0, 1, rep.size) * length[rep]
    dist[::7] = length[rep[::7]]
    dist[::11] = length[rep[::11]] + 2.5
    dist[::13] = 0.0
    dist[-3:] = [5.0, 13.0, 10.0]
    rep[-3:] = parts.size - 3, parts.size - 3, parts.size - 1
    x, y = points_along(parts, rep, dist)
    want = shapely.get_coordinates(shapely.line_interpolate_point(parts[rep], dist))
    assert np.array_equal(np.column_stack([x, y]), want)
    assert np.array_equal(want[-3:], [[3.0, 4.0], [3.0, 10.0], [10.0, 0.0]])
