"""The access stage: one bounded search per source set, reused exactly at smaller limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import geoplan
from geoplan.city.homes import homes_from_city
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


def _rows(att: object) -> np.ndarray:
    """Source rows as sorted (owner, edge, t0, t1, offset) tuples: order-free comparison."""
    cols = [np.asarray(getattr(att, f), dtype=float) for f in ("owner", "edge", "t0", "t1")]
    cols.append(np.asarray(att.offset_m, dtype=float))  # type: ignore[attr-defined]
    m = np.column_stack(cols)
    return m[np.lexsort(m.T[::-1])]


def test_sources_kept_per_feature_equal_the_layer_at_once(chengdu: geoplan.City) -> None:
    net = chengdu.network
    parks = np.asarray(chengdu.parks.geometry.values, dtype=object)
    big = parks[chengdu.parks["area_m2"].to_numpy() >= 5000]
    cache = AccessCache()
    # two overlapping park sets (a size tier and every park): shared parks computed once
    computed = cache.prefetch_features(net, [big, parks], boundary_step_m=2.0, workers=2)
    assert computed == len({p.wkb for p in parks})
    for g in (big, parks):
        _, att = cache.sources(net, g, boundary_step_m=2.0)
        bulk = facility_sources(net, g, boundary_step_m=2.0)
        np.testing.assert_array_equal(_rows(att), _rows(bulk))

    homes = homes_from_city(chengdu)
    h = attach_points(net, homes.geometry.values)
    got = cache.point_distances(net, h, parks, limit_m=500.0)
    want = nearest_distance_m(net, h, facility_sources(net, parks), limit_m=500.0)
    np.testing.assert_array_equal(got, want)  # row order does not change a minimum


def test_moving_one_park_attaches_that_park_alone(chengdu: geoplan.City) -> None:
    import shapely.affinity

    net = chengdu.network
    parks = np.asarray(chengdu.parks.geometry.values, dtype=object)
    cache = AccessCache()
    cache.sources(net, parks)
    moved = parks.copy()
    moved[3] = shapely.affinity.translate(moved[3], 150.0, 0.0)
    assert cache.prefetch_features(net, [moved], boundary_step_m=2.0) == 1
    _, att = cache.sources(net, moved)
    np.testing.assert_array_equal(_rows(att), _rows(facility_sources(net, moved)))


def test_adding_parks_searches_from_the_added_parks_alone_bit_for_bit(
    chengdu: geoplan.City,
) -> None:
    net = chengdu.network
    parks = np.asarray(chengdu.parks.geometry.values, dtype=object)
    area = chengdu.parks["area_m2"].to_numpy()
    big = parks[area >= 5000]
    homes = homes_from_city(chengdu)
    h = attach_points(net, homes.geometry.values)
    cache = AccessCache()
    cache.point_distances(net, h, big, limit_m=1000.0)
    runs = cache.dijkstra_runs
    for limit in (1000.0, 500.0, 300.0):  # also below the limit the subset was searched at
        got = cache.point_distances(net, h, parks, limit_m=limit)
        want = nearest_distance_m(net, h, facility_sources(net, parks), limit_m=limit)
        np.testing.assert_array_equal(got, want)
        assert np.isfinite(got).sum() > 0
    # one search from the smaller parks (at 1000 m, reused below it); none from all parks
    assert cache.dijkstra_runs == runs + 1
    # a set that is not a superset is searched whole
    some = parks[area < 5000]
    np.testing.assert_array_equal(
        cache.point_distances(net, h, some[1:], limit_m=500.0),
        nearest_distance_m(net, h, facility_sources(net, some[1:]), limit_m=500.0),
    )


def test_searches_run_ahead_on_both_cores_are_the_searches(chengdu: geoplan.City) -> None:
    """prefetch_searches stores what node_distance_m gives; the check then runs none itself."""
    from geoplan.network.access import node_distance_m

    net = chengdu.network
    homes = homes_from_city(chengdu)
    h = attach_points(net, homes.geometry.values)
    fac = chengdu.facilities
    cache = AccessCache()
    jobs = []
    for cat, lim in (("restaurant", 500.0), ("school", 1000.0), ("restaurant", 1000.0)):
        g = np.asarray(fac.loc[fac["category"] == cat].geometry.values, dtype=object)
        if not len(g):
            g = np.asarray(fac.geometry.values[:20], dtype=object)
        need = cache.needs_search(net, h, g, limit_m=lim)
        assert need is not None
        jobs.append((need[0], need[1], lim))
    assert cache.prefetch_searches(net, jobs) == 2  # restaurants once, at 1000 m
    assert cache.dijkstra_runs == 2
    for key, src, _ in jobs:
        stored_lim, d = cache.node_store[key]
        assert stored_lim == max(j[2] for j in jobs if j[0] == key)
        np.testing.assert_array_equal(d, node_distance_m(net, src, limit_m=stored_lim))
    assert cache.prefetch_searches(net, jobs) == 0
    # the point distances now come from the stored searches, bit for bit a fresh one
    g = np.asarray(fac.loc[fac["category"] == "restaurant"].geometry.values, dtype=object)
    assert cache.needs_search(net, h, g, limit_m=300.0) is None
    got = cache.point_distances(net, h, g, limit_m=300.0)
    np.testing.assert_array_equal(
        got, nearest_distance_m(net, h, facility_sources(net, g), limit_m=300.0)
    )
    assert cache.dijkstra_runs == 2


def test_grid_distances_are_laid_out_when_read() -> None:
    """Scattered distances read back over every listed cell, inf elsewhere; kept ones as given."""
    from geoplan.indicators.access import GridDistances

    g = GridDistances()
    d = np.array([3.0, 7.5, 1.0])
    g.scatter("park", 6, np.array([0, 2, 5]), d)
    got = g["park"]
    assert got.tolist() == [3.0, np.inf, 7.5, np.inf, np.inf, 1.0]
    got[0] = -1.0  # a reader's copy: the kept distances do not change
    assert g["park"][0] == 3.0 and d[0] == 3.0
    gated = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    g.put("bus", gated)
    assert g["bus"] is gated and sorted(g) == ["bus", "park"] and len(g) == 2
    assert g.get("school") is None and "park" in g
    g.put("park", gated)
    assert len(g) == 2 and g["park"] is gated


def test_assembled_sources_are_not_all_kept(chengdu: geoplan.City) -> None:
    """Park layers' sources are rebuilt from the per-feature store, not kept per layer: the
    distances equal fresh ones, and only the last two layers' concatenations stay."""
    from geoplan.indicators.access import Request, compute_access
    from geoplan.network.cache import ASSEMBLED_KEEP

    net = chengdu.network
    h = attach_points(net, homes_from_city(chengdu).geometry.values)
    parks = np.asarray(chengdu.parks.geometry.values, dtype=object)
    area = chengdu.parks.geometry.area.to_numpy()
    tiers = {f"park{lo}": parks[area >= lo] for lo in (0, 1000, 5000, 20000)}
    assert len({len(g) for g in tiers.values()}) == 4
    cache = AccessCache()
    acc = compute_access(net, h, {k: Request(g, 500.0) for k, g in tiers.items()}, cache=cache)
    assert len(cache._assembled) <= ASSEMBLED_KEEP and not cache.attachments
    for k, g in tiers.items():
        np.testing.assert_array_equal(
            acc.home_m[k], nearest_distance_m(net, h, facility_sources(net, g), limit_m=500.0)
        )


def test_the_edge_tree_dropped_after_the_sources_changes_nothing(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Measures and gap causes are those of a check that keeps the tree throughout."""
    from geoplan.indicators import access as access_mod

    dropped = geoplan.check_city(chengdu, sheet="anyang-2023", cache=AccessCache())
    monkeypatch.setattr(access_mod, "drop_edge_tree", lambda net: None)
    kept = geoplan.check_city(chengdu, sheet="anyang-2023", cache=AccessCache())
    assert dropped.measures.equals(kept.measures)
    assert len(dropped.gap_causes) > 0
    assert dropped.gap_causes.equals(kept.gap_causes)


def test_features_are_dealt_out_in_turn_to_the_two_cores(chengdu: geoplan.City) -> None:
    """Each core gets every other feature: all of them once, in order, halves within one."""
    from geoplan.network.cache import _balanced_chunks

    geoms = np.asarray(chengdu.parks.geometry.values, dtype=object)
    sets = _balanced_chunks(geoms, 2)
    assert len(sets) == 2 and abs(sets[0].size - sets[1].size) <= 1
    both = np.concatenate(sets)
    np.testing.assert_array_equal(np.sort(both), np.arange(len(geoms)))
    assert all((np.diff(s) == 2).all() for s in sets)
    assert [s.size for s in _balanced_chunks(geoms[:1], 2)] == [1]


def test_a_check_with_its_own_cache_releases_the_searches_after_access(
    chengdu: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A one-off check forgets sources and node distances once its distances are known (what
    a session's later runs would reuse), with the same figures as a check that keeps them."""
    released: list[tuple[int, int]] = []
    orig = AccessCache.release_searches

    def spy(self: AccessCache) -> None:
        released.append((len(self.features), len(self.node_store)))
        orig(self)
        assert len(self.features) == 0 and not self.node_store

    monkeypatch.setattr(AccessCache, "release_searches", spy)
    own = geoplan.check_city(chengdu, sheet="national")
    assert len(released) == 1 and released[0][0] > 0 and released[0][1] > 0
    kept = AccessCache()
    shared = geoplan.check_city(chengdu, sheet="national", cache=kept)
    assert len(released) == 1  # a cache passed in is the caller's: kept whole
    assert len(kept.features) > 0 and kept.node_store
    pd.testing.assert_frame_equal(own.measures, shared.measures)
    assert own.gap_causes is not None and shared.gap_causes is not None
    pd.testing.assert_frame_equal(own.gap_causes, shared.gap_causes)
    pd.testing.assert_frame_equal(
        pd.DataFrame(own.homes.drop(columns="geometry")),
        pd.DataFrame(shared.homes.drop(columns="geometry")),
    )
