"""WayRuns: the column-wise highway runs behave as the list of RawWay they replace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geoplan.io.osm import read_osm
from geoplan.io.projection import metric_crs
from geoplan.io.way_runs import RawWay, WayRuns
from geoplan.network.build import build_walk_network


@pytest.fixture(scope="module")
def runs(chengdu_pbf: Path) -> WayRuns:
    return read_osm(chengdu_pbf, parallel=False).ways


def _same(a: RawWay, b: RawWay) -> bool:
    return (a.osmid, a.tags) == (b.osmid, b.tags) and all(
        np.array_equal(getattr(a, f), getattr(b, f)) for f in ("refs", "lon", "lat")
    )


def test_views_iteration_and_indexing_agree(runs: WayRuns) -> None:
    listed = list(runs)
    assert len(listed) == len(runs) > 2000
    for i in (0, 1, len(runs) // 2, -1):
        assert _same(runs[i], listed[i])
    # a run is its way's nodes: consecutive, at least two, with the way's own id
    assert all(w.refs.shape[0] >= 2 for w in listed)
    assert sum(w.refs.shape[0] for w in listed) == runs.refs.shape[0]
    with pytest.raises(IndexError):
        runs[len(runs)]


def test_select_equals_filtering_the_list(runs: WayRuns) -> None:
    rng = np.random.default_rng(5)
    mask = rng.random(len(runs)) < 0.3
    picked = runs.select(mask)
    expected = [w for w, k in zip(runs, mask.tolist(), strict=True) if k]
    assert len(picked) == len(expected) == int(mask.sum())
    assert all(_same(a, b) for a, b in zip(picked, expected, strict=True))
    assert runs.select(np.flatnonzero(mask)) == picked
    assert runs[10:20] == runs.select(np.arange(10, 20))
    assert WayRuns.of(expected) == picked


def test_the_network_from_runs_equals_the_network_from_objects(runs: WayRuns) -> None:
    crs = metric_crs(None, lon=104.08, lat=30.69, bounds=(104.04, 30.65, 104.13, 30.73))
    a = build_walk_network(runs, crs)
    b = build_walk_network(list(runs), crs)
    assert a.n_edges == b.n_edges > 1000
    assert np.array_equal(a.edge_u, b.edge_u) and np.array_equal(a.edge_length_m, b.edge_length_m)


def test_empty() -> None:
    e = WayRuns.empty()
    assert len(e) == 0 and list(e) == [] and WayRuns.of([]) == e
    assert len(e.select(np.zeros(0, dtype=bool))) == 0
