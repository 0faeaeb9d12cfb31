"""Census polygons spread dasymetrically over homes (issue 10): totals kept, hand-checkable rule."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity
from conftest import DATA

import geoplan
from geoplan.city.homes import homes_from_city
from geoplan.city.population import distribute_census


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
    """Land first (parcels with buildings : without), then floor area within the built part and
    land within the rest; outside every polygon: 0."""
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
    # unit 0: built parcels hold 20 of 70 m² of land → 400 × 2/7 by floor 100 : 300; the land
    # sample the other 5/7 (before: 100, 300, 0 — the sample got nobody)
    assert r[:3] == pytest.approx([400 * 2 / 7 / 4, 400 * 2 / 7 * 3 / 4, 400 * 5 / 7])
    # unit 1 has no building: 1000 by land 150 : 20
    assert r[3:5] == pytest.approx([1000 * 150 / 170, 1000 * 20 / 170])
    assert r[5] == 0.0  # outside every unit
    assert out.attrs["population"]["units_without_homes"] == 1
    assert out.attrs["population"]["assigned"] == pytest.approx(1400.0)
    assert out.attrs["population"]["input"] == pytest.approx(1407.0)


def _one_unit(homes: gpd.GeoDataFrame, pop: float) -> gpd.GeoDataFrame:
    hull = shapely.union_all([p.buffer(0.5) for p in homes.geometry.values])
    return gpd.GeoDataFrame({"pop": [pop]}, geometry=[hull], crs=homes.crs)


def test_one_house_beside_unbuilt_residential_land_gets_its_land_share(
    chengdu_clip: geoplan.City,
) -> None:
    """The 街道 of the issue: one mapped house (407 m² floor, on a 400 m² parcel) and 99 land
    samples of 1000 m² of unbuilt residential land; 46,365 residents. By hand: the house gets
    46,365 × 400 / 99,400, each sample 46,365 × 1000 / 99,400 (before: the house got all)."""
    homes = homes_from_city(chengdu_clip).iloc[:100].copy()
    homes["floor_area_m2"] = [407.0] + [np.nan] * 99
    homes["area_m2"] = [400.0] + [1000.0] * 99
    out = distribute_census(homes, _one_unit(homes, 46_365), column="pop")
    r = out["residents"].to_numpy()
    assert r[0] == pytest.approx(46_365 * 400 / 99_400)
    assert r[1:] == pytest.approx(np.full(99, 46_365 * 1000 / 99_400))
    assert out.attrs["population"]["top1pct_share"] == pytest.approx(r.max() / r.sum())


def test_no_home_gets_more_than_the_bounded_share_of_a_unit(chengdu_clip: geoplan.City) -> None:
    """30 buildings on equal land, one with 100× the floor area of the others: uncapped it
    would hold 10,000 / 12,900 of the residents; it gets MAX_HOME_SHARE and the 29 others share
    the rest equally (their weights are equal)."""
    from geoplan.city.population import MAX_HOME_SHARE

    homes = homes_from_city(chengdu_clip).iloc[:30].copy()
    homes["floor_area_m2"] = [10_000.0] + [100.0] * 29
    homes["area_m2"] = 10.0
    out = distribute_census(homes, _one_unit(homes, 3000), column="pop")
    r = out["residents"].to_numpy()
    assert r[0] == pytest.approx(3000 * MAX_HOME_SHARE)
    assert r[1:] == pytest.approx(np.full(29, 3000 * (1 - MAX_HOME_SHARE) / 29))
    assert r.sum() == pytest.approx(3000)


def test_population_raster_spread_over_homes(sao_paulo: geoplan.City, tmp_path: Path) -> None:
    """São Paulo's hex populations rasterised to 250 m pixels (UTM): totals kept over the study
    area, and the buffer share by residents within the bound the pixel size implies."""
    import pandas as pd
    import rasterio
    from rasterio.transform import from_origin

    df = pd.read_csv(DATA / "sao_paulo_hexgrid_population.csv")
    pts = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
    m = pts.to_crs(sao_paulo.crs)
    px = 250.0
    x0, y0, x1, y1 = sao_paulo.boundary_polygon.bounds
    x0, y1 = np.floor(x0 / px) * px, np.ceil(y1 / px) * px
    w, h = int(np.ceil((x1 - x0) / px)), int(np.ceil((y1 - y0) / px))
    grid = np.zeros((h, w))
    c = ((m.geometry.x - x0) // px).astype(int).to_numpy()
    r = ((y1 - m.geometry.y) // px).astype(int).to_numpy()
    ok = (c >= 0) & (c < w) & (r >= 0) & (r < h)
    np.add.at(grid, (r[ok], c[ok]), df["population"].to_numpy(float)[ok])
    tif = tmp_path / "pop.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype="float64",
        crs=sao_paulo.crs,
        transform=from_origin(x0, y1, px, px),
    ) as ds:
        ds.write(grid[None])
    res = geoplan.check_city(sao_paulo, sheet="national", population_raster=tif)
    homes = res.homes
    inside = np.array([sao_paulo.boundary_polygon.intersects(p) for p in m.geometry.values])
    assert homes["residents"].sum() == pytest.approx(
        df["population"].to_numpy(float)[inside & ok].sum(), rel=1e-6
    )
    # buffer share by residents: point-based vs pixel-based differ only for residents whose
    # straight-line distance to a stop is within a pixel diagonal of 500 m
    stops = shapely.union_all(sao_paulo.bus_stops.geometry.values)
    d = np.array([stops.distance(p) for p in m.geometry.values])
    pop = df["population"].to_numpy(float)
    point_share = pop[d <= 500].sum() / pop.sum()
    bound = pop[np.abs(d - 500) <= px * np.sqrt(2)].sum() / pop.sum()
    mm = res.measures
    row = mm.loc[
        (mm["measure"] == "bus_cov_500") & (mm["method"] == "buffer") & (mm["basis"] == "residents")
    ]
    assert abs(float(row["value"].iloc[0]) - point_share) <= bound + 1e-9
    assert any("population raster:" in n for n in res.notes)


def test_cli_population_kind_census(chengdu: geoplan.City, tmp_path: Path) -> None:
    import pandas as pd
    from typer.testing import CliRunner

    from geoplan.cli import app

    jd = tmp_path / "jiedao.geojson"
    _halves(chengdu).to_file(jd)
    b = tmp_path / "b.geojson"
    gpd.GeoDataFrame(geometry=[chengdu.boundary_polygon], crs=chengdu.crs).to_crs(4326).to_file(b)
    out = tmp_path / "o"
    res = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(b),
            "--population",
            str(jd),
            "--population-column",
            "常住人口",
            "--population-kind",
            "census",
            "--out",
            str(out),
        ],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "census: 120,000 residents in 2 units" in res.output
    homes = gpd.read_file(next(out.glob("*_homes.gpkg")))
    assert int((homes["residents"] > 0).sum()) >= 100
    assert homes["residents"].sum() == pytest.approx(120_000, rel=1e-6)
    cells = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(b),
            "--population",
            str(jd),
            "--population-column",
            "常住人口",
            "--population-kind",
            "cells",
            "--out",
            str(tmp_path / "c"),
            "-q",
        ],
    )
    assert cells.exit_code == 0, cells.output
    h2 = gpd.read_file(next((tmp_path / "c").glob("*_homes.gpkg")))
    assert len(h2) == 2  # each polygon is one home when told so
    assert isinstance(pd.DataFrame(h2), pd.DataFrame)


def test_a_district_total_over_its_jiedao_is_left_out(chengdu: geoplan.City) -> None:
    """The issue's case: 街道 polygons and their 区 total in one file assigned 330,989 residents
    where the 街道 hold 218,000. The polygon holding the others is the coarser level: the 街道
    (here 80,000 + 40,000, a sum by hand) are used."""
    halves = _halves(chengdu)
    whole = gpd.GeoDataFrame(
        {"常住人口": [330_989], "name": ["某区"]},
        geometry=[chengdu.boundary.to_crs(4326).geometry.iloc[0]],
        crs=4326,
    )
    both = gpd.GeoDataFrame(pd.concat([halves, whole], ignore_index=True), crs=4326)
    res = geoplan.check_city(
        chengdu, sheet="national", population=both, population_column="常住人口"
    )
    assert res.homes["residents"].sum() == pytest.approx(120_000, rel=1e-6)
    assert any("1 polygons holding others" in n for n in res.notes)


def test_overlapping_census_polygons_are_refused(chengdu: geoplan.City) -> None:
    halves = _halves(chengdu).to_crs(chengdu.crs)
    a, b = halves.geometry.values
    shifted = shapely.affinity.translate(b, xoff=-(b.bounds[2] - b.bounds[0]) / 2)
    bad = halves.set_geometry([a, shifted]).to_crs(4326)
    with pytest.raises(
        geoplan.LayerError, match=r"polygons 1 and 2 overlap by \d+% of the smaller"
    ):
        geoplan.check_city(chengdu, sheet="national", population=bad, population_column="常住人口")


@pytest.mark.parametrize(
    ("dtype", "bad", "match"),
    [
        ("uint16", 65535, r"pixels hold 65535, the largest uint16 value"),
        ("float32", float(np.finfo(np.float32).max), r"the largest float32 value"),
        ("float64", 2.0e6, r"residents per km² \(no city exceeds 300,000\)"),
    ],
)
def test_undeclared_raster_nodata_is_refused(
    chengdu: geoplan.City, tmp_path: Path, dtype: str, bad: float, match: str
) -> None:
    """A population raster whose nodata is not declared assigned 2.5e7 or 1.3e41 residents."""
    import rasterio
    from rasterio.transform import from_origin

    px = 100.0
    x0, y0, x1, y1 = chengdu.boundary_polygon.bounds
    w, h = int((x1 - x0) // px) + 1, int((y1 - y0) // px) + 1
    grid = np.full((h, w), 50, dtype=dtype)
    grid[: h // 3, : w // 3] = bad  # a no-data corner, undeclared
    tif = tmp_path / "pop.tif"
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype=dtype,
        crs=chengdu.crs,
        transform=from_origin(x0, y1, px, px),
    ) as ds:
        ds.write(grid[None])
    with pytest.raises(geoplan.LayerError, match=match):
        geoplan.check_city(chengdu, sheet="national", population_raster=tif)
