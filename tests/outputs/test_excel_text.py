"""Names are data, never formulas: unit names written into workbooks stay text."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

import geoplan
from geoplan.cli import app
from geoplan.outputs.formats import excel_writer

EVIL = '=HYPERLINK("http://example.invalid","点此")'


def test_unit_names_with_formulas_and_control_characters(
    helsinki: geoplan.City, tmp_path: Path
) -> None:
    bnd = helsinki.boundary_polygon
    x0, y0, x1, y1 = bnd.bounds
    xm = (x0 + x1) / 2
    units = gpd.GeoDataFrame(
        {"name": [EVIL, "西\x07街道"]},
        geometry=[shapely.box(x0, y0, xm, y1), shapely.box(xm, y0, x1, y1)],
        crs=helsinki.crs,
    ).to_crs(4326)
    f = tmp_path / "units.geojson"
    units.to_file(f, driver="GeoJSON")
    res = CliRunner().invoke(
        app, ["check", "--osm", "demo", "--units", str(f), "--out", str(tmp_path / "o"), "-q"]
    )
    assert res.exit_code == 0, res.output
    books = sorted((tmp_path / "o").glob("*.xlsx"))
    assert len(books) == 2  # the scorecard workbook (分单元 sheet) and the units table
    seen = set()
    for book in books:
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, ws.title, cell.coordinate)
                    if isinstance(cell.value, str):
                        seen.add(cell.value)
    assert EVIL in seen and "西街道" in seen  # kept as text; the bell character removed
    # the CSV tables too: a formula-looking name opens as text in Excel / WPS (a leading ')
    import csv

    cells = set()
    for table in (tmp_path / "o").glob("*.csv"):
        with open(table, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                cells |= set(row)
    assert "'" + EVIL in cells and EVIL not in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@")]


def test_csv_safe_escapes_formulas_not_numbers() -> None:
    import pandas as pd

    from geoplan.outputs.formats import csv_safe

    df = pd.DataFrame(
        {"t": ["=1+1", "+SUM(A1)", "@x", "-22.7", "-", "-cmd", "安阳"], "v": range(7)}
    )
    got = csv_safe(df)
    assert list(got["t"]) == ["'=1+1", "'+SUM(A1)", "'@x", "-22.7", "'-", "'-cmd", "安阳"]
    assert list(got["v"]) == list(range(7))


def test_an_interrupted_workbook_is_not_saved_and_the_interrupt_survives(tmp_path: Path) -> None:
    """A KeyboardInterrupt (a SIGTERM) before any sheet is written: no file, the interrupt
    propagates (pandas' own writer would try to save and raise openpyxl's IndexError)."""
    target = tmp_path / "book.xlsx"
    with pytest.raises(KeyboardInterrupt), excel_writer(target):
        raise KeyboardInterrupt
    assert not target.exists()
    with excel_writer(target) as xw:
        pd.DataFrame({"a": [1]}).to_excel(xw, sheet_name="s", index=False)
    assert openpyxl.load_workbook(target).sheetnames == ["s"]
