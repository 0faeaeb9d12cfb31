"""Content-keyed caches of access results: distances by (network, homes, facilities, limit)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from geoplan.network.access import (
    EdgeAttachment,
    facility_sources,
    nearest_distance_m,
)
from geoplan.network.graph import WalkNetwork


def _hash_arrays(*arrays: Any) -> str:
    h = hashlib.sha1(usedforsecurity=False)
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype != object:
            h.update(np.ascontiguousarray(a).tobytes())
        elif isinstance(a, np.ndarray):
            h.update(b"".join(shapely.to_wkb(a, hex=False)) if a.size else b"")
        else:
            h.update(repr(a).encode())
    return h.hexdigest()


def network_key(net: WalkNetwork) -> str:
    """Content hash of a network's topology and lengths (cached on the network)."""
    key = net.meta.get("_key")
    if key is None:
        key = _hash_arrays(net.edge_u, net.edge_v, net.edge_length_m)
        net.meta["_key"] = key
    return str(key)


@dataclass
class AccessCache:
    """Per-category access results keyed by their inputs (network, homes, facilities, limit).

    A planner editing one layer of a scenario waits only for the categories that layer changed.
    ``hits`` / ``misses`` count reuse.
    """

    store: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0

    def distances(
        self,
        net: WalkNetwork,
        homes: EdgeAttachment,
        geoms: NDArray[np.object_],
        *,
        limit_m: float,
        boundary_step_m: float = 25.0,
    ) -> NDArray[np.float64]:
        key = _hash_arrays(
            network_key(net),
            homes.edge,
            homes.t0,
            homes.offset_m,
            np.asarray(geoms, dtype=object),
            float(limit_m),
            float(boundary_step_m),
        )
        hit = self.store.get(key)
        if hit is not None:
            self.hits += 1
            return hit
        self.misses += 1
        src = facility_sources(net, geoms, boundary_step_m=boundary_step_m)
        d = nearest_distance_m(net, homes, src, limit_m=limit_m)
        self.store[key] = d
        return d
