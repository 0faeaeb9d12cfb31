"""The access stage: one bounded search per source set, reused exactly at smaller limits."""

from __future__ import annotations

import numpy as np

import geoplan
from geoplan.homes import homes_from_city
from geoplan.network.access import attach_points, facility_sources, nearest_distance_m
from geoplan.network.cache import AccessCache


def test_a_search_at_a_larger_limit_serves_smaller_limits_exactly(chengdu: geoplan.City) -> None:
    net = chengdu.network
    homes = homes_from_city(chengdu)
    att = attach_points(net, homes.geometry.values)
    rest = chengdu.facilities.loc[chengdu.facilities["category"] == "restaurant"].geometry.values
    cache = AccessCache()
    wide = cache.point_distances(net, att, rest, limit_m=1000.0)
    narrow = cache.point_distances(net, att, rest, limit_m=300.0)
    assert cache.dijkstra_runs == 1  # the 300 m answer came from the 1000 m search
    fresh = nearest_distance_m(net, att, facility_sources(net, rest), limit_m=300.0)
    np.testing.assert_array_equal(narrow, fresh)  # bit-identical
    assert np.isfinite(narrow).sum() < np.isfinite(wide).sum()
    assert np.all(narrow[np.isfinite(narrow)] <= 300.0)


def test_a_second_check_runs_no_search(chengdu: geoplan.City) -> None:
    cache = AccessCache()
    first = geoplan.check_city(chengdu, sheet="anyang-2023", cache=cache)
    runs = cache.dijkstra_runs
    assert runs > 0
    second = geoplan.check_city(chengdu, sheet="anyang-2023", cache=cache)
    assert cache.dijkstra_runs == runs
    assert first.measures.equals(second.measures)
