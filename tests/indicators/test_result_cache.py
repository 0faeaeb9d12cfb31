"""The indicator result cache (``geoplan.indicators.result_cache``): hits only on equal inputs."""

from __future__ import annotations

import pandas as pd

import geoplan
from geoplan.indicators.coverage import IndicatorResult
from geoplan.indicators.result_cache import ResultCache


def _result(tag: str) -> IndicatorResult:
    return IndicatorResult(tag, pd.DataFrame(), pd.DataFrame())


def test_a_result_is_reused_only_for_the_same_parameters_and_layers() -> None:
    cache = ResultCache()
    made: list[str] = []

    def compute(tag: str) -> IndicatorResult:
        made.append(tag)
        return _result(tag)

    a = cache.get("park_coverage", {"r": 500.0}, {"parks": "h1"}, lambda: compute("a"))
    assert cache.get("park_coverage", {"r": 500.0}, {"parks": "h1"}, lambda: compute("b")) is a
    cache.get("park_coverage", {"r": 300.0}, {"parks": "h1"}, lambda: compute("c"))  # parameter
    cache.get("park_coverage", {"r": 500.0}, {"parks": "h2"}, lambda: compute("d"))  # layer
    cache.get("bus_stop_coverage", {"r": 500.0}, {"parks": "h1"}, lambda: compute("e"))
    assert made == ["a", "c", "d", "e"]
    assert cache.report() == {
        "bus_stop_coverage": "0 hits, 1 miss",
        "park_coverage": "1 hit, 3 misses",
    }
    cache.reset_counts()
    assert cache.report() == {}
    assert len(cache.store) == 4


def test_a_second_check_with_the_cache_hits_and_equals_a_fresh_one(
    chengdu_clip: geoplan.City,
) -> None:
    cache = ResultCache()
    first = geoplan.check_city(chengdu_clip, sheet="national", results=cache)
    again = geoplan.check_city(chengdu_clip, sheet="national", results=cache)
    assert all(v == "1 hit, 1 miss" for v in cache.report().values())
    pd.testing.assert_frame_equal(first.measures, again.measures)
    # the area method is part of the key: another method is computed, not taken from the cache
    geoplan.check_city(chengdu_clip, sheet="national", results=cache, exact_areas=False)
    assert any("2 misses" in v for v in cache.report().values())
