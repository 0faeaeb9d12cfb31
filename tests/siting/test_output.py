"""What ``geoplan suggest`` writes (``geoplan.siting.output``): sites, summary and a scenario
that loads again from its own folder, read back and counted."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml

import geoplan
from geoplan.scenario.files import load_scenario_file
from geoplan.siting import spec_of, suggest_sites
from geoplan.siting.output import write_suggestion


def test_written_suggestion_reads_back(
    chengdu_clip: geoplan.City, chengdu_pbf: Path, tmp_path: Path
) -> None:
    spec = spec_of("bus_stop_coverage", radius_m=300.0, method="buffer", basis="homes", target=1.0)
    res = suggest_sites(chengdu_clip, spec=spec, max_sites=5)
    out = tmp_path / "out"
    out.mkdir()
    city_block = {"osm": str(chengdu_pbf), "name": "chengdu_clip"}
    paths = write_suggestion(res, out, stem="s", city=city_block, targets="national")
    sites = gpd.read_file(paths["sites"])
    table = pd.read_csv(paths["sites_csv"])
    n = len(res.sites)
    assert n > 0 and len(table) == n == len(sites)
    assert sites.crs == chengdu_clip.crs
    assert table["lon"].between(104.0, 104.2).all() and table["lat"].between(30.6, 30.8).all()
    summary = json.loads(
        next(p for p in paths.values() if str(p).endswith("_summary.json")).read_text()
    )
    assert summary["coverage_before"] == pytest.approx(res.coverage_before)
    assert summary["coverage_after"] == pytest.approx(res.coverage_after)
    scn_path = paths["scenario"]
    doc = yaml.safe_load(scn_path.read_text(encoding="utf-8"))
    assert not Path(doc["city"]["osm"]).is_absolute()  # relative to the scenario's folder
    assert (out / doc["city"]["osm"]).resolve() == chengdu_pbf.resolve()
    scn = load_scenario_file(scn_path)
    assert scn.name and len(scn.changes) == 1
