"""Nearest edge by KD-tree candidates (geoplan.network.nearest) against GEOS's exact search.

Reference: ``shapely.STRtree.query_nearest`` (all equidistant edges) for the edge and distance,
``shapely.line_locate_point`` for the position along it — the search attach_points used before.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geoplan
from geoplan.network.access import attach_points
from geoplan.network.nearest import nearest_edges


def _points(city: geoplan.City, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform points over the network's extent, plus every 7th edge vertex (exact ties)."""
    net = city.network
    b = shapely.total_bounds(net.edge_geometry)
    rng = np.random.default_rng(seed)
    x = rng.uniform(b[0] - 300, b[2] + 300, n)
    y = rng.uniform(b[1] - 300, b[3] + 300, n)
    v = shapely.get_coordinates(net.edge_geometry)[::7]
    return np.concatenate([x, v[:, 0]]), np.concatenate([y, v[:, 1]])


def _check(city: geoplan.City, x: np.ndarray, y: np.ndarray, max_d: float | None) -> int:
    net = city.network
    pts = shapely.points(x, y)
    tree = shapely.STRtree(net.edge_geometry)
    (rp, re), rd = tree.query_nearest(
        pts, return_distance=True, all_matches=True, max_distance=max_d
    )
    ip, ie, d, along = nearest_edges(net, x, y, max_distance_m=max_d)
    # the same points are found
    assert np.array_equal(ip, np.unique(rp))
    # the chosen edge is among GEOS's equidistant nearest edges: the lowest of them
    lowest = np.full(x.shape[0], np.iinfo(np.int64).max)
    np.minimum.at(lowest, rp, re)
    assert np.array_equal(ie, lowest[ip])
    # distance and position exactly as GEOS computes them
    dist_ref = shapely.distance(net.edge_geometry[ie], pts[ip])
    assert np.array_equal(d, dist_ref)
    first = np.unique(rp, return_index=True)[1]
    assert np.array_equal(d, rd[first])
    along_ref = shapely.line_locate_point(net.edge_geometry[ie], pts[ip])
    assert np.array_equal(along, along_ref)
    return int(ip.size)


@pytest.mark.parametrize("max_d", [None, 150.0, 12.0])
def test_nearest_edges_equal_geos_chengdu(chengdu: geoplan.City, max_d: float | None) -> None:
    x, y = _points(chengdu, 20_000, 1)
    found = _check(chengdu, x, y, max_d)
    if max_d is not None:
        assert 0 < found < x.shape[0]  # the bound leaves points out


def test_nearest_edges_equal_geos_dense_city(helsinki: geoplan.City) -> None:
    """Helsinki (≈ 1,900 graph nodes per km²): short segments, many candidates per point."""
    x, y = _points(helsinki, 20_000, 2)
    assert _check(helsinki, x, y, None) == x.shape[0]


def test_attach_points_empty_points_and_facility_samples(chengdu: geoplan.City) -> None:
    """Empty points attach nowhere; the attachment of park-boundary samples equals GEOS's."""
    net = chengdu.network
    parks = chengdu.parks.geometry.to_numpy()[:40]
    samples = shapely.line_interpolate_point(
        shapely.boundary(parks).repeat(5),
        np.tile(np.linspace(0, 0.8, 5), parks.shape[0]),
        normalized=True,
    )
    pts = np.concatenate([samples, [shapely.Point()]])
    att = attach_points(net, pts)
    assert att.owner.tolist() == list(range(samples.shape[0]))
    tree = shapely.STRtree(net.edge_geometry)
    (ip, _), dist = tree.query_nearest(samples, return_distance=True, all_matches=False)
    assert np.array_equal(att.offset_m, dist[np.argsort(ip, kind="stable")])
    s = shapely.line_locate_point(net.edge_geometry[att.edge], samples)
    glen = shapely.length(net.edge_geometry[att.edge])
    assert np.array_equal(att.t0, np.clip(s / glen, 0, 1))


def test_the_answer_does_not_depend_on_the_sample_step(
    chengdu: geoplan.City, helsinki: geoplan.City
) -> None:
    """Indexes sampled every 5, 10, 20 or 40 m give the same edges, distances and positions."""
    from geoplan.network import nearest as nr

    for city in (chengdu, helsinki):
        net = city.network
        x, y = _points(city, 4000, 3)
        default = nearest_edges(net, x, y)
        assert nr.sample_step_m(net) in (nr.SAMPLE_STEP_M, nr.SPARSE_STEP_M)
        saved = dict(net.meta)
        try:
            for step in (5.0, 10.0, 20.0, 40.0):
                net.meta["_segment_index"] = nr.segment_index(net, step_m=step)
                got = nearest_edges(net, x, y)
                for a, b in zip(default, got, strict=True):
                    np.testing.assert_array_equal(a, b)
        finally:
            net.meta.clear()
            net.meta.update(saved)
    # the dense demo city takes the fine step, the sparse Chengdu extract the coarse one
    assert nr.sample_step_m(helsinki.network) == nr.SAMPLE_STEP_M
    assert nr.sample_step_m(chengdu.network) == nr.SPARSE_STEP_M
