"""Filtering homes.gpkg at a radius reproduces every homes-based share of the check.

The planner's reproduction, done here with GeoPandas on the written file alone: read
``<city>_<sheet>_homes.gpkg``, take a distance column, compare with the radius, average (by count,
by residential land, by residents) — and get the figure of ``measures.csv``.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geoplan.cli import app

runner = CliRunner()

#: measure → (distance columns, each with its radius in m): a home is covered when any holds
RULES = {
    "park_service": [("dist_park_tier_5000_m", 500.0), ("dist_park_tier_2000_m", 300.0)],
    "green_300": [("dist_green_min_400_m", 300.0)],
    "park_500": [("dist_park_min_5000_m", 500.0)],
    "bus_cov_300": [("dist_bus_stop_m", 300.0)],
    "bus_cov_500": [("dist_bus_stop_m", 500.0)],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, chengdu_pbf: Path) -> Path:
    out = tmp_path_factory.mktemp("homes")
    res = runner.invoke(
        app,
        [
            "check",
            "--osm",
            str(chengdu_pbf),
            "--boundary",
            "layers/chengdu_study_area.geojson",
            "-t",
            "national",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def _one(folder: Path, suffix: str) -> Path:
    (p,) = folder.glob(f"*{suffix}")
    return p


@pytest.mark.parametrize("measure", sorted(RULES))
def test_a_filter_of_homes_gpkg_gives_the_network_share(written: Path, measure: str) -> None:
    homes = gpd.read_file(_one(written, "_homes.gpkg"))
    measures = pd.read_csv(_one(written, "_measures.csv"), encoding="utf-8-sig")
    covered = np.zeros(len(homes), dtype=bool)
    for col, radius in RULES[measure]:
        d = homes[col].to_numpy(dtype=float)  # empty cells (beyond the search) read as NaN
        covered |= np.nan_to_num(d, nan=np.inf) <= radius
    land = homes["area_m2"].to_numpy(dtype=float)
    expected = {"homes": covered.mean(), "residential_area": land[covered].sum() / land.sum()}
    rows = measures[(measures["measure"] == measure) & (measures["method"] == "network")]
    for basis, want in expected.items():
        got = rows.loc[rows["basis"] == basis, "value"]
        assert len(got) == 1, (measure, basis)
        assert float(got.iloc[0]) == pytest.approx(want, abs=1e-12), (measure, basis)
