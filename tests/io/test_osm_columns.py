"""The DuckDB column read equals the pyosmium read, object for object, in file order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pytest
from conftest import CHENGDU_PBF, SAO_PAULO_PBF, assert_same_read, require, sha256

import geoplan
from geoplan.io import osm_columns, osm_stream
from geoplan.io.osm import read_osm

pytestmark = pytest.mark.skipif(not osm_columns.available(), reason="duckdb not installed")


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("name", ["chengdu", "sao_paulo", "demo"])
def test_three_cities_read_both_ways_are_equal(name: str, parallel: bool) -> None:
    path = {
        "chengdu": require(CHENGDU_PBF),
        "sao_paulo": require(SAO_PAULO_PBF),
        "demo": geoplan.demo_path(),
    }[name]
    one = read_osm(path, reader="pyosmium", parallel=False)
    two = read_osm(path, reader="duckdb", parallel=parallel)
    assert len(one.ways) > 2000 and len(one.points) > 500
    assert_same_read(one, two)


@pytest.mark.parametrize("parallel", [False, True])
def test_many_record_batches_and_dangling_refs(
    chengdu_pbf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parallel: bool
) -> None:
    """Sliced Arrow batches and nodes missing from a clipped file: still the pyosmium read.

    Forked, the child sends the nodes of the batches before the first way ahead of the rest.
    """
    clipped = tmp_path / "clipped.osm.pbf"
    with osmium.SimpleWriter(str(clipped)) as w:
        for o in osmium.FileProcessor(str(chengdu_pbf)):
            if o.is_node() and o.id % 7 == 0:
                continue  # every 7th node gone: ways split, areas fail, refs dangle
            w.add(o)
    monkeypatch.setattr(osm_columns, "BATCH_ROWS", 3000)
    one = read_osm(clipped, reader="pyosmium", parallel=False)
    two = read_osm(clipped, reader="duckdb", parallel=parallel)
    assert one.dangling_refs > 1000 and one.ways_without_location > 0
    assert_same_read(one, two)


def test_tag_strings_are_interned(sao_paulo_pbf: Path) -> None:
    raw = read_osm(sao_paulo_pbf, reader="duckdb", parallel=False)
    values = [w.tags["highway"] for w in raw.ways]
    # one str object per distinct value (a city repeats "residential" thousands of times)
    assert len({id(v) for v in values}) == len(set(values)) < 40


@pytest.mark.parametrize("parallel", [False, True])
def test_a_truncated_pbf_is_refused_in_one_line(
    chengdu_pbf: Path, tmp_path: Path, parallel: bool
) -> None:
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(chengdu_pbf.read_bytes()[: chengdu_pbf.stat().st_size // 2])
    before = sha256(bad)
    with pytest.raises(geoplan.InputFileError, match=r"cut\.osm\.pbf: cannot read as OSM data"):
        read_osm(bad, reader="duckdb", parallel=parallel)
    assert sha256(bad) == before


def test_the_duckdb_reader_refuses_xml(chengdu_pbf: Path, tmp_path: Path) -> None:
    xml = tmp_path / "c.osm"
    with osmium.SimpleWriter(str(xml)) as w:
        for o in osmium.FileProcessor(str(chengdu_pbf)):
            w.add(o)
    with pytest.raises(geoplan.InputFileError, match=r"needs a \.osm\.pbf"):
        read_osm(xml, reader="duckdb")
    assert len(read_osm(xml).ways) == 2278  # "auto" reads XML with pyosmium


def test_auto_uses_duckdb_for_large_files_only(
    chengdu_pbf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = osm_stream.read_columns

    def spy(path: str, **kw: Any) -> osm_stream.ColumnResult:
        calls.append(str(path))
        return real(path, **kw)

    monkeypatch.setattr(osm_stream, "read_columns", spy)
    read_osm(chengdu_pbf, parallel=False)
    assert calls == []
    monkeypatch.setattr("geoplan.io.osm.COLUMNS_MIN_BYTES", 1)
    read_osm(chengdu_pbf, parallel=False)
    assert calls == [str(chengdu_pbf)]


class _Recorder(osm_stream.Assembly):
    """An assembly that records the order of what the scan sends."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def nodes(self, cols: osm_columns.NodeColumns) -> None:
        self.calls.append("nodes")
        super().nodes(cols)

    def ways(self, batch: osm_columns.WayBatch) -> None:
        self.calls.append("ways")
        super().ways(batch)

    def reset(self) -> None:
        self.calls.append("reset")
        super().reset()


def _same_result(a: osm_stream.ColumnResult, b: osm_stream.ColumnResult) -> None:
    assert a.ways.ids == b.ways.ids and a.ways.tags == b.ways.tags
    assert a.barrier_ways.ids == b.barrier_ways.ids
    for f in ("refs", "x", "y"):
        assert np.array_equal(getattr(a.ways, f), getattr(b.ways, f)), f
    assert a.areas == b.areas and a.areas_failed == b.areas_failed
    assert a.stop_areas == b.stop_areas


def test_ways_stream_batch_by_batch_after_the_nodes(
    chengdu_pbf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = osm_stream.read_columns(chengdu_pbf)
    monkeypatch.setattr(osm_columns, "BATCH_ROWS", 2000)
    sink = _Recorder()
    split = sink.finish(osm_columns.scan(chengdu_pbf, sink))
    # every batch's nodes and ways as it is read: all nodes before the first way
    assert sink.calls[0] == "nodes" and "nodes" not in sink.calls[sink.calls.index("ways") :]
    assert sink.calls.count("ways") >= 3 and "reset" not in sink.calls
    assert split.nodes.points == whole.nodes.points
    assert split.nodes.gate_nodes == whole.nodes.gate_nodes
    _same_result(split, whole)


def test_a_file_with_nodes_after_the_ways_is_located_whole(
    chengdu_pbf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an unsorted file: a tenth of the nodes written after the ways and relations
    late = tmp_path / "late.osm.pbf"
    held = []
    with osmium.SimpleWriter(str(late)) as w:
        for o in osmium.FileProcessor(str(chengdu_pbf)):
            if o.is_node() and o.id % 10 == 3:
                loc = (o.location.lon, o.location.lat)
                held.append(osmium.osm.mutable.Node(id=o.id, location=loc, tags=dict(o.tags)))
                continue
            w.add(o)
        for n in held:
            w.add(n)
    monkeypatch.setattr(osm_columns, "BATCH_ROWS", 5000)
    sink = _Recorder()
    got = sink.finish(osm_columns.scan(late, sink))
    assert "reset" in sink.calls and sink.calls[-1] == "ways"
    want = osm_stream.read_columns(chengdu_pbf)
    _same_result(got, want)
    assert sorted(got.nodes.points) == sorted(want.nodes.points)


def test_a_parent_that_stops_early_does_not_wait_forever(sao_paulo_pbf: Path) -> None:
    # the parent's own pass failed before it read the nodes sent ahead (158 kB pickled, more
    # than a pipe holds): closing must end the child, not leave it blocked on the full pipe
    import subprocess
    import sys

    code = (
        "from geoplan.io.osm_stream import ColumnsInChild\n"
        f"ColumnsInChild({str(sao_paulo_pbf)!r}).close()\n"
        "print('closed')\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
    except subprocess.TimeoutExpired:
        pytest.fail("closing the column read without reading it hung")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "closed"
