"""城市绿道服务半径覆盖率 on a real street: a real Chengdu footway renamed 绿道 in a copy.

Independent of geoplan: the way's nodes projected with pyproj, its 1 km buffer cut with the
residential land by shapely (buffer share); networkx walks from every home (walking share).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pyproj
import pytest
import shapely
from _reference import attachment_rows, edges_of, reference_distances
from tolerances import AREA_REL, QUAD_SEGS

import geoplan
from geoplan.network.access import attach_points, facility_sources
from geoplan.scoring.check import check_city


def _renamed_copy(src: Path, dst: Path) -> tuple[int, list[tuple[float, float]]]:
    """Copy ``src`` with the footway / path / cycleway nearest the centre of its study box named
    锦江绿道; its id and nodes."""
    centre = shapely.Point((104.0421 + 104.1296) / 2, (30.6528 + 30.7279) / 2)
    best, best_d = -1, np.inf
    nodes: dict[int, tuple[float, float]] = {}
    for o in osmium.FileProcessor(str(src)).with_locations():
        if o.is_way() and o.tags.get("highway") in ("footway", "path", "cycleway"):
            xy = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
            if len(xy) < 2 or shapely.LineString(xy).length < 0.002:  # ~200 m
                continue
            d = shapely.LineString(xy).distance(centre)
            if d < best_d:
                best, best_d = o.id, d
                nodes = dict(enumerate(xy))
    assert best > 0
    with osmium.SimpleWriter(str(dst)) as w:
        for o in osmium.FileProcessor(str(src)):
            if o.is_way() and o.id == best:
                tags = {t.k: t.v for t in o.tags}
                tags["name"] = "锦江绿道"
                w.add_way(o.replace(tags=tags))
            elif o.is_node():
                w.add_node(o)
            elif o.is_way():
                w.add_way(o)
            else:
                w.add_relation(o)
    return best, list(nodes.values())


def test_greenway_coverage_on_a_real_way(chengdu_pbf: Path, tmp_path: Path) -> None:
    pbf = tmp_path / "chengdu_greenway.osm.pbf"
    osmid, lonlat = _renamed_copy(chengdu_pbf, pbf)
    city = geoplan.load_city(pbf)
    gw = city.facilities.loc[city.facilities["category"] == "greenway"]
    assert list(gw["osmid"]) == [osmid] and gw.geometry.iloc[0].geom_type == "LineString"
    res = check_city(city, sheet="chengshi-tijian")
    card = res.scorecard.set_index(["target_id", "method"])
    # buffer: residential land within 1 km of the way ÷ residential land (shapely)
    t = pyproj.Transformer.from_crs(4326, city.crs, always_xy=True)
    line = shapely.LineString([t.transform(x, y) for x, y in lonlat])
    line = line.intersection(city.boundary_polygon)
    land = shapely.union_all(list(city.residential.geometry))
    want = land.intersection(line.buffer(1000.0, quad_segs=QUAD_SEGS)).area / land.area
    got = float(card.loc[("greenway_radius", "buffer"), "measured"])
    assert 0.05 < want < 0.95
    assert got == pytest.approx(want, rel=AREA_REL)
    # walking: homes within 1 km on foot of the greenway (networkx)
    net = city.network
    homes = res.homes
    h_rows, _ = attachment_rows(attach_points(net, homes.geometry.values))
    _, s_rows = attachment_rows(facility_sources(net, np.asarray([line], dtype=object)))
    d = reference_distances(edges_of(net), h_rows, s_rows, cutoff_m=1000.0)
    row = card.loc[("greenway_radius", "network")]
    w = homes["area_m2"].to_numpy(dtype=float) if row["basis"] == "residential_area" else None
    share = float(np.average(d <= 1000.0, weights=w))
    assert float(row["measured"]) == pytest.approx(share, abs=1e-9), row["basis"]
    # the original file has no greenway: no data, not 0 %
    plain = check_city(geoplan.load_city(chengdu_pbf), sheet="chengshi-tijian").scorecard
    row = plain.loc[plain["target_id"] == "greenway_radius"].iloc[0]
    assert row["status"] == "no data" and "绿道" in row["note"]
