"""Walk network topology and edge lengths against the raw OSM ways read independently."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import osmium
import pyproj
import pytest
import shapely
from conftest import EARTH_RADIUS_M, REL_TOL_LENGTH

import geoplan


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h)))


def raw_ways(pbf: Path, ids: set[int]) -> dict[int, list[tuple[int, float, float]]]:
    """(node id, lon, lat) of each way in ``ids``, straight from the file."""
    out = {}
    for o in osmium.FileProcessor(str(pbf)).with_locations():
        if o.is_way() and o.id in ids:
            out[o.id] = [(n.ref, n.lon, n.lat) for n in o.nodes]
    return out


@pytest.mark.parametrize("which", ["chengdu", "sao_paulo"])
def test_edge_lengths_equal_haversine_sums(which: str, request: pytest.FixtureRequest) -> None:
    city: geoplan.City = request.getfixturevalue(which)
    net = city.network
    rng = np.random.default_rng(7)
    sample = rng.choice(net.n_edges, size=400, replace=False)
    ways = raw_ways(Path(city.report.source), {int(net.edge_osmid[i]) for i in sample})
    graph_nodes = set(net.node_osmid.tolist())
    checked = 0
    for i in sample:
        u = int(net.node_osmid[net.edge_u[i]])
        v = int(net.node_osmid[net.edge_v[i]])
        refs = [r for r, _, _ in ways[int(net.edge_osmid[i])]]
        if u == v or refs.count(u) != 1 or refs.count(v) != 1:
            continue  # loops and ways visiting a node twice: position is ambiguous
        a, b = refs.index(u), refs.index(v)
        assert a < b  # edges run in way order
        seg = ways[int(net.edge_osmid[i])][a : b + 1]
        want = sum(_haversine(p[1], p[2], q[1], q[2]) for p, q in itertools.pairwise(seg))
        assert net.edge_length_m[i] == pytest.approx(want, rel=REL_TOL_LENGTH, abs=1e-9)
        # the edge is split at every graph node it passes (OSMnx simplified topology)
        assert not graph_nodes.intersection(r for r, _, _ in seg[1:-1])
        # its geometry has exactly those vertices, projected
        t = pyproj.Transformer.from_crs(4326, city.crs, always_xy=True)
        xy = np.array([t.transform(lon, lat) for _, lon, lat in seg])
        np.testing.assert_allclose(
            shapely.get_coordinates(net.edge_geometry[i]), xy, rtol=0, atol=1e-6
        )
        checked += 1
    assert checked >= 300


def test_edge_geometry_ends_at_its_nodes(chengdu: geoplan.City) -> None:
    net = chengdu.network
    start = shapely.get_point(net.edge_geometry, 0)
    end = shapely.get_point(net.edge_geometry, -1)
    np.testing.assert_allclose(shapely.get_x(start), net.x[net.edge_u], atol=1e-6)
    np.testing.assert_allclose(shapely.get_y(start), net.y[net.edge_u], atol=1e-6)
    np.testing.assert_allclose(shapely.get_x(end), net.x[net.edge_v], atol=1e-6)
    np.testing.assert_allclose(shapely.get_y(end), net.y[net.edge_v], atol=1e-6)
    # metric length within 0.5 % of the haversine length (sphere vs ellipsoid + UTM scale)
    np.testing.assert_allclose(
        shapely.length(net.edge_geometry), net.edge_length_m, rtol=5e-3, atol=1e-6
    )


def test_nodes_are_projected_osm_coordinates(chengdu: geoplan.City) -> None:
    net = chengdu.network
    t = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    x, y = t.transform(net.lon, net.lat)
    np.testing.assert_allclose(net.x, x, atol=1e-6)
    np.testing.assert_allclose(net.y, y, atol=1e-6)
    assert len(set(net.node_osmid.tolist())) == net.n_nodes


def test_haversine_matches_pyproj_geodesic() -> None:
    """geoplan's haversine (OSMnx's formula) is within 0.5 % of the WGS84 geodesic."""
    from geoplan.network.build import haversine_m

    geod = pyproj.Geod(ellps="WGS84")
    lon1, lat1, lon2, lat2 = 104.0421, 30.6528, 104.1296, 30.7279
    _, _, d = geod.inv(lon1, lat1, lon2, lat2)
    got = float(
        haversine_m(np.array([lon1]), np.array([lat1]), np.array([lon2]), np.array([lat2]))[0]
    )
    assert got == pytest.approx(_haversine(lon1, lat1, lon2, lat2), rel=1e-12)
    assert got == pytest.approx(d, rel=5e-3)
