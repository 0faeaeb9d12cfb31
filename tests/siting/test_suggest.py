"""``geoplan.siting.suggest``: buffer coverage of residential land before and after the sites,
against a shapely overlay of the land with the existing stops and the chosen sites."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geoplan
from geoplan.siting.spec import spec_of
from geoplan.siting.suggest import existing_sources, suggest_sites


def test_land_coverage_before_and_after_equal_overlays(chengdu: geoplan.City) -> None:
    spec = spec_of(
        "bus_stop_coverage", radius_m=300.0, method="buffer", basis="residential_area", target=0.6
    )
    res = suggest_sites(chengdu, spec=spec, max_sites=8)
    land = shapely.union_all(chengdu.residential.geometry.values)
    existing = existing_sources(chengdu, spec)
    assert existing.size == len(chengdu.bus_stops)
    before = shapely.union_all(shapely.buffer(existing, 300.0, quad_segs=16))
    assert res.coverage_before == pytest.approx(
        land.intersection(before).area / land.area, abs=1e-9
    )
    sites = np.asarray(res.sites.geometry.values, dtype=object)
    assert 0 < sites.size <= 8
    after = shapely.union(before, shapely.union_all(shapely.buffer(sites, 300.0, quad_segs=16)))
    assert res.coverage_after == pytest.approx(land.intersection(after).area / land.area, abs=1e-9)
    assert res.coverage_after > res.coverage_before
    # the uncovered land written beside the sites is the rest of the land
    assert res.uncovered.geometry.area.sum() == pytest.approx(
        land.area - land.intersection(after).area, rel=1e-6
    )
