"""The serial batch engine (``geoplan.batch.engines.run_serial``): each place's row is that
place's own check; a second run without ``force`` reuses the current results."""

from __future__ import annotations

from pathlib import Path

from conftest import CHENGDU_BBOX, CHENGDU_PBF

import geoplan
from geoplan.batch import load_batch
from geoplan.batch.engines import run_serial


def test_rows_are_the_places_checks(tmp_path: Path) -> None:
    w, s, e, n = CHENGDU_BBOX
    box = [w, s, (w + e) / 2, (s + n) / 2]
    f = tmp_path / "b.yaml"
    f.write_text(
        f"name: t\nosm: {CHENGDU_PBF}\ndefaults: {{targets: national}}\n"
        f"places:\n  - {{name: sw, boundary: {box}, map: false}}\n",
        encoding="utf-8",
    )
    done: list[dict[str, object]] = []
    rows = run_serial(load_batch(f), str(tmp_path / "out"), on_done=done.append)
    assert len(rows) == 1 and done == rows and rows[0]["status"] == "ok"
    city = geoplan.load_city(CHENGDU_PBF, boundary=tuple(box), name="sw")
    res = geoplan.check_city(city, sheet="national")
    card = res.scorecard
    passed = int((card["status"] == "pass").sum())
    failed = int((card["status"] == "fail").sum())
    assert rows[0]["pass"] == passed and rows[0]["fail"] == failed
    again = run_serial(load_batch(f), str(tmp_path / "out"))
    assert again[0]["status"] == "skipped" and again[0]["pass"] == passed  # results current
    forced = run_serial(load_batch(f), str(tmp_path / "out"), force=True)
    assert forced[0]["status"] == "ok" and forced[0]["pass"] == passed
