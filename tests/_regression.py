"""Every figure geoplan prints on the reference runs, for the refactor regression test.

``python tests/_regression.py --write`` records today's figures into
``tests/data/regression_figures.json``; ``tests/test_regression.py`` recomputes them and asserts
they did not move (to 1e-9). This is the refactor's regression record, not an independent check: the
independent-reference tests (``tests/_reference.py``) stay as they are.

Runs: the Chengdu study area (``layers/chengdu_study_area.geojson``) against all six bundled
sheets; São Paulo with its H3 population grid (national sheet); the embedded demo city
(anyang-2023, what ``make demo`` prints); the demo scenarios in ``scenarios/``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

import geoplan
from geoplan.io.population import read_population
from geoplan.network.cache import AccessCache
from geoplan.scenario.files import load_scenario_file
from geoplan.scenario.session import ScenarioSession
from geoplan.scoring.check import check_city

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RECORD = Path(__file__).with_name("data") / "regression_figures.json"
SHEETS = (
    "national",
    "jiyuan-2027",
    "anyang-2023",
    "luoyang-2023",
    "xinxiang-gxq-2019",
    "zhengzhou-zhongyuan-2019",
)
SCENARIOS = ("demo_zhengzhou_parks.yaml", "demo_xinxiang.yaml", "demo_anyang_bus.py")


def _num(v: Any) -> float | str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    f = float(v)
    return None if math.isnan(f) else f


def _frame(df: pd.DataFrame, key: list[str], values: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _, r in df.iterrows():
        k = "|".join(str(r[c]) for c in key)
        out[k] = {
            c: _num(r[c]) if c not in ("status", "status_baseline", "status_plan") else str(r[c])
            for c in values
        }
    return out


def _check(result: Any) -> dict[str, Any]:
    return {
        "measures": _frame(result.measures, ["indicator", "measure", "method", "basis"], ["value"]),
        "scorecard": _frame(
            result.scorecard, ["target_id", "method", "basis"], ["measured", "status", "gap"]
        ),
    }


def figures() -> dict[str, Any]:
    """Recompute every recorded figure (keys = run names)."""
    out: dict[str, Any] = {}
    chengdu = geoplan.load_city(
        DATA / "chengdu_2018_center.osm.pbf",
        boundary=ROOT / "layers" / "chengdu_study_area.geojson",
    )
    cache = AccessCache()
    for sheet in SHEETS:
        out[f"chengdu/{sheet}"] = _check(check_city(chengdu, sheet=sheet, cache=cache))
    sp = geoplan.load_city(DATA / "sao_paulo_centre.osm.pbf")
    pop = read_population(DATA / "sao_paulo_hexgrid_population.csv", column="population")
    out["sao_paulo/national+population"] = _check(check_city(sp, sheet="national", population=pop))
    demo = geoplan.load_city("demo")
    out["demo/anyang-2023"] = _check(check_city(demo, sheet="anyang-2023"))
    for name in SCENARIOS:
        scn = load_scenario_file(ROOT / "scenarios" / name)
        res = ScenarioSession(scn.load_base()).run(scn)
        out[f"scenario/{name}"] = {
            "scorecard": _frame(
                res.scorecard,
                ["target_id", "method", "basis"],
                ["measured_baseline", "measured_plan", "delta", "status_baseline", "status_plan"],
            ),
            "measures": _frame(
                res.measures,
                ["indicator", "measure", "method", "basis"],
                ["value_baseline", "value_plan"],
            ),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="record today's figures")
    args = ap.parse_args()
    figs = figures()
    if args.write:
        RECORD.write_text(json.dumps(figs, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    n = sum(len(v2) for v in figs.values() for v2 in v.values())
    print(f"{len(figs)} runs, {n} rows")


if __name__ == "__main__":
    main()
