"""Homes: buildings where mapped, else area-weighted land samples; population cells."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from _reference import attachment_rows, edges_of, reference_distances
from conftest import DATA
from tolerances import OFFSET_ABS_M, SHARE_ABS, SUM_REL

import geoplan
from geoplan.city.homes import homes_from_city, homes_from_population
from geoplan.indicators.inputs import Inputs
from geoplan.indicators.registry import evaluate
from geoplan.network.access import attach_points, facility_sources

POP_CSV = DATA / "sao_paulo_hexgrid_population.csv"


@pytest.fixture(scope="module")
def cd_homes(chengdu: geoplan.City) -> gpd.GeoDataFrame:
    return homes_from_city(chengdu)


def buildings_per_parcel(city: geoplan.City) -> tuple[dict[int, int], int]:
    """Buildings whose inner point falls in each parcel (by row), and those in no parcel."""
    parcels = list(city.residential.geometry.values)
    counts: dict[int, int] = {}
    outside = 0
    for b in city.buildings.geometry.values:
        p = b.representative_point()
        hit = [i for i, poly in enumerate(parcels) if poly.contains(p)]
        if hit:
            counts[hit[0]] = counts.get(hit[0], 0) + 1
        else:
            outside += 1
    return counts, outside


def test_buildings_where_mapped_else_samples(
    chengdu: geoplan.City, cd_homes: gpd.GeoDataFrame
) -> None:
    res = chengdu.residential
    counts, outside = buildings_per_parcel(chengdu)
    assert counts and outside  # Chengdu has both kinds
    src = cd_homes["source"]
    assert int((src == "building").sum()) == sum(counts.values())
    assert int((src == "building_outside_parcel").sum()) == outside
    assert (cd_homes.loc[src == "building_outside_parcel", "area_m2"] == 0).all()
    osmids = res["osmid"].to_numpy()
    for i in range(len(res)):
        h = cd_homes.loc[cd_homes["parcel_osmid"] == osmids[i]]
        kinds = set(h["source"])
        if i in counts:
            assert kinds == {"building"} and len(h) == counts[i]
        else:
            assert kinds == {"land_sample"}


def test_land_sample_weights_sum_to_parcel_area(
    chengdu: geoplan.City, cd_homes: gpd.GeoDataFrame
) -> None:
    res = chengdu.residential
    area_by_osmid = res.geometry.area.groupby(res["osmid"].to_numpy()).sum()
    got = cd_homes.loc[cd_homes["parcel_osmid"] >= 0].groupby("parcel_osmid")["area_m2"].sum()
    assert set(got.index) == set(area_by_osmid.index)  # every parcel has homes
    for osmid, a in area_by_osmid.items():
        assert got[osmid] == pytest.approx(a, rel=SUM_REL)
    # every land sample lies in its parcel, on the 50 m lattice when the parcel holds one
    samples = cd_homes.loc[cd_homes["source"] == "land_sample"]
    geom_by_osmid = dict(zip(res["osmid"], res.geometry, strict=True))
    for osmid, g in samples.groupby("parcel_osmid"):
        poly = geom_by_osmid[osmid]
        assert all(poly.covers(p) for p in g.geometry)
        if len(g) > 1:
            xy = shapely.get_coordinates(g.geometry.values)
            frac = np.mod(xy - 25.0, 50.0)
            assert np.allclose(np.minimum(frac, 50.0 - frac), 0.0, atol=1e-6)
    # a sample per 50 × 50 m cell: count close to area / 2500 over the whole city
    counts, _ = buildings_per_parcel(chengdu)
    no_bld = [i not in counts for i in range(len(res))]
    n_expected = res.loc[no_bld].geometry.area.sum() / 2500.0
    assert 0.8 < len(samples) / n_expected < 1.2


def population_points() -> gpd.GeoDataFrame:
    df = pd.read_csv(POP_CSV)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)


def test_homes_from_population(sao_paulo: geoplan.City) -> None:
    raw = pd.read_csv(POP_CSV)
    homes = homes_from_population(population_points(), crs=sao_paulo.crs)
    assert len(homes) == len(raw)
    assert homes["residents"].sum() == pytest.approx(float(raw["population"].sum()), rel=SUM_REL)
    # each home is its cell centre, projected here with pyproj directly
    fwd = pyproj.Transformer.from_crs(4326, sao_paulo.crs, always_xy=True)
    x, y = fwd.transform(raw["lon"].to_numpy(), raw["lat"].to_numpy())
    xy = shapely.get_coordinates(homes.geometry.values)
    assert np.max(np.hypot(xy[:, 0] - x, xy[:, 1] - y)) <= OFFSET_ABS_M


def test_coverage_by_residents_is_reported(sao_paulo: geoplan.City) -> None:
    homes = homes_from_population(population_points(), crs=sao_paulo.crs)
    net = sao_paulo.network
    att = attach_points(net, homes.geometry.values)
    out = evaluate("bus_stop_coverage", Inputs(sao_paulo, homes))
    src = facility_sources(net, sao_paulo.bus_stops.geometry.values)
    h_rows, _ = attachment_rows(att)
    _, s_rows = attachment_rows(src)
    d = reference_distances(edges_of(net), h_rows, s_rows, cutoff_m=500.0)
    pop = homes["residents"].to_numpy(dtype=float)
    s = out.summary
    for r in (300.0, 500.0):
        row = s.loc[
            (s["measure"] == f"bus_cov_{r:g}")
            & (s["method"] == "network")
            & (s["basis"] == "residents")
        ]
        assert len(row) == 1
        ref = pop[d <= r].sum() / pop.sum()
        assert 0 < ref < 1
        assert float(row["value"].iloc[0]) == pytest.approx(ref, abs=SHARE_ABS)
        # by residents differs from by cells: the weighting is real
        assert ref != pytest.approx((d <= r).mean(), abs=1e-3)


def test_no_residents_row_without_population(
    chengdu_clip: geoplan.City,
) -> None:
    c = chengdu_clip
    homes = homes_from_city(c)
    out = evaluate("bus_stop_coverage", Inputs(c, homes))
    assert "residents" not in set(out.summary["basis"])


def test_buffer_coverage_by_homes_and_residents(sao_paulo: geoplan.City) -> None:
    """Buffer rows by homes and residents: homes inside the union of 500 m stop buffers
    (quad_segs as everywhere), counted and weighted by residents with plain sums."""
    from tolerances import QUAD_SEGS, SHARE_ABS

    homes = homes_from_population(population_points(), crs=sao_paulo.crs)
    out = evaluate("bus_stop_coverage", Inputs(sao_paulo, homes)).summary
    cover = shapely.union_all(
        shapely.buffer(sao_paulo.bus_stops.geometry.values, 500.0, quad_segs=QUAD_SEGS)
    )
    inside = np.array([cover.intersects(p) for p in homes.geometry.values])
    pop = homes["residents"].to_numpy(dtype=float)
    for basis, ref in (("homes", inside.mean()), ("residents", pop[inside].sum() / pop.sum())):
        row = out.loc[
            (out["measure"] == "bus_cov_500")
            & (out["method"] == "buffer")
            & (out["basis"] == basis)
        ]
        assert len(row) == 1
        assert 0 < ref < 1
        assert float(row["value"].iloc[0]) == pytest.approx(ref, abs=SHARE_ABS)


def test_population_outside_the_study_area_is_excluded(sao_paulo: geoplan.City) -> None:
    """Points outside are dropped; 400 m cells cut by the boundary keep the residents of their
    area inside (hand computation with shapely on the same cells)."""
    pts = population_points()
    metric = pts.to_crs(sao_paulo.crs)
    c = sao_paulo.boundary_polygon.centroid
    bnd = shapely.box(c.x - 1500, c.y - 1500, c.x + 1500, c.y + 1500)
    homes = homes_from_population(pts, crs=sao_paulo.crs, boundary=bnd)
    pop = pts["population"].to_numpy(dtype=float)
    inside = np.array([bnd.intersects(p) for p in metric.geometry.values])
    assert 0 < inside.sum() < len(pts)
    assert homes.attrs["population"]["dropped"] == int((~inside).sum())
    assert homes["residents"].sum() == pytest.approx(pop[inside].sum(), rel=SUM_REL)
    cells = metric.set_geometry(metric.geometry.buffer(200, cap_style="square"))
    ch = homes_from_population(cells, crs=sao_paulo.crs, boundary=bnd)
    ref = sum(
        r * g.intersection(bnd).area / g.area
        for r, g in zip(pop, cells.geometry.values, strict=True)
    )
    assert ch["residents"].sum() == pytest.approx(ref, rel=SUM_REL)
    assert ch.attrs["population"]["cut"] > 0
    assert ch.attrs["population"]["input"] == pytest.approx(pop.sum(), rel=SUM_REL)
    assert all(bnd.buffer(1e-6).contains(p) for p in ch.geometry.values)


@pytest.mark.parametrize("spacing", [25.0, 13.7])
def test_parcel_samples_are_those_of_a_loop_over_parcels(
    chengdu: geoplan.City, spacing: float
) -> None:
    from geoplan.city.homes import _grid_points

    polys = np.asarray(chengdu.residential.geometry.values, dtype=object)
    polys = np.concatenate([polys, [shapely.box(0, 0, 1, 1)]])  # one too small for a centre
    want_pts, want_own = [], []
    for i, poly in enumerate(polys):  # independent: one parcel at a time, as np.arange lays it
        minx, miny, maxx, maxy = poly.bounds
        xs = np.arange(np.floor(minx / spacing) * spacing + spacing / 2, maxx, spacing)
        ys = np.arange(np.floor(miny / spacing) * spacing + spacing / 2, maxy, spacing)
        gx, gy = np.meshgrid(xs, ys)
        cand = shapely.points(gx.ravel(), gy.ravel())
        cand = cand[shapely.contains(poly, cand)]
        if cand.size == 0:
            cand = np.array([shapely.point_on_surface(poly)], dtype=object)
        want_pts.append(shapely.get_coordinates(cand))
        want_own.append(np.full(cand.size, i))
    pts, own = _grid_points(polys, spacing)
    np.testing.assert_array_equal(own, np.concatenate(want_own))
    np.testing.assert_array_equal(shapely.get_coordinates(pts), np.concatenate(want_pts))
    assert own[-1] == len(polys) - 1 and np.sum(own == len(polys) - 1) == 1
