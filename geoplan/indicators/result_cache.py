"""Per-indicator result cache, keyed by the content of the layers each indicator reads.

A scenario that edits parks recomputes only the indicators that read ``parks``; the others are
served from the cache. ``hits`` / ``misses`` per indicator say which ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from geoplan.indicators.coverage import IndicatorResult
from geoplan.network.cache import hash_arrays


@dataclass
class ResultCache:
    """Indicator results by (indicator, parameters, content of the layers it reads)."""

    store: dict[str, IndicatorResult] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    misses: Counter[str] = field(default_factory=Counter)
    last: dict[str, bool] = field(default_factory=dict)

    def get(
        self,
        name: str,
        params: Mapping[str, Any],
        layer_keys: Mapping[str, str],
        compute: Callable[[], IndicatorResult],
    ) -> IndicatorResult:
        """The cached result of ``name`` for these inputs, or ``compute()`` it and keep it.

        Parameters
        ----------
        name
            The run (``park_coverage``, ``circle:fitness:1000`` …).
        params
            Its parameters.
        layer_keys
            Content hash of each layer it reads.
        compute
            Computes it on a miss.

        Returns
        -------
        IndicatorResult
        """
        key = hash_arrays(
            name, sorted((k, repr(v)) for k, v in params.items()), sorted(layer_keys.items())
        )
        hit = self.store.get(key)
        if hit is not None:
            self.hits[name] += 1
            self.last[name] = True
            return hit
        self.misses[name] += 1
        self.last[name] = False
        out = compute()
        self.store[key] = out
        return out

    def report(self) -> dict[str, str]:
        """``{indicator: "hit" | "miss" | "2 hits, 1 miss"}`` over the runs so far.

        Returns
        -------
        dict of str to str
        """
        out = {}
        for name in sorted(set(self.hits) | set(self.misses)):
            h, m = self.hits[name], self.misses[name]
            out[name] = f"{h} hit{'s' * (h != 1)}, {m} miss{'es' * (m != 1)}"
        return out

    def reset_counts(self) -> None:
        """Forget the hit / miss counts (not the results)."""
        self.hits.clear()
        self.misses.clear()
