"""Tag rules read from the data files in ``geoplan/data`` (taxonomy, road grades, walk rules).

The rules live in YAML files that cite their sources; this module only compiles and applies them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, TypeVar

import numpy as np
import yaml
from numpy.typing import NDArray

Tags = Mapping[str, str]


def load_yaml(name: str) -> Any:
    """Parse a YAML data file shipped in ``geoplan/data``.

    Parameters
    ----------
    name
        File name in ``geoplan/data`` (``taxonomy.yaml``).

    Returns
    -------
    Any
        The parsed YAML.
    """
    text = resources.files("geoplan").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


#: tags the pseudo-key ``name~`` searches
NAME_KEYS: tuple[str, ...] = ("name", "name:zh", "name:en", "official_name", "alt_name")


@dataclass(frozen=True)
class TagRule:
    """All ``key -> allowed values`` pairs and all ``key~ -> substrings`` pairs must hold.

    ``pairs``: exact values (``None`` = any value). ``contains``: the tag's value must contain
    one of the substrings (case-insensitive); key ``name`` searches every name tag
    (:data:`NAME_KEYS`).
    """

    pairs: tuple[tuple[str, frozenset[str] | None], ...]
    contains: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> TagRule:
        """A rule from its data-file form ``{key: value | [values] | "*", "key~": [subs]}``.

        Parameters
        ----------
        spec
            The rule as written in a data file.

        Returns
        -------
        TagRule
        """
        pairs: list[tuple[str, frozenset[str] | None]] = []
        contains: list[tuple[str, tuple[str, ...]]] = []
        for k, v in spec.items():
            key = str(k)
            if key.endswith("~"):
                subs = v if isinstance(v, list) else [v]
                contains.append((key[:-1], tuple(str(x).lower() for x in subs)))
            elif v == "*":
                pairs.append((key, None))
            elif isinstance(v, list):
                pairs.append((key, frozenset(str(x) for x in v)))
            else:
                pairs.append((key, frozenset([str(v)])))
        return cls(tuple(pairs), tuple(contains))

    def matches(self, tags: Tags) -> bool:
        """Whether ``tags`` satisfy the rule.

        Parameters
        ----------
        tags
            OSM tags of the feature.

        Returns
        -------
        bool
        """
        for k, allowed in self.pairs:
            v = tags.get(k)
            if v is None or (allowed is not None and v not in allowed):
                return False
        for k, subs in self.contains:
            keys = NAME_KEYS if k == "name" else (k,)
            text = " ".join(tags.get(x, "") for x in keys).lower()
            if not any(sub in text for sub in subs):
                return False
        return True


def any_match(rules: Sequence[TagRule], tags: Tags) -> bool:
    """Whether any of ``rules`` matches ``tags``.

    A rule can only hold when the key of its first ``key -> value`` pair is present, so the
    rules are indexed by that key once per rule set and only those whose key the tags have are
    tried (rules without pairs always are): the answer is that of trying every rule.

    Parameters
    ----------
    rules
        Rules (a tuple of the taxonomy is indexed once by its first key).
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    by_key, always = _rule_index(rules)
    for k, group in by_key:
        if k in tags:
            for r in group:
                if r.matches(tags):
                    return True
    return any(r.matches(tags) for r in always)


_RULE_INDEX: dict[int, tuple[Sequence[TagRule], Any]] = {}


def _rule_index(
    rules: Sequence[TagRule],
) -> tuple[tuple[tuple[str, tuple[TagRule, ...]], ...], tuple[TagRule, ...]]:
    got = _RULE_INDEX.get(id(rules))
    if got is not None and got[0] is rules:
        return got[1]
    by_key: dict[str, list[TagRule]] = {}
    always: list[TagRule] = []
    for r in rules:
        if r.pairs:
            by_key.setdefault(r.pairs[0][0], []).append(r)
        else:
            always.append(r)
    idx = (tuple((k, tuple(v)) for k, v in by_key.items()), tuple(always))
    if isinstance(rules, tuple):  # kept alive by the taxonomy: its id stays its own
        _RULE_INDEX[id(rules)] = (rules, idx)
    return idx


def _rules(specs: Sequence[Mapping[str, Any]] | None) -> tuple[TagRule, ...]:
    return tuple(TagRule.parse(s) for s in specs or ())


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
            _rules(v.get("match")),
            _rules(v.get("exclude")),
            _rules(v.get("exclude_within")),
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
            match=_rules(sp["match"]),
            exclude=_rules(sp.get("exclude")),
            exclude_within=_rules(sp.get("exclude_within")),
            group_distance_m=float(sp["group_distance_m"]),
            classes=tuple((str(k), float(v)) for k, v in sp["classes"].items()),
            point_class=str(sp["point_class"]),
        ),
        park=_rules(d["green"]["park"]),
        green=_rules(d["green"]["green"]),
        green_exclude=_rules(d["green"]["exclude"]),
        verges=Verges(
            applies_to=frozenset(vg["applies_to"]),
            road_highways=frozenset(vg["road_highways"]),
            max_mean_width_m=float(vg["max_mean_width_m"]),
            road_distance_m=float(vg["road_distance_m"]),
            min_share_near_road=float(vg["min_share_near_road"]),
            link_distance_m=float(vg["link_distance_m"]),
        ),
        bus_stop=_rules(bus["match"]),
        stop_area_platform=TagRule.parse(bus["stop_area_platform"]),
        rail_platform=_rules(bus["rail_platform"]),
        residential_land=_rules(d["residential_land"]),
        residential_building=_rules(d["residential_buildings"]),
        built_up=BuiltUpRule(
            match=_rules(d["built_up"]["match"]),
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


def rule_keys(rules: Iterable[TagRule]) -> frozenset[str]:
    """Every tag key ``rules`` read (``name~`` reads every :data:`NAME_KEYS` tag).

    Parameters
    ----------
    rules
        Tag rules.

    Returns
    -------
    frozenset of str
    """
    keys: set[str] = set()
    for r in rules:
        keys.update(k for k, _ in r.pairs)
        for k, _ in r.contains:
            keys.update(NAME_KEYS if k == "name" else (k,))
    return frozenset(keys)


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


_T = TypeVar("_T")


class TagSets:
    """The distinct tag sets of many features, restricted to the keys some rules read.

    A rule's answer depends only on the tags it reads, so a predicate over ``keys`` is
    evaluated once per distinct combination of those tags (a city has thousands, against
    millions of features: ``building=yes`` with an address is one combination) and mapped back
    to every feature — the answer of calling it on each feature's own tags.

    Parameters
    ----------
    tags
        One tag dict per feature.
    keys
        The keys the predicates read (default :func:`layer_rule_keys`); a predicate that reads
        another key must not be applied.
    """

    def __init__(self, tags: Iterable[Tags], keys: frozenset[str] | None = None) -> None:
        ks = layer_rule_keys() if keys is None else keys
        index: dict[frozenset[tuple[str, str]], int] = {}
        inverse: list[int] = []
        add = inverse.append
        for t in tags:
            sig = frozenset([(k, t[k]) for k in t.keys() & ks])
            i = index.get(sig)
            if i is None:
                i = index[sig] = len(index)
            add(i)
        self.distinct: list[dict[str, str]] = [dict(sig) for sig in index]
        self.inverse: NDArray[np.int64] = np.asarray(inverse, dtype=np.int64)
        self.keys = ks

    def __len__(self) -> int:
        """Number of features.

        Returns
        -------
        int
        """
        return int(self.inverse.shape[0])

    def map(self, fn: Callable[[dict[str, str]], _T]) -> list[_T]:
        """``[fn(t) for t in tags]``, with ``fn`` called once per distinct tag set.

        Parameters
        ----------
        fn
            A function of a tag dict that reads only ``keys``.

        Returns
        -------
        list
            One answer per feature.
        """
        got = [fn(t) for t in self.distinct]
        return [got[i] for i in self.inverse.tolist()]

    def mask(self, fn: Callable[[dict[str, str]], bool]) -> NDArray[np.bool_]:
        """``fn`` of every feature's tags as a boolean array (once per distinct tag set).

        Parameters
        ----------
        fn
            A predicate of a tag dict that reads only ``keys``.

        Returns
        -------
        ndarray of bool
            One flag per feature.
        """
        n = len(self.distinct)
        got = np.fromiter((bool(fn(t)) for t in self.distinct), dtype=bool, count=n)
        return got[self.inverse] if self.inverse.size else np.zeros(0, dtype=bool)


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


@dataclass(frozen=True)
class RoadGrade:
    """A Chinese road grade (快速路 / 主干路 / 次干路 / 支路 …) and the OSM highways in it."""

    key: str
    label_zh: str
    label_en: str
    counts_in_density: bool
    default_width_m: float


@cache
def road_grades() -> dict[str, RoadGrade]:
    """Road grades (快速路 / 主干路 / 次干路 / 支路 / 内部道路) keyed by grade key.

    Returns
    -------
    dict of str to RoadGrade
        By grade key.
    """
    d = load_yaml("road_grades.yaml")
    return {
        k: RoadGrade(
            k,
            v["label_zh"],
            v["label_en"],
            bool(v["counts_in_density"]),
            float(v["default_width_m"]),
        )
        for k, v in d["grades"].items()
    }


@cache
def _highway_grade() -> dict[str, str]:
    return dict(load_yaml("road_grades.yaml")["highway"])


@cache
def compound_internal_rule() -> dict[str, Any]:
    """The 小区内部道路 rule of ``road_grades.yaml`` (applied by ``spatial.compound_internal``).

    Returns
    -------
    dict
        The ``compound_internal`` block of ``road_grades.yaml``.
    """
    return dict(load_yaml("road_grades.yaml")["compound_internal"])


def road_grade(highway: str) -> str | None:
    """Grade key of an OSM ``highway`` value, ``None`` if it is not a road (footway…).

    Parameters
    ----------
    highway
        An OSM ``highway`` value.

    Returns
    -------
    str or None
        Grade key, ``None`` for ways that are not roads (footways …).
    """
    return _highway_grade().get(highway)


@dataclass(frozen=True)
class WalkRules:
    """Which OSM ways the walk network keeps (OSMnx walk filter, ``walk_network.yaml``)."""

    include: frozenset[str]
    exclude: frozenset[str]
    exclude_tags: tuple[TagRule, ...]
    private_tags: tuple[TagRule, ...]
    foot_override: frozenset[str]

    def walkable(self, tags: Tags, *, include_private: bool = False) -> bool:
        """Whether a way with ``tags`` joins the walk network.

        Parameters
        ----------
        tags
            OSM tags of the feature.
        include_private
            Keep ways tagged private (gated compounds).

        Returns
        -------
        bool
        """
        hw = tags.get("highway")
        if hw is None or hw in self.exclude or hw not in self.include:
            return False
        if any_match(self.exclude_tags, tags):
            return False
        private = any_match(self.private_tags, tags) and tags.get("foot") not in self.foot_override
        return include_private or not private

    @property
    def keys(self) -> frozenset[str]:
        """Every tag key :meth:`walkable` reads.

        Returns
        -------
        frozenset of str
        """
        return rule_keys((*self.exclude_tags, *self.private_tags)) | {"highway", "foot"}

    def walkable_mask(
        self, tags: Sequence[Tags], *, include_private: bool = False
    ) -> NDArray[np.bool_]:
        """:meth:`walkable` of many ways, once per distinct set of the tags it reads.

        Parameters
        ----------
        tags
            One tag dict per way.
        include_private
            Keep ways tagged private.

        Returns
        -------
        ndarray of bool
        """
        sets = TagSets(tags, self.keys)
        return sets.mask(lambda t: self.walkable(t, include_private=include_private))


@cache
def walk_rules() -> WalkRules:
    """Walk-network rules from ``walk_network.yaml``.

    Returns
    -------
    WalkRules
    """
    d = load_yaml("walk_network.yaml")
    return WalkRules(
        include=frozenset(d["include_highway"]),
        exclude=frozenset(d["exclude_highway"]),
        exclude_tags=tuple(TagRule.parse({k: v}) for k, v in d["exclude_tags"].items()),
        private_tags=tuple(TagRule.parse({k: v}) for k, v in d["private_tags"].items()),
        foot_override=frozenset(str(x) for x in d["foot_override"]),
    )
