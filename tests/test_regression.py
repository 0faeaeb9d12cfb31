"""Refactor regression: every figure of the reference runs is unchanged (to 1e-9).

The record (``tests/data/regression_figures.json``) was written by ``tests/_regression.py
--write`` before the engine refactor moved any code; it proves that a change of structure did not
move a figure. It is not an independent check (those are the ``_reference`` tests). A change that
moves figures on purpose re-records it and lists what moved in its commit.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _regression import RECORD, figures
from tolerances import REGRESSION_ABS


@pytest.fixture(scope="module")
def now() -> dict[str, Any]:
    return figures()


def _diff(run: str, rec: dict[str, Any], got: dict[str, Any]) -> list[str]:
    bad: list[str] = []
    for table, rows in rec.items():
        g_rows = got.get(table, {})
        missing = sorted(set(rows) - set(g_rows))
        extra = sorted(set(g_rows) - set(rows))
        bad += [f"{run} {table}: row {k} missing" for k in missing]
        bad += [f"{run} {table}: new row {k}" for k in extra]
        for key, vals in rows.items():
            for col, want in vals.items():
                have = g_rows.get(key, {}).get(col)
                if key not in g_rows:
                    continue
                if isinstance(want, float) and isinstance(have, float):
                    if not math.isclose(want, have, rel_tol=0, abs_tol=REGRESSION_ABS):
                        bad.append(f"{run} {table} {key} {col}: {want!r} -> {have!r}")
                elif want != have:
                    bad.append(f"{run} {table} {key} {col}: {want!r} -> {have!r}")
    return bad


def test_every_recorded_figure_is_unchanged(now: dict[str, Any]) -> None:
    rec = json.loads(RECORD.read_text())
    assert set(now) == set(rec)
    bad = [line for run in rec for line in _diff(run, rec[run], now[run])]
    assert not bad, f"{len(bad)} figures moved:\n" + "\n".join(bad[:40])


def test_the_record_is_not_trivial() -> None:
    rec = json.loads(RECORD.read_text())
    values = [
        v
        for run in rec.values()
        for rows in run.values()
        for vals in rows.values()
        for v in vals.values()
        if isinstance(v, float)
    ]
    assert len(values) > 1000
    assert len({round(v, 6) for v in values}) > 200  # real, varied figures


def test_a_moved_figure_is_caught() -> None:
    rec = json.loads(RECORD.read_text())
    run = rec["demo/anyang-2023"]
    moved = json.loads(json.dumps(run))
    key = next(k for k, v in moved["measures"].items() if isinstance(v["value"], float))
    moved["measures"][key]["value"] += 1e-6
    assert len(_diff("demo", run, moved)) == 1
