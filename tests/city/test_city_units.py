"""Units and named areas read from a planner's polygon file (city/units.py)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import geoplan
from geoplan._errors import LayerError
from geoplan.city.units import areas_layer


def _box(city: geoplan.City, dx: float) -> shapely.Polygon:
    c = city.boundary_polygon.centroid
    return shapely.box(c.x + dx, c.y, c.x + dx + 500, c.y + 500)


def test_areas_are_named_by_a_chinese_name_column(chengdu: geoplan.City, tmp_path: Path) -> None:
    path = tmp_path / "areas.gpkg"
    boxes = [_box(chengdu, 0), _box(chengdu, 1000)]
    frame = gpd.GeoDataFrame({"名称": ["老城区", "振中街道"], "kind": ["a", "b"]}, geometry=boxes)
    frame.set_crs(chengdu.crs).to_crs(4326).to_file(path)
    out = areas_layer(chengdu, path)
    assert list(out["unit"]) == ["老城区", "振中街道"]
    # the polygons come back in the city's CRS, where they were drawn (to a micrometre)
    for got, drawn in zip(out.geometry.values, boxes, strict=True):
        assert shapely.symmetric_difference(got, drawn).area < 1e-6


def test_areas_without_names_are_refused(chengdu: geoplan.City, tmp_path: Path) -> None:
    path = tmp_path / "areas.gpkg"
    frame = gpd.GeoDataFrame(
        {"name": ["老城区", ""]}, geometry=[_box(chengdu, 0), _box(chengdu, 900)], crs=chengdu.crs
    )
    frame.to_file(path)
    with pytest.raises(LayerError, match=r"row 1 of --areas has no name; give every area its"):
        areas_layer(chengdu, path)
