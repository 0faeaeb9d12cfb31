"""geoplan.io.coords against published WGS84 / GCJ-02 / BD-09 conversion pairs.

Reference values (copied as printed by their authors, not recomputed here):

* wandergis/coordtransform, ``test/app.js`` (the JavaScript library most Chinese ports test
  against): for the input (116.404, 39.915) it prints
  wgs84togcj02 → (116.41024449916938, 39.91640428150164),
  gcj02tobd09 → (116.41036949371029, 39.92133699351021),
  bd09togcj02 → (116.39762729119315, 39.90865673957631),
  gcj02towgs84 → (116.39775550083061, 39.91359571849836) (its one-step approximate inverse).
* googollee/eviltransform, ``go/transform_test.go`` / ``python/test.py``: WGS84 → GCJ-02 pairs for
  Shanghai, Shenzhen and Beijing (given there as lat, lng; reordered to lon, lat below).

eviltransform's BD-09 test pairs are deliberately not used: its ``gcj2bd`` uses ``sin(y * pi)``
instead of Baidu's ``sin(y * x_pi)`` with ``x_pi = pi * 3000 / 180``, so they differ from Baidu
(and from coordtransform) by 10–40 m.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from geoplan.io import coords

GEOD = Geod(ellps="WGS84")
TOL_DEG = 1e-9  # published values are doubles from the same formula: agree to ~0.1 mm
TOL_M = 1.0  # round trips and approximate published inverses

# (wgs lon, wgs lat, gcj lon, gcj lat)
WGS_GCJ_PAIRS = [
    # wandergis/coordtransform test/app.js
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
    # googollee/eviltransform go/transform_test.go: shanghai, shenzhen, beijing
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
]
# (gcj lon, gcj lat, bd lon, bd lat): wandergis/coordtransform test/app.js
GCJ_BD_PAIRS = [(116.404, 39.915, 116.41036949371029, 39.92133699351021)]

# Points spread over mainland China (lon, lat): Zhengzhou, Chengdu, Urumqi, Harbin, Sanya, Lhasa
CHINA = np.array(
    [
        (113.6254, 34.7466),
        (104.0657, 30.6595),
        (87.6168, 43.8256),
        (126.5350, 45.8038),
        (109.5120, 18.2528),
        (91.1409, 29.6456),
    ]
)


def distance_m(lon1: object, lat1: object, lon2: object, lat2: object) -> np.ndarray:
    """Geodesic distance on WGS84, metres."""
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_wgs84_to_gcj02_matches_published(wlon: float, wlat: float, glon: float, glat: float):
    lon, lat = coords.wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=TOL_DEG)
    assert float(lat) == pytest.approx(glat, abs=TOL_DEG)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), WGS_GCJ_PAIRS)
def test_gcj02_to_wgs84_lands_on_published_wgs84(
    wlon: float, wlat: float, glon: float, glat: float
):
    lon, lat = coords.gcj02_to_wgs84(glon, glat)
    assert distance_m(lon, lat, wlon, wlat) < TOL_M


@pytest.mark.parametrize(("glon", "glat", "blon", "blat"), GCJ_BD_PAIRS)
def test_gcj02_to_bd09_matches_published(glon: float, glat: float, blon: float, blat: float):
    lon, lat = coords.gcj02_to_bd09(glon, glat)
    assert float(lon) == pytest.approx(blon, abs=TOL_DEG)
    assert float(lat) == pytest.approx(blat, abs=TOL_DEG)


def test_bd09_to_gcj02_matches_published_inverse():
    lon, lat = coords.bd09_to_gcj02(116.404, 39.915)
    assert float(lon) == pytest.approx(116.39762729119315, abs=TOL_DEG)
    assert float(lat) == pytest.approx(39.90865673957631, abs=TOL_DEG)


def test_exact_inverse_is_within_a_metre_of_published_approximate_inverse():
    # coordtransform's gcj02towgs84 is a one-step approximation; ours iterates to the exact inverse.
    lon, lat = coords.gcj02_to_wgs84(116.404, 39.915)
    assert distance_m(lon, lat, 116.39775550083061, 39.91359571849836) < TOL_M


def test_round_trips_within_a_metre():
    lon, lat = CHINA[:, 0], CHINA[:, 1]
    back_gcj = coords.gcj02_to_wgs84(*coords.wgs84_to_gcj02(lon, lat))
    back_bd = coords.bd09_to_wgs84(*coords.wgs84_to_bd09(lon, lat))
    back_bd_gcj = coords.bd09_to_gcj02(*coords.gcj02_to_bd09(lon, lat))
    for back in (back_gcj, back_bd, back_bd_gcj):
        assert distance_m(back[0], back[1], lon, lat).max() < TOL_M


def test_offsets_are_real_inside_china():
    # The transforms must move points by the expected hundreds of metres, not be no-ops.
    lon, lat = CHINA[:, 0], CHINA[:, 1]
    shift = distance_m(*coords.wgs84_to_gcj02(lon, lat), lon, lat)
    assert ((shift > 50) & (shift < 1000)).all()


def test_vectorised_equals_pointwise():
    lon, lat = CHINA[:, 0], CHINA[:, 1]
    glon, glat = coords.wgs84_to_gcj02(lon, lat)
    for i in range(len(CHINA)):
        one = coords.wgs84_to_gcj02(lon[i], lat[i])
        assert (float(one[0]), float(one[1])) == (glon[i], glat[i])


def test_points_outside_china_unchanged():
    # Paris, New York, Tokyo (east of the box), Jakarta (south of it)
    lon = np.array([2.3522, -74.006, 139.6917, 106.8456])
    lat = np.array([48.8566, 40.7128, 35.6895, -6.2088])
    for fn in (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)
    assert not coords.in_china(lon, lat).any()
