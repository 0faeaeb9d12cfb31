"""Road grades and walk rules (``geoplan.rules.streets``) against INDICATORS.md and the tags."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoplan.io.osm import read_osm
from geoplan.rules.streets import road_grade, road_grades, walk_rules

#: INDICATORS.md §4 (路网密度): 快速路 motorway/trunk, 主干路 primary, 次干路 secondary, 支路
#: tertiary + residential / unclassified / living_street; links with their road
INDICATORS_MD = {
    "motorway": "expressway",
    "trunk": "expressway",
    "primary": "arterial",
    "secondary": "secondary",
    "tertiary": "local",
    "residential": "local",
    "unclassified": "local",
    "living_street": "local",
}


def test_road_grades_follow_indicators_md() -> None:
    for hw, grade in INDICATORS_MD.items():
        assert road_grade(hw) == grade
        if hw in ("motorway", "trunk", "primary", "secondary", "tertiary"):
            assert road_grade(f"{hw}_link") == grade
    for hw in ("footway", "path", "steps", "cycleway", "pedestrian", "track"):
        assert road_grade(hw) is None  # walkable maybe, but not a road of the density
    assert road_grade("service") == "internal"
    grades = road_grades()
    assert {"expressway", "arterial", "secondary", "local"} <= set(grades)
    assert grades["arterial"].label_zh == "主干路"


def test_walk_rules_on_hand_written_ways() -> None:
    w = walk_rules()
    assert w.walkable({"highway": "footway"})
    assert w.walkable({"highway": "residential"})
    assert not w.walkable({"highway": "motorway"})
    assert not w.walkable({"highway": "residential", "foot": "no"})
    assert not w.walkable({"building": "yes"})
    private = {"highway": "service", "access": "private"}
    assert not w.walkable(private) and w.walkable(private, include_private=True)
    assert w.walkable({**private, "foot": "yes"})  # a private drive open to walkers


def test_walkable_mask_equals_the_rule_per_way(chengdu_pbf: Path) -> None:
    raw = read_osm(chengdu_pbf)
    tags = [way.tags for way in raw.ways]
    assert len(tags) > 1000
    w = walk_rules()
    for private in (False, True):
        got = w.walkable_mask(tags, include_private=private)
        exp = np.array([w.walkable(t, include_private=private) for t in tags])
        np.testing.assert_array_equal(got, exp)
        assert 0 < got.sum() < len(tags)
