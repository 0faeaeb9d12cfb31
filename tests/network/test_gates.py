"""Parks reached at their entrances, against brute force and networkx on real data."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from _reference import (
    attachment_rows,
    brute_force_entrances,
    brute_force_nearest_edge,
    edges_of,
    reference_distances,
)

import geoplan
from geoplan.city.homes import homes_from_city
from geoplan.indicators.inputs import Inputs
from geoplan.indicators.registry import evaluate
from geoplan.io.compounds import read_compounds
from geoplan.network.access import attach_points, facility_sources
from geoplan.network.gates import entrance_points
from geoplan.scoring.check import check_city


def test_entrances_equal_a_brute_force_loop(chengdu: geoplan.City) -> None:
    """Every park's entrances: edge crossings of its outline and gates within 5 m, loop by loop."""
    polys = np.asarray(chengdu.parks.geometry.values, dtype=object)
    gates = list(chengdu.gates.geometry)
    got = entrance_points(polys, chengdu.network, chengdu.gates, gate_outline_m=5.0)
    ref = brute_force_entrances(list(polys), chengdu.network, gates)
    with_gates = 0
    for poly, g, r in zip(polys, got, ref, strict=True):
        if r.geom_type == "MultiPoint":
            want = {tuple(np.round(c, 6)) for c in shapely.get_coordinates(r)}
            assert {tuple(np.round(c, 6)) for c in g} == want
            ring = poly.boundary
            with_gates += any(ring.distance(x) <= 5 for x in gates)
        else:
            assert g.shape[0] == 0
    assert sum(r.geom_type == "MultiPoint" for r in ref) >= 10
    assert with_gates >= 1  # a park entered at a mapped gate


def test_park_walk_through_entrances_vs_networkx(chengdu: geoplan.City) -> None:
    """500米见园 by walking: networkx from each home to the parks' entrances (or outline)."""
    homes = homes_from_city(chengdu)
    p = chengdu.parks
    is_park = ((p["green_kind"] == "park") & (p["area_m2"] >= 5000)).to_numpy()
    gates = list(chengdu.gates.geometry)
    reach = brute_force_entrances(list(p.geometry.values[is_park]), chengdu.network, gates)
    net = chengdu.network
    h_rows, _ = attachment_rows(attach_points(net, homes.geometry.values))
    _, s_rows = attachment_rows(facility_sources(net, np.asarray(reach, dtype=object)))
    d = reference_distances(edges_of(net), h_rows, s_rows, cutoff_m=500.0)
    res = evaluate("park_coverage", Inputs(chengdu, homes))
    flags = res.per_home["park_500_network"].to_numpy()
    assert (flags == (d <= 500.0)).all()
    # reached anywhere on the outline, more homes are covered: the entrances matter here
    outline = evaluate("park_coverage", Inputs(chengdu, homes), reach="outline")
    more = outline.per_home["park_500_network"].to_numpy()
    assert (more >= flags).all() and more.sum() > flags.sum()
    assert "at mapped entrances" in str(res.summary["note"].iloc[-1])


def test_an_entrance_is_where_walking_enters(chengdu: geoplan.City) -> None:
    """A hand case on the real network: a square park crossed by one street is entered there."""
    net = chengdu.network
    e = int(np.argmax(net.edge_length_m))
    mid = shapely.line_interpolate_point(net.edge_geometry[e], 0.5, normalized=True)
    park = mid.buffer(20.0, quad_segs=1)  # a diamond the street runs through
    (pts,) = entrance_points(np.asarray([park], dtype=object), net, None, gate_outline_m=5.0)
    assert pts.shape[0] >= 2
    assert all(park.boundary.distance(shapely.Point(x, y)) < 1e-6 for x, y in pts)
    on_street = [net.edge_geometry[e].distance(shapely.Point(x, y)) < 1e-6 for x, y in pts]
    assert sum(on_street) >= 2  # the street enters and leaves the diamond


def _compound_file(city: geoplan.City, folder: Path) -> tuple[Path, list, list]:
    """A 小区 AOI file over the real Chengdu streets: the residential parcels with a mapped
    gate or entrance on their outline, and those gates (in WGS84, as an AOI export is)."""
    res = city.residential
    gates = list(city.gates.geometry)
    polys, pts = [], []
    for poly in res.geometry:
        near = [g for g in gates if poly.boundary.distance(g) <= 5.0]
        if near:
            polys.append(poly)
            pts += near
    assert polys, "Chengdu has a residential parcel with a mapped entrance on its outline"
    gdf = gpd.GeoDataFrame(geometry=[*polys, *pts], crs=city.crs).to_crs(4326)
    p = folder / "xiaoqu.geojson"
    gdf.to_file(p, driver="GeoJSON")
    return p, polys, pts


def test_homes_in_a_gated_compound_leave_by_its_gates(
    chengdu: geoplan.City, tmp_path: Path
) -> None:
    """Walking distance of homes inside a compound = min over its gates of |h − g| + networkx
    walk from g (or their own walk where their nearest street runs inside the compound)."""
    path, polys, pts = _compound_file(chengdu, tmp_path)
    comp = read_compounds(path, chengdu.crs)
    assert len(comp) == len(polys) and comp.n_entrances == len(pts)
    city = dataclasses.replace(chengdu, compounds=comp)
    homes = homes_from_city(city)
    gated = check_city(city, homes=homes)
    edges = check_city(city, homes=homes, compounds="edges")
    plain = check_city(chengdu, homes=homes)
    col = "dist_bus_stop_m"
    # "edges" is today's rule
    assert np.array_equal(edges.homes[col].to_numpy(), plain.homes[col].to_numpy())
    assert any("walk out through an entrance" in n for n in gated.notes)

    net = chengdu.network
    stops = np.asarray(chengdu.bus_stops.geometry.values, dtype=object)
    _, s_rows = attachment_rows(facility_sources(net, stops))
    # gates: attached by brute force to their nearest edge, walked by networkx
    off, edge = brute_force_nearest_edge(pts, list(net.edge_geometry))
    g_rows = [
        (int(e), float(net.edge_geometry[e].project(g, normalized=True)), float(o))
        for g, e, o in zip(pts, edge, off, strict=True)
    ]
    d_gate = reference_distances(edges_of(net), g_rows, s_rows, cutoff_m=500.0)
    h_att = attach_points(net, homes.geometry.values)
    h_rows, _ = attachment_rows(h_att)
    d_home = reference_distances(edges_of(net), h_rows, s_rows, cutoff_m=500.0)
    moved = 0
    for i, h in enumerate(homes.geometry):
        poly = next((p for p in polys if p.contains(h)), None)
        want = d_home[i]
        if poly is not None:
            e, t, _ = h_rows[i]
            own_inside = poly.buffer(1.0).contains(
                net.edge_geometry[e].interpolate(t, normalized=True)
            )
            ways = [want] if own_inside else []
            ways += [
                h.distance(g) + d
                for g, d in zip(pts, d_gate, strict=True)
                if poly.boundary.distance(g) <= 30.0
            ]
            want = min(ways, default=np.inf)
            want = want if want <= 500.0 else np.inf
            moved += want != d_home[i]
        got = gated.homes[col].iloc[i]
        if np.isfinite(want):
            assert got == pytest.approx(want, abs=1e-6), i
        else:
            assert not np.isfinite(got) or got > 500.0 - 1e-9, i
    assert moved >= 1  # the gates change some home's walk


def test_grid_cells_in_a_gated_compound_leave_by_its_gates(
    chengdu: geoplan.City, tmp_path: Path
) -> None:
    """The area-based walking coverage: 10 m grid cells inside the compound walk to a gate."""
    from geoplan.indicators.access import Request, compute_access

    path, polys, pts = _compound_file(chengdu, tmp_path)
    comp = read_compounds(path, chengdu.crs)
    net = chengdu.network
    area = shapely.union_all(polys).buffer(30.0)
    stops = np.asarray(chengdu.bus_stops.geometry.values, dtype=object)
    req = {"bus": Request(stops, 800.0, 25.0, 10.0)}
    h_att = attach_points(net, np.zeros(0, dtype=object))
    gated = compute_access(net, h_att, req, boundary=area, compounds=comp)
    plain = compute_access(net, h_att, req, boundary=area)
    grid = gated.grids[10.0]
    centres = grid.centres()
    att = gated.grid_att[10.0]
    _, s_rows = attachment_rows(facility_sources(net, stops, boundary_step_m=25.0))
    off, edge = brute_force_nearest_edge(pts, list(net.edge_geometry))
    g_rows = [
        (int(e), float(net.edge_geometry[e].project(g, normalized=True)), float(o))
        for g, e, o in zip(pts, edge, off, strict=True)
    ]
    d_gate = reference_distances(edges_of(net), g_rows, s_rows, cutoff_m=800.0)
    c_rows, _ = attachment_rows(att)
    d_cell = np.full(centres.shape[0], np.inf)
    d_cell[att.owner] = reference_distances(edges_of(net), c_rows, s_rows, cutoff_m=800.0)
    # without compounds, every cell walks from its own nearest street (networkx agrees)
    fin = np.isfinite(d_cell)
    plain_grid = plain.grids[10.0]
    assert np.isin(plain_grid.cells, grid.cells).all()
    plain_d = np.full(grid.cells.shape[0], np.inf)
    plain_d[np.searchsorted(grid.cells, plain_grid.cells)] = plain.grid_m["bus"]
    assert (np.isfinite(plain_d) == fin).all()
    assert plain_d[fin] == pytest.approx(d_cell[fin], abs=1e-6)
    # every inside cell whose centre lies in a compound is listed (it walks out by a gate)
    every = np.flatnonzero(grid.inside)
    rows, cols = np.divmod(every, grid.xs.shape[0])
    in_compound = shapely.intersects_xy(shapely.union_all(polys), grid.xs[cols], grid.ys[rows])
    assert in_compound.any() and np.isin(every[in_compound], grid.cells).all()
    inside = 0
    for i, (x, y) in enumerate(centres):
        c = shapely.Point(x, y)
        poly = next((p for p in polys if p.contains(c)), None)
        want = d_cell[i]
        if poly is not None:
            inside += 1
            k = int(np.flatnonzero(att.owner == i)[0]) if (att.owner == i).any() else -1
            ways = []
            if k >= 0:
                e, t, _ = c_rows[k]
                street = net.edge_geometry[e].interpolate(t, normalized=True)
                if poly.buffer(1.0).contains(street):
                    ways.append(d_cell[i])
            ways += [
                c.distance(g) + d
                for g, d in zip(pts, d_gate, strict=True)
                if poly.boundary.distance(g) <= 30.0
            ]
            want = min(ways, default=np.inf)
            want = want if want <= 800.0 else np.inf
        got = gated.grid_m["bus"][i]
        if np.isfinite(want):
            assert got == pytest.approx(want, abs=1e-6), i
        else:
            assert not np.isfinite(got), i
    assert inside >= 20
