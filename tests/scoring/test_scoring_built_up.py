"""The area of the area-based figures (scoring/built_up.py), on Chengdu."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

import geoplan
from geoplan._errors import LayerError
from geoplan.city.homes import homes_from_city
from geoplan.indicators.inputs import Inputs
from geoplan.rules.built_up import built_up_area
from geoplan.scoring.built_up import area_basis, resolve_built_up


def test_resolve_built_up_by_kind(chengdu: geoplan.City) -> None:
    x, y = chengdu.boundary_polygon.centroid.coords[0]
    drawn = shapely.box(x - 1000, y - 1000, x + 1000, y + 1000)
    assert resolve_built_up(chengdu, drawn) == (drawn, "file")
    assert resolve_built_up(chengdu, "study_area") == (None, "study_area")
    area, source = resolve_built_up(chengdu, "osm")
    expected = built_up_area(chengdu.urban_land, chengdu.roads, chengdu.boundary_polygon)
    assert source == "osm" and shapely.equals(area, expected)
    with pytest.raises(LayerError, match="built_up must be a polygon, 'osm' or 'study_area'"):
        resolve_built_up(chengdu, "bbox")


def test_area_basis_names_the_area_and_its_km2(chengdu: geoplan.City) -> None:
    x, y = chengdu.boundary_polygon.centroid.coords[0]
    drawn = shapely.box(x - 1500, y - 1000, x + 1500, y + 1000)  # 6 km², inside the study area
    inputs = Inputs(chengdu, homes_from_city(chengdu), None, drawn, "file")
    rows = pd.DataFrame(
        {"basis": ["boundary_area", "homes"], "note": ["", "kept"], "value": [0.5, 0.4]}
    )
    out = area_basis(rows, inputs)
    assert list(out["basis"]) == ["built_up_area", "homes"]
    assert out["note"].iloc[0] == "建成区 built-up area 6.00 km²"  # by hand: 3 × 2 km
    assert out["note"].iloc[1] == "kept"
