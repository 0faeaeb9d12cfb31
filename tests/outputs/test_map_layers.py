"""Map layer helpers (``geoplan.outputs.map_layers``): projection for Leaflet, clipping, CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geoplan
from geoplan._errors import LayerError
from geoplan.io.coords import wgs84_to_gcj02
from geoplan.outputs.map_layers import (
    Ctx,
    bounds_latlon,
    clip_points,
    clip_polygons,
    const_style,
    keyed_style,
    to_city_crs,
)


def test_project_is_wgs84_or_gcj02_rounded_to_six_decimals(chengdu: geoplan.City) -> None:
    stops = chengdu.bus_stops.geometry.values[:20]
    exp = gpd.GeoSeries(stops, crs=chengdu.crs).to_crs(4326)
    got = Ctx(crs=chengdu.crs, simplify_m=0.0, shift=False, lang="zh").project(stops)
    np.testing.assert_array_equal(shapely.get_x(got), np.round(exp.x.to_numpy(), 6))
    np.testing.assert_array_equal(shapely.get_y(got), np.round(exp.y.to_numpy(), 6))
    shifted = Ctx(crs=chengdu.crs, simplify_m=0.0, shift=True, lang="en").project(stops)
    lon, lat = wgs84_to_gcj02(exp.x.to_numpy(), exp.y.to_numpy())
    np.testing.assert_array_equal(shapely.get_x(shifted), np.round(lon, 6))
    np.testing.assert_array_equal(shapely.get_y(shifted), np.round(lat, 6))
    assert Ctx(crs=chengdu.crs, simplify_m=2, shift=False, lang="zh").project([]).size == 0


def test_clipping_and_crs(chengdu: geoplan.City) -> None:
    box = shapely.box(*shapely.centroid(chengdu.boundary_polygon).buffer(800).bounds)
    pts = clip_points(chengdu.bus_stops, box)
    inside = shapely.intersects(chengdu.bus_stops.geometry.values, box)
    assert len(pts) == int(inside.sum()) > 0
    parks = clip_polygons(chengdu.parks, box)
    assert (parks.geometry.within(box.buffer(1e-6))).all()
    exp_area = sum(g.intersection(box).area for g in chengdu.parks.geometry)
    assert parks.geometry.area.sum() == pytest.approx(exp_area)
    with pytest.raises(LayerError, match="has no CRS"):
        to_city_crs(gpd.GeoDataFrame(geometry=[box]), chengdu, "homes")
    back = to_city_crs(chengdu.bus_stops.to_crs(4326), chengdu, "stops")
    assert back.crs == chengdu.crs
    assert bounds_latlon(shapely.box(104.0, 30.6, 104.1, 30.7)) == [[30.6, 104.0], [30.7, 104.1]]


def test_styles_escape_what_they_embed() -> None:
    js = const_style({"color": "</script><b>"}).js_code
    assert "</script>" not in js and "\\u003c/script\\u003e" in js
    assert "f.properties.k" in keyed_style({1: {"color": "#fff"}}).js_code


def test_coverage_and_gap_layers(chengdu_clip: geoplan.City) -> None:
    """``geoplan.outputs.map_coverage``: one overlay per coverage area and per gap label, clipped
    to the study area; a non-geometry refused."""
    import folium

    from geoplan.outputs.map_coverage import add_coverage, add_gaps
    from geoplan.outputs.map_panels import Legend

    res = geoplan.check_city(chengdu_clip, sheet="national")
    ctx = Ctx(crs=chengdu_clip.crs, simplify_m=0.0, shift=False, lang="zh")
    m, legend = folium.Map(), Legend("zh")
    bnd = chengdu_clip.boundary_polygon
    n0 = len(m._children)
    add_coverage(m, ctx, bnd, "bus_cov_500_buffer", res.coverage["bus_cov_500_buffer"], legend)
    add_gaps(m, ctx, res.gaps, bnd, legend)
    labels = set(res.gaps["label_zh"]) if len(res.gaps) else set()
    assert len(m._children) - n0 == 1 + len(labels)
    with pytest.raises(LayerError, match="expected a shapely geometry"):
        add_coverage(m, ctx, bnd, "x", "not a geometry", legend)  # type: ignore[arg-type]
