"""绿化覆盖率 from a raster, against an independent shapely overlay of the same polygons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.features import rasterize
from rasterio.transform import from_origin

import geoplan
from geoplan.indicators.green_cover import green_cover_ratio

RES_M = 5.0
# a 5 m raster of polygons reproduces their area to well under 1 % of the boundary area
RASTER_ABS = 0.002


def _write(path: Path, city: geoplan.City, *, ndvi: bool, crs: str | None = None) -> None:
    b = city.boundary_polygon
    minx, miny, maxx, maxy = b.bounds
    w = int(np.ceil((maxx - minx) / RES_M))
    h = int(np.ceil((maxy - miny) / RES_M))
    tr = from_origin(minx, maxy, RES_M, RES_M)
    shapes = [(g, 1) for g in city.parks.geometry]
    mask = rasterize(shapes, out_shape=(h, w), transform=tr, fill=0, dtype="uint8")
    if ndvi:
        arr = np.where(mask == 1, 0.6, 0.1).astype("float32")
        nodata = -9.0
    else:
        arr = np.where(mask == 1, 10, 50).astype("uint8")  # WorldCover tree / built-up
        nodata = 0
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=h,
        width=w,
        count=1,
        dtype=arr.dtype,
        crs=crs or city.crs,
        transform=tr,
        nodata=nodata,
    ) as ds:
        ds.write(arr, 1)


@pytest.mark.parametrize("ndvi", [False, True])
def test_green_cover_matches_overlay(chengdu: geoplan.City, tmp_path: Path, ndvi: bool) -> None:
    tif = tmp_path / "landcover.tif"
    _write(tif, chengdu, ndvi=ndvi)
    b = chengdu.boundary_polygon
    expected = shapely.union_all(chengdu.parks.geometry.values).intersection(b).area / b.area
    got = green_cover_ratio(str(tif), b, crs=chengdu.crs).summary["value"].iloc[0]
    assert expected > 0.005  # the reference is not trivially zero
    assert got == pytest.approx(expected, abs=RASTER_ABS)
    # the reference would catch a wrong class set
    wrong = green_cover_ratio(str(tif), b, crs=chengdu.crs, classes=(30,), ndvi_min=0.9)
    assert wrong.summary["value"].iloc[0] == pytest.approx(0.0, abs=1e-12)


def test_green_cover_in_scorecard(chengdu: geoplan.City, tmp_path: Path) -> None:
    from geoplan.scoring.check import check_city

    tif = tmp_path / "landcover.tif"
    _write(tif, chengdu, ndvi=False)
    res = check_city(chengdu, sheet="jiyuan-2027", landcover=tif, built_up="study_area")
    row = res.scorecard.loc[res.scorecard["indicator"] == "green_cover_ratio"].iloc[0]
    b = chengdu.boundary_polygon
    expected = shapely.union_all(chengdu.parks.geometry.values).intersection(b).area / b.area
    assert row["measured"] == pytest.approx(expected, abs=RASTER_ABS)
    assert row["status"] == "fail"  # 43.25 % target, OSM parks cover ~2 %


def test_green_cover_bad_raster(chengdu: geoplan.City, tmp_path: Path) -> None:
    bad = tmp_path / "not_a_raster.tif"
    bad.write_text("hello")
    with pytest.raises(geoplan.InputFileError, match=r"not_a_raster\.tif"):
        green_cover_ratio(str(bad), chengdu.boundary_polygon, crs=chengdu.crs)


def test_cli_landcover_end_to_end(chengdu: geoplan.City, tmp_path: Path) -> None:
    """`geoplan check --landcover` reaches the scorecard (it was once parsed and ignored)."""
    import json

    import geopandas as gpd
    from typer.testing import CliRunner

    from geoplan.cli import app

    tif = tmp_path / "landcover.tif"
    _write(tif, chengdu, ndvi=False)
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
            "-t",
            "jiyuan-2027",
            "--landcover",
            str(tif),
            "--built-up",
            "study-area",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(next(out.glob("*_scorecard.json")).read_text(encoding="utf-8"))
    row = next(r for r in doc["scorecard"] if r["indicator"] == "green_cover_ratio")
    bnd = chengdu.boundary_polygon
    expected = shapely.union_all(chengdu.parks.geometry.values).intersection(bnd).area / bnd.area
    assert row["measured"] == pytest.approx(expected, abs=RASTER_ABS)
