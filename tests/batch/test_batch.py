"""Batch runs (``geoplan batch``) on real places: serial, a process pool and Dask agree.

Places: two quarters of the Chengdu study area (one shared extract), São Paulo, the embedded
demo city, and a broken place. Figures are checked against ``check_city`` run on its own, and
the combined counts against a hand count of each place's scorecard file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import CHENGDU_BBOX, CHENGDU_PBF, SAO_PAULO_PBF
from typer.testing import CliRunner

import geoplan
from geoplan.batch import load_batch, run_batch
from geoplan.batch.spec import BatchError
from geoplan.cli import app

runner = CliRunner()

W, S, E, N = CHENGDU_BBOX
MID_LON, MID_LAT = (W + E) / 2, (S + N) / 2
QUARTERS = {
    "cd_sw": [W, S, MID_LON, MID_LAT],
    "cd_ne": [MID_LON, MID_LAT, E, N],
}


def _batch_file(tmp_path: Path, broken: str = "missing.osm.pbf") -> Path:
    text = f"""
name: test_batch
osm: {CHENGDU_PBF}
defaults: {{targets: anyang-2023}}
places:
  - {{name: cd_sw, boundary: {QUARTERS["cd_sw"]}}}
  - {{name: cd_ne, boundary: {QUARTERS["cd_ne"]}, map: false}}
  - {{name: sao_paulo, osm: {SAO_PAULO_PBF}, targets: national, map: false}}
  - {{name: demo, osm: demo, targets: luoyang-2023, map: false}}
  - {{name: broken, osm: "{broken}"}}
"""
    p = tmp_path / "places.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _figures(out: Path) -> pd.DataFrame:
    df = pd.read_csv(out / "summary.csv")
    return df.drop(columns=["seconds", "status"]).set_index("name").sort_index()


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    tmp = tmp_path_factory.mktemp("batch")
    f = _batch_file(tmp, broken="<b>nope</b>.osm.pbf")
    res = runner.invoke(app, ["batch", str(f), "--out", str(tmp / "serial")])
    return f, tmp / "serial", res


def test_a_broken_place_is_reported_and_the_others_complete(serial: tuple) -> None:
    _, out, res = serial
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    df = pd.read_csv(out / "summary.csv")
    st = dict(zip(df["name"], df["status"], strict=True))
    assert st == {"cd_sw": "ok", "cd_ne": "ok", "sao_paulo": "ok", "demo": "ok", "broken": "failed"}
    err = df.set_index("name").loc["broken", "error"]
    assert "nope</b>.osm.pbf: file not found" in err and "\n" not in err
    assert "failed broken:" in res.output
    # ranks: every completed place, by pass rate
    ok = df[df.status == "ok"].sort_values("rank")
    assert ok["rank"].tolist() == [1, 2, 3, 4]
    assert ok["pass_rate"].is_monotonic_decreasing
    for name in ("cd_sw", "cd_ne", "sao_paulo", "demo"):
        assert (out / name / "place_summary.json").is_file()
    assert (out / "cd_sw" / "cd_sw.html").is_file()
    assert not (out / "broken").exists()


def test_counts_and_figures_equal_each_place_checked_alone(serial: tuple) -> None:
    _, out, _ = serial
    df = pd.read_csv(out / "summary.csv").set_index("name")
    # hand count of the place's own scorecard file
    (card_file,) = (out / "cd_ne").glob("*_scorecard.json")
    card = pd.DataFrame(json.loads(card_file.read_text(encoding="utf-8"))["scorecard"])
    assert df.loc["cd_ne", "pass"] == (card["status"] == "pass").sum()
    assert df.loc["cd_ne", "fail"] == (card["status"] == "fail").sum()
    # the same place checked on its own (no batch machinery)
    city = geoplan.load_city(CHENGDU_PBF, boundary=tuple(QUARTERS["cd_ne"]))
    alone = geoplan.check_city(city, sheet="anyang-2023").scorecard
    for r in alone.itertuples():
        key = f"{r.target_id}|{r.method}" if r.method else r.target_id
        got = df.loc["cd_ne", key]
        if pd.isna(r.measured):
            assert pd.isna(got)
        else:
            assert got == pytest.approx(r.measured, abs=1e-12)


def test_overview_map_escapes_and_credits(serial: tuple) -> None:
    _, out, _ = serial
    html = (out / "overview.html").read_text(encoding="utf-8")
    assert "<b>nope</b>" not in html and "&lt;b&gt;nope&lt;/b&gt;" in html
    assert "OpenStreetMap contributors" in html
    assert "<script src=" not in html  # offline: Leaflet inlined
    for name in ("cd_sw", "cd_ne", "sao_paulo", "demo"):
        assert name in html


def test_two_workers_and_dask_give_the_same_figures(serial: tuple, tmp_path: Path) -> None:
    f, out, _ = serial
    base = _figures(out)
    res = runner.invoke(app, ["batch", str(f), "--out", str(tmp_path / "pool"), "-w", "2"])
    assert res.exit_code == 1, res.output
    pd.testing.assert_frame_equal(_figures(tmp_path / "pool"), base)
    res = runner.invoke(
        app, ["batch", str(f), "--out", str(tmp_path / "dask"), "--dask-local", "2"]
    )
    assert res.exit_code == 1, res.output
    assert "Dask dashboard: http" in res.output
    pd.testing.assert_frame_equal(_figures(tmp_path / "dask"), base)


def test_an_existing_dask_scheduler(serial: tuple, tmp_path: Path) -> None:
    from distributed import LocalCluster

    f, out, _ = serial
    with LocalCluster(
        n_workers=2, threads_per_worker=1, dashboard_address=":0", silence_logs=50
    ) as cluster:
        res = run_batch(load_batch(f), tmp_path / "sched", scheduler=cluster.scheduler_address)
    assert res.engine.startswith("dask tcp://")
    pd.testing.assert_frame_equal(_figures(tmp_path / "sched"), _figures(out))


def test_rerun_skips_unchanged_places_and_redoes_changed_ones(tmp_path: Path) -> None:
    b = tmp_path / "sw.geojson"
    import geopandas as gpd
    import shapely

    gpd.GeoDataFrame(geometry=[shapely.box(*QUARTERS["cd_sw"])], crs=4326).to_file(b)
    f = tmp_path / "two.yaml"
    f.write_text(
        f"osm: {CHENGDU_PBF}\nplaces:\n  - {{name: sw, boundary: sw.geojson, map: false}}\n"
        "  - {name: demo, osm: demo, map: false}\n",
        encoding="utf-8",
    )
    first = run_batch(f, tmp_path / "o")
    assert [r["status"] for r in first.rows] == ["ok", "ok"]
    again = run_batch(f, tmp_path / "o")
    assert [r["status"] for r in again.rows] == ["skipped", "skipped"]
    assert again.rows[0]["measured"] == first.rows[0]["measured"]
    forced = run_batch(f, tmp_path / "o", force=True)
    assert [r["status"] for r in forced.rows] == ["ok", "ok"]
    # a changed input file re-runs only its place
    gpd.GeoDataFrame(geometry=[shapely.box(W, S, (W + MID_LON) / 2, MID_LAT)], crs=4326).to_file(b)
    changed = run_batch(f, tmp_path / "o")
    assert [r["status"] for r in changed.rows] == ["ok", "skipped"]
    assert changed.rows[0]["area_km2"] < first.rows[0]["area_km2"]


def test_a_shared_extract_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import geoplan.city as gc
    import geoplan.city.model as gcm

    calls: list[str] = []
    real = gcm.read_osm

    def counting(path: object, **kw: object) -> object:
        calls.append(str(path))
        return real(path, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(gcm, "read_osm", counting)
    gc.share_osm_reads(0)  # empty
    gc.share_osm_reads(2)
    try:
        a = gc.load_city(CHENGDU_PBF, boundary=tuple(QUARTERS["cd_sw"]))
        b = gc.load_city(CHENGDU_PBF, boundary=tuple(QUARTERS["cd_ne"]))
    finally:
        gc.share_osm_reads(0)
    assert len(calls) == 1
    alone = geoplan.load_city(CHENGDU_PBF, boundary=tuple(QUARTERS["cd_ne"]))
    assert len(b.network.edge_u) == len(alone.network.edge_u)
    assert a.report.counts != b.report.counts


@pytest.mark.parametrize(
    ("text", "must"),
    [
        ("places: []\n", "no places"),
        ("places:\n  - {name: a, osm: demo, boundry: x.geojson}\n", "did you mean 'boundary'"),
        ("places:\n  - {name: a, osm: demo}\n  - {name: a, osm: demo}\n", "two places are named"),
        ("places:\n  - {name: ../up, osm: demo}\n", "folder-safe name"),
        ("places:\n  - {name: a}\n", "no 'osm' file"),
        ("places:\n  - {name: a, osm: demo, boundary: [1, 2]}\n", "min_lon, min_lat"),
        ("plaes: []\n", "unknown key 'plaes'"),
        ("places: [\n", "not valid YAML"),
    ],
)
def test_bad_batch_files_get_one_line(tmp_path: Path, text: str, must: str) -> None:
    f = tmp_path / "b.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(BatchError, match=None) as ei:
        load_batch(f)
    assert must in str(ei.value) and "\n" not in str(ei.value)
    res = runner.invoke(app, ["batch", str(f), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and must in res.output and "Traceback" not in res.output
