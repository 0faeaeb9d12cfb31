"""The styled workbook (``geoplan.outputs.workbook``): number formats and sheets, read back."""

from __future__ import annotations

from pathlib import Path

import openpyxl

import geoplan
from geoplan.outputs.workbook import number_format, write_workbook


def test_number_formats_by_unit() -> None:
    assert number_format("share") == "0.0%"
    assert number_format("count") == "0"
    assert number_format("km/km2") == '0.00" km/km²"'
    assert number_format("m2/person") == '0.00" m²/person"'
    assert number_format(None) == "0.00"


def test_workbook_cells_carry_the_unit_format(chengdu_clip: geoplan.City, tmp_path: Path) -> None:
    res = geoplan.check_city(chengdu_clip, sheet="national")
    path = write_workbook(tmp_path / "w.xlsx", scorecard=res.scorecard, measures=res.measures)
    wb = openpyxl.load_workbook(path)
    assert len(wb.sheetnames) >= 2
    ws = wb[wb.sheetnames[0]]
    header = [c.value for c in ws[1]]
    col = header.index("现状值") + 1  # the measured value (zh headers by default)
    units = list(res.scorecard["unit"])
    seen = set()
    for row, unit in enumerate(units, start=2):
        cell = ws.cell(row=row, column=col)
        if isinstance(cell.value, float):
            assert cell.number_format == number_format(unit), (row, unit)
            seen.add(unit)
    assert "share" in seen
