"""Baseline vs plan (``geoplan.scenario.compare``): changes equal the two checks' own figures."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

import geoplan
from geoplan.names import Method, bus_measure, coverage_key
from geoplan.scenario.compare import compare


def test_a_plan_without_half_the_stops_against_its_baseline(chengdu: geoplan.City) -> None:
    base = geoplan.check_city(chengdu, sheet="national")
    stops = chengdu.bus_stops
    plan_city = dataclasses.replace(chengdu, bus_stops=stops.iloc[: len(stops) // 2].copy())
    plan = geoplan.check_city(plan_city, sheet="national")
    res = compare(base, plan, base_city=chengdu, plan_city=plan_city)

    # measures: every change is the plan's value minus the baseline's, read from each check
    key = ["indicator", "measure", "method", "basis"]
    b = base.measures.drop_duplicates(key).set_index(key)["value"]
    p = plan.measures.drop_duplicates(key).set_index(key)["value"]
    m = res.measures.drop_duplicates(key).set_index(key)
    for k in p.index:
        exp = p[k] - b[k]
        got = m.loc[k, "delta"]
        assert (np.isnan(exp) and np.isnan(got)) or got == exp, k
    bus = m.loc[("bus_stop_coverage", bus_measure(500), "network", "homes"), "delta"]
    assert bus < 0  # fewer stops: fewer homes within 500 m
    others = m[~m.index.get_level_values("indicator").isin(["bus_stop_coverage"])]
    changed = others["delta"].fillna(0).abs() > 0
    # life circles count bus stops among their categories; nothing else moves
    assert set(others[changed].index.get_level_values("indicator")) <= {"life_circle"}

    # homes: no home gone; newly covered only where the plan covers and the baseline did not
    assert res.notes == [] and len(res.homes) == len(plan.homes)
    col = coverage_key(bus_measure(500), Method.NETWORK)
    if f"new_{col}" in res.homes.columns:
        assert not res.homes[f"new_{col}"].any()  # removing stops covers no new home

    # scorecard: measured values as the two scorecards have them
    sc = res.scorecard
    card_b = base.scorecard.set_index(["target_id", "method"])["measured"]
    card_p = plan.scorecard.set_index(["target_id", "method"])["measured"]
    for _, r in sc.iterrows():
        kb = (r["target_id"], r["method"])
        if kb in card_b.index and pd.notna(r["measured_baseline"]):
            assert r["measured_baseline"] == card_b[kb]
            assert r["measured_plan"] == card_p[kb]


def test_a_plan_equal_to_its_baseline_changes_nothing(chengdu_clip: geoplan.City) -> None:
    res0 = geoplan.check_city(chengdu_clip, sheet="national")
    res = compare(res0, res0, base_city=chengdu_clip, plan_city=chengdu_clip)
    assert (res.measures["delta"].fillna(0) == 0).all()
    assert (res.scorecard["status_baseline"] == res.scorecard["status_plan"]).all()
    new_cols = [c for c in res.homes.columns if c.startswith("new_")]
    assert new_cols and not res.homes[new_cols].to_numpy().any()
