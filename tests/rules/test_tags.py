"""The tag-rule engine (``geoplan.rules.tags``): rule forms, the indexed match, grouped answers.

Expected answers come from trying every rule on every feature's own tags (brute force) and from
hand-written tag dicts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geoplan.io.osm import read_osm
from geoplan.rules import taxonomy as tx
from geoplan.rules.tags import NAME_KEYS, TagRule, TagSets, any_match, parse_rules, rule_keys


def test_rule_forms_parse_as_written() -> None:
    r = TagRule.parse({"amenity": "school", "isced:level": ["1", "2"], "name~": ["小学"]})
    assert r.matches({"amenity": "school", "isced:level": "1", "name": "东城小学"})
    assert not r.matches({"amenity": "school", "isced:level": "3", "name": "东城小学"})
    assert not r.matches({"amenity": "school", "isced:level": "1", "name": "东城中学"})
    # "name~" searches every name key, case-insensitively
    assert r.matches({"amenity": "school", "isced:level": "2", "name:zh": "x", "name:en": "小学"})
    assert {"name:zh", "name:en"} <= set(NAME_KEYS)
    anyv = TagRule.parse({"leisure": "*"})
    assert anyv.matches({"leisure": "anything"}) and not anyv.matches({"landuse": "grass"})
    sub = TagRule.parse({"shop~": "MART"})
    assert sub.matches({"shop": "supermarket"}) is False
    assert sub.matches({"shop": "minimart"})
    assert rule_keys(parse_rules([{"a": 1, "b~": "x"}, {"c": "*"}])) == {"a", "b", "c"}


def test_indexed_match_equals_trying_every_rule(chengdu_pbf: Path) -> None:
    raw = read_osm(chengdu_pbf)
    tags = [p[3] for p in raw.points] + [a[2] for a in raw.areas]
    assert len(tags) > 500
    checked = 0
    for key, cat in tx.categories().items():
        rules = cat.rules
        for t in tags:
            assert any_match(rules, t) == any(r.matches(t) for r in rules), (key, t)
            checked += 1
    assert checked > 10_000


def test_tag_sets_give_each_feature_its_own_answer(chengdu_pbf: Path) -> None:
    raw = read_osm(chengdu_pbf)
    tags = [a[2] for a in raw.areas] + [p[3] for p in raw.points]
    keys = tx.layer_rule_keys()
    sets = TagSets(tags, keys)
    assert len(sets) == len(tags)
    assert len(sets.distinct) < 0.6 * len(tags)  # features share tag combinations
    for pred in (tx.is_built_up_land, lambda t: tx.green_kind(t) is not None):
        got = sets.mask(pred)
        np.testing.assert_array_equal(got, np.array([bool(pred(t)) for t in tags]))
