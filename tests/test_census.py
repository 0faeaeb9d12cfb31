"""Census polygons spread dasymetrically over homes (issue 10): totals kept, hand-checkable rule."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geoplan
from geoplan.census import distribute_census
from geoplan.homes import homes_from_city


def _halves(city: geoplan.City) -> gpd.GeoDataFrame:
    """Two 街道: the west and east halves of the study area, 80,000 and 40,000 residents."""
    bnd = city.boundary_polygon
    x0, y0, x1, y1 = bnd.bounds
    xm = (x0 + x1) / 2
    halves = [shapely.box(x0, y0, xm, y1) & bnd, shapely.box(xm, y0, x1, y1) & bnd]
    return gpd.GeoDataFrame(
        {"常住人口": [80_000, 40_000], "name": ["西街道", "东街道"]}, geometry=halves, crs=city.crs
    ).to_crs(4326)


def test_census_counts_spread_over_many_homes_totals_kept(chengdu: geoplan.City) -> None:
    res = geoplan.check_city(
        chengdu, sheet="national", population=_halves(chengdu), population_column="常住人口"
    )
    h = res.homes
    assert int((h["residents"] > 0).sum()) >= 100  # not one home per polygon
    assert h["residents"].sum() == pytest.approx(120_000, rel=1e-6)  # reprojected edges
    # each half's homes share its own count (hand check: split the homes by x)
    xm = sum(chengdu.boundary_polygon.bounds[::2]) / 2
    west = h.geometry.x.to_numpy() < xm
    assert h.loc[west, "residents"].sum() == pytest.approx(80_000, rel=1e-6)
    assert any("census: 120,000 residents in 2 units" in n for n in res.notes)
    m = res.measures
    assert ((m["basis"] == "residents") & (m["method"] == "buffer")).any()


def test_dasymetric_rule_by_hand(chengdu_clip: geoplan.City) -> None:
    """A polygon with mapped buildings: by floor area; without: by land area; outside: 0."""
    homes = homes_from_city(chengdu_clip).iloc[:6].copy()
    homes["floor_area_m2"] = [100.0, 300.0, np.nan, np.nan, np.nan, np.nan]
    homes["area_m2"] = [10.0, 10.0, 50.0, 150.0, 20.0, 20.0]
    pts = homes.geometry.values
    tiny = [p.buffer(0.5) for p in pts]
    units = gpd.GeoDataFrame(
        {"pop": [400, 1000, 7]},
        geometry=[
            shapely.union_all(tiny[:3]),
            shapely.union_all(tiny[3:5]),
            shapely.box(0, 0, 1, 1),
        ],
        crs=chengdu_clip.crs,
    )
    out = distribute_census(homes, units, column="pop")
    r = out["residents"].to_numpy()
    # unit 0 has buildings: 400 by floor 100 : 300 (the land sample without floor area gets 0)
    assert r[:3] == pytest.approx([100.0, 300.0, 0.0])
    # unit 1 has none: 1000 by land 150 : 20
    assert r[3:5] == pytest.approx([1000 * 150 / 170, 1000 * 20 / 170])
    assert r[5] == 0.0  # outside every unit
    assert out.attrs["population"]["units_without_homes"] == 1
    assert out.attrs["population"]["assigned"] == pytest.approx(1400.0)
    assert out.attrs["population"]["input"] == pytest.approx(1407.0)
