"""Tag rules read from the data files in ``geoplan/data`` (taxonomy, road grades, walk rules).

The rules live in YAML files that cite their sources; this module only compiles and applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

Tags = Mapping[str, str]


def load_yaml(name: str) -> Any:
    """Parse a YAML data file shipped in ``geoplan/data``."""
    text = resources.files("geoplan").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class TagRule:
    """All ``key -> allowed values`` pairs must hold (``None`` = any value)."""

    pairs: tuple[tuple[str, frozenset[str] | None], ...]

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> TagRule:
        """A rule from its data-file form ``{key: value | [values] | "*"}`` (all keys match)."""
        pairs: list[tuple[str, frozenset[str] | None]] = []
        for k, v in spec.items():
            if v == "*":
                pairs.append((str(k), None))
            elif isinstance(v, list):
                pairs.append((str(k), frozenset(str(x) for x in v)))
            else:
                pairs.append((str(k), frozenset([str(v)])))
        return cls(tuple(pairs))

    def matches(self, tags: Tags) -> bool:
        """Whether ``tags`` satisfy the rule."""
        for k, allowed in self.pairs:
            v = tags.get(k)
            if v is None or (allowed is not None and v not in allowed):
                return False
        return True


def any_match(rules: Sequence[TagRule], tags: Tags) -> bool:
    """Whether any of ``rules`` matches ``tags``."""
    return any(r.matches(tags) for r in rules)


def _rules(specs: Sequence[Mapping[str, Any]] | None) -> tuple[TagRule, ...]:
    return tuple(TagRule.parse(s) for s in specs or ())


@dataclass(frozen=True)
class Category:
    """A facility category of the taxonomy: key, labels and its tag rules."""

    key: str
    label_zh: str
    label_en: str
    rules: tuple[TagRule, ...]


@dataclass(frozen=True)
class _Taxonomy:
    categories: dict[str, Category]
    school_select: TagRule
    school_isced: dict[str, tuple[str, ...]]
    school_names: tuple[tuple[str, tuple[str, ...]], ...]
    school_fallback: str
    park: tuple[TagRule, ...]
    green: tuple[TagRule, ...]
    green_exclude: tuple[TagRule, ...]
    bus_stop: tuple[TagRule, ...]
    residential_land: tuple[TagRule, ...]
    residential_building: tuple[TagRule, ...]


@cache
def _taxonomy() -> _Taxonomy:
    d = load_yaml("taxonomy.yaml")
    cats = {
        k: Category(k, v["label_zh"], v["label_en"], _rules(v.get("match")))
        for k, v in d["categories"].items()
    }
    s = d["school_levels"]
    return _Taxonomy(
        categories=cats,
        school_select=TagRule.parse(s["select"]),
        school_isced={str(k): tuple(v) for k, v in s["isced"].items()},
        school_names=tuple((p["pattern"], tuple(p["categories"])) for p in s["name_patterns"]),
        school_fallback=s["fallback"],
        park=_rules(d["green"]["park"]),
        green=_rules(d["green"]["green"]),
        green_exclude=_rules(d["green"]["exclude"]),
        bus_stop=_rules(d["bus_stops"]["match"]),
        residential_land=_rules(d["residential_land"]),
        residential_building=_rules(d["residential_buildings"]),
    )


def categories() -> dict[str, Category]:
    """Facility categories of the taxonomy, keyed by category key."""
    return dict(_taxonomy().categories)


def school_levels(tags: Tags) -> tuple[list[str], str]:
    """Split a school by ``isced:level``, then by its Chinese / English name.

    Returns the categories and how they were decided (``"isced"``, ``"name"``, ``"unknown"``).
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
        if pattern in name:
            return list(cats), "name"
    return [t.school_fallback], "unknown"


def classify_facility(tags: Tags) -> list[str]:
    """Every taxonomy category the tags fall in (possibly none)."""
    t = _taxonomy()
    out = [c.key for c in t.categories.values() if any_match(c.rules, tags)]
    if t.school_select.matches(tags):
        out.extend(school_levels(tags)[0])
    return sorted(set(out))


def green_kind(tags: Tags) -> str | None:
    """``"park"``, ``"green"`` or ``None`` for an area's tags."""
    t = _taxonomy()
    if any_match(t.green_exclude, tags):
        return None
    if any_match(t.park, tags):
        return "park"
    if any_match(t.green, tags):
        return "green"
    return None


def is_bus_stop(tags: Tags) -> bool:
    """Whether OSM tags describe a bus stop or platform."""
    return any_match(_taxonomy().bus_stop, tags)


def is_residential_land(tags: Tags) -> bool:
    """Whether OSM tags describe residential land (``landuse=residential`` …)."""
    return any_match(_taxonomy().residential_land, tags)


def is_residential_building(tags: Tags) -> bool:
    """Whether OSM tags describe a residential building."""
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
    """Road grades (快速路 / 主干路 / 次干路 / 支路 / 内部道路) keyed by grade key."""
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


def road_grade(highway: str) -> str | None:
    """Grade key of an OSM ``highway`` value, ``None`` if it is not a road (footway…)."""
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
        """Whether a way with ``tags`` joins the walk network."""
        hw = tags.get("highway")
        if hw is None or hw in self.exclude or hw not in self.include:
            return False
        if any_match(self.exclude_tags, tags):
            return False
        private = any_match(self.private_tags, tags) and tags.get("foot") not in self.foot_override
        return include_private or not private


@cache
def walk_rules() -> WalkRules:
    """Walk-network rules from ``walk_network.yaml``."""
    d = load_yaml("walk_network.yaml")
    return WalkRules(
        include=frozenset(d["include_highway"]),
        exclude=frozenset(d["exclude_highway"]),
        exclude_tags=tuple(TagRule.parse({k: v}) for k, v in d["exclude_tags"].items()),
        private_tags=tuple(TagRule.parse({k: v}) for k, v in d["private_tags"].items()),
        foot_override=frozenset(str(x) for x in d["foot_override"]),
    )
