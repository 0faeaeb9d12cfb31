"""Metric CRS choice: automatic UTM, the user's CRS (CGCS2000 GK), geographic CRSs refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
from conftest import chengdu_clip_polygon

import geoplan
from geoplan.io.projection import metric_crs, utm_crs


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (104.08, 30.69, 32648),  # Chengdu: UTM 48N
        (113.62, 34.75, 32649),  # Zhengzhou: UTM 49N
        (-46.63, -23.55, 32723),  # São Paulo: UTM 23S
        (24.94, 60.17, 32635),  # Helsinki: UTM 35N
    ],
)
def test_utm_zone(lon: float, lat: float, epsg: int) -> None:
    assert utm_crs(lon, lat).to_epsg() == epsg
    # pyproj's own UTM lookup agrees
    info = pyproj.database.query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=pyproj.aoi.AreaOfInterest(lon, lat, lon, lat),
    )
    assert epsg in {int(i.code) for i in info}


def test_default_crs_is_utm_48n_for_chengdu(chengdu: geoplan.City) -> None:
    assert chengdu.crs.to_epsg() == 32648
    assert chengdu.report.crs == "EPSG:32648"
    for name, gdf in chengdu.layers().items():
        assert gdf.crs.to_epsg() == 32648, name


def test_user_crs_cgcs2000_gauss_kruger(chengdu_pbf: Path, chengdu_clip: geoplan.City) -> None:
    # CGCS2000 / 3-degree Gauss-Kruger CM 105E: Chengdu's zone (104.1E)
    city = geoplan.load_city(chengdu_pbf, boundary=chengdu_clip_polygon(), crs=4544)
    assert city.crs.to_epsg() == 4544
    for name, gdf in city.layers().items():
        assert gdf.crs.to_epsg() == 4544, name
    # nodes are the WGS84 coordinates projected with pyproj; lengths do not depend on the CRS
    t = pyproj.Transformer.from_crs(4326, 4544, always_xy=True)
    x, y = t.transform(city.network.lon, city.network.lat)
    np.testing.assert_allclose(city.network.x, x, atol=1e-6)
    np.testing.assert_allclose(city.network.y, y, atol=1e-6)
    assert city.network.total_length_km == pytest.approx(chengdu_clip.network.total_length_km)
    assert len(city.bus_stops) == len(chengdu_clip.bus_stops)
    # GK at 1 degree from its meridian stretches (k > 1), UTM shrinks (k = 0.9996)
    assert city.area_km2 > chengdu_clip.area_km2


@pytest.mark.parametrize(
    ("crs", "pct"),
    [(3857, 16.3), (4547, 1.1)],  # Web Mercator at 30.7N; the 114E zone, 10 degrees off Chengdu
)
def test_crs_distorting_the_study_area_is_refused(chengdu_pbf: Path, crs: int, pct: float) -> None:
    # independent: the scale factor of a transverse Mercator 10 degrees off its meridian and of
    # Mercator at latitude phi are 1 + (dl cos phi)^2 / 2 and 1 / cos phi
    lon, lat = 104.0858, 30.6903
    ref = (
        1 / np.cos(np.radians(lat)) - 1
        if crs == 3857
        else (np.radians(114 - lon) * np.cos(np.radians(lat))) ** 2 / 2
    )
    assert 100 * ref == pytest.approx(pct, abs=0.2)
    with pytest.raises(geoplan.CRSError, match=rf"distorts distances by {pct} %"):
        geoplan.load_city(chengdu_pbf, boundary=chengdu_clip_polygon(), crs=crs)


def test_geographic_or_unknown_crs_refused(chengdu_pbf: Path) -> None:
    with pytest.raises(geoplan.CRSError, match="not metric"):
        geoplan.load_city(chengdu_pbf, boundary=chengdu_clip_polygon(), crs=4326)
    with pytest.raises(geoplan.CRSError, match="unknown CRS"):
        metric_crs("EPSG:999999", lon=104.0, lat=30.0)
    assert metric_crs("EPSG:4547", lon=0, lat=0).to_epsg() == 4547


def test_areas_projected_on_threads_equal_geopandas_to_crs(
    chengdu_pbf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layers' areas are projected vertex by vertex on two threads: the same bits as
    ``GeoSeries.to_crs`` (geopandas' one PROJ transform), holes and multipolygons included."""
    import geopandas as gpd
    import shapely

    from geoplan.io import projection
    from geoplan.io.osm import read_osm

    raw = read_osm(chengdu_pbf)
    geoms = shapely.from_wkb([r[3] for r in raw.areas])
    assert (shapely.get_num_interior_rings(shapely.get_parts(geoms)) > 0).any()
    crs = pyproj.CRS.from_epsg(32648)
    want = gpd.GeoSeries(geoms, crs=4326).to_crs(crs).values
    monkeypatch.setattr(projection, "_THREADS_MIN", 1000)  # the threaded path on this city
    before = shapely.to_wkb(geoms)
    got = projection.geometries_to_metric(np.asarray(geoms, dtype=object), crs)
    assert shapely.get_coordinates(geoms).shape[0] > 1000
    np.testing.assert_array_equal(shapely.to_wkb(got), shapely.to_wkb(np.asarray(want)))
    np.testing.assert_array_equal(shapely.to_wkb(geoms), before)  # input not modified
