"""Street rules of the data files: road grades and which ways are walkable.

Chinese road grades come from ``road_grades.yaml``; the walk network's way filter from
``walk_network.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geoplan.rules.tags import TagRule, Tags, TagSets, any_match, load_yaml, rule_keys


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
