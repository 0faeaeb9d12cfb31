"""Barrier and gate layers (``geoplan.io.barriers.barrier_layers``) against hand counts of the
raw read of central Chengdu and a small study box."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import shapely
from pyproj import CRS

from geoplan.io.barriers import MARGIN_M, barrier_layers
from geoplan.io.osm import read_osm


def test_gates_and_barriers_near_the_study_area(chengdu_pbf: Path) -> None:
    raw = read_osm(chengdu_pbf)
    crs = CRS.from_epsg(32648)  # UTM 48N
    box = gpd.GeoSeries([shapely.box(104.06, 30.67, 104.08, 30.69)], crs=4326).to_crs(crs).iloc[0]
    barriers, gates = barrier_layers(raw, crs, box)
    near = box.buffer(MARGIN_M)
    # gates: every gate node of the read within the margin, by hand
    pts = gpd.GeoSeries.from_xy(
        [g[1] for g in raw.gate_nodes], [g[2] for g in raw.gate_nodes], crs=4326
    )
    inside = pts.to_crs(crs).intersects(near).to_numpy()
    assert len(gates) == int(inside.sum()) > 0
    exp_ids = sorted(g[0] for g, k in zip(raw.gate_nodes, inside, strict=True) if k)
    assert sorted(gates["osmid"]) == exp_ids
    # barriers: each one meets the margin, with one of the four causes
    assert len(barriers) > 0 and barriers.intersects(near).all()
    assert set(barriers["cause"]) <= {"water", "railway", "expressway", "wall"}
    # the whole extract's box holds at least as much as the small box
    all_barriers, all_gates = barrier_layers(raw, crs, box.buffer(20_000))
    assert len(all_barriers) >= len(barriers) and len(all_gates) >= len(gates)
