"""geoplan._lines.length_share_near against one union of every buffer, on real walls and parcels."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geoplan
from geoplan._lines import length_share_near


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
