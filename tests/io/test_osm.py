"""Reading OSM sources: PBF / XML / bz2 / gz, clipped extracts, invalid polygons, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest
import shapely
from conftest import CHENGDU_BBOX, assert_same_read, chengdu_clip_polygon, sha256

import geoplan
from geoplan.io.osm import read_osm


def _counts(city: geoplan.City) -> dict[str, object]:
    return {
        **{k: len(v) for k, v in city.layers().items()},
        "length_km": round(city.network.total_length_km, 6),
    }


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2", ".osm.gz"])
def test_xml_formats_load_like_the_pbf(
    suffix: str, chengdu_pbf: Path, chengdu_clip: geoplan.City, tmp_path: Path
) -> None:
    out = tmp_path / f"chengdu{suffix}"
    with osmium.SimpleWriter(str(out)) as w:
        for o in osmium.FileProcessor(str(chengdu_pbf)):
            w.add(o)
    city = geoplan.load_city(out, boundary=chengdu_clip_polygon())
    assert _counts(city) == _counts(chengdu_clip)
    assert set(city.facilities["osmid"]) == set(chengdu_clip.facilities["osmid"])


def test_dangling_references_are_dropped_and_counted(chengdu_pbf: Path, tmp_path: Path) -> None:
    # every node referenced by a highway way; drop 10 % of them
    hw_refs: list[list[int]] = []
    for o in osmium.FileProcessor(str(chengdu_pbf), osmium.osm.WAY):
        if "highway" in o.tags:
            hw_refs.append([n.ref for n in o.nodes])
    referenced = np.unique(np.concatenate([np.array(r) for r in hw_refs]))
    rng = np.random.default_rng(3)
    dropped = set(rng.choice(referenced, size=len(referenced) // 10, replace=False).tolist())
    expected = sum(r in dropped for refs in hw_refs for r in refs)

    clipped = tmp_path / "clipped.osm.pbf"
    with osmium.SimpleWriter(str(clipped)) as w:
        for o in osmium.FileProcessor(str(chengdu_pbf)):
            if o.is_node() and o.id in dropped:
                continue
            w.add(o)

    city = geoplan.load_city(clipped, boundary=CHENGDU_BBOX)
    assert city.report.dangling_refs == expected > 1000
    assert any(f"dropped {expected} references" in n for n in city.report.notes)

    # no edge crosses a dropped node: each edge is a run of consecutive kept nodes of its way
    net = city.network
    way_refs = {}
    for o in osmium.FileProcessor(str(chengdu_pbf), osmium.osm.WAY):
        if "highway" in o.tags:
            way_refs[o.id] = [n.ref for n in o.nodes]
    assert not dropped.intersection(net.node_osmid.tolist())
    nverts = shapely.get_num_coordinates(net.edge_geometry)
    for i in range(net.n_edges):
        refs = way_refs[int(net.edge_osmid[i])]
        u, v, k = int(net.node_osmid[net.edge_u[i]]), int(net.node_osmid[net.edge_v[i]]), nverts[i]
        runs = [
            refs[a : a + k]
            for a in range(len(refs) - k + 1)
            if refs[a] == u and refs[a + k - 1] == v
        ]
        assert any(not dropped.intersection(run) for run in runs), i


BOWTIE = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="geoplan tests">
  <node id="1" lat="30.690" lon="104.080"/>
  <node id="2" lat="30.690" lon="104.082"/>
  <node id="3" lat="30.692" lon="104.080"/>
  <node id="4" lat="30.692" lon="104.082"/>
  <node id="5" lat="30.689" lon="104.079"/>
  <node id="6" lat="30.693" lon="104.083"/>
  <way id="10">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="landuse" v="residential"/>
  </way>
  <way id="11">
    <nd ref="5"/><nd ref="6"/>
    <tag k="highway" v="footway"/>
  </way>
</osm>
"""


def test_self_intersecting_polygon_is_repaired_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "bowtie.osm"
    path.write_text(BOWTIE, encoding="utf-8")
    city = geoplan.load_city(path)
    assert city.report.repaired_polygons == 1
    assert city.report.areas_failed == 0
    assert any("repaired 1 invalid" in n for n in city.report.notes)
    res = city.residential
    assert len(res) == 1 and res.geometry.is_valid.all()
    # the repaired bow-tie is its two triangles: half the 2 x 2 milli-degree square
    square = shapely.box(104.080, 30.690, 104.082, 30.692)
    import geopandas as gpd

    want = gpd.GeoSeries([square], crs=4326).to_crs(city.crs).area.iloc[0] / 2
    assert res["area_m2"].iloc[0] == pytest.approx(want, rel=1e-3)
    assert path.read_text(encoding="utf-8") == BOWTIE  # input untouched


def test_bad_files_raise_one_line_input_errors(tmp_path: Path) -> None:
    with pytest.raises(geoplan.InputFileError, match="not found"):
        geoplan.load_city(tmp_path / "missing.osm.pbf")
    txt = tmp_path / "notes.txt"
    txt.write_text("hello", encoding="utf-8")
    with pytest.raises(geoplan.InputFileError, match="unknown OSM file type") as exc:
        geoplan.load_city(txt)
    assert "\n" not in str(exc.value) and str(txt) in str(exc.value)
    bad = tmp_path / "corrupt.osm.pbf"
    bad.write_bytes(b"\x00\x01not a pbf at all" * 10)
    before = sha256(bad)
    with pytest.raises(geoplan.InputFileError, match=r"cannot read|is not OSM data"):
        geoplan.load_city(bad)
    assert sha256(bad) == before


@pytest.mark.parametrize("name", ["chengdu_pbf", "sao_paulo_pbf"])
def test_ways_read_in_a_second_process_equal_one_pass(
    name: str, request: pytest.FixtureRequest
) -> None:
    """read_osm(parallel=True) (highway ways in a forked process) = the one-process read."""
    path = request.getfixturevalue(name)
    one = read_osm(path, parallel=False)
    two = read_osm(path, parallel=True)
    assert len(one.ways) > 1000
    # barrier ways (rivers, railways, walls) come from the second process too
    assert len(one.barrier_lines) > 100
    assert_same_read(one, two)


def test_tag_strings_are_shared_and_tags_complete(chengdu_pbf: Path) -> None:
    raw = read_osm(chengdu_pbf, parallel=False)
    res = [w.tags for w in raw.ways if w.tags.get("highway") == "residential"]
    assert len(res) > 10
    keys = {id(k) for t in res for k in t if k == "highway"}
    vals = {id(t["highway"]) for t in res}
    assert len(keys) == 1 and len(vals) == 1  # one string object each, however many ways
    # independent: every tag of every highway way, as pyosmium lists it
    want = {}
    for o in osmium.FileProcessor(str(chengdu_pbf), osmium.osm.WAY):
        if "highway" in o.tags:
            want[o.id] = {t.k: t.v for t in o.tags}
    got = {w.osmid: w.tags for w in raw.ways}
    assert got.keys() <= want.keys()
    assert all(got[i] == want[i] for i in got)


def test_nodes_no_rule_reads_stay_out_and_change_no_layer(
    monkeypatch: pytest.MonkeyPatch, chengdu_pbf: Path, sao_paulo_pbf: Path
) -> None:
    """Crossings, lamps, signals are left out of the points; every layer and the extent stay."""
    import geopandas as gpd

    from geoplan.city import demo_path
    from geoplan.io import osm
    from geoplan.io.osm_layers import build_layers
    from geoplan.io.projection import WGS84, metric_crs
    from geoplan.rules import taxonomy as tx

    values = tx.highway_values_read()
    assert values is not None and "bus_stop" in values and "crossing" not in values
    read = tx.layer_rule_keys() | set(osm.KEYS) | {"bus"}
    n_dropped = 0
    for p in (demo_path(), sao_paulo_pbf, chengdu_pbf):
        lean = read_osm(p, parallel=False)
        with monkeypatch.context() as m:
            m.setattr(osm, "_unread_node_test", lambda: lambda obj: False)
            full = read_osm(p, parallel=False)
        assert lean.bbox == full.bbox
        kept = {r[0] for r in lean.points}
        dropped = [r for r in full.points if r[0] not in kept]
        assert len(lean.points) + len(dropped) == len(full.points)
        for _, _, _, t in dropped:  # highway with a value no rule asks for, no other read key
            assert t["highway"] not in values and not (set(t) - {"highway"}) & read
        n_dropped += len(dropped)
        assert lean.bbox is not None
        c = shapely.box(*lean.bbox).centroid
        crs = metric_crs(None, lon=c.x, lat=c.y, bounds=lean.bbox)
        bnd = gpd.GeoSeries([shapely.box(*lean.bbox)], crs=WGS84).to_crs(crs).iloc[0]
        a, _ = build_layers(lean, crs, bnd)
        b, _ = build_layers(full, crs, bnd)
        for k in b:
            assert a[k].drop(columns="geometry").equals(b[k].drop(columns="geometry")), k
            assert np.all(shapely.equals_exact(a[k].geometry.values, b[k].geometry.values, 0.0))
    assert n_dropped > 1000  # a third of Helsinki's tagged nodes
