"""Helpers of the CLI commands (``geoplan.cli.indicators``, ``.batch``, ``.suggest``)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely

import geoplan
from geoplan.cli.batch import _table
from geoplan.cli.indicators import _sheets_table
from geoplan.cli.suggest import _read_candidates
from geoplan.rules.datafile import DATA_DIR
from geoplan.siting.spec import spec_of


def test_the_sheets_table_lists_every_shipped_sheet() -> None:
    files = sorted((DATA_DIR / "targets").glob("*.yaml"))
    t = _sheets_table()
    assert t.row_count == len(files) >= 8
    ids = list(t.columns[0].cells)
    assert sorted(ids) == sorted(f.stem for f in files)


def test_the_batch_table_has_a_row_per_place() -> None:
    rows = [
        {"name": "a", "status": "ok", "pass": 3, "fail": 2, "pass_rate": 0.6, "seconds": 1.23},
        {"name": "b", "status": "failed", "seconds": 0.1},
    ]
    t = _table(rows, "t")
    assert t.row_count == 2
    assert list(t.columns[4].cells) == ["60%", ""] and list(t.columns[5].cells) == ["1.2", "0.1"]


def test_candidates_file_read_in_the_city_crs(chengdu_clip: geoplan.City, tmp_path: Path) -> None:
    c = chengdu_clip.boundary_polygon.centroid
    pts = [shapely.Point(c.x + dx, c.y) for dx in (0.0, 100.0, 200.0)]
    f = tmp_path / "cand.geojson"
    gpd.GeoDataFrame(geometry=pts, crs=chengdu_clip.crs).to_crs(4326).to_file(f)
    spec = spec_of("bus_stop_coverage", radius_m=300.0, method="buffer", basis="homes", target=1)
    notes: list[str] = []
    cand = _read_candidates(f, "wgs84", chengdu_clip, spec, notes)
    assert cand.crs == chengdu_clip.crs and len(cand) == 3
    got = sorted(round(g.x - c.x) for g in cand.geometry)
    assert got == [0, 100, 200]
