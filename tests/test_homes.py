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
from geoplan.homes import homes_from_city, homes_from_population
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
