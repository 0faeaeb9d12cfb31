"""Access engine vs an independent networkx search on split edges, and attachment vs brute force."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
import shapely.ops
from _reference import (
    attachment_rows,
    brute_force_nearest_edge,
    compare_within,
    edges_of,
    reference_distances,
)
from conftest import DATA
from tolerances import DIST_ABS_M, LIMIT_MARGIN_M, OFFSET_ABS_M, PERTURB_M

import geoplan
from geoplan.city.homes import homes_from_city, homes_from_population
from geoplan.network.access import (
    attach_points,
    facility_sources,
    nearest_distance_m,
    node_distance_m,
    same_edge_pairs,
)
from geoplan.network.graph import WalkNetwork

POP_CSV = DATA / "sao_paulo_hexgrid_population.csv"


def population_points() -> gpd.GeoDataFrame:
    df = pd.read_csv(POP_CSV)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)


@pytest.fixture(scope="module")
def homes_by_city(chengdu: geoplan.City, sao_paulo: geoplan.City) -> dict[str, gpd.GeoDataFrame]:
    # São Paulo's extract maps no residential land or buildings: its homes are population cells
    return {
        "chengdu": homes_from_city(chengdu),
        "sao_paulo": homes_from_population(population_points(), crs=sao_paulo.crs),
    }


def category(city: geoplan.City, cat: str) -> np.ndarray:
    if cat == "bus_stop":
        return np.asarray(city.bus_stops.geometry.values, dtype=object)
    if cat == "park":
        return np.asarray(city.parks.geometry.values[city.parks["green_kind"] == "park"])
    sel = city.facilities["category"] == cat
    return np.asarray(city.facilities.geometry.values[sel.to_numpy()], dtype=object)


CASES = [
    ("chengdu", "bus_stop", 1000.0),
    ("chengdu", "toilet", 1000.0),
    ("chengdu", "park", 1000.0),
    ("chengdu", "primary_school", 1000.0),
    ("chengdu", "park", np.inf),
    ("sao_paulo", "bus_stop", 1000.0),
    ("sao_paulo", "toilet", 1000.0),
    ("sao_paulo", "mall", np.inf),
]


@pytest.mark.parametrize(("city_name", "cat", "limit"), CASES)
def test_distances_match_networkx(
    request: pytest.FixtureRequest,
    homes_by_city: dict[str, gpd.GeoDataFrame],
    city_name: str,
    cat: str,
    limit: float,
) -> None:
    city = request.getfixturevalue(city_name)
    net = city.network
    geoms = category(city, cat)
    assert geoms.size > 0
    if cat in ("park", "primary_school"):  # polygon facilities are in these cases
        assert (shapely.get_type_id(geoms) >= 3).any()
    home_att = attach_points(net, homes_by_city[city_name].geometry.values)
    src = facility_sources(net, geoms)
    got = nearest_distance_m(net, home_att, src, limit_m=limit)
    h_rows, _ = attachment_rows(home_att)
    _, s_rows = attachment_rows(src)
    ref = reference_distances(
        edges_of(net), h_rows, s_rows, cutoff_m=None if np.isinf(limit) else limit
    )
    disagree, diff = compare_within(ref, got, limit, LIMIT_MARGIN_M)
    assert disagree == 0
    assert diff <= DIST_ABS_M
    assert np.isfinite(got).sum() >= 10  # the comparison is not vacuous


def test_reference_catches_a_perturbed_edge_length(
    chengdu: geoplan.City, homes_by_city: dict[str, gpd.GeoDataFrame]
) -> None:
    """Lengthen the edge under one covered home by 10 m: the reference must see the change."""
    net = chengdu.network
    home_att = attach_points(net, homes_by_city["chengdu"].geometry.values)
    src = facility_sources(net, category(chengdu, "bus_stop"))
    got = nearest_distance_m(net, home_att, src, limit_m=1000.0)
    pick = np.flatnonzero(np.isfinite(got) & (home_att.t0 > 0.3) & (home_att.t0 < 0.7))[0]
    e = int(home_att.edge[pick])
    length = net.edge_length_m.copy()
    length[e] += 10.0
    bad = dataclasses.replace(net, edge_length_m=length, meta={})
    got_bad = nearest_distance_m(bad, home_att, src, limit_m=1000.0)
    h_rows, _ = attachment_rows(home_att)
    _, s_rows = attachment_rows(src)
    ref = reference_distances(edges_of(net), h_rows, s_rows, cutoff_m=1000.0)
    assert abs(ref[pick] - got_bad[pick]) > PERTURB_M
    # and a home whose offset is off by a millimetre is caught at the 1e-6 m tolerance
    off = home_att.offset_m.copy()
    off[pick] += 1e-3
    moved = dataclasses.replace(home_att, offset_m=off)
    _, diff = compare_within(ref, nearest_distance_m(net, moved, src, limit_m=1000.0), 1000.0, 0)
    assert diff > DIST_ABS_M


@pytest.mark.parametrize("city_name", ["chengdu", "sao_paulo"])
def test_attachment_is_nearest_edge_brute_force(
    request: pytest.FixtureRequest, homes_by_city: dict[str, gpd.GeoDataFrame], city_name: str
) -> None:
    city = request.getfixturevalue(city_name)
    net = city.network
    homes = homes_by_city[city_name]
    rng = np.random.default_rng(3)
    sample = rng.choice(len(homes), size=min(150, len(homes)), replace=False)
    pts = list(homes.geometry.values[sample])
    pts += list(city.bus_stops.geometry.values[:50])
    att = attach_points(net, pts)
    best, _ = brute_force_nearest_edge(pts, net.edge_geometry)
    assert np.max(np.abs(att.offset_m - best)) <= OFFSET_ABS_M
    # the attachment point at fraction t of the chosen edge is where that distance is reached
    at = shapely.line_interpolate_point(net.edge_geometry[att.edge], att.t0, normalized=True)
    d_at = shapely.distance(at, np.asarray(pts, dtype=object))
    assert np.max(np.abs(d_at - best)) <= OFFSET_ABS_M
    # a deliberately wrong t (shifted 5 % along the edge) is caught
    at_bad = shapely.line_interpolate_point(
        net.edge_geometry[att.edge], np.clip(att.t0 + 0.05, 0, 1), normalized=True
    )
    assert np.max(np.abs(shapely.distance(at_bad, np.asarray(pts, dtype=object)) - best)) > 1.0


def test_polygon_intervals_are_the_parts_of_edges_inside(chengdu: geoplan.City) -> None:
    """Zero-offset stretches of edges are exactly the edge length inside each park."""
    net = chengdu.network
    parks = category(chengdu, "park")
    src = facility_sources(net, parks)
    inside = (src.offset_m == 0) & (src.t1 > src.t0)
    glen = shapely.length(net.edge_geometry[src.edge[inside]])
    got = float(((src.t1 - src.t0)[inside] * glen).sum())
    # reference: every (edge, park) pair, shapely intersection length, brute force
    ref = 0.0
    for p in parks:
        inter = shapely.intersection(net.edge_geometry, p)
        ref += float(shapely.length(inter).sum())
    assert ref > 100.0  # some streets run through parks
    assert got == pytest.approx(ref, rel=1e-9)
    # the middle of every stretch lies in its park
    mids = shapely.line_interpolate_point(
        net.edge_geometry[src.edge[inside]], (src.t0 + src.t1)[inside] / 2, normalized=True
    )
    d = shapely.distance(mids, parks[src.owner[inside]])
    assert float(d.max()) <= OFFSET_ABS_M


def test_park_is_reached_at_its_boundary_not_its_centroid(chengdu: geoplan.City) -> None:
    net = chengdu.network
    parks = category(chengdu, "park")
    cgap, _ = brute_force_nearest_edge(list(shapely.centroid(parks)), net.edge_geometry)
    bgap, bedge = brute_force_nearest_edge(list(parks), net.edge_geometry)
    k = int(np.argmax(np.where(bgap < 10.0, cgap, -1.0)))
    park, gap = parks[k], float(bgap[k])
    assert cgap[k] > 100.0 and gap < 10.0  # centroid far from any street, boundary near one
    # a home on the street where it comes closest to the park
    home = shapely.ops.nearest_points(net.edge_geometry[bedge[k]], park)[0]
    att = attach_points(net, [home])
    d = float(nearest_distance_m(net, att, facility_sources(net, [park]))[0])
    assert gap - DIST_ABS_M <= d <= gap + 25.0  # boundary samples every 25 m
    assert d < cgap[k] - 50.0


# ------------------------------------------------------------------------------------------
# hand-checkable synthetic street


def one_street(length_m: float = 1000.0) -> WalkNetwork:
    """One straight street (0,0)–(length,0) in UTM 48N; its length is exactly its geometry's."""
    crs = pyproj.CRS.from_epsg(32648)
    return WalkNetwork(
        crs=crs,
        node_osmid=np.array([1, 2]),
        x=np.array([0.0, length_m]),
        y=np.array([0.0, 0.0]),
        lon=np.zeros(2),
        lat=np.zeros(2),
        edge_u=np.array([0]),
        edge_v=np.array([1]),
        edge_length_m=np.array([length_m]),
        edge_geometry=np.array([shapely.LineString([(0, 0), (length_m, 0)])], dtype=object),
        edge_osmid=np.array([10]),
        edge_highway=np.array(["residential"], dtype=object),
    )


def test_hand_checked_park_beside_a_street() -> None:
    net = one_street()
    park = shapely.box(400, 5, 600, 205)  # 5 m off the street, centroid 105 m off
    homes = [shapely.Point(500, -10), shapely.Point(100, -10), shapely.Point(900, 3)]
    d = nearest_distance_m(net, attach_points(net, homes), facility_sources(net, [park]))
    # 10 m to the street, 5 m to the park edge (a boundary sample sits at x=500)
    # 10 + 300 along + 5; 3 + 300 along + 5
    assert d == pytest.approx([15.0, 315.0, 308.0], abs=DIST_ABS_M)


def test_hand_checked_street_through_a_park() -> None:
    net = one_street()
    park = shapely.box(400, -100, 600, 100)  # the street runs through it from x=400 to 600
    homes = [shapely.Point(300, -20), shapely.Point(500, -20), shapely.Point(650, 0)]
    d = nearest_distance_m(net, attach_points(net, homes), facility_sources(net, [park]))
    assert d == pytest.approx([120.0, 20.0, 50.0], abs=DIST_ABS_M)
    # the node distances: 400 m from x=0 and from x=1000
    nd = node_distance_m(net, facility_sources(net, [park]))
    assert nd == pytest.approx([400.0, 400.0], abs=DIST_ABS_M)


def test_hand_checked_loop_path_through_a_park() -> None:
    """A closed loop path (u == v) whose start lies in a park: the stretch back into the park
    at the loop's end is [0.975, 1], not [0, 0.975] (the bug this test was written for)."""
    ring = shapely.LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])
    net = dataclasses.replace(
        one_street(),
        node_osmid=np.array([1]),
        x=np.array([0.0]),
        y=np.array([0.0]),
        lon=np.zeros(1),
        lat=np.zeros(1),
        edge_v=np.array([0]),
        edge_length_m=np.array([400.0]),
        edge_geometry=np.array([ring], dtype=object),
    )
    park = shapely.box(-10, -10, 10, 10)
    src = facility_sources(net, [park])
    inside = (src.offset_m == 0) & (src.t1 > src.t0)
    # the stretches inside are 10 m at each end of the loop: 20 m in all, by hand
    assert float(((src.t1 - src.t0)[inside] * 400.0).sum()) == pytest.approx(20.0)
    # (50, 100) is 250 m along the loop: 140 m on to the park, 240 m back
    d = nearest_distance_m(net, attach_points(net, [shapely.Point(50, 100)]), src)
    assert d == pytest.approx([140.0], abs=DIST_ABS_M)
    h_rows, _ = attachment_rows(attach_points(net, [shapely.Point(50, 100)]))
    _, s_rows = attachment_rows(src)
    assert reference_distances(edges_of(net), h_rows, s_rows) == pytest.approx([140.0])


def _intervals_by_loop(net, polys, owners):  # type: ignore[no-untyped-def]
    """Parts of edges inside polygons, one GEOS call per part (the reference)."""
    tree = shapely.STRtree(net.edge_geometry)
    ip, ie = tree.query(polys, predicate="intersects")
    out = []
    for i, e in zip(ip, ie, strict=True):
        line = net.edge_geometry[e]
        g = shapely.intersection(line, polys[i])
        for part in getattr(g, "geoms", [g]):
            if part.is_empty or part.geom_type not in ("Point", "LineString"):
                continue
            if part.geom_type == "Point":
                a = b = shapely.line_locate_point(line, part)
            else:
                mid = shapely.line_interpolate_point(part, 0.5, normalized=True)
                m = shapely.line_locate_point(line, mid)
                a, b = m - part.length / 2, m + part.length / 2
            L = line.length if line.length > 0 else 1.0
            out.append((e, min(max(a / L, 0), 1), min(max(b / L, 0), 1), owners[i]))
    return out


def _merged(rows):  # type: ignore[no-untyped-def]
    """Intervals per (owner, edge), sorted and joined where they meet (1e-9): one flat list."""
    by: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for e, a, b, o in rows:
        by.setdefault((int(o), int(e)), []).append((float(a), float(b)))
    out: list[float] = []
    for key in sorted(by):
        joined: list[list[float]] = []
        for a, b in sorted(by[key]):
            if joined and a <= joined[-1][1] + 1e-9:
                joined[-1][1] = max(joined[-1][1], b)
            else:
                joined.append([a, b])
        for a, b in joined:
            out += [float(key[0]), float(key[1]), a, b]
    return out


@pytest.mark.parametrize("city_name", ["chengdu", "helsinki"])
def test_polygon_sources_equal_per_part_geos(
    city_name: str, request: pytest.FixtureRequest
) -> None:
    """Vectorised edge intervals inside polygons and boundary samples = GEOS one part at a time."""
    from geoplan.indicators.coverage import category_geometries
    from geoplan.network.access import _polygon_intervals, _sample_lines

    city = request.getfixturevalue(city_name)
    net = city.network
    g = category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)
    allg = np.concatenate([v for v in g.values() if len(v)])
    polys = allg[shapely.get_type_id(allg) >= 1]
    owners = np.arange(polys.shape[0])
    att = _polygon_intervals(net, polys, owners)
    ref = _intervals_by_loop(net, polys, owners)
    assert len(ref) > 50
    got = list(zip(att.edge, att.t0, att.t1, att.owner, strict=True))
    # the same parts of the same edges for each polygon. An edge wholly inside one is taken
    # whole (0–1) without an overlay; GEOS's parts of it, located by their midpoints, join
    # into 0–1 to rounding (seen: 1.3e-8 of the edge, a micrometre on 100 m)
    assert _merged(got) == pytest.approx(_merged(ref), abs=1e-7)
    inside = shapely.contains_properly(polys[att.owner], net.edge_geometry[att.edge])
    assert inside.sum() > 10  # the whole-edge path is taken on this city
    assert (att.t0[inside] == 0).all() and (att.t1[inside] == 1).all()
    rings = shapely.boundary(polys)
    x, y, line = _sample_lines(rings, 2.0)
    parts, pidx = shapely.get_parts(rings, return_index=True)
    n = np.maximum(1, np.ceil(shapely.length(parts) / 2.0).astype(int))
    want_line, want = [], []
    for p, (part, c) in enumerate(zip(parts, n, strict=True)):
        for k in range(c):
            want.append(shapely.line_interpolate_point(part, k * (part.length / c)))
            want_line.append(pidx[p])
    assert line.tolist() == want_line
    assert np.array_equal(np.column_stack([x, y]), shapely.get_coordinates(np.array(want)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_edge_pairs_are_every_pair_on_one_edge(seed: int) -> None:
    """Every (a, b) on the same edge, ordered by b then a: a double loop says which."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 40, size=60).astype(np.int64)
    b = rng.integers(0, 60, size=200).astype(np.int64)
    ia, ib = same_edge_pairs(a, b)
    want = [(i, j) for j in range(b.size) for i in range(a.size) if a[i] == b[j]]
    assert list(zip(ia.tolist(), ib.tolist(), strict=True)) == want
    ea, eb = same_edge_pairs(a[:0], b)
    assert ea.size == eb.size == 0
    none_a, none_b = same_edge_pairs(a, b[~np.isin(b, a)])
    assert none_a.size == none_b.size == 0
