"""``geoplan run`` as a function (``geoplan.cli.run``): a scenario file of the repository run,
its written scorecard equal to the result, the moved-measures table one row per moved measure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geoplan.cli.run import change_table, moved_table, run_scenario_file

ROOT = Path(__file__).resolve().parents[2]


def test_run_scenario_file_writes_what_it_measured(tmp_path: Path) -> None:
    res, paths = run_scenario_file(
        ROOT / "scenarios" / "demo_zhengzhou_parks.yaml", out=tmp_path, name="t"
    )
    card = res.scorecard
    written = next(p for p in paths.values() if str(p).endswith("_scorecard.csv"))
    back = pd.read_csv(written)
    assert len(back) == len(card)
    m = res.measures
    moved = ((m["value_baseline"] - m["value_plan"]).abs() > 1e-9) | (
        m["value_baseline"].isna() != m["value_plan"].isna()
    )
    assert moved.any()  # the parks move some figure
    table = moved_table(m, title="t")
    assert table is not None and 0 < table.row_count <= int(moved.sum())
    checkable = card["status_plan"] != "not checkable"
    assert 0 < change_table(card, title="t").row_count == int(checkable.sum())
    assert moved_table(m.assign(value_plan=m["value_baseline"]), title="t") is None


def test_write_scenario_files_read_back(tmp_path: Path) -> None:
    """``geoplan.outputs.scenario_set.write_scenario`` of a run: the CSVs hold the result's
    tables, the workbook its sheets, the change map and the side-by-side page exist."""
    import openpyxl

    from geoplan.outputs.scenario_set import write_scenario

    res, _ = run_scenario_file(ROOT / "scenarios" / "demo_zhengzhou_parks.yaml", out=tmp_path / "a")
    paths = write_scenario(res, tmp_path / "b", lang="en")
    card = pd.read_csv(paths["scorecard"])
    assert len(card) == len(res.scorecard)
    assert list(card["target_id"]) == list(res.scorecard["target_id"])
    measures = pd.read_csv(paths["measures"])
    assert len(measures) == len(res.measures)
    wb = openpyxl.load_workbook(paths["xlsx"])
    assert {"units", "homes", "added"} <= set(wb.sheetnames)
    assert paths["map"].stat().st_size > 10_000 and paths["map_side_by_side"].exists()
