"""The one writer of a check's output set: the same files for check and batch, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import geoplan
from geoplan.city import Study
from geoplan.outputs.check_set import write_check_set


@pytest.fixture(scope="module")
def checked() -> tuple[Study, geoplan.City, geoplan.CheckResult]:
    study = Study(osm="demo", units_grid=1000)
    city = study.load(progress=False)
    return study, city, study.check("anyang-2023", city=city)


def test_the_set_holds_every_output_and_its_manifest(
    checked: tuple[Study, geoplan.City, geoplan.CheckResult], tmp_path: Path
) -> None:
    study, city, result = checked
    out = tmp_path / "out"
    written = write_check_set(
        study, city, result, out=out, targets="anyang-2023", map_path=out / "m.html"
    )
    stem = f"{result.city_name}_{result.sheet.id}"
    names = {p.name for p in written.paths.values()}
    for suffix in ("_scorecard.csv", "_scorecard.xlsx", "_measures.csv", "_units.csv"):
        assert f"{stem}{suffix}" in names
    assert "m.html" in names and "map" in written.seconds
    manifest = json.loads((out / f".geoplan-check-{result.sheet.id}.json").read_text("utf-8"))
    assert sorted(manifest["files"]) == sorted(str(p) for p in written.paths.values())
    # the tables hold what the result holds (read back independently of the writer)
    card = pd.read_csv(out / f"{stem}_scorecard.csv", encoding="utf-8-sig")
    assert len(card) == len(result.scorecard)
    units = pd.read_csv(out / f"{stem}_units.csv", encoding="utf-8-sig")
    assert len(units) == len(result.units)  # type: ignore[arg-type]


def test_extra_texts_join_the_set_after_the_other_files(
    checked: tuple[Study, geoplan.City, geoplan.CheckResult], tmp_path: Path
) -> None:
    study, city, result = checked
    seen: list[int] = []

    def record() -> dict[str, str]:
        seen.append(len(list(tmp_path.rglob("*_scorecard.csv"))))  # staged, not yet in place
        return {"record.json": "{}"}

    written = write_check_set(
        study, city, result, out=tmp_path / "o", targets="anyang-2023", extra_texts=record
    )
    assert seen == [1] and written.paths["record.json"].read_text("utf-8") == "{}"


def test_an_input_is_never_overwritten(
    checked: tuple[Study, geoplan.City, geoplan.CheckResult], tmp_path: Path
) -> None:
    study, city, result = checked
    stem = f"{result.city_name}_{result.sheet.id}"
    victim = tmp_path / f"{stem}_measures.csv"
    victim.write_text("planner's own file", encoding="utf-8")
    study = study.replace(units=victim, units_grid=None)  # the file is now an input
    with pytest.raises(geoplan.OutputError, match="is also an input"):
        write_check_set(study, city, result, out=tmp_path, targets="anyang-2023")
    assert victim.read_text("utf-8") == "planner's own file"
