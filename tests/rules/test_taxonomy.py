"""Tag rules from the data files: facility categories, school levels, road grades, walk rules."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geoplan.rules import taxonomy as tx

#: every life-circle facility of INDICATORS.md §1 needs a category
LIFE_CIRCLE = {
    "kindergarten": "幼儿园",
    "primary_school": "小学",
    "middle_school": "初中",
    "health_centre": "社区卫生服务中心",
    "clinic": "社区卫生服务站",
    "elderly_care": "养老院",
    "elderly_day_care": "老年人日间照料中心",
    "culture_centre": "文化活动",
    "community_service": "社区服务中心",
    "sports_large": "大型多功能运动场地",
    "sports_medium": "中型多功能运动场地",
    "sports_small": "健身",
    "community_commerce": "社区商业网点",
    "street_office": "街道办事处",
    "judicial_office": "司法所",
    "telecom": "电信营业网点",
    "post_office": "邮政",
    "mall": "商场",
    "food_market": "菜市场",
    "supermarket": "超市",
    "convenience": "便利店",
    "restaurant": "餐饮",
    "bank": "银行",
    "toilet": "公共厕所",
    "waste": "再生资源回收点",
    "library": "图书馆",
    "pharmacy": "药店",
}


@pytest.mark.parametrize("name", ["taxonomy.yaml", "road_grades.yaml", "walk_network.yaml"])
def test_data_files_cite_their_source(name: str) -> None:
    text = resources.files("geoplan").joinpath("data", name).read_text(encoding="utf-8")
    head = text[:600]
    assert head.startswith("#")
    assert any(s in head for s in ("Source", "Sources", "GB ", "OSM wiki", "wiki"))


def test_taxonomy_covers_life_circle_categories() -> None:
    cats = tx.categories()
    for key, zh in LIFE_CIRCLE.items():
        assert key in cats, key
        assert zh in cats[key].label_zh, (key, cats[key].label_zh)
        assert cats[key].label_en


@pytest.mark.parametrize(
    ("tags", "want", "how"),
    [
        ({"amenity": "school", "isced:level": "1"}, ["primary_school"], "isced"),
        ({"amenity": "school", "isced:level": "1;2"}, ["middle_school", "primary_school"], "isced"),
        ({"amenity": "school", "name": "成都市建设路小学"}, ["primary_school"], "name"),
        ({"amenity": "school", "name": "成都市第八中学"}, ["middle_school"], "name"),
        (
            {"amenity": "school", "name": "某某九年一贯制学校"},
            ["primary_school", "middle_school"],
            "name",
        ),
        # abbreviations (X中, 附中, 铁中) are middle schools; 高中 only is not 初中
        ({"amenity": "school", "name": "成都铁中"}, ["middle_school"], "name"),
        ({"amenity": "school", "name": "成都49中"}, ["middle_school"], "name"),
        ({"amenity": "school", "name": "川大附中"}, ["middle_school"], "name"),
        ({"amenity": "school", "name": "成都市实验外国语学校（高中部）"}, ["high_school"], "name"),
        ({"amenity": "school", "name": "某某高级中学"}, ["high_school"], "name"),
        ({"amenity": "school", "name": "电子科技大学附实小"}, ["primary_school"], "name"),
        ({"amenity": "school", "name": "成都树才培训学校"}, [], "name"),
        ({"amenity": "school", "name": "成都双语实验学校"}, ["school_unknown"], "unknown"),
    ],
)
def test_school_levels(tags: dict[str, str], want: list[str], how: str) -> None:
    cats, got_how = tx.school_levels(tags)
    assert sorted(cats) == sorted(want)
    assert got_how == how
    assert set(want) <= set(tx.classify_facility(tags))


def test_classify_facility() -> None:
    assert tx.classify_facility({"amenity": "kindergarten"}) == ["kindergarten"]
    # a supermarket is also a 社区商业网点 of the 5-minute level (GB 50180-2018 表B.0.3)
    assert tx.classify_facility({"shop": "supermarket"}) == ["community_commerce", "supermarket"]
    assert tx.classify_facility({"amenity": "toilets"}) == ["toilet"]
    assert tx.classify_facility({"amenity": "bench"}) == []
    assert "elderly_care" in tx.classify_facility({"amenity": "nursing_home"})


def test_green_bus_residential() -> None:
    assert tx.green_kind({"leisure": "park"}) == "park"
    assert tx.green_kind({"leisure": "park", "access": "private"}) is None
    assert tx.green_kind({"landuse": "grass"}) == "green"
    assert tx.green_kind({"landuse": "residential"}) is None
    assert tx.is_bus_stop({"highway": "bus_stop"})
    assert tx.is_bus_stop({"public_transport": "platform", "bus": "yes"})
    assert not tx.is_bus_stop({"public_transport": "stop_position", "bus": "yes"})
    assert tx.is_residential_land({"landuse": "residential"})
    assert tx.is_residential_building({"building": "apartments"})
    assert not tx.is_residential_building({"building": "yes"})


@pytest.mark.parametrize(
    ("highway", "grade", "zh"),
    [
        ("motorway", "expressway", "快速路"),
        ("trunk", "expressway", "快速路"),
        ("primary", "arterial", "主干路"),
        ("secondary", "secondary", "次干路"),
        ("tertiary", "local", "支路"),
        ("service", "internal", "内部道路"),
    ],
)
def test_road_grades_follow_indicators_mapping(highway: str, grade: str, zh: str) -> None:
    assert tx.road_grade(highway) == grade
    assert tx.road_grades()[grade].label_zh == zh
    assert tx.road_grade("footway") is None
    assert tx.road_grades()["internal"].counts_in_density is False


@pytest.mark.parametrize(
    ("tags", "default", "private"),
    [
        ({"highway": "footway"}, True, True),
        ({"highway": "residential"}, True, True),
        ({"highway": "motorway"}, False, False),
        ({"highway": "primary", "foot": "no"}, False, False),
        ({"highway": "service", "access": "private"}, False, True),
        ({"highway": "service", "access": "no"}, False, True),
        ({"highway": "service", "access": "private", "foot": "yes"}, True, True),
        ({"highway": "proposed"}, False, False),
        ({"building": "yes"}, False, False),
    ],
)
def test_walk_rules(tags: dict[str, str], default: bool, private: bool) -> None:
    rules = tx.walk_rules()
    assert rules.walkable(tags) is default
    assert rules.walkable(tags, include_private=True) is private


@pytest.fixture(scope="module")
def raw_tags(chengdu_pbf: Path, sao_paulo_pbf: Path) -> list[list[dict[str, str]]]:
    """Tag dicts of the tagged nodes and areas of two real extracts."""
    from geoplan.city import demo_path
    from geoplan.io.osm import read_osm

    out = []
    for p in (chengdu_pbf, sao_paulo_pbf, demo_path()):
        raw = read_osm(p, parallel=False)
        out.append([r[3] for r in raw.points])
        out.append([r[2] for r in raw.areas])
    return out


def _layer_predicates() -> dict[str, Any]:
    sp = tx.sports_grounds()
    return {
        "classify_facility": tx.classify_facility,
        "school_levels": tx.school_levels,
        "green_kind": tx.green_kind,
        "is_bus_stop": tx.is_bus_stop,
        "is_stop_area_platform": tx.is_stop_area_platform,
        "is_residential_land": tx.is_residential_land,
        "is_residential_building": tx.is_residential_building,
        "is_built_up_land": tx.is_built_up_land,
        "is_ground": sp.is_ground,
        "exclude_within": lambda t: [
            k for k, rs in tx.within_exclusions().items() if tx.any_match(rs, t)
        ],
    }


def test_tag_sets_give_every_layer_rule_its_per_feature_answer(
    raw_tags: list[list[dict[str, str]]],
) -> None:
    """Each rule once per distinct tag set = the rule on every feature's own tags (3 cities)."""
    n_sets = 0
    for tags in raw_tags:
        sets = tx.TagSets(tags, tx.layer_rule_keys())
        assert len(sets) == len(tags)
        n_sets += len(sets.distinct)
        for name, fn in _layer_predicates().items():
            assert sets.map(fn) == [fn(t) for t in tags], name
            if name.startswith("is_"):
                want = np.array([bool(fn(t)) for t in tags], dtype=bool)
                assert np.array_equal(sets.mask(fn), want), name
    assert n_sets < sum(map(len, raw_tags)) / 2  # far fewer combinations than features


def test_tag_sets_group_only_features_with_equal_rule_tags(
    raw_tags: list[list[dict[str, str]]],
) -> None:
    """Features in one set agree on every key a rule reads; a key no rule reads is ignored."""
    keys = tx.layer_rule_keys()
    tags = raw_tags[1]
    sets = tx.TagSets(tags, tx.layer_rule_keys())
    for t, i in zip(tags, sets.inverse.tolist(), strict=True):
        assert {k: v for k, v in t.items() if k in keys} == sets.distinct[i]
    assert "addr:street" not in keys
    two = tx.TagSets(
        [{"building": "yes", "addr:street": "A"}, {"building": "yes"}], tx.layer_rule_keys()
    )
    assert two.inverse.tolist() == [0, 0]
    other = tx.TagSets([{"building": "yes"}, {"building": "apartments"}], tx.layer_rule_keys())
    assert other.inverse.tolist() == [0, 1]


def test_walkable_mask_is_walkable_of_every_way(chengdu_pbf: Path, sao_paulo_pbf: Path) -> None:
    """The walk rules once per distinct tag set = per way, with and without private ways."""
    from geoplan.io.osm import read_osm

    rules = tx.walk_rules()
    for p in (chengdu_pbf, sao_paulo_pbf):
        tags = [w.tags for w in read_osm(p, parallel=False).ways]
        for private in (False, True):
            want = [rules.walkable(t, include_private=private) for t in tags]
            got = rules.walkable_mask(tags, include_private=private)
            assert got.tolist() == want
            assert 0 < got.sum() < len(tags) or private
