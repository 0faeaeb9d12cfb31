"""Scenario edit re-run: how long a planner waits after editing one layer of a scenario.

Tiles the real Chengdu extract N×N (``bench/tile.py``), loads the tiled city, then with one
:class:`geoplan.ScenarioSession` runs a scenario that adds 40 pocket parks, and again after moving
one of them (a parks-only edit). Prints the wall time of the first run and of the edited re-run,
and, where the code has one, the per-indicator result-cache report of the re-run.

The same script runs on older commits (the API it uses — ``load_city``, ``Scenario.add_parks``,
``ScenarioSession.run`` — is unchanged), which is how the before/after figures of
``docs/benchmarks.md`` were taken in one session on one machine::

    .venv/bin/python bench/scenario_edit.py --n 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tile import read_extract, tile_pbf  # noqa: E402

SRC = HERE.parents[1] / "shared" / "data" / "chengdu_2018_center.osm.pbf"
CORE = (104.0421, 30.6528, 104.1296, 30.7279)


def pocket_parks(city: object, n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` squares of 60 m centred on residential parcels (metric CRS of the city)."""
    res = city.residential  # type: ignore[attr-defined]
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(res), size=min(n, len(res)), replace=False)
    c = shapely.point_on_surface(res.geometry.values[pick])
    x, y = shapely.get_x(c), shapely.get_y(c)
    return gpd.GeoDataFrame(
        {"name": [f"pocket {i}" for i in range(len(pick))]},
        geometry=shapely.box(x - 30, y - 30, x + 30, y + 30),
        crs=res.crs,
    )


def measure(n: int) -> dict[str, object]:
    """Load the N×N tile, run the scenario, move one park, run it again; the timings."""
    from geoplan.city import load_city
    from geoplan.scenario import Scenario, ScenarioSession

    ex = read_extract(SRC)
    out = HERE / "out" / f"chengdu_2018_center_{n}x{n}.osm.pbf"
    if not out.exists():
        tile_pbf(SRC, out, n, extract=ex)
    minx, miny, maxx, maxy = ex.bbox_e7()
    dx, dy = (maxx - minx) / 1e7, (maxy - miny) / 1e7
    boxes = [
        shapely.box(CORE[0] + i * dx, CORE[1] + j * dy, CORE[2] + i * dx, CORE[3] + j * dy)
        for i in range(n)
        for j in range(n)
    ]
    t = time.perf_counter()
    city = load_city(out, boundary=shapely.MultiPolygon(boxes), progress=False)
    load_s = time.perf_counter() - t
    parks = pocket_parks(city, 40)
    moved = parks.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry.iloc[0], 150.0, 0.0)

    session = ScenarioSession(city)
    t = time.perf_counter()
    first = session.run(Scenario("parks", targets="zhengzhou-zhongyuan-2019").add_parks(parks))
    first_s = time.perf_counter() - t
    t = time.perf_counter()
    second = session.run(Scenario("parks", targets="zhengzhou-zhongyuan-2019").add_parks(moved))
    second_s = time.perf_counter() - t
    return {
        "n": n,
        "graph_nodes": city.network.n_nodes,
        "homes": len(first.plan.homes),
        "load_s": round(load_s, 2),
        "first_run_s": round(first_s, 2),
        "edited_rerun_s": round(second_s, 2),
        "edited_rerun_steps": second.seconds,
        "plan_check_steps": second.plan.seconds,
        "cache_report": getattr(session, "last_cache_report", None),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4, help="copies per side (default 4)")
    a = ap.parse_args(argv)
    report = measure(a.n)
    sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
