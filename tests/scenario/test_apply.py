"""Layer joins of scenarios (``geoplan.scenario.apply.concat``)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from geoplan.scenario.apply import concat


def test_concat_keeps_rows_crs_and_a_fresh_index() -> None:
    a = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs=32648
    ).set_index(gpd.pd.Index([7, 9]))
    b = gpd.GeoDataFrame({"name": ["c"]}, geometry=[shapely.Point(2, 2)], crs=32648)
    out = concat(a, b)
    assert list(out["name"]) == ["a", "b", "c"] and list(out.index) == [0, 1, 2]
    assert out.crs == a.crs and isinstance(out, gpd.GeoDataFrame)
    empty = b.iloc[:0]
    assert list(concat(a, empty).index) == [0, 1] and list(concat(None, b)["name"]) == ["c"]
    assert list(concat(empty, b)["name"]) == ["c"]
