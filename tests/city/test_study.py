"""The Study: every input of a check, validated once; load, homes, units and check through it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from conftest import CHENGDU_BBOX, chengdu_clip_polygon

import geoplan
from geoplan.batch.spec import load_batch
from geoplan.city import Study, StudyError
from geoplan.city.units import grid_units


def test_contradicting_inputs_are_refused_at_construction() -> None:
    with pytest.raises(StudyError, match="not both"):
        Study(osm="demo", boundary=Path("a.geojson"), district="郑州市中原区")
    with pytest.raises(StudyError, match="population kind"):
        Study(osm="demo", population_kind="hexes")  # type: ignore[arg-type]
    with pytest.raises(StudyError, match="replace or merge"):
        Study(osm="demo", facilities_mode="join")  # type: ignore[arg-type]
    with pytest.raises(StudyError, match="--units FILE or --units-grid"):
        Study(osm="demo", units=Path("u.gpkg"), units_grid=500)
    with pytest.raises(StudyError, match="out of range"):
        Study(osm="demo", units_grid=10)
    with pytest.raises(StudyError, match="min_lon"):
        Study(osm="demo", boundary=(1.0, 2.0, 3.0))  # type: ignore[arg-type]


def test_missing_files_are_named_once_when_loading(tmp_path: Path) -> None:
    study = Study(osm="demo", population=tmp_path / "pop.csv")  # constructing needs no file
    with pytest.raises(geoplan.InputFileError, match=r"pop\.csv: --population file not found"):
        study.load()
    with pytest.raises(geoplan.InputFileError, match=r"nope\.osm\.pbf: file not found"):
        Study(osm=str(tmp_path / "nope.osm.pbf")).check_files()


def test_inputs_are_normalised_and_listed(tmp_path: Path) -> None:
    pop = tmp_path / "pop.tif"
    s = Study(
        osm="demo",
        boundary=list(CHENGDU_BBOX),  # type: ignore[arg-type]
        crs=4547,  # type: ignore[arg-type]
        population=str(pop),  # type: ignore[arg-type]
        facilities=[str(tmp_path / "a.csv")],  # type: ignore[arg-type]
        built_up=None,
    )
    assert s.boundary == CHENGDU_BBOX and s.crs == "4547" and s.built_up == "osm"
    assert s.population_raster == pop and s.facilities == (tmp_path / "a.csv",)
    assert s.input_files() == [pop, tmp_path / "a.csv"]
    assert s.input_roles() == {"population": pop, "facilities_1": tmp_path / "a.csv"}
    assert Study(osm="demo") == Study(osm="demo", built_up="osm")  # equal inputs, equal studies


def test_a_batch_place_is_a_study(tmp_path: Path) -> None:
    (tmp_path / "b.geojson").write_text("{}", encoding="utf-8")
    f = tmp_path / "batch.yaml"
    f.write_text(
        "places:\n  - {name: a, osm: demo, boundary: b.geojson, units_grid: 500, "
        "targets: anyang-2023}\n",
        encoding="utf-8",
    )
    (place,) = load_batch(f).places
    assert place.study == Study(osm="demo", boundary=tmp_path / "b.geojson", units_grid=500)
    assert place.targets == "anyang-2023" and place.map


def test_grid_units_tile_the_study_area() -> None:
    """Independent: the cells' areas add up to the polygon's, none exceeds one cell."""
    poly = shapely.Polygon([(0, 0), (1234, 0), (1234, 777), (300, 1500), (0, 900)])
    cells = grid_units(poly, pyproj.CRS(32648), cell_m=250)
    areas = cells.geometry.area.to_numpy()
    assert np.isclose(areas.sum(), poly.area, rtol=1e-12)
    assert areas.max() <= 250 * 250 + 1e-6
    assert cells["unit"].is_unique


def test_study_check_equals_check_city_on_the_same_inputs(chengdu_pbf: Path) -> None:
    """The Study's check and a hand-assembled check_city agree figure for figure."""
    clip = chengdu_clip_polygon()
    study = Study(osm=str(chengdu_pbf), boundary=clip.bounds, units_grid=500)
    city = study.load(progress=False)
    got = study.check("anyang-2023", city=city)
    by_hand = geoplan.check_city(
        geoplan.load_city(chengdu_pbf, boundary=clip.bounds, progress=False),
        sheet="anyang-2023",
        units=grid_units(city.boundary_polygon, city.crs, cell_m=500),
    )
    keys = ["indicator", "measure", "method", "basis"]
    assert got.measures[keys].equals(by_hand.measures[keys])
    a, b = (r.measures["value"].to_numpy(dtype=float) for r in (got, by_hand))
    assert len(a) > 50 and np.allclose(a, b, rtol=0, atol=1e-12, equal_nan=True)
    assert (got.scorecard["status"] == by_hand.scorecard["status"]).all()
    assert got.units is not None and len(got.units) == len(by_hand.units)  # type: ignore[arg-type]
    assert "homes" in got.seconds
