"""Row-wise GEOS work on threads (geoplan._threads): the answer of one call, chunk by chunk."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geoplan
from geoplan import _threads


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "MIN_ROWS", 64)
    monkeypatch.setattr(_threads, "_workers", lambda: 2)


def test_rows_equal_one_call(chengdu: geoplan.City, small_chunks: None) -> None:
    roads = np.asarray(chengdu.roads.geometry.values, dtype=object)
    assert roads.shape[0] > 1000
    cells = shapely.buffer(shapely.centroid(roads), 120.0)
    got = _threads.rows(shapely.intersection, roads, cells)
    exp = shapely.intersection(roads, cells)
    assert got.shape == exp.shape
    assert shapely.to_wkb(got).tolist() == shapely.to_wkb(exp).tolist()
    assert len(_threads._slices(roads.shape[0], 2)) == 2 * _threads.CHUNKS_PER_THREAD


def test_query_equals_one_call(chengdu: geoplan.City, small_chunks: None) -> None:
    roads = np.asarray(chengdu.roads.geometry.values, dtype=object)
    tree = shapely.STRtree(roads)
    xy = shapely.get_coordinates(roads)
    pts = shapely.points(xy[::13] + 37.0)
    assert pts.shape[0] > 500
    for kw in ({"predicate": "dwithin", "distance": 80.0}, {"predicate": None}):
        got = _threads.query(tree, pts, **kw)
        exp = tree.query(pts, **kw)
        assert got.shape[1] > pts.shape[0]
        np.testing.assert_array_equal(got, exp)


def test_small_inputs_make_one_call() -> None:
    a = shapely.points(np.arange(10.0), np.zeros(10))
    np.testing.assert_array_equal(_threads.rows(shapely.get_x, a), np.arange(10.0))
    assert _threads.query(shapely.STRtree(a), a[:0]).shape == (2, 0)
