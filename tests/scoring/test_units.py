"""Per-unit results in ``geoplan check`` (issue 10 item 6), against shapely overlays per unit."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import geoplan
from geoplan.cli import app


def test_check_writes_a_per_unit_table(chengdu: geoplan.City, tmp_path: Path) -> None:
    bnd = chengdu.boundary_polygon
    x0, y0, x1, y1 = bnd.bounds
    xm = (x0 + x1) / 2
    halves = [shapely.box(x0, y0, xm, y1) & bnd, shapely.box(xm, y0, x1, y1) & bnd]
    jd = tmp_path / "jiedao.geojson"
    gpd.GeoDataFrame({"街道": ["西", "东"]}, geometry=halves, crs=chengdu.crs).to_crs(4326).to_file(
        jd
    )
    b = tmp_path / "b.geojson"
    gpd.GeoDataFrame(geometry=[bnd], crs=chengdu.crs).to_crs(4326).to_file(b)
    out = tmp_path / "o"
    res = CliRunner().invoke(
        app,
        [
            "check",
            "--osm",
            chengdu.report.source,
            "--boundary",
            str(b),
            "-t",
            "anyang-2023",
            "--units",
            str(jd),
            "--unit-name",
            "街道",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    csv = next(out.glob("*_units.csv"))
    t = pd.read_csv(csv)
    assert list(t["unit"]) == ["西", "东"]
    assert next(out.glob("*_units.gpkg")).is_file() and next(out.glob("*_units.xlsx")).is_file()
    land = shapely.union_all(chengdu.residential.geometry.values)
    check = geoplan.check_city(chengdu, sheet="anyang-2023")
    cover = check.coverage["green_300_buffer"]
    for i, h in enumerate(halves):
        piece = land.intersection(h)
        assert t["residential_m2"].iloc[i] == pytest.approx(piece.area, rel=1e-6)
        ref = piece.intersection(cover).area / piece.area
        assert t["green_300_buffer"].iloc[i] == pytest.approx(ref, rel=1e-6)
    assert t["homes"].sum() == len(check.homes)


def test_units_grid_and_bad_name_column(tmp_path: Path) -> None:
    ok = CliRunner().invoke(
        app, ["check", "--osm", "demo", "--units-grid", "250", "--out", str(tmp_path / "o"), "-q"]
    )
    assert ok.exit_code == 0, ok.output
    t = pd.read_csv(next((tmp_path / "o").glob("*_units.csv")))
    assert len(t) > 4 and t["unit"].str.contains("_").all()
    bad = CliRunner().invoke(
        app, ["check", "--osm", "demo", "--units-grid", "5", "--out", str(tmp_path / "p"), "-q"]
    )
    assert bad.exit_code == 2 and "--units-grid 5 m is out of range" in bad.output
