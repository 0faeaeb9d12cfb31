"""The Study (``geoplan.city.study``) and the CLI options that build it (``geoplan.cli.options``):
inputs that contradict each other are refused once, in one line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import geoplan
from geoplan._version import __version__
from geoplan.city.study import Study, StudyError
from geoplan.cli.options import study_from_options

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"boundary": Path("a.geojson"), "district": "郑州市中原区"}, "not both"),
        ({"population_kind": "people"}, "population kind must be"),
        ({"facilities_mode": "mix"}, "--facilities-mode must be"),
        ({"units": Path("u.gpkg"), "units_grid": 500.0}, "--units FILE or --units-grid"),
        ({"scope": "county"}, "--scope must be city or town"),
        ({"compounds": "walls"}, "--compounds must be gates or edges"),
        ({"compounds_coords": "utm"}, "--compounds-coords must be"),
        ({"units_grid": 1.0}, "out of range"),
    ],
)
def test_contradicting_inputs_are_refused(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(StudyError) as err:
        Study(osm="demo", **kwargs)  # type: ignore[arg-type]
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_options_become_the_studys_fields() -> None:
    s = study_from_options(
        osm="demo",
        crs="EPSG:32635",
        population_column="pop",
        scope="town",
        compounds="edges",
        compounds_coords="gcj02",
        exact_areas=False,
        units_grid=500.0,
        facilities=[Path("a.csv"), Path("b.csv")],
    )
    assert (s.osm, s.scope, s.compounds, s.compounds_coords) == ("demo", "town", "edges", "gcj02")
    assert s.exact_areas is False and s.units_grid == 500.0 and s.population_column == "pop"
    assert s.facilities == (Path("a.csv"), Path("b.csv"))
    assert s == study_from_options(  # equal inputs give equal studies
        osm="demo",
        crs="EPSG:32635",
        population_column="pop",
        scope="town",
        compounds="edges",
        compounds_coords="gcj02",
        exact_areas=False,
        units_grid=500.0,
        facilities=[Path("a.csv"), Path("b.csv")],
    )


def test_the_version_is_the_projects() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert __version__ == meta["project"]["version"] == geoplan.__version__
