"""Overpass download: query text, disk cache, failures — with the HTTP call and geocoder faked.

No test here goes online: ``geoplan.io.download._http_post`` and ``osmnx.geocode_to_gdf`` are
replaced
by fakes that answer with real Chengdu OSM data written as Overpass-style XML.
"""

from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import geopandas as gpd
import osmium
import pytest
import shapely
from conftest import chengdu_clip_polygon
from typer.testing import CliRunner

import geoplan
from geoplan.cli.app import app
from geoplan.io import download as dl


@pytest.fixture(scope="module")
def overpass_xml(chengdu_pbf: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict]:
    """Real nodes and highway ways of the central 2 km box, as OSM XML (what Overpass sends)."""
    w, s, e, n = chengdu_clip_polygon().bounds

    def inside(lon: float, lat: float) -> bool:
        return w <= lon <= e and s <= lat <= n

    ways: set[int] = set()
    nodes: set[int] = set()
    stops: set[int] = set()
    for o in osmium.FileProcessor(str(chengdu_pbf)).with_locations():
        if o.is_node() and o.tags.get("highway") == "bus_stop" and inside(o.lon, o.lat):
            stops.add(o.id)
        elif o.is_way() and "highway" in o.tags and all(inside(nd.lon, nd.lat) for nd in o.nodes):
            ways.add(o.id)
            nodes.update(nd.ref for nd in o.nodes)
    path = tmp_path_factory.mktemp("overpass") / "answer.osm"
    with osmium.SimpleWriter(str(path)) as wr:
        for o in osmium.FileProcessor(str(chengdu_pbf)):
            if (o.is_node() and (o.id in nodes or o.id in stops)) or (o.is_way() and o.id in ways):
                wr.add(o)
    return path.read_bytes(), {"ways": ways, "stops": stops, "bbox": (w, s, e, n)}


class FakeOverpass:
    def __init__(self, answer: bytes | Exception) -> None:
        self.answer = answer
        self.queries: list[str] = []

    def __call__(self, url: str, query: str, timeout_s: float) -> bytes:
        self.queries.append(query)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_bbox_query_cache_and_load(
    overpass_xml: tuple[bytes, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, meta = overpass_xml
    fake = FakeOverpass(data)
    monkeypatch.setattr(dl, "_http_post", fake)
    w, s, e, n = meta["bbox"]
    path = dl.download_osm((w, s, e, n), cache_dir=tmp_path)
    assert len(fake.queries) == 1
    q = fake.queries[0]
    assert q.startswith("[out:xml][timeout:180];")
    assert f"nwr({s:.7f},{w:.7f},{n:.7f},{e:.7f});" in q  # Overpass bbox order: S, W, N, E
    assert "(._;>;);" in q and q.rstrip().endswith("out body;")
    assert path == tmp_path / f"{hashlib.sha256(q.encode()).hexdigest()}.osm"
    assert path.read_bytes() == data

    again = dl.download_osm((w, s, e, n), cache_dir=tmp_path)
    assert again == path and len(fake.queries) == 1  # cache hit: no second request

    city = geoplan.load_city(path, boundary=(w, s, e, n))
    assert set(city.bus_stops["osmid"]) == meta["stops"]
    assert set(city.network.edge_osmid.tolist()) <= meta["ways"]
    assert city.network.n_edges > 100
    assert city.report.dangling_refs == 0


def test_place_is_geocoded_once(
    overpass_xml: tuple[bytes, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx

    calls: list[str] = []

    def fake_geocode(place: str) -> gpd.GeoDataFrame:
        calls.append(place)
        return gpd.GeoDataFrame(geometry=[chengdu_clip_polygon()], crs=4326)

    monkeypatch.setattr(osmnx, "geocode_to_gdf", fake_geocode)
    fake = FakeOverpass(overpass_xml[0])
    monkeypatch.setattr(dl, "_http_post", fake)
    path = dl.download_osm("成都市锦江区", cache_dir=tmp_path)
    lon, lat = chengdu_clip_polygon().exterior.coords[0]
    assert f'nwr(poly:"{lat:.7f} {lon:.7f} ' in fake.queries[0]  # lat before lon
    assert calls == ["成都市锦江区"]
    assert dl.download_osm("成都市锦江区", cache_dir=tmp_path) == path
    assert calls == ["成都市锦江区"] and len(fake.queries) == 1
    poly = dl.place_polygon("成都市锦江区", cache_dir=tmp_path)
    assert poly.equals_exact(chengdu_clip_polygon(), tolerance=1e-12)


def test_network_failure_is_a_one_line_download_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dl, "_http_post", FakeOverpass(urllib.error.URLError("no route to host")))
    with pytest.raises(geoplan.DownloadError, match="no route to host") as exc:
        dl.download_osm((104.08, 30.68, 104.09, 30.69), cache_dir=tmp_path)
    assert "\n" not in str(exc.value)
    assert not list(tmp_path.glob("*.osm"))


def test_overpass_error_answer_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="Overpass API">\n'
        b'<remark> runtime error: Query timed out in "query" at line 3 after 181 seconds. '
        b"</remark>\n</osm>\n"
    )
    monkeypatch.setattr(dl, "_http_post", FakeOverpass(answer))
    with pytest.raises(geoplan.DownloadError, match="retry"):
        dl.download_osm((104.08, 30.68, 104.09, 30.69), cache_dir=tmp_path)
    assert not list(tmp_path.glob("*.osm"))


def test_overpass_query_for_multipolygon_and_big_rings() -> None:
    a = shapely.box(104.0, 30.0, 104.1, 30.1)
    b = shapely.box(104.2, 30.0, 104.3, 30.1)
    q = dl.overpass_query(shapely.MultiPolygon([a, b]), timeout_s=60)
    assert q.count("nwr(poly:") == 2 and "[timeout:60]" in q
    ring = shapely.Point(104.05, 30.05).buffer(0.05, quad_segs=2000)  # 8000 vertices
    q = dl.overpass_query(ring)
    assert len(q) < 60_000
    with pytest.raises(geoplan.LayerError):
        dl.download_osm((104.1, 30.0, 104.0, 30.1))  # min_lon > max_lon


def test_cli_place_download(
    overpass_xml: tuple[bytes, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx

    monkeypatch.setattr(
        osmnx,
        "geocode_to_gdf",
        lambda place: gpd.GeoDataFrame(geometry=[chengdu_clip_polygon()], crs=4326),
    )
    monkeypatch.setattr(dl, "_http_post", FakeOverpass(overpass_xml[0]))
    args = ["layers", "--place", "成都市锦江区", "--download", "--cache-dir", str(tmp_path / "c")]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "成都市锦江区_layers.gpkg").is_file()
    assert "seconds: download" in res.stdout

    def broken(place: str) -> gpd.GeoDataFrame:
        raise ConnectionError("Nominatim unreachable")

    monkeypatch.setattr(osmnx, "geocode_to_gdf", broken)
    res = CliRunner().invoke(app, [*args, "--place", "郑州市中原区", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "Nominatim unreachable" in res.stderr
    assert "Traceback" not in res.output
