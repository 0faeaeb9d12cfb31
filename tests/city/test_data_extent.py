"""A study area the OSM data covers only in part: a warning with the share, refused under half."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

import geoplan


@pytest.fixture(scope="module")
def extent(chengdu_pbf: Path) -> tuple[float, float, float, float]:
    """The data's extent: the study area of a load without a boundary (the features' bbox).

    The share each test expects is then a plain shapely overlay of its boundary and this box.
    """
    whole = geoplan.load_city(chengdu_pbf, progress=False)
    x0, y0, x1, y1 = whole.boundary.to_crs(4326).total_bounds
    return float(x0), float(y0), float(x1), float(y1)


def _straddling(
    extent: tuple[float, float, float, float], inside: float, size: float = 0.01
) -> shapely.Polygon:
    """A ``size``° box on the data's eastern edge with ``inside`` of its width inside the data."""
    x1, y0, _, y1 = extent[2], extent[1], extent[2], extent[3]
    ym = (y0 + y1) / 2
    return shapely.box(x1 - size * inside, ym - size / 2, x1 + size * (1 - inside), ym + size / 2)


def test_a_study_area_mostly_outside_the_data_is_refused(
    chengdu_pbf: Path, extent: tuple[float, float, float, float]
) -> None:
    bnd = _straddling(extent, 0.3)
    share = shapely.intersection(bnd, shapely.box(*extent)).area / bnd.area
    assert share == pytest.approx(0.3)
    with pytest.raises(geoplan.LayerError, match=r"only 30\.0% of the study area lies inside"):
        geoplan.load_city(chengdu_pbf, boundary=bnd, progress=False)


def test_a_study_area_partly_outside_the_data_is_loaded_with_a_warning(
    chengdu_pbf: Path, extent: tuple[float, float, float, float]
) -> None:
    bnd = _straddling(extent, 0.8)
    share = shapely.intersection(bnd, shapely.box(*extent)).area / bnd.area
    city = geoplan.load_city(chengdu_pbf, boundary=bnd, progress=False)
    assert city.report.data_share == pytest.approx(share, abs=1e-4)
    assert any(f"warning: only {share:.1%} of the study area" in n for n in city.report.notes)
    inside = geoplan.load_city(chengdu_pbf, boundary=_straddling(extent, 1.0), progress=False)
    assert inside.report.data_share == pytest.approx(1.0)
    assert not any("warning: only" in n for n in inside.report.notes)


def test_a_batch_place_partly_outside_the_data_says_so(
    chengdu_pbf: Path, extent: tuple[float, float, float, float], tmp_path: Path
) -> None:
    from geoplan.batch.place import run_place
    from geoplan.batch.spec import Place
    from geoplan.city import Study

    bnd = _straddling(extent, 0.8, size=0.1)
    share = shapely.intersection(bnd, shapely.box(*extent)).area / bnd.area
    place = Place("edge", Study(osm=str(chengdu_pbf), boundary=bnd.bounds), map=False)
    row = run_place(place, str(tmp_path))
    assert row["status"] == "partial data", row.get("error")
    assert row["data_share"] == pytest.approx(share, abs=1e-4)
