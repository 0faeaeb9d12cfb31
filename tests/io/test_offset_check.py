"""The GCJ-02 offset check of plan layers (``geoplan.io.offset_check``) on real Chengdu stops."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geoplan
from geoplan.io.coords import wgs84_to_gcj02
from geoplan.io.offset_check import gcj02_offset


def _stops_wgs84(city: geoplan.City) -> gpd.GeoDataFrame:
    return city.bus_stops[["geometry"]].to_crs(4326)


def _to_gcj(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = g.copy()
    out.geometry = shapely.transform(
        g.geometry.values,
        lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])),
    )
    return out


def test_a_gcj02_layer_is_told_from_a_wgs84_one(chengdu: geoplan.City) -> None:
    ref = _stops_wgs84(chengdu)
    assert len(ref) > 50
    same = gcj02_offset(ref, ref, chengdu.crs)
    assert same is not None and not same.looks_gcj02 and same.as_given == 1.0
    shifted = gcj02_offset(_to_gcj(ref), ref, chengdu.crs)
    assert shifted is not None and shifted.looks_gcj02
    assert shifted.as_given < 0.2 and shifted.from_gcj02 > 0.95
    # the shift of GCJ-02 in Chengdu, measured independently on the first stop
    p = ref.geometry.iloc[0]
    lon, lat = wgs84_to_gcj02(np.array([p.x]), np.array([p.y]))
    pts = gpd.GeoSeries([p, shapely.Point(lon[0], lat[0])], crs=4326).to_crs(chengdu.crs)
    assert shifted.shift_m == pytest.approx(pts.iloc[0].distance(pts.iloc[1]), abs=1.0)
    assert 200 < shifted.shift_m < 800


def test_nothing_to_compare_outside_china_or_without_reference(
    chengdu: geoplan.City, sao_paulo: geoplan.City
) -> None:
    ref = _stops_wgs84(chengdu)
    assert gcj02_offset(ref.iloc[:0], ref, chengdu.crs) is None
    assert gcj02_offset(ref, ref.iloc[:0], chengdu.crs) is None
    sp = _stops_wgs84(sao_paulo)
    assert gcj02_offset(sp, sp, sao_paulo.crs) is None
