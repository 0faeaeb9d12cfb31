"""A small memo keyed by the identity of its arguments (immutable geometries, cached results).

Results served from the content-keyed caches are the *same objects* on a hit, so work derived
from them (per-unit shares, gaps) can be memoised by identity: the memo keeps a strong reference
to every key object, so an id is never reused while its entry lives. Bounded LRU.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class IdentityMemo:
    """LRU of ``fn(*objs)`` keyed by ``(tag, id(obj) …)``."""

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self._store: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, tag: str, objs: tuple[Any, ...], fn: Callable[[], T]) -> T:
        """The memoised value for these objects, or ``fn()``."""
        key = (tag, *(id(o) for o in objs))
        hit = self._store.get(key)
        if hit is not None:
            self._store.move_to_end(key)
            self.hits += 1
            return hit[1]
        self.misses += 1
        value = fn()
        self._store[key] = (objs, value)
        if len(self._store) > self.maxsize:
            self._store.popitem(last=False)
        return value
