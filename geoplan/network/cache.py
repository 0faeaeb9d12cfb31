"""Content-keyed caches of the access stage.

Three levels, each keyed by the content of its inputs (never by object identity), so a scenario
that edits one layer recomputes only what depends on it:

- **edge attachments** of point sets (homes, grid points) and facility sources, by (network,
  geometries, search bound / boundary sampling step);
- **node distances** per source set, by (network, sources): one bounded multi-source Dijkstra.
  A result computed with limit ``L`` serves every limit ``l ≤ L`` exactly (distances ≤ ``l`` of a
  bounded search are exact), so the search runs once per source set at the largest limit asked;
- **point distances** (homes or grid points to the nearest source), by all of the above.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.network.access import (
    EdgeAttachment,
    attach_points,
    facility_sources,
    nearest_distance_m,
    node_distance_m,
)
from geoplan.network.graph import WalkNetwork

F64 = NDArray[np.float64]


def hash_arrays(*arrays: Any) -> str:
    """SHA-1 of arrays (bytes; geometries as WKB) and other values (``repr``)."""
    h = hashlib.sha1(usedforsecurity=False)
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype != object:
            h.update(np.ascontiguousarray(a).tobytes())
        elif isinstance(a, np.ndarray):
            h.update(b"".join(shapely.to_wkb(a, hex=False)) if a.size else b"")
        else:
            h.update(repr(a).encode())
        h.update(b"|")
    return h.hexdigest()


def network_key(net: WalkNetwork) -> str:
    """Content hash of a network's topology and lengths (cached on the network)."""
    key = net.meta.get("_key")
    if key is None:
        key = hash_arrays(net.edge_u, net.edge_v, net.edge_length_m)
        net.meta["_key"] = key
    return str(key)


def attachment_key(att: EdgeAttachment) -> str:
    """Content hash of an edge attachment."""
    return hash_arrays(att.edge, att.t0, att.t1, att.offset_m, att.owner)


@dataclass
class AccessCache:
    """Attachments, node distances and point distances keyed by content.

    ``hits`` / ``misses`` count reuse of point distances (what a category costs); the
    ``dijkstra_runs`` counter says how many searches actually ran.
    """

    store: dict[str, F64] = field(default_factory=dict)
    attachments: dict[str, EdgeAttachment] = field(default_factory=dict)
    node_store: dict[str, tuple[float, F64]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    _att_keys: dict[int, tuple[EdgeAttachment, str]] = field(default_factory=dict, repr=False)
    _geom_keys: dict[int, tuple[NDArray[np.object_], str]] = field(default_factory=dict, repr=False)

    def _geoms_key(self, g: NDArray[np.object_]) -> str:
        """Content hash (WKB) of a geometry array, hashed once per array object.

        The array is kept alive with its key, so its id stays its own; the access stage asks
        for the same request arrays more than once (sources prefetched on threads, then read).
        """
        got = self._geom_keys.get(id(g))
        if got is None or got[0] is not g:
            if len(self._geom_keys) > 256:  # a long scenario session: keep it bounded
                self._geom_keys.clear()
            got = (g, hash_arrays(g))
            self._geom_keys[id(g)] = got
        return got[1]

    def _key_of(self, att: EdgeAttachment) -> str:
        """Content key of an attachment, hashed once per object (kept alive with its key)."""
        got = self._att_keys.get(id(att))
        if got is None or got[0] is not att:
            got = (att, attachment_key(att))
            self._att_keys[id(att)] = got
        return got[1]

    hits: int = 0
    misses: int = 0
    dijkstra_runs: int = 0

    def sources(
        self,
        net: WalkNetwork,
        geoms: NDArray[np.object_] | Sequence[BaseGeometry],
        *,
        boundary_step_m: float = 2.0,
    ) -> tuple[str, EdgeAttachment]:
        """Where the network reaches ``geoms`` (:func:`facility_sources`), and its cache key."""
        g = np.asarray(geoms, dtype=object)
        key = hash_arrays("src", network_key(net), self._geoms_key(g), float(boundary_step_m))
        att = self.attachments.get(key)
        if att is None:
            att = facility_sources(net, g, boundary_step_m=boundary_step_m)
            self.attachments[key] = att
        return key, att

    def attach(
        self,
        net: WalkNetwork,
        points: NDArray[np.object_],
        *,
        max_distance_m: float | None = None,
    ) -> EdgeAttachment:
        """Points attached to their nearest edge (:func:`attach_points`), cached."""
        key = hash_arrays("pts", network_key(net), np.asarray(points, dtype=object), max_distance_m)
        att = self.attachments.get(key)
        if att is None:
            att = attach_points(net, points, max_distance_m=max_distance_m)
            self.attachments[key] = att
        return att

    def node_distances(
        self, net: WalkNetwork, source_key: str, sources: EdgeAttachment, *, limit_m: float
    ) -> F64:
        """Node distances (m) to the nearest source, exact up to ``limit_m`` (inf beyond)."""
        got = self.node_store.get(source_key)
        if got is not None and got[0] >= limit_m:
            return got[1]
        d = node_distance_m(net, sources, limit_m=limit_m)
        self.dijkstra_runs += 1
        self.node_store[source_key] = (float(limit_m), d)
        return d

    def point_distances(
        self,
        net: WalkNetwork,
        points: EdgeAttachment,
        geoms: NDArray[np.object_] | Sequence[BaseGeometry],
        *,
        limit_m: float,
        boundary_step_m: float = 2.0,
    ) -> F64:
        """Walking distance (m) from each attached point to the nearest of ``geoms``.

        ``inf`` beyond ``limit_m``. One entry per attachment (attachment order).
        """
        skey, src = self.sources(net, geoms, boundary_step_m=boundary_step_m)
        key = hash_arrays("dist", skey, self._key_of(points), float(limit_m))
        hit = self.store.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        if len(points) == 0 or len(src) == 0:
            d = nearest_distance_m(net, points, src, limit_m=limit_m)
        else:
            node = self.node_distances(net, skey, src, limit_m=limit_m)
            d = nearest_distance_m(net, points, src, limit_m=limit_m, node_dist=node)
        self.store[key] = d
        return d

    def distances(
        self,
        net: WalkNetwork,
        homes: EdgeAttachment,
        geoms: NDArray[np.object_],
        *,
        limit_m: float,
        boundary_step_m: float = 2.0,
    ) -> F64:
        """Walking distance (m) from each home to the nearest of ``geoms``.

        See :meth:`point_distances`.
        """
        return self.point_distances(
            net, homes, geoms, limit_m=limit_m, boundary_step_m=boundary_step_m
        )
