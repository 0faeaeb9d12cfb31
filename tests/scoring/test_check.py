"""check_city + scorecard on Chengdu with every target sheet, against the YAML read by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from _reference import buffer_cover_share, divided_pairs
from tolerances import AREA_REL, GAP_ABS, LENGTH_REL

import geoplan
from geoplan.network.cache import AccessCache
from geoplan.scoring.check import CheckResult, check_city

SHEETS = [
    "national",
    "jiyuan-2027",
    "anyang-2023",
    "luoyang-2023",
    "xinxiang-gxq-2019",
    "zhengzhou-zhongyuan-2019",
]
SHEET_DIR = Path(geoplan.__file__).parent / "data" / "targets"
COVERAGE = {
    "life_circle",
    "circle",
    "park_service_coverage",
    "green_300m",
    "park_500m",
    "bus_stop_coverage",
}


def raw_targets(sheet: str) -> list[dict[str, Any]]:
    with open(SHEET_DIR / f"{sheet}.yaml", encoding="utf-8") as f:
        return list(yaml.safe_load(f)["targets"])


@pytest.fixture(scope="module")
def cache() -> AccessCache:
    return AccessCache()


@pytest.fixture(scope="module")
def runs(chengdu: geoplan.City, cache: AccessCache) -> dict[str, CheckResult]:
    return {s: check_city(chengdu, sheet=s, cache=cache) for s in SHEETS}


@pytest.mark.parametrize("sheet", SHEETS)
def test_not_checkable_targets_are_all_listed(runs: dict[str, CheckResult], sheet: str) -> None:
    card = runs[sheet].scorecard
    raw = raw_targets(sheet)
    nc = [t["id"] for t in raw if t.get("checkable", True) is False]
    assert nc or sheet == "national"  # every seed plan has some; the national sheet has none
    rows = card.loc[card["status"] == "not checkable"]
    assert len(rows) == len(nc)
    assert list(rows["target_id"]) == nc
    # every target of the sheet appears, in document order
    assert list(dict.fromkeys(card["target_id"])) == [t["id"] for t in raw]


@pytest.mark.parametrize("sheet", SHEETS)
def test_buffer_and_network_rows_for_every_coverage_target(
    runs: dict[str, CheckResult], sheet: str
) -> None:
    card = runs[sheet].scorecard
    cov = [
        t["id"]
        for t in raw_targets(sheet)
        if t.get("checkable", True) is not False and t.get("indicator") in COVERAGE
    ]
    assert cov
    for tid in cov:
        methods = set(card.loc[card["target_id"] == tid, "method"])
        assert {"buffer", "network"} <= methods, (sheet, tid, methods)


def verdict(op: str, goal: Any, measured: float) -> tuple[str, float]:
    """Status and gap from the YAML's op/value, by hand."""
    if op == "between":
        lo, hi = goal
        gap = measured - lo if measured < lo else measured - hi if measured > hi else 0.0
        ok = lo - 1e-9 <= measured <= hi + 1e-9
    else:
        gap = measured - float(goal)
        ok = {">=": gap >= -1e-9, "<=": gap <= 1e-9, "==": abs(gap) <= 1e-9}[op]
    return ("pass" if ok else "fail"), gap


@pytest.mark.parametrize("sheet", SHEETS)
def test_status_and_gap_by_hand(runs: dict[str, CheckResult], sheet: str) -> None:
    card = runs[sheet].scorecard
    raw = {t["id"]: t for t in raw_targets(sheet)}
    n_judged = 0
    for _, row in card.iterrows():
        t = raw[row["target_id"]]
        if t.get("checkable", True) is False:
            continue
        m = row["measured"]
        if isinstance(m, float) and math.isnan(m):
            bound = row["bound"]  # an upper bound (categories missing): fail if already short
            if math.isfinite(bound) and t["op"] in (">=", ">"):
                status, gap = verdict(t["op"], t["value"], float(bound))
                if status == "fail":
                    assert row["status"] == "fail" and row["gap"] == pytest.approx(gap)
                    continue
            assert row["status"] == "no data"
            assert math.isnan(row["gap"])
            continue
        status, gap = verdict(t["op"], t["value"], float(m))
        assert row["status"] == status, (sheet, row["target_id"], row["method"])
        assert row["gap"] == pytest.approx(gap, abs=GAP_ABS)
        n_judged += 1
    assert n_judged > 0
    # a measured value nudged below a target flips the hand verdict
    assert verdict(">=", 0.8, 0.8 - 1e-6)[0] == "fail"


def test_measured_values_are_the_references(
    chengdu: geoplan.City, runs: dict[str, CheckResult]
) -> None:
    """Tie two scorecard cells to independent computations (shapely overlay, shapely lengths)."""
    card = runs["anyang-2023"].scorecard
    cell = card.loc[
        (card["target_id"] == "bus_stop_coverage_500m") & (card["method"] == "buffer"),
        "measured",
    ]
    # over the built-up area derived from OSM (the default), cut to the study area
    bnd = runs["anyang-2023"].area
    assert runs["anyang-2023"].area_source == "osm"
    ref = buffer_cover_share(list(chengdu.bus_stops.geometry.values), 500.0, [bnd])
    assert float(cell.iloc[0]) == pytest.approx(ref, rel=AREA_REL)

    card = runs["jiyuan-2027"].scorecard
    bnd = runs["jiyuan-2027"].area
    cell = card.loc[card["indicator"] == "road_density", "measured"]
    r = chengdu.roads
    hw = ["motorway", "trunk", "primary", "secondary", "tertiary"]
    hw += ["residential", "unclassified", "living_street"]
    r = r.loc[r["highway"].isin(hw) & (r["grade"] != "internal")]  # 小区内部道路 excluded
    length = np.array([g.intersection(bnd).length for g in r.geometry])
    paired = divided_pairs(r)
    w = np.array([0.5 if i in paired else 1.0 for i in range(len(r))])
    ref = (length * w).sum() / 1000 / (bnd.area / 1e6)
    assert float(cell.iloc[0]) == pytest.approx(ref, rel=LENGTH_REL)


def test_access_cache_second_run_hits_and_matches(
    chengdu: geoplan.City, cache: AccessCache, runs: dict[str, CheckResult]
) -> None:
    """Re-run a sheet on the warm cache: every source set is a hit (no search runs), results are
    identical; each facility category (a dist_ column) is one of the hits."""
    first = runs["national"]
    hits, misses, searches = cache.hits, cache.misses, cache.dijkstra_runs
    assert misses > 0 and hits > 0  # the six sheets already shared the cache
    second = check_city(chengdu, sheet="national", cache=cache)
    n_cats = len([c for c in first.homes.columns if c.startswith("dist_")])
    assert n_cats > 0
    assert cache.misses == misses
    assert cache.dijkstra_runs == searches
    assert cache.hits >= hits + n_cats
    pd.testing.assert_frame_equal(first.scorecard, second.scorecard)
    pd.testing.assert_frame_equal(first.measures, second.measures)
    dist = [c for c in first.homes.columns if c.startswith("dist_")]
    pd.testing.assert_frame_equal(first.homes[dist], second.homes[dist])
