"""Honest bounds: a life circle with categories missing from the data is at most the share over
the categories present, and a target that share already misses is failed, not "no data"."""

from __future__ import annotations

import numpy as np
import pytest

import geoplan
from geoplan.rules.life_circles import load_life_circles


@pytest.fixture(scope="module")
def checked(helsinki: geoplan.City) -> geoplan.CheckResult:
    return geoplan.check_city(helsinki, sheet="national")


def test_the_bound_is_the_share_of_homes_reaching_every_category_present(
    checked: geoplan.CheckResult,
) -> None:
    """By hand from the per-home distance columns of homes.gpkg (a pandas filter)."""
    homes = checked.homes
    for key, lev in load_life_circles().levels.items():
        present, missing = [], []
        for c in lev.required:
            cols = [
                f"dist_{x}_m" for x in (c, *lev.alternatives.get(c, ())) if f"dist_{x}_m" in homes
            ]
            (present if cols else missing).append(cols)
        assert present and missing, key  # the demo city lacks some categories of every level
        reach = np.ones(len(homes), dtype=bool)
        for cols in present:
            reach &= homes[cols].min(axis=1).to_numpy() <= lev.radius_m
        m = checked.measures
        row = m[(m["measure"] == key) & (m["method"] == "network") & (m["basis"] == "homes")]
        assert row["value"].isna().all()
        assert float(row["bound"].iloc[0]) == pytest.approx(reach.mean(), abs=1e-12), key
        assert f"{len(lev.required) - len(missing)} of {len(lev.required)}" in row["note"].iloc[0]


def test_a_target_the_bound_already_misses_is_failed(checked: geoplan.CheckResult) -> None:
    card = checked.scorecard
    rows = card[card["indicator"] == "life_circle"]
    assert len(rows)
    for r in rows.itertuples():
        assert np.isnan(r.measured) and np.isfinite(r.bound)
        goal = float(r.target)
        expected = "fail" if r.bound < goal - 1e-9 else "no data"
        assert r.status == expected, (r.target_id, r.method, r.bound, goal)
        if expected == "fail":
            assert r.gap == pytest.approx(r.bound - goal)
            assert r.note.startswith(f"at most {r.bound:.1%}")


def test_town_targets_are_not_scored_on_a_city(helsinki: geoplan.City) -> None:
    """anyang-2023's 镇区建成区绿地率 (applies_to: town) was scored with the city's 绿地率 (15.3 %,
    fail); on a city it is now "no data", and a check with scope town scores it with the
    study area's own figure (the 绿地率 row of the same run), while city targets are "no data"."""
    city = geoplan.check_city(helsinki, sheet="anyang-2023").scorecard
    town = geoplan.check_city(helsinki, sheet="anyang-2023", scope="town").scorecard
    row = city.loc[city["target_id"] == "town_green_land_ratio"].iloc[0]
    assert row["status"] == "no data" and "--scope town" in row["note"]
    ratio = city.loc[city["target_id"] == "green_land_ratio", "measured"].iloc[0]
    t_row = town.loc[town["target_id"] == "town_green_land_ratio"].iloc[0]
    assert t_row["measured"] == pytest.approx(ratio)
    assert t_row["status"] == ("pass" if ratio >= 0.3 else "fail")
    assert town.loc[town["target_id"] == "green_land_ratio", "status"].iloc[0] == "no data"
