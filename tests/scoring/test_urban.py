"""城区 figures of the 城市体检 on Chengdu: 区域开发强度 and the land of dense 地段.

Every expected figure is a hand count (boxes drawn with known sides, raster pixels counted) or a
shapely overlay of the inputs, never read from the output under test.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geoplan
from geoplan.city.density import density_units
from geoplan.names import Status
from geoplan.scoring.targets import load_target_sheet
from geoplan.scoring.urban import urban_rows

SHEET = """
id: urban-test
name_zh: 城区指标
name_en: Urban-level figures
year: 2024
source: {title: test}
targets:
  - id: development_intensity
    label_zh: 区域开发强度
    label_en: Development intensity
    clause: {section: "城区", text: "市辖区建成区面积占市辖区总面积的百分比", verbatim: false}
    indicator: development_intensity
    op: report
    value: 导向指标
    unit: share
  - id: dense_land
    label_zh: 人口密度超过每平方公里1.5万人的城市建设用地规模
    label_en: Dense land
    clause: {section: "城区", text: "人口密度超过1.5万人/km²的地段面积", verbatim: false}
    indicator: dense_land
    op: report
    value: 监测指标
    unit: km2
"""


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> geoplan.TargetSheet:
    path = tmp_path_factory.mktemp("urban") / "urban.yaml"
    path.write_text(SHEET, encoding="utf-8")
    return load_target_sheet(path)


def _centre(city: geoplan.City) -> tuple[float, float]:
    c = city.boundary_polygon.centroid
    return c.x, c.y


def _rows(card: object) -> dict[str, dict]:
    return {r["target_id"]: r for r in card.to_dict("records")}  # type: ignore[attr-defined]


def test_intensity_over_a_named_district_is_the_built_up_share_of_it(
    chengdu: geoplan.City, sheet: geoplan.TargetSheet
) -> None:
    x, y = _centre(chengdu)
    district = shapely.box(x - 2000, y - 2000, x + 2000, y + 2000)  # 16 km²
    built = shapely.box(x - 1000, y - 3000, x + 1000, y + 1000)  # 2 × 4 km, 2 × 3 inside
    areas = gpd.GeoDataFrame({"unit": ["市辖区"]}, geometry=[district], crs=chengdu.crs)
    res = geoplan.check_city(chengdu, sheet=sheet, built_up=built, areas=areas)
    row = _rows(res.scorecard)["development_intensity"]
    assert row["status"] == Status.MEASURED
    assert row["measured"] == pytest.approx(6.0 / 16.0, rel=1e-9)  # by hand: 6 of 16 km²
    assert "6.00 km²" in row["note"] and "16.00 km²" in row["note"]
    assert np.isnan(row["gap"])  # no figure: no gap


def test_intensity_over_a_district_study_area(chengdu: geoplan.City) -> None:
    x, y = _centre(chengdu)
    built = shapely.box(x - 1500, y - 1500, x + 1500, y + 1500)
    t = load_target_sheet("chengshi-tijian").get("development_intensity")
    land = shapely.intersection(built, chengdu.boundary_polygon)
    kw = {"land": land, "built_up_source": "file", "units": None, "areas": None}
    none = urban_rows([t], city=chengdu, density=lambda: (None, ""), **kw)[0]
    assert np.isnan(none["value"]) and "--district" in none["note"]
    city = dataclasses.replace(chengdu, district="四川省成都市测试区")
    row = urban_rows([t], city=city, density=lambda: (None, ""), **kw)[0]
    study = chengdu.boundary_polygon
    expected = shapely.intersection(built, study).area / study.area  # shapely overlay
    assert row["value"] == pytest.approx(expected, rel=1e-12)
    assert "四川省成都市测试区" in row["note"]


def test_intensity_refuses_what_it_cannot_read(chengdu: geoplan.City) -> None:
    t = load_target_sheet("chengshi-tijian").get("development_intensity")
    _, y0, x1, _ = chengdu.boundary_polygon.bounds
    half_out = shapely.box(x1 - 1000, y0 + 1000, x1 + 1000, y0 + 3000)
    areas = gpd.GeoDataFrame({"unit": ["某市市辖区"]}, geometry=[half_out], crs=chengdu.crs)
    kw = {"units": None, "density": lambda: (None, "")}
    outside = urban_rows(
        [t],
        city=chengdu,
        land=shapely.intersection(half_out, chengdu.boundary_polygon),
        built_up_source="file",
        areas=areas,
        **kw,
    )[0]
    assert np.isnan(outside["value"]) and "inside the study area" in outside["note"]
    city = dataclasses.replace(chengdu, district="四川省成都市测试区")
    no_built = urban_rows(
        [t],
        city=city,
        land=chengdu.boundary_polygon,
        built_up_source="study_area",
        areas=None,
        **kw,
    )[0]
    assert np.isnan(no_built["value"]) and "--built-up" in no_built["note"]


def test_dense_land_on_census_polygons(chengdu: geoplan.City, sheet: geoplan.TargetSheet) -> None:
    x, y = _centre(chengdu)
    boxes = [
        shapely.box(x - 1500, y - 500, x - 500, y + 500),  # 1 km², 20,000 people: dense
        shapely.box(x - 500, y - 500, x + 500, y + 500),  # 1 km², 10,000: not
        shapely.box(x + 500, y - 500, x + 1500, y + 500),  # 1 km², 15,001: dense
    ]
    pop = gpd.GeoDataFrame(
        {"population": [20_000, 10_000, 15_001]}, geometry=boxes, crs=chengdu.crs
    ).to_crs(4326)
    built = shapely.box(x - 1000, y - 2000, x + 2000, y + 2000)  # holds half of box 1, all of 3
    res = geoplan.check_city(
        chengdu, sheet=sheet, population=pop, population_kind="census", built_up=built
    )
    row = _rows(res.scorecard)["dense_land"]
    assert row["status"] == Status.MEASURED
    assert row["measured"] == pytest.approx(1.5, rel=1e-6)  # by hand: 0.5 + 1 km²
    assert "2 of 3 population polygons" in row["note"]


def test_dense_land_on_raster_pixels(chengdu: geoplan.City, tmp_path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    x, y = _centre(chengdu)
    values = np.array([[200.0, 100.0, 0.0], [151.0, 149.0, 300.0]], dtype="float32")
    path = tmp_path / "pop.tif"
    with rasterio.open(
        path, "w", driver="GTiff", height=2, width=3, count=1, dtype="float32",
        crs=chengdu.crs, transform=from_origin(x, y, 100.0, 100.0), nodata=-1.0,
    ) as ds:  # fmt: skip
        ds.write(values, 1)
    units, what = density_units(chengdu, population_raster=path)
    assert units is not None and len(units) == 5 and "raster pixels" in what
    t = load_target_sheet("chengshi-tijian").get("dense_land")
    row = urban_rows(
        [t],
        city=chengdu,
        land=chengdu.boundary_polygon,
        built_up_source="study_area",
        units=None,
        areas=None,
        density=lambda: (units, what),
    )[0]
    # by hand: pixels of 0.01 km² with more than 150 people: 200, 151, 300
    assert row["value"] == pytest.approx(0.03, rel=1e-6)


def test_dense_land_is_not_read_from_points_or_spread_counts(chengdu: geoplan.City) -> None:
    x, y = _centre(chengdu)
    pts = gpd.GeoDataFrame({"population": [5000]}, geometry=[shapely.Point(x, y)], crs=chengdu.crs)
    units, why = density_units(chengdu, population=pts)
    assert units is None and "points have no area" in why
    units, why = density_units(chengdu)
    assert units is None and "--population" in why


def test_cli_reads_the_district_and_census_polygons(chengdu_pbf: Path, tmp_path: Path) -> None:
    """``geoplan check`` with --areas (市辖区), --built-up and census polygons, end to end."""
    import pandas as pd
    from typer.testing import CliRunner

    from geoplan.cli import app

    utm = 32648  # boxes drawn in metres, written in WGS84 as a planner's files are
    centre = gpd.GeoSeries([shapely.Point(104.0858, 30.6903)], crs=4326).to_crs(utm).iloc[0]
    x, y = centre.x, centre.y
    district = shapely.box(x - 2000, y - 2000, x + 2000, y + 2000)
    built = shapely.box(x - 2000, y - 2000, x + 2000, y)  # the southern half: 8 of 16 km²
    fwd = shapely.box(x - 1000, y - 1000, x, y + 1000)  # 2 km², 40,000 people: half built up
    calm = shapely.box(x, y - 1000, x + 1000, y + 1000)  # 2 km², 20,000 people: 10,000 / km²

    def write(name: str, frame: dict, geoms: list) -> Path:
        path = tmp_path / f"{name}.geojson"
        gpd.GeoDataFrame(frame, geometry=geoms, crs=utm).to_crs(4326).to_file(path)
        return path

    args = [
        "check", "--osm", str(chengdu_pbf), "-t", "chengshi-tijian", "--out", str(tmp_path / "o"),
        "--areas", str(write("areas", {"name": ["市辖区"]}, [district])),
        "--built-up", str(write("built", {"name": ["建成区"]}, [built])),
        "--population", str(write("pop", {"population": [40_000, 20_000]}, [fwd, calm])),
        "--population-kind", "census",
    ]  # fmt: skip
    res = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "2 measured, no figure" in res.stdout
    card = pd.read_csv(next((tmp_path / "o").glob("*_scorecard.csv")))
    rows = card.set_index(card.columns[0])  # 目标编号: the target ids
    status, measured = "结果 status", "现状值 measured"
    assert rows.loc["development_intensity", status] == "measured"
    # by hand: 8 of 16 km² (the WGS84 round trip moves corners by micrometres)
    assert rows.loc["development_intensity", measured] == pytest.approx(0.5, rel=1e-6)
    assert rows.loc["dense_land", measured] == pytest.approx(1.0, rel=1e-6)  # half of fwd


def test_dense_land_reads_the_finest_of_nested_census_levels(chengdu: geoplan.City) -> None:
    """A 区 total given with its 街道 is a coarser level: only the 街道 densities count."""
    x, y = _centre(chengdu)
    jiedao = [
        shapely.box(x - 1000, y, x, y + 1000),  # 1 km², 30,000: dense
        shapely.box(x, y, x + 1000, y + 1000),  # 1 km², 5,000: not
    ]
    qu = shapely.box(x - 1000, y, x + 1000, y + 1000)  # their total: 17,500 per km², dense
    pop = gpd.GeoDataFrame(
        {"population": [30_000, 5_000, 35_000]}, geometry=[*jiedao, qu], crs=chengdu.crs
    )
    units, what = density_units(chengdu, population=pop)
    assert units is not None and len(units) == 2 and "1 containing others left out" in what
    t = load_target_sheet("chengshi-tijian").get("dense_land")
    kw = {"land": chengdu.boundary_polygon, "built_up_source": "file", "units": None, "areas": None}
    row = urban_rows([t], city=chengdu, density=lambda: (units, what), **kw)[0]
    assert row["value"] == pytest.approx(1.0, rel=1e-9)  # by hand: the one dense 街道


def test_a_derived_built_up_area_needs_the_whole_district_in_the_extract(
    chengdu: geoplan.City,
) -> None:
    """An extract holding 60 % of a district: the 建成区 derived from it stops at its edge."""
    part = dataclasses.replace(
        chengdu,
        district="四川省成都市测试区",
        report=dataclasses.replace(chengdu.report, data_share=0.6),
    )
    sheet = load_target_sheet("chengshi-tijian")
    x, y = _centre(chengdu)
    built = shapely.box(x - 1000, y - 1000, x + 1000, y + 1000)
    units = gpd.GeoDataFrame(
        {"residents": [50_000], "area_m2": [1e6], "density_per_km2": [50_000.0]},
        geometry=[built],
        crs=chengdu.crs,
    )
    kw = {"units": None, "areas": None, "density": lambda: (units, "1 population polygons")}
    rows = urban_rows(
        [sheet.get("development_intensity"), sheet.get("dense_land")],
        city=part,
        land=built,  # inside the study area
        built_up_source="osm",
        **kw,
    )
    assert np.isnan(rows[0]["value"]) and "covers 60% of the study area" in rows[0]["note"]
    assert rows[1]["value"] == pytest.approx(4.0) and "a lower bound" in rows[1]["note"]
    # the planner's own 建成区 does not depend on the extract: measured
    given = urban_rows(
        [sheet.get("development_intensity")],
        city=part,
        land=built,  # inside the study area
        built_up_source="file",
        **kw,
    )[0]
    study = chengdu.boundary_polygon
    assert given["value"] == pytest.approx(built.area / study.area, rel=1e-12)
