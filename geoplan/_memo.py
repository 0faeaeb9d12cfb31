"""A small memo keyed by the identity of its arguments (immutable geometries, cached results).

Results served from the content-keyed caches are the *same objects* on a hit, so work derived
from them (per-unit shares, gaps) can be memoised by identity: the memo keeps a strong reference
to every key object, so an id is never reused while its entry lives. Bounded LRU.

Work per geometry that does not depend on the other geometries is remembered by content instead
(:func:`per_geometry`, keyed by the SHA-1 of each geometry's WKB, :func:`wkb_digests`).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import shapely

T = TypeVar("T")


class IdentityMemo:
    """LRU of ``fn(*objs)`` keyed by ``(tag, id(obj) …)``.

    Parameters
    ----------
    maxsize
        Entries kept (least recently used dropped first).
    """

    def __init__(self, maxsize: int = 128) -> None:
        self.maxsize = maxsize
        self._store: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, tag: str, objs: tuple[Any, ...], fn: Callable[[], T]) -> T:
        """The memoised value for these objects, or ``fn()``.

        Parameters
        ----------
        tag
            What is memoised (one memo serves several computations).
        objs
            The objects the value depends on (kept alive with it, so an id is never reused while
            remembered).
        fn
            Computes the value on a miss.

        Returns
        -------
        object
            The value.
        """
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


def per_geometry(
    store: dict[tuple[bytes, bytes], T],
    context: bytes,
    geoms: Any,
    compute: Callable[[Any], Sequence[T]],
    *,
    max_size: int,
) -> list[T]:
    """``compute`` of each geometry, remembered by (``context``, SHA-1 of its WKB).

    For work where each geometry's answer does not depend on the others (a road's length inside
    a boundary, an outline's pieces inside it): ``compute`` gets the geometries not remembered
    yet, as one array, and returns one answer each. ``store`` is cleared when it would pass
    ``max_size`` entries.

    Parameters
    ----------
    store
        The memo: (context, WKB digest) → answer.
    context
        What else the answers depend on (:func:`boundary_key`).
    geoms
        Geometries.
    compute
        Answers for an array of geometries, one each.
    max_size
        Entries before ``store`` is cleared.

    Returns
    -------
    list
        One answer per geometry, in order.
    """
    keys = [(context, d) for d in wkb_digests(geoms)]
    got: list[T | None] = [store.get(k) for k in keys]
    miss = [i for i, g in enumerate(got) if g is None]
    if miss:
        fresh = compute(geoms[np.asarray(miss, dtype=np.int64)])
        if len(store) + len(miss) > max_size:
            store.clear()
        for i, v in zip(miss, fresh, strict=True):
            got[i] = v
            store[keys[i]] = v
    return [g for g in got if g is not None]  # every entry is filled by now


def boundary_key(geom: Any) -> bytes:
    """SHA-1 of a geometry's WKB (the context of :func:`per_geometry`).

    Parameters
    ----------
    geom
        A geometry.

    Returns
    -------
    bytes
        SHA-1 digest.
    """
    return hashlib.sha1(shapely.to_wkb(geom), usedforsecurity=False).digest()


def wkb_digests(geoms: Any) -> list[bytes]:
    """SHA-1 of each geometry's WKB (``None`` / missing hashes as empty bytes).

    Parameters
    ----------
    geoms
        Geometries (``None`` allowed).

    Returns
    -------
    list of bytes
        One SHA-1 digest each.
    """
    if not len(geoms):
        return []
    return [
        hashlib.sha1(b if b is not None else b"", usedforsecurity=False).digest()
        for b in shapely.to_wkb(geoms, hex=False)
    ]
