"""Barrier tag rules (``geoplan/data/barriers.yaml``): water, railways, expressways, walls, gates.

The rules say which OSM objects stop a pedestrian walking straight ahead and where walls are passed
(gates, entrances); :mod:`geoplan.io.barriers` reads the objects, :mod:`geoplan.indicators.gaps`
explains the buffer − walking gap with them and :mod:`geoplan.network.gates` reaches gated compounds
and fenced parks at their gates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Literal

from geoplan.rules.tags import NAME_KEYS, TagRule, Tags, any_match, load_yaml, parse_rules

#: the causes of a gap that are not a mapped barrier
DATA_GAP = "data_gap"
OTHER = "other"
#: walking reaches farther than the buffer (negative gap; a polygon facility's inside paths)
WALK_ONLY = "walk_only"
#: the buffer share of land measured on the land itself, not on the homes (residential area basis)
AREA_METHOD = "area_method"


@dataclass(frozen=True)
class Cause:
    """One barrier cause: its key, labels and the rules for its lines and areas."""

    key: str
    label_zh: str
    label_en: str
    lines: tuple[TagRule, ...]
    areas: tuple[TagRule, ...]


@dataclass(frozen=True)
class BarrierRules:
    """Every rule of ``barriers.yaml``.

    Attributes
    ----------
    causes
        The barrier causes in attribution order.
    not_at_ground
        Tags that lift a line or area off the ground (bridge, tunnel, covered).
    gates
        Rules for gate and entrance nodes.
    compound_tags
        Rules making a residential parcel a gated compound by its own tags.
    outline_m, min_wall_share, gate_outline_m
        Compound outline tolerance (m), share of the outline walled, gate-to-outline distance (m).
    along_road_m, fenced_road_share
        A wall along an expressway (within this distance, for this share of its length) is part of
        the expressway barrier.
    undershoot_m
        A dead end this close (m) to a street it does not join is a likely data gap.
    read_keys
        The tag keys the cause and ground rules read (their answers are memoised by them).
    """

    causes: tuple[Cause, ...]
    not_at_ground: tuple[TagRule, ...]
    ground_values: Mapping[str, frozenset[str]]
    gates: tuple[TagRule, ...]
    compound_tags: tuple[TagRule, ...]
    outline_m: float
    min_wall_share: float
    gate_outline_m: float
    along_road_m: float
    fenced_road_share: float
    undershoot_m: float
    read_keys: tuple[str, ...] = ()

    def at_ground(self, tags: Tags) -> bool:
        """Whether a line or area with ``tags`` is at ground level (not a bridge or tunnel).

        Parameters
        ----------
        tags
            OSM tags of the object.

        Returns
        -------
        bool
        """
        for k, ok in self.ground_values.items():
            if tags.get(k) in ok:
                tags = {kk: vv for kk, vv in tags.items() if kk != k}
        return not any_match(self.not_at_ground, tags)

    def _cause(self, kind: Literal["lines", "areas"], tags: Tags) -> str | None:
        """The first cause whose ``kind`` rules match, if at ground level (memoised)."""
        key = (kind, *map(tags.get, self.read_keys))
        if key not in _MEMO:
            rules = ((c.key, getattr(c, kind)) for c in self.causes)
            hit = next((k for k, r in rules if r and any_match(r, tags)), None)
            _MEMO[key] = hit if hit is not None and self.at_ground(tags) else None
        return _MEMO[key]

    def line_cause(self, tags: Tags) -> str | None:
        """The cause a line with ``tags`` is a barrier of, or ``None``.

        Parameters
        ----------
        tags
            OSM tags of the object.

        Returns
        -------
        str or None
        """
        return self._cause("lines", tags)

    def area_cause(self, tags: Tags) -> str | None:
        """The cause an area with ``tags`` is a barrier of, or ``None``.

        Parameters
        ----------
        tags
            OSM tags of the object.

        Returns
        -------
        str or None
        """
        return self._cause("areas", tags)

    def highway_values(self) -> frozenset[str] | None:
        """The ``highway`` values every line rule with a highway key asks for.

        Returns
        -------
        frozenset of str or None
            ``None`` when a rule without a ``highway`` key could match a highway way (then
            every way is tried).
        """
        values: set[str] = set()
        for c in self.causes:
            for r in c.lines:
                pairs = dict(r.pairs)
                if "highway" in pairs:
                    if pairs["highway"] is None:
                        return None
                    values |= pairs["highway"]
        return frozenset(values)

    def is_gate(self, tags: Tags) -> bool:
        """Whether a node with ``tags`` is a gate or an entrance.

        Parameters
        ----------
        tags
            OSM tags of the object.

        Returns
        -------
        bool
        """
        return any_match(self.gates, tags)

    def labels(self) -> dict[str, tuple[str, str]]:
        """(zh, en) label of every cause key, the non-barrier ones included.

        Returns
        -------
        dict of str to (str, str)
        """
        out = {c.key: (c.label_zh, c.label_en) for c in self.causes}
        out[DATA_GAP] = (
            "疑似数据缺失（断头路/孤立路网）",
            "Likely data gap (dangling or detached street)",
        )
        out[OTHER] = ("绕行过长（无已知障碍）", "Long detour, no mapped barrier")
        out[WALK_ONLY] = ("步行覆盖而缓冲区未覆盖", "Covered by walking, not by the buffer")
        out[AREA_METHOD] = ("用地面积与住宅点口径差", "Land-area vs homes basis")
        return out


#: line / area causes by the values of the keys the rules read (a city repeats few combinations)
_MEMO: dict[tuple[str | None, ...], str | None] = {}


def _read_keys(causes: tuple[Cause, ...], ground: tuple[TagRule, ...]) -> tuple[str, ...]:
    """Every tag key a cause rule or the ground rule reads (``name~`` rules read names)."""
    keys: set[str] = set()
    for r in (*(r for c in causes for r in (*c.lines, *c.areas)), *ground):
        keys |= {k for k, _ in r.pairs} | {k for k, _ in r.contains}
    if "name" in keys:
        keys |= set(NAME_KEYS)
    return tuple(sorted(keys))


@cache
def barrier_rules() -> BarrierRules:
    """The barrier rules shipped in ``geoplan/data/barriers.yaml``.

    Returns
    -------
    BarrierRules
    """
    raw = load_yaml("barriers.yaml")
    causes = tuple(
        Cause(
            str(k),
            str(v["label_zh"]),
            str(v["label_en"]),
            parse_rules(v.get("lines")),
            parse_rules(v.get("areas")),
        )
        for k, v in raw["causes"].items()
    )
    comp = raw["compounds"]
    return BarrierRules(
        causes=causes,
        not_at_ground=parse_rules(raw["not_at_ground"]),
        ground_values={k: frozenset(v) for k, v in raw["not_at_ground_values"].items()},
        gates=parse_rules(raw["gates"]),
        compound_tags=parse_rules(comp["tagged"]),
        outline_m=float(comp["outline_m"]),
        min_wall_share=float(comp["min_wall_share"]),
        gate_outline_m=float(comp["gate_outline_m"]),
        along_road_m=float(raw["fenced_road"]["along_road_m"]),
        fenced_road_share=float(raw["fenced_road"]["min_share"]),
        undershoot_m=float(raw["undershoot_m"]),
        read_keys=_read_keys(causes, parse_rules(raw["not_at_ground"])),
    )
