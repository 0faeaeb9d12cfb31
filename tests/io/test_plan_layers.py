"""read_plan_layer: formats, CRSs (incl. CGCS2000 Gauss-Krüger, GCJ-02, BD-09), repairs, errors.

Expected positions come from pyproj (EPSG transforms) and from the published GCJ-02 pairs of
googollee/eviltransform (go/transform_test.go); the GCJ-02 / BD-09 forward formulas themselves are
checked against published pairs in tests/io/test_coords.py.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import LineString, Point, Polygon, box

from geoplan._errors import CRSError, InputFileError, LayerError
from geoplan.io import coords
from geoplan.io.plan_layers import LayerWarning, read_plan_layer, write_layers_gpkg

GEOD = Geod(ellps="WGS84")
TOL_M = 1.0  # every position test: within one metre of the expected WGS84 point

# WGS84 (lon, lat) in Zhengzhou: Erqi Tower, Zhengdong CBD, Zhengzhou University, Huiji
ZHENGZHOU = np.array(
    [(113.6658, 34.7534), (113.7303, 34.7702), (113.5366, 34.8197), (113.6255, 34.8542)]
)
# googollee/eviltransform go/transform_test.go, as (wgs lon, wgs lat, gcj lon, gcj lat)
PUBLISHED_GCJ = np.array(
    [
        (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),  # shanghai
        (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),  # shenzhen
        (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),  # beijing
    ]
)


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def project(lonlat: np.ndarray, epsg: int) -> np.ndarray:
    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def max_error_m(gdf: gpd.GeoDataFrame, expected_lonlat: np.ndarray) -> float:
    """Largest geodesic distance (m) between each feature's vertices and the expected ones."""
    got = shapely.get_coordinates(gdf.geometry.to_numpy())
    assert got.shape == expected_lonlat.shape
    d = GEOD.inv(got[:, 0], got[:, 1], expected_lonlat[:, 0], expected_lonlat[:, 1])[2]
    return float(np.max(d))


def points_gdf(xy: np.ndarray, epsg: int | None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(xy))], "capacity": np.arange(len(xy)) * 10},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=epsg,
    )


def write_csv(path: Path, columns: dict[str, Iterable[object]], encoding: str = "utf-8") -> Path:
    pd.DataFrame(columns).to_csv(path, index=False, encoding=encoding)
    return path


def assert_one_line(exc: pytest.ExceptionInfo[Exception], path: Path, layer: str | None = None):
    msg = str(exc.value)
    assert "\n" not in msg
    assert str(path) in msg
    if layer is not None:
        assert f"'{layer}'" in msg


def fingerprint(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


# ---------------------------------------------------------------------------------------------
# CRSs and coordinate systems
# ---------------------------------------------------------------------------------------------


def test_gauss_kruger_gpkg_lands_on_wgs84_points(tmp_path: Path):
    path = tmp_path / "plan.gpkg"
    points_gdf(project(ZHENGZHOU, 4547), 4547).to_file(path, layer="schools")
    got = read_plan_layer(path, kind="schools", geometry_types=["Point"])
    assert got.gdf.crs.to_epsg() == 4326
    assert got.layer == "schools"
    assert got.report["crs_in"] == "EPSG:4547"
    assert got.report["n_features"] == 4
    assert list(got.gdf["name"]) == ["p0", "p1", "p2", "p3"]
    assert max_error_m(got.gdf, ZHENGZHOU) < TOL_M


def test_gauss_kruger_shapefile_and_zone_prefix_crs(tmp_path: Path):
    shp = tmp_path / "stops.shp"
    points_gdf(project(ZHENGZHOU, 4526), 4526).to_file(shp)  # zone 38 with prefix
    got = read_plan_layer(shp)
    assert got.report["crs_in"] == "EPSG:4526"
    assert max_error_m(got.gdf, ZHENGZHOU) < TOL_M


def test_cgcs2000_geographic_csv(tmp_path: Path):
    lonlat = project(ZHENGZHOU, 4490)
    path = write_csv(
        tmp_path / "parks.csv", {"名称": list("abcd"), "经度": lonlat[:, 0], "纬度": lonlat[:, 1]}
    )
    got = read_plan_layer(path, crs="EPSG:4490", required_columns=["名称"])
    assert got.report["crs_in"] == "EPSG:4490"
    assert max_error_m(got.gdf, ZHENGZHOU) < TOL_M


def test_projected_csv_with_crs_argument_and_upper_case_xy(tmp_path: Path):
    xy = project(ZHENGZHOU, 4547)
    path = write_csv(tmp_path / "gk.csv", {"X": xy[:, 0], "Y": xy[:, 1]})
    got = read_plan_layer(path, crs=4547)
    assert max_error_m(got.gdf, ZHENGZHOU) < TOL_M


def test_gbk_csv_with_lng_lat_is_assumed_wgs84(tmp_path: Path):
    path = write_csv(
        tmp_path / "excel.csv",
        {"名称": list("abcd"), "lng": ZHENGZHOU[:, 0], "LAT": ZHENGZHOU[:, 1]},
        encoding="gbk",
    )
    got = read_plan_layer(path)
    assert got.report["crs_assumed"] is True
    assert list(got.gdf["名称"]) == list("abcd")
    assert max_error_m(got.gdf, ZHENGZHOU) < TOL_M


def test_gcj02_csv_lands_on_published_wgs84(tmp_path: Path):
    path = write_csv(
        tmp_path / "amap.csv", {"longitude": PUBLISHED_GCJ[:, 2], "latitude": PUBLISHED_GCJ[:, 3]}
    )
    got = read_plan_layer(path, coord_system="gcj02")
    assert got.report["coord_system"] == "gcj02"
    assert max_error_m(got.gdf, PUBLISHED_GCJ[:, :2]) < TOL_M


def test_bd09_geojson_points_and_polygon_vertices(tmp_path: Path):
    # Zhengzhou points and a block polygon, shifted to BD-09 by the published forward formulas.
    ring = np.array([(113.66, 34.75), (113.67, 34.75), (113.67, 34.76), (113.66, 34.76)])
    bd_pts = np.column_stack(coords.wgs84_to_bd09(ZHENGZHOU[:, 0], ZHENGZHOU[:, 1]))
    bd_ring = np.column_stack(coords.wgs84_to_bd09(ring[:, 0], ring[:, 1]))
    gdf = gpd.GeoDataFrame(
        {"id": range(5)},
        geometry=[*(Point(p) for p in bd_pts), Polygon(bd_ring)],
        crs=4326,
    )
    path = tmp_path / "baidu.geojson"
    gdf.to_file(path, driver="GeoJSON")
    got = read_plan_layer(path, coord_system="bd09")
    expected = np.vstack([ZHENGZHOU, ring, ring[:1]])  # closed ring repeats its first vertex
    assert max_error_m(got.gdf, expected) < TOL_M


def test_geojson_without_crs_member_accepts_crs_argument(tmp_path: Path):
    xy = project(ZHENGZHOU, 4547)
    features = [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [x, y]}}
        for x, y in xy
    ]
    path = tmp_path / "old_qgis.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    got = read_plan_layer(path, crs="EPSG:4547")
    assert got.report["crs_in"] == "EPSG:4547"
    assert max_error_m(got.gdf, ZHENGZHOU) < TOL_M


# ---------------------------------------------------------------------------------------------
# repairs, empties, study area, inputs untouched
# ---------------------------------------------------------------------------------------------


def test_bow_tie_is_repaired_and_counted(tmp_path: Path):
    x0, y0 = 113.66, 34.75
    bow_tie = Polygon([(x0, y0), (x0 + 0.01, y0 + 0.01), (x0 + 0.01, y0), (x0, y0 + 0.01)])
    fine = box(x0 + 0.02, y0, x0 + 0.03, y0 + 0.01)
    path = tmp_path / "parks.gpkg"
    gpd.GeoDataFrame({"name": ["bow", "ok"]}, geometry=[bow_tie, fine], crs=4326).to_file(path)
    got = read_plan_layer(path, geometry_types=["Polygon"])
    assert got.report["n_repaired"] == 1
    assert got.gdf.geometry.is_valid.all()
    # Brute force: the bow-tie is two triangles meeting at the centre, each a quarter of the square.
    centre = (x0 + 0.005, y0 + 0.005)
    left = Polygon([(x0, y0), centre, (x0, y0 + 0.01)])
    right = Polygon([(x0 + 0.01, y0 + 0.01), centre, (x0 + 0.01, y0)])
    repaired = got.gdf.geometry.iloc[0]
    assert repaired.geom_type == "MultiPolygon"
    assert repaired.area == pytest.approx(left.area + right.area, rel=1e-9)
    assert repaired.symmetric_difference(left.union(right)).area < 1e-12


def test_empty_geometries_dropped_and_counted(tmp_path: Path):
    path = write_csv(
        tmp_path / "stops.csv", {"lon": [113.66, None, 113.70], "lat": [34.75, 34.76, 34.77]}
    )
    got = read_plan_layer(path)
    assert got.report["n_empty_dropped"] == 1
    assert got.report["n_features"] == 2


def test_features_outside_study_area_warn_and_are_kept(tmp_path: Path):
    kaifeng = np.array([(114.3074, 34.7973)])
    path = tmp_path / "schools.gpkg"
    points_gdf(np.vstack([ZHENGZHOU, kaifeng]), 4326).to_file(path)
    study_area = box(113.4, 34.6, 113.9, 34.95)
    with pytest.warns(LayerWarning, match=r"1 of 5 features do not intersect the study area"):
        got = read_plan_layer(path, study_area=study_area, kind="schools")
    assert got.report["n_outside"] == 1
    assert got.report["outside_index"] == [4]
    assert len(got.gdf) == 5


def test_inputs_are_not_modified(tmp_path: Path):
    points_gdf(project(ZHENGZHOU, 4547), 4547).to_file(tmp_path / "a.gpkg", layer="a")
    points_gdf(project(ZHENGZHOU, 4547), 4547).to_file(tmp_path / "b.shp")
    write_csv(tmp_path / "c.csv", {"lon": ZHENGZHOU[:, 0], "lat": ZHENGZHOU[:, 1]})
    old = 1_600_000_000_000_000_000
    for p in tmp_path.iterdir():  # old mtimes make any rewrite visible
        os.utime(p, ns=(old, old))
    before = fingerprint(tmp_path)
    for name in ("a.gpkg", "b.shp", "c.csv"):
        got = read_plan_layer(tmp_path / name)
        got.gdf.loc[got.gdf.index[0], "geometry"] = None  # editing the result must not leak back
    assert fingerprint(tmp_path) == before


# ---------------------------------------------------------------------------------------------
# errors: type, one line, names the file (and layer)
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path):
    path = tmp_path / "nowhere.gpkg"
    with pytest.raises(InputFileError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path)


def test_unknown_extension_lists_supported(tmp_path: Path):
    path = tmp_path / "plan.kml"
    path.write_text("<kml/>")
    with pytest.raises(InputFileError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path)
    for ext in (".gpkg", ".shp", ".geojson", ".csv"):
        assert ext in str(exc.value)


def test_corrupt_geopackage(tmp_path: Path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a geopackage")
    with pytest.raises(InputFileError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path)


def test_several_layers_need_layer_argument(tmp_path: Path):
    path = tmp_path / "plan.gpkg"
    write_layers_gpkg(
        path, {"parks": points_gdf(ZHENGZHOU, 4326), "schools": points_gdf(ZHENGZHOU, 4326)}
    )
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path)
    assert "parks" in str(exc.value) and "schools" in str(exc.value)
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path, layer="roads")
    assert_one_line(exc, path, "roads")
    assert read_plan_layer(path, layer="schools").layer == "schools"


def test_empty_layer(tmp_path: Path):
    path = tmp_path / "empty.csv"
    path.write_text("lon,lat\n")
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path, "empty")


def test_missing_required_columns_lists_missing_and_available(tmp_path: Path):
    path = tmp_path / "schools.gpkg"
    points_gdf(ZHENGZHOU, 4326).to_file(path, layer="schools")
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path, required_columns=["name", "pupils", "grade"])
    assert_one_line(exc, path, "schools")
    msg = str(exc.value)
    assert "'pupils', 'grade'" in msg and "available: name, capacity" in msg


def test_csv_without_coordinate_columns_lists_accepted_names(tmp_path: Path):
    path = write_csv(tmp_path / "stops.csv", {"名称": ["a"], "east": [1.0], "north": [2.0]})
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path, "stops")
    for name in ("lon", "lng", "longitude", "经度", "lat", "latitude", "纬度", "x", "y"):
        assert name in str(exc.value)


def test_non_numeric_csv_coordinates(tmp_path: Path):
    path = write_csv(tmp_path / "stops.csv", {"lon": ["113.6", "113°40'"], "lat": [34.7, 34.8]})
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path, "stops")
    assert "lines 3" in str(exc.value)


def test_wrong_geometry_type(tmp_path: Path):
    path = tmp_path / "stops.gpkg"
    line = LineString(ZHENGZHOU[:2])
    gpd.GeoDataFrame(geometry=[line, line], crs=4326).to_file(path, layer="stops")
    with pytest.raises(LayerError) as exc:
        read_plan_layer(path, geometry_types=["Point"], kind="bus_stops")
    assert_one_line(exc, path, "stops")
    assert "2 LineString" in str(exc.value) and "Point" in str(exc.value)


def test_projected_csv_without_crs_asks_for_crs(tmp_path: Path):
    xy = project(ZHENGZHOU, 4547)
    path = write_csv(tmp_path / "gk.csv", {"x": xy[:, 0], "y": xy[:, 1]})
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path, "gk")
    assert "crs=" in str(exc.value) and "--crs" in str(exc.value)


def test_crs_argument_contradicting_file_crs(tmp_path: Path):
    path = tmp_path / "plan.gpkg"
    points_gdf(project(ZHENGZHOU, 4547), 4547).to_file(path, layer="parks")
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path, crs=4326)
    assert_one_line(exc, path, "parks")
    assert "EPSG:4547" in str(exc.value) and "EPSG:4326" in str(exc.value)


def test_lonlat_values_under_gauss_kruger(tmp_path: Path):
    path = write_csv(tmp_path / "deg.csv", {"x": ZHENGZHOU[:, 0], "y": ZHENGZHOU[:, 1]})
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path, crs=4547)
    assert_one_line(exc, path, "deg")
    assert "EPSG:4326" in str(exc.value)


def test_metres_under_wgs84(tmp_path: Path):
    path = tmp_path / "metres.gpkg"
    points_gdf(project(ZHENGZHOU, 4526), 4326).to_file(path, layer="metres")  # CRS set wrongly
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path)
    assert_one_line(exc, path, "metres")
    assert "EPSG:4526" in str(exc.value)  # the zone prefix 38 gives the right CRS away


def test_zone_prefix_mix_up_hint(tmp_path: Path):
    xy = project(ZHENGZHOU, 4526)  # eastings like 38 5xx xxx
    path = write_csv(tmp_path / "prefixed.csv", {"x": xy[:, 0], "y": xy[:, 1]})
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path, crs=4547)
    assert_one_line(exc, path, "prefixed")
    assert "EPSG:4526" in str(exc.value)


def test_wrong_zone_is_outside_area_of_use(tmp_path: Path):
    xy = project(ZHENGZHOU, 4547)
    path = write_csv(tmp_path / "zone.csv", {"x": xy[:, 0], "y": xy[:, 1]})
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path, crs=4554)  # CM 135E, 21 degrees east of Zhengzhou's zone
    assert_one_line(exc, path, "zone")
    assert "area of use" in str(exc.value)


def test_gcj02_needs_geographic_input(tmp_path: Path):
    xy = project(ZHENGZHOU, 4547)
    path = write_csv(tmp_path / "gk.csv", {"x": xy[:, 0], "y": xy[:, 1]})
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path, crs=4547, coord_system="gcj02")
    assert_one_line(exc, path, "gk")


def test_gcj02_given_as_crs_points_to_coord_system(tmp_path: Path):
    path = write_csv(tmp_path / "amap.csv", {"lon": [113.6], "lat": [34.7]})
    with pytest.raises(CRSError) as exc:
        read_plan_layer(path, crs="gcj02")
    assert_one_line(exc, path, "amap")
    assert "coord_system='gcj02'" in str(exc.value)
