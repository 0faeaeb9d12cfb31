"""Walk network: CSR shortest paths vs networkx, walk rules vs raw tags, components."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmium
import pytest
from conftest import ABS_TOL_PATH_M, chengdu_clip_polygon
from scipy.sparse.csgraph import dijkstra

import geoplan


@pytest.mark.parametrize("which", ["chengdu", "sao_paulo"])
def test_csr_shortest_paths_equal_networkx(which: str, request: pytest.FixtureRequest) -> None:
    city: geoplan.City = request.getfixturevalue(which)
    net = city.network
    g = net.to_networkx()
    assert g.graph["crs"] == city.crs.to_string()
    assert g.number_of_nodes() == net.n_nodes
    assert g.number_of_edges() == 2 * net.n_edges
    rng = np.random.default_rng(11)
    labels = net.component_labels
    sources = list(rng.choice(np.flatnonzero(labels == 0), size=4, replace=False))
    sources.append(int(np.flatnonzero(labels == labels.max())[0]))  # one on a small island
    dist = dijkstra(net.csr, directed=False, indices=sources)
    for row, s in zip(dist, sources, strict=True):
        ref = nx.single_source_dijkstra_path_length(g, int(s), weight="length")
        reached = np.flatnonzero(np.isfinite(row))
        assert set(reached.tolist()) == set(ref)
        want = np.array([ref[int(i)] for i in reached])
        np.testing.assert_allclose(row[reached], want, rtol=0, atol=ABS_TOL_PATH_M)


def raw_highway_tags(pbf: Path) -> dict[int, dict[str, str]]:
    out = {}
    for o in osmium.FileProcessor(str(pbf), osmium.osm.WAY):
        if "highway" in o.tags:
            out[o.id] = {t.k: t.v for t in o.tags}
    return out


def _private(t: dict[str, str]) -> bool:
    closed = t.get("access") in ("private", "no") or t.get("foot") == "private"
    closed = closed or t.get("service") == "private"
    return closed and t.get("foot") not in ("yes", "designated", "permissive")


@pytest.mark.parametrize("which", ["chengdu", "sao_paulo"])
def test_walk_rules_against_raw_tags(which: str, request: pytest.FixtureRequest) -> None:
    city: geoplan.City = request.getfixturevalue(which)
    tags = raw_highway_tags(Path(city.report.source))
    edge_tags = [tags[int(w)] for w in set(city.network.edge_osmid.tolist())]
    assert not [t for t in edge_tags if t["highway"] in ("motorway", "motorway_link")]
    assert not [t for t in edge_tags if t.get("foot") == "no"]
    assert not [t for t in edge_tags if _private(t)]
    # the walkable kinds are there
    kinds = {t["highway"] for t in edge_tags}
    assert {"footway", "residential", "service"} <= kinds or which == "chengdu"
    assert {"primary", "secondary", "tertiary"} <= kinds
    assert city.network.meta["include_private"] is False


def test_include_private_adds_private_ways(sao_paulo_pbf: Path, sao_paulo: geoplan.City) -> None:
    tags = raw_highway_tags(sao_paulo_pbf)
    city = geoplan.load_city(sao_paulo_pbf, include_private=True)
    assert city.network.meta["include_private"] is True
    ways = {int(w) for w in city.network.edge_osmid}
    private = {w for w in ways if _private(tags[w])}
    assert len(private) > 10
    assert ways - private == {int(w) for w in sao_paulo.network.edge_osmid}
    # foot=no and motorways stay out even then
    assert not [w for w in ways if tags[w].get("foot") == "no"]
    assert not [w for w in ways if tags[w]["highway"].startswith("motorway")]


@pytest.mark.parametrize("which", ["chengdu", "sao_paulo", "helsinki"])
def test_components_reported_and_islands_kept(which: str, request: pytest.FixtureRequest) -> None:
    city: geoplan.City = request.getfixturevalue(which)
    net = city.network
    sizes = net.component_sizes()
    assert sizes.sum() == net.n_nodes
    assert list(sizes) == sorted(sizes, reverse=True)
    assert net.n_components == city.report.network["components"] > 1
    g = nx.Graph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True))
    assert sorted((len(c) for c in nx.connected_components(g)), reverse=True) == list(sizes)
    assert city.report.network["largest_component_share"] == pytest.approx(
        sizes[0] / sizes.sum(), abs=1e-4
    )
    nodes = net.nodes_gdf()
    assert (nodes["component"] > 0).any()  # islands are in the node layer
    assert any("islands are kept" in n for n in city.report.notes)


def test_network_keeps_edges_crossing_the_boundary(chengdu_clip: geoplan.City) -> None:
    net = chengdu_clip.network
    geoms = net.edges_gdf().geometry
    inside = geoms.within(chengdu_clip.boundary_polygon)
    assert inside.sum() > 0 and (~inside).sum() > 0
    assert geoms.intersects(chengdu_clip.boundary_polygon).all()
    assert chengdu_clip_polygon().is_valid


def test_networkx_export_is_osmnx_compatible(chengdu_clip: geoplan.City) -> None:
    import osmnx as ox

    g = chengdu_clip.network.to_networkx()
    nodes, edges = ox.convert.graph_to_gdfs(g)
    assert len(nodes) == chengdu_clip.network.n_nodes
    assert len(edges) == 2 * chengdu_clip.network.n_edges
    assert edges.crs == chengdu_clip.crs
    total = edges["length"].sum() / 2
    assert total == pytest.approx(chengdu_clip.network.edge_length_m.sum(), rel=1e-12)
