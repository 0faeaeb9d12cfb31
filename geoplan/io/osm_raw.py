"""What a read of an OSM file holds (:class:`RawOSM`), and the keys that decide what is read.

Shared by the two readers — pyosmium (:mod:`geoplan.io.osm`) and DuckDB's column read
(:mod:`geoplan.io.osm_columns`) — which fill the same objects.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from geoplan.io.way_runs import WayRuns

#: keys whose objects geoplan reads (everything else is skipped in C++)
KEYS = (
    "highway",
    "amenity",
    "leisure",
    "landuse",
    "building",
    "shop",
    "public_transport",
    "healthcare",
    "social_facility",
    "office",
    "natural",
)


#: keys of the barrier ways and gate nodes read in the same pass (:mod:`geoplan.io.barriers`);
#: an object with only these keys reaches no layer rule
BARRIER_KEYS = ("waterway", "railway", "barrier", "entrance")


@dataclass
class RawOSM:
    """What geoplan reads from an OSM file, in WGS84 degrees."""

    path: Path
    #: highway ways as runs of located nodes (column-wise; iterating gives :class:`RawWay`)
    ways: WayRuns = field(default_factory=WayRuns.empty)
    #: tagged nodes: (osmid, lon, lat, tags)
    points: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    #: areas: (osmid, "way" | "relation", tags, WKB bytes of a MultiPolygon)
    areas: list[tuple[int, str, dict[str, str], bytes]] = field(default_factory=list)
    #: public_transport=stop_area relations: (tags, [(member type "n"/"w"/"r", member id)])
    stop_areas: list[tuple[dict[str, str], list[tuple[str, int]]]] = field(default_factory=list)
    #: ways with a barrier key (:data:`BARRIER_KEYS`), split at missing nodes, column-wise as
    #: :attr:`ways` — rivers, railways, walls (:mod:`geoplan.io.barriers`)
    barrier_lines: WayRuns = field(default_factory=WayRuns.empty)
    #: gate and entrance nodes: (osmid, lon, lat, tags)
    gate_nodes: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    dangling_refs: int = 0
    ways_without_location: int = 0
    areas_failed: int = 0
    header_bbox: tuple[float, float, float, float] | None = None
    bbox: tuple[float, float, float, float] | None = None


@dataclass
class WayLists:
    """Highway ways as flat lists, filled during a pass.

    Ids, tags and node counts per way; then every way's node refs and fixed-point (1e-7 degree)
    x / y, one way after the other.
    """

    ids: list[int] = field(default_factory=list)
    #: a list filled by a pyosmium pass; a :class:`TagTable` from the columnar read
    tags: Any = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    # machine integers (8 bytes per way node, not a 36-byte Python int in a list)
    refs: Any = field(default_factory=lambda: array("q"))
    x: Any = field(default_factory=lambda: array("q"))
    y: Any = field(default_factory=lambda: array("q"))

    def add(self, obj: Any, tags: dict[str, str]) -> None:
        """Append a pyosmium way with its tags.

        Parameters
        ----------
        obj
            A pyosmium way with node locations.
        tags
            Its tags.
        """
        refs = _node_refs(obj)
        locs = [n.location for n in refs]
        self.refs.extend([n.ref for n in refs])
        self.x.extend([loc.x for loc in locs])
        self.y.extend([loc.y for loc in locs])
        self.ids.append(obj.id)
        self.tags.append(tags)
        self.lengths.append(len(refs))

    def packed(self) -> WayLists:
        """The same lists with refs / x / y as int64 arrays (cheap to send between processes).

        Returns
        -------
        WayLists
        """
        return WayLists(
            self.ids,
            self.tags,
            self.lengths,
            *(np.asarray(v, dtype=np.int64) for v in (self.refs, self.x, self.y)),
        )


def _node_refs(way: Any) -> list[Any]:
    """The way's NodeRefs (pyosmium's list accessor, without its per-item generator)."""
    nodes = way.nodes
    lst = getattr(nodes, "_list", None)
    data = getattr(nodes, "_pyosmium_data", None)
    if lst is None or data is None:  # pragma: no cover - other pyosmium versions
        return list(nodes)
    get = lst.get
    return [get(data, i) for i in range(lst.size(data))]
