"""The facility taxonomy of ``geoplan/data/taxonomy.yaml``.

Categories, schools, sports grounds, green, bus stops, residential and built-up land.

The rules live in YAML files that cite their sources; this module only compiles and applies them
(the rule engine is :mod:`geoplan.rules.tags`, the street rules :mod:`geoplan.rules.streets`; both
are re-exported here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from geoplan.rules.streets import (
    RoadGrade,
    WalkRules,
    compound_internal_rule,
    road_grade,
    road_grades,
    walk_rules,
)
from geoplan.rules.tags import (
    NAME_KEYS,
    TagRule,
    Tags,
    TagSets,
    any_match,
    load_yaml,
    parse_rules,
    rule_keys,
)

# the taxonomy, and the rule engine (.tags) and street rules (.streets) it re-exports
__all__ = [
    "NAME_KEYS",
    "STOP_AREA_NODE_TAGS",
    "BuiltUpRule",
    "Category",
    "RoadGrade",
    "SportsGrounds",
    "TagRule",
    "TagSets",
    "Tags",
    "Verges",
    "WalkRules",
    "any_match",
    "built_up_rule",
    "categories",
    "classify_facility",
    "compound_internal_rule",
    "green_kind",
    "highway_values_read",
    "is_built_up_land",
    "is_bus_stop",
    "is_residential_building",
    "is_residential_land",
    "is_stop_area_platform",
    "layer_rule_keys",
    "load_yaml",
    "parse_rules",
    "point_keys_read",
    "road_grade",
    "road_grades",
    "rule_keys",
    "school_levels",
    "sports_grounds",
    "verge_rule",
    "walk_rules",
    "within_exclusions",
]


@dataclass(frozen=True)
class Category:
    """A facility category of the taxonomy: key, labels and its tag rules.

    ``min_area_m2``: a mapped area smaller than this is not in the category (公共活动场地 ≥ 150
    m²); applied with the geometry when the layers are built. A point (size unknown) is kept.
    """

    key: str
    label_zh: str
    label_en: str
    rules: tuple[TagRule, ...]
    exclude: tuple[TagRule, ...] = ()
    exclude_within: tuple[TagRule, ...] = ()
    min_area_m2: float | None = None

    def matches(self, tags: Tags) -> bool:
        """Whether ``tags`` fall in the category (a match and no exclusion).

        Parameters
        ----------
        tags
            OSM tags of the feature.

        Returns
        -------
        bool
        """
        return any_match(self.rules, tags) and not any_match(self.exclude, tags)


@dataclass(frozen=True)
class SportsGrounds:
    """Public sports grounds and their GB 50180-2018 size classes (``sports_grounds``)."""

    match: tuple[TagRule, ...]
    exclude: tuple[TagRule, ...]
    exclude_within: tuple[TagRule, ...]
    group_distance_m: float
    #: (category, smallest area m²), largest class first
    classes: tuple[tuple[str, float], ...]
    point_class: str

    def is_ground(self, tags: Tags) -> bool:
        """Whether the tags describe a possibly public sports ground (before the spatial test).

        Parameters
        ----------
        tags
            OSM tags of the feature.

        Returns
        -------
        bool
        """
        return any_match(self.match, tags) and not any_match(self.exclude, tags)

    def classes_of(self, area_m2: float | None) -> list[str]:
        """The size classes a ground of ``area_m2`` meets (its own and every smaller one).

        Parameters
        ----------
        area_m2
            Area (m²) of the ground; ``None`` for a point.

        Returns
        -------
        list of str
            Category keys, largest class first.
        """
        if area_m2 is None or area_m2 <= 0:
            start = [c for c, _ in self.classes].index(self.point_class)
            return [c for c, _ in self.classes[start:]]
        return [c for c, low in self.classes if area_m2 >= low]


@dataclass(frozen=True)
class Verges:
    """The road-verge rule for public green (``green.verges``)."""

    applies_to: frozenset[str]
    road_highways: frozenset[str]
    max_mean_width_m: float
    road_distance_m: float
    min_share_near_road: float
    link_distance_m: float


@dataclass(frozen=True)
class _Taxonomy:
    categories: dict[str, Category]
    school_select: TagRule
    school_isced: dict[str, tuple[str, ...]]
    school_names: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...]
    school_fallback: str
    sports: SportsGrounds
    park: tuple[TagRule, ...]
    green: tuple[TagRule, ...]
    green_exclude: tuple[TagRule, ...]
    verges: Verges
    bus_stop: tuple[TagRule, ...]
    stop_area_platform: TagRule
    rail_platform: tuple[TagRule, ...]
    residential_land: tuple[TagRule, ...]
    residential_building: tuple[TagRule, ...]
    built_up: BuiltUpRule


@dataclass(frozen=True)
class BuiltUpRule:
    """How the built-up area (建成区) is derived from OSM land use (``taxonomy.yaml`` built_up)."""

    match: tuple[TagRule, ...]
    cell_m: float
    close_m: float
    min_part_m2: float
    street_density_km_km2: float
    street_window_m: float
    landcover_class: int


@cache
def _taxonomy() -> _Taxonomy:
    d = load_yaml("taxonomy.yaml")
    cats = {
        k: Category(
            k,
            v["label_zh"],
            v["label_en"],
            parse_rules(v.get("match")),
            parse_rules(v.get("exclude")),
            parse_rules(v.get("exclude_within")),
            None if v.get("min_area_m2") is None else float(v["min_area_m2"]),
        )
        for k, v in d["categories"].items()
    }
    s = d["school_levels"]
    sp = d["sports_grounds"]
    vg = d["green"]["verges"]
    bus = d["bus_stops"]
    return _Taxonomy(
        categories=cats,
        school_select=TagRule.parse(s["select"]),
        school_isced={str(k): tuple(v) for k, v in s["isced"].items()},
        school_names=tuple(
            (
                re.compile(p["regex"]) if "regex" in p else re.compile(re.escape(p["pattern"])),
                tuple(p["categories"]),
            )
            for p in s["name_patterns"]
        ),
        school_fallback=s["fallback"],
        sports=SportsGrounds(
            match=parse_rules(sp["match"]),
            exclude=parse_rules(sp.get("exclude")),
            exclude_within=parse_rules(sp.get("exclude_within")),
            group_distance_m=float(sp["group_distance_m"]),
            classes=tuple((str(k), float(v)) for k, v in sp["classes"].items()),
            point_class=str(sp["point_class"]),
        ),
        park=parse_rules(d["green"]["park"]),
        green=parse_rules(d["green"]["green"]),
        green_exclude=parse_rules(d["green"]["exclude"]),
        verges=Verges(
            applies_to=frozenset(vg["applies_to"]),
            road_highways=frozenset(vg["road_highways"]),
            max_mean_width_m=float(vg["max_mean_width_m"]),
            road_distance_m=float(vg["road_distance_m"]),
            min_share_near_road=float(vg["min_share_near_road"]),
            link_distance_m=float(vg["link_distance_m"]),
        ),
        bus_stop=parse_rules(bus["match"]),
        stop_area_platform=TagRule.parse(bus["stop_area_platform"]),
        rail_platform=parse_rules(bus["rail_platform"]),
        residential_land=parse_rules(d["residential_land"]),
        residential_building=parse_rules(d["residential_buildings"]),
        built_up=BuiltUpRule(
            match=parse_rules(d["built_up"]["match"]),
            cell_m=float(d["built_up"]["cell_m"]),
            close_m=float(d["built_up"]["close_m"]),
            street_density_km_km2=float(d["built_up"]["street_density_km_km2"]),
            street_window_m=float(d["built_up"]["street_window_m"]),
            min_part_m2=float(d["built_up"]["min_part_m2"]),
            landcover_class=int(d["built_up"]["landcover_class"]),
        ),
    )


def categories() -> dict[str, Category]:
    """Facility categories of the taxonomy, keyed by category key.

    Returns
    -------
    dict of str to Category
        By key, in the data file's order.
    """
    return dict(_taxonomy().categories)


def school_levels(tags: Tags) -> tuple[list[str], str]:
    """Split a school by ``isced:level``, then by its Chinese / English name.

    Returns the categories and how they were decided (``"isced"``, ``"name"``, ``"unknown"``).

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    categories : list of str
    how : str
        ``isced``, ``name`` or ``unknown``.
    """
    t = _taxonomy()
    isced = tags.get("isced:level")
    if isced:
        out: list[str] = []
        for part in isced.replace(",", ";").split(";"):
            out.extend(t.school_isced.get(part.strip(), ()))
        if out:
            return sorted(set(out)), "isced"
    name = " ".join(tags.get(k, "") for k in ("name", "name:zh", "name:en")).lower()
    for pattern, cats in t.school_names:
        if pattern.search(name):
            return list(cats), "name"
    return [t.school_fallback], "unknown"


def classify_facility(tags: Tags) -> list[str]:
    """Every taxonomy category the tags fall in (possibly none).

    Tag rules only: the spatial exclusions (:func:`within_exclusions`) and the sports-ground size
    classes (:func:`sports_grounds`) need geometry and are applied by :func:`geoplan.load_city`.
    The answer depends only on the tags the rules read (:func:`_rule_keys`), so each distinct
    combination of their values is classified once (a city has far fewer of those than features).

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    list of str
        Category keys.
    """
    keys = _rule_keys()
    return list(_classify_values(tuple(tags.get(k) for k in keys)))


@cache
def _rule_keys() -> tuple[str, ...]:
    """Every tag key a category rule, the school selection or the school levels read."""
    t = _taxonomy()
    rules: list[TagRule] = [t.school_select]
    for c in t.categories.values():
        rules.extend(c.rules)
        rules.extend(c.exclude)
    keys: set[str] = {"isced:level", "name", "name:zh", "name:en"}
    for r in rules:
        keys.update(k for k, _ in r.pairs)
        for k, _ in r.contains:
            keys.update(NAME_KEYS if k == "name" else (k,))
    return tuple(sorted(keys))


@lru_cache(maxsize=1 << 16)
def _classify_values(values: tuple[str | None, ...]) -> tuple[str, ...]:
    tags = {k: v for k, v in zip(_rule_keys(), values, strict=True) if v is not None}
    t = _taxonomy()
    out = [c.key for c in t.categories.values() if c.matches(tags)]
    if t.school_select.matches(tags):
        out.extend(school_levels(tags)[0])
    return tuple(sorted(set(out)))


@cache
def _layer_rules() -> tuple[TagRule, ...]:
    """Every tag rule the city layers apply (categories, schools, sports, green, bus, land)."""
    t = _taxonomy()
    rules: list[TagRule] = [t.school_select, t.stop_area_platform]
    for c in t.categories.values():
        rules.extend((*c.rules, *c.exclude, *c.exclude_within))
    sp = t.sports
    rules.extend((*sp.match, *sp.exclude, *sp.exclude_within))
    for group in (
        t.park,
        t.green,
        t.green_exclude,
        t.bus_stop,
        t.rail_platform,
        t.residential_land,
        t.residential_building,
        t.built_up.match,
    ):
        rules.extend(group)
    return tuple(rules)


@cache
def layer_rule_keys() -> frozenset[str]:
    """Every tag key the layer rules read (what :class:`TagSets` groups by).

    Categories, schools, sports grounds, green, bus stops, residential land and buildings,
    built-up land.

    Returns
    -------
    frozenset of str
    """
    rules = _layer_rules()
    # school levels read isced:level and the names; build_layers asks for amenity=school
    return rule_keys(rules) | {"isced:level", "amenity", *NAME_KEYS} | set(_rule_keys())


@cache
def way_rule_keys() -> frozenset[str]:
    """Every tag key the rules run on highway ways read (greenways, bus stops and platforms).

    What :class:`TagSets` of the highway ways groups by: far fewer distinct sets than with
    :func:`layer_rule_keys`, which holds the names.

    Returns
    -------
    frozenset of str
    """
    t = _taxonomy()
    rules: list[TagRule] = [t.stop_area_platform, *t.bus_stop, *t.rail_platform]
    for c in t.categories.values():
        if c.key == "greenway":
            rules.extend((*c.rules, *c.exclude, *c.exclude_within))
    return rule_keys(rules) | {"highway"}


#: what :func:`geoplan.rules.spatial.stop_area_members` reads of a member node: whether it is a
#: ``highway=bus_stop``, or a ``public_transport=stop_position`` with ``bus=yes``
STOP_AREA_NODE_TAGS: dict[str, str] = {
    "highway": "bus_stop",
    "public_transport": "stop_position",
    "bus": "yes",
}


def point_keys_read() -> frozenset[str]:
    """Every tag key a rule reads of a tagged node: the layer rules and the stop-area test.

    Returns
    -------
    frozenset of str
    """
    return layer_rule_keys() | set(STOP_AREA_NODE_TAGS)


@cache
def highway_values_read() -> frozenset[str] | None:
    """The ``highway`` values a layer rule or the stop-area test asks for (None: any value).

    Returns
    -------
    frozenset of str or None
    """
    rules = _layer_rules()
    values = {STOP_AREA_NODE_TAGS["highway"]}
    for r in rules:
        for k, allowed in r.pairs:
            if k == "highway":
                if allowed is None:
                    return None
                values |= allowed
        if any(k == "highway" for k, _ in r.contains):
            return None
    return frozenset(values)


def within_exclusions() -> dict[str, tuple[TagRule, ...]]:
    """Per category, the areas inside which a feature does not count (school libraries …).

    Returns
    -------
    dict of str to tuple of TagRule
        Category → the areas whose inside excludes it.
    """
    return {k: c.exclude_within for k, c in _taxonomy().categories.items() if c.exclude_within}


def sports_grounds() -> SportsGrounds:
    """The sports-ground rule and size classes (GB 50180-2018 Appendix B).

    Returns
    -------
    SportsGrounds
    """
    return _taxonomy().sports


def verge_rule() -> Verges:
    """The road-verge rule for public green.

    Returns
    -------
    Verges
    """
    return _taxonomy().verges


def is_stop_area_platform(tags: Tags) -> bool:
    """Whether tags describe a platform that is a bus stop when a bus stop_area contains it.

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    t = _taxonomy()
    return t.stop_area_platform.matches(tags) and not any_match(t.rail_platform, tags)


def green_kind(tags: Tags) -> str | None:
    """``"park"``, ``"green"`` or ``None`` for an area's tags.

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    str or None
        ``park``, ``green`` or ``None`` (not public green).
    """
    t = _taxonomy()
    if any_match(t.green_exclude, tags):
        return None
    if any_match(t.park, tags):
        return "park"
    if any_match(t.green, tags):
        return "green"
    return None


def is_bus_stop(tags: Tags) -> bool:
    """Whether OSM tags describe a bus stop or platform.

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    return any_match(_taxonomy().bus_stop, tags)


def is_residential_land(tags: Tags) -> bool:
    """Whether OSM tags describe residential land (``landuse=residential`` …).

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    return any_match(_taxonomy().residential_land, tags)


def built_up_rule() -> BuiltUpRule:
    """The rule deriving the built-up area from OSM land use.

    Returns
    -------
    BuiltUpRule
    """
    return _taxonomy().built_up


def is_built_up_land(tags: Tags) -> bool:
    """Whether OSM tags describe urban (built-up) land: 城市建设用地 uses or a building.

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    return any_match(_taxonomy().built_up.match, tags)


def is_residential_building(tags: Tags) -> bool:
    """Whether OSM tags describe a residential building.

    Parameters
    ----------
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    return any_match(_taxonomy().residential_building, tags)
