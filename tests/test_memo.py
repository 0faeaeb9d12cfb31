"""Memos (``geoplan._memo``): identity memo, per-geometry memo, WKB digests."""

from __future__ import annotations

import hashlib

import numpy as np
import shapely

from geoplan._memo import IdentityMemo, boundary_key, per_geometry, wkb_digests


def test_identity_memo_hits_the_same_objects_and_evicts_the_oldest() -> None:
    memo = IdentityMemo(maxsize=2)
    a, b, c = np.zeros(3), np.ones(3), np.arange(3)
    calls = []

    def f(x: np.ndarray) -> float:
        calls.append(1)
        return float(x.sum())

    assert memo.get("sum", (a,), lambda: f(a)) == 0.0
    assert memo.get("sum", (a,), lambda: f(a)) == 0.0
    assert (memo.hits, memo.misses, len(calls)) == (1, 1, 1)
    assert memo.get("other", (a,), lambda: 7) == 7  # another tag: another entry
    memo.get("sum", (b,), lambda: f(b))  # evicts ("sum", a)
    memo.get("sum", (a,), lambda: f(a))
    assert len(calls) == 3
    memo.get("sum", (c,), lambda: f(c))
    assert memo.misses == 5


def test_per_geometry_computes_only_what_it_has_not_seen() -> None:
    store: dict[tuple[bytes, bytes], float] = {}
    seen: list[int] = []

    def areas(g: np.ndarray) -> list[float]:
        seen.append(len(g))
        return list(shapely.area(g))

    ctx = boundary_key(shapely.box(0, 0, 1, 1))
    g1 = np.array([shapely.box(0, 0, 1, 1), shapely.box(0, 0, 2, 1)], dtype=object)
    assert per_geometry(store, ctx, g1, areas, max_size=10) == [1.0, 2.0]
    g2 = np.array([shapely.box(0, 0, 2, 1), shapely.box(0, 0, 3, 1)], dtype=object)
    assert per_geometry(store, ctx, g2, areas, max_size=10) == [2.0, 3.0]
    assert seen == [2, 1]  # the second call computed only the new box
    # another context: computed again
    per_geometry(store, boundary_key(shapely.box(0, 0, 5, 5)), g2, areas, max_size=10)
    assert seen == [2, 1, 2]


def test_wkb_digests_are_sha1_of_wkb() -> None:
    g = np.array([shapely.Point(1, 2), None], dtype=object)
    d = wkb_digests(g)
    assert d[0] == hashlib.sha1(shapely.to_wkb(shapely.Point(1, 2))).digest()
    assert d[1] == hashlib.sha1(b"").digest()
    assert wkb_digests(np.zeros(0, dtype=object)) == []
