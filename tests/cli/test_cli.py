"""``geoplan layers``: the GeoPackage it writes, its summary, one-line errors for user mistakes."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from conftest import chengdu_clip_polygon, sha256
from typer.testing import CliRunner

import geoplan
from geoplan.cli.app import app

LAYERS = [
    "boundary",
    "urban_land",
    "roads",
    "facilities",
    "parks",
    "bus_stops",
    "residential",
    "buildings",
    "network_nodes",
    "network_edges",
]

runner = CliRunner()


@pytest.fixture(scope="module")
def boundary_geojson(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bnd") / "study_area.geojson"
    gpd.GeoDataFrame({"name": ["centre"]}, geometry=[chengdu_clip_polygon()], crs=4326).to_file(
        path, driver="GeoJSON"
    )
    return path


@pytest.fixture(scope="module")
def layers_run(
    chengdu_pbf: Path, boundary_geojson: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, str, str]:
    out = tmp_path_factory.mktemp("out")
    before = (sha256(chengdu_pbf), sha256(boundary_geojson))
    res = runner.invoke(
        app,
        [
            "layers",
            "--osm",
            str(chengdu_pbf),
            "--boundary",
            str(boundary_geojson),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (sha256(chengdu_pbf), sha256(boundary_geojson)) == before  # inputs untouched
    return out / "chengdu_2018_center_layers.gpkg", res.stdout, res.stderr, str(out)


def test_layers_writes_every_metric_layer(
    layers_run: tuple[Path, str, str, str], chengdu_clip: geoplan.City
) -> None:
    gpkg, _, _, out = layers_run
    assert sorted(p.name for p in Path(out).iterdir()) == [gpkg.name]  # no temporary files left
    names = [str(n) for n, _ in pyogrio.list_layers(gpkg)]
    assert sorted(names) == sorted(LAYERS)
    want = {k: len(v) for k, v in chengdu_clip.layers().items()}
    for name in LAYERS:
        info = pyogrio.read_info(gpkg, layer=name)
        assert info["crs"] == "EPSG:32648", name
        gdf = gpd.read_file(gpkg, layer=name)
        assert gdf.crs.is_projected and gdf.crs.axis_info[0].unit_name == "metre"
        assert len(gdf) == want[name], name
        assert "tags" not in gdf.columns
        for col in gdf.columns.drop(gdf.geometry.name):
            assert not gdf[col].map(lambda v: isinstance(v, list | dict)).any(), (name, col)
    roads = gpd.read_file(gpkg, layer="roads")
    assert set(roads["grade_zh"]) <= {"快速路", "主干路", "次干路", "支路", "内部道路"}
    edges = gpd.read_file(gpkg, layer="network_edges")
    assert edges["length_m"].sum() == pytest.approx(chengdu_clip.network.edge_length_m.sum())


def test_layers_prints_summary(layers_run: tuple[Path, str, str, str]) -> None:
    _, stdout, stderr, _ = layers_run
    for text in ("bus_stops", "公交站点", "小学", "Primary school", "EPSG:32648", "components"):
        assert text in stdout, text
    assert "seconds: read_osm" in stdout and "seconds: write_gpkg" in stdout
    assert "© OpenStreetMap contributors" in stdout
    assert stderr == ""


def test_quiet_prints_only_the_path(
    chengdu_pbf: Path, boundary_geojson: Path, tmp_path: Path
) -> None:
    args = ["--osm", str(chengdu_pbf), "--boundary", str(boundary_geojson), "--out", str(tmp_path)]
    res = runner.invoke(app, ["layers", *args, "--quiet", "--name", "成都 中心"])
    assert res.exit_code == 0, res.output
    path = tmp_path / "成都_中心_layers.gpkg"
    assert res.stdout.strip() == str(path) and path.is_file()


def test_help_and_version() -> None:
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    assert "layers" in res.stdout and "生活圈" in res.stdout
    res = runner.invoke(app, ["layers", "--help"])
    assert res.exit_code == 0
    for text in ("--osm", "--boundary", "--crs", "--include-private", "--download", "Examples"):
        assert text in res.stdout, text
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout.strip() == f"geoplan {geoplan.__version__}"
    for command in ("check", "layers"):  # rich markup must not eat the extra's brackets
        res = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"})
        assert "pip install 'geoplan[cn]'" in res.stdout, command


def _bad(args: list[str]) -> str:
    res = runner.invoke(app, ["layers", *args])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert res.stdout == ""
    return lines[0]


def test_user_mistakes_exit_2_with_one_line(chengdu_pbf: Path, tmp_path: Path) -> None:
    out = ["--out", str(tmp_path / "out")]
    missing = tmp_path / "nowhere.osm.pbf"
    assert str(missing) in _bad(["--osm", str(missing), *out])
    txt = tmp_path / "roads.txt"
    txt.write_text("not osm", encoding="utf-8")
    assert str(txt) in _bad(["--osm", str(txt), *out])
    # a Shapefile without .prj has no CRS
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame(geometry=[chengdu_clip_polygon()]).to_file(shp)
    assert str(shp) in _bad(["--osm", str(chengdu_pbf), "--boundary", str(shp), *out])
    assert "4326" in _bad(["--osm", str(chengdu_pbf), "--crs", "4326", *out])
    assert "--download" in _bad(["--place", "郑州市中原区", *out])
    assert "--osm" in _bad(out)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_run_cli_errors_is_reusable() -> None:
    import typer

    from geoplan.cli.console import run_cli_errors

    @run_cli_errors()
    def boom() -> None:
        raise geoplan.TargetSheetError("sheet.yaml: unknown target 'x'; see geoplan check --help")

    with pytest.raises(typer.Exit) as exc:
        boom()
    assert exc.value.exit_code == 2


def test_check_quiet_prints_nothing(tmp_path: Path) -> None:
    """-q: nothing on stdout (the scorecard printer must use the quiet console)."""
    res = CliRunner().invoke(app, ["check", "--osm", "demo", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == ""
    loud = CliRunner().invoke(app, ["check", "--osm", "demo", "--out", str(tmp_path)])
    assert "记分卡 scorecard" in loud.output


def test_scope_option_reaches_the_scorecard(tmp_path: Path) -> None:
    """--scope town (check and report): anyang-2023's 镇区绿地率 is scored with the study area's
    own 绿地率 (read from the same run's measures), the city 绿地率 target becomes no data."""
    import json

    import pandas as pd

    for cmd in ("check", "report"):
        out = tmp_path / cmd
        res = CliRunner().invoke(
            app,
            [cmd, "--osm", "demo", "-t", "anyang-2023", "--scope", "town", "--out", str(out), "-q"],
        )
        assert res.exit_code == 0, res.output
        (card_file,) = out.glob("*_scorecard.json")
        card = {r["target_id"]: r for r in json.loads(card_file.read_text("utf-8"))["scorecard"]}
        (m_file,) = out.glob("*_measures.csv")
        m = pd.read_csv(m_file, encoding="utf-8-sig")
        ratio = float(m.loc[m["measure"] == "green_land_ratio", "value"].iloc[0])
        assert card["town_green_land_ratio"]["measured"] == pytest.approx(ratio)
        assert card["green_land_ratio"]["status"] == "no data"


def test_name_titles_and_files_and_chinese_sheet_names(tmp_path: Path) -> None:
    """--name names the files and the scorecard; -t accepts the city's Chinese name."""
    res = runner.invoke(
        app,
        ["check", "--osm", "demo", "-t", "安阳", "--name", "赫尔辛基", "--out", str(tmp_path)],
    )
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in tmp_path.glob("*_scorecard.csv")) == [
        "赫尔辛基_anyang-2023_scorecard.csv"
    ]
    bad = runner.invoke(app, ["check", "--osm", "demo", "--name", "../up", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "folder-safe" in bad.output and "Traceback" not in bad.output
    typo = runner.invoke(
        app, ["check", "--osm", "demo", "-t", "anyng-2023", "--out", str(tmp_path)]
    )
    assert typo.exit_code == 2 and "did you mean 'anyang-2023'" in typo.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_scorecard_fits_an_80_column_terminal(helsinki: geoplan.City, lang: str) -> None:
    """One line per row where the name fits (only the name wraps), nothing past column 80,
    each no-data row with its reason."""
    from rich.console import Console

    from geoplan.cli.check import print_scorecard

    res = geoplan.check_city(helsinki, sheet="anyang-2023")
    card = res.scorecard
    n_rows = int((card["status"] != "not checkable").sum())
    with open(os.devnull, "w") as sink:
        con = Console(width=80, record=True, file=sink)
        con.print(print_scorecard(card, title="t", lang=lang, width=80))
    lines = con.export_text().splitlines()
    assert max(len(x) for x in lines) <= 80
    body = [x for x in lines[4:] if x.strip() and not x.startswith(("差距", "Gap"))]
    first_lines = [x for x in body if any(m in x for m in ("✔", "✘", "…"))]
    assert len(first_lines) == n_rows  # one line per row carries its mark
    assert len(body) <= (n_rows + 4 if lang == "zh" else 2 * n_rows)  # long names wrap
    if lang == "zh":
        assert "≥ 22 m²/人" in "\n".join(lines) and "needs popula" in "\n".join(lines)


def test_an_os_error_names_the_users_path_never_the_staging_one() -> None:
    import errno

    from geoplan.cli.console import _os_message

    staged = (
        "/data/out/.geoplan-7ei0twbx.staging/." + "郑" * 90 + "_national_scorecard.csv.awt_iikb.tmp"
    )
    msg = _os_message(OSError(errno.ENAMETOOLONG, "File name too long", staged))
    assert msg.startswith("/data/out/" + "郑" * 90 + "_national_scorecard.csv: the file name")
    assert ".staging" not in msg and "--name" in msg
    denied = _os_message(PermissionError(13, "denied", "/data/out/.geoplan-ab.staging/x.gpkg"))
    assert denied.startswith("/data/out/x.gpkg: permission denied")


def test_check_with_a_compounds_file_and_its_mistakes(chengdu_pbf: Path, tmp_path: Path) -> None:
    """--compounds-file: homes of the 小区 walk out by its 出入口 (the notes say how many);
    a file without entrances, a wrong --compounds word: one line, exit 2, nothing written."""
    city = geoplan.load_city(chengdu_pbf)
    res_parcels = city.residential.geometry
    gates = list(city.gates.geometry)
    poly = next(p for p in res_parcels if any(p.boundary.distance(g) <= 5 for g in gates))
    near = [g for g in gates if poly.boundary.distance(g) <= 5]
    good = tmp_path / "xiaoqu.geojson"
    gpd.GeoDataFrame(geometry=[poly, *near], crs=city.crs).to_crs(4326).to_file(good)
    args = ["check", "--osm", str(chengdu_pbf), "--out", str(tmp_path / "ok")]
    res = runner.invoke(app, [*args, "--compounds-file", str(good)])
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())  # the console wraps lines where the path length says
    assert "gated compounds" in said and "walk out through an entrance" in said
    no_gates = tmp_path / "outlines.geojson"
    gpd.GeoDataFrame(geometry=[poly], crs=city.crs).to_crs(4326).to_file(no_gates)
    bad_args = ["check", "--osm", str(chengdu_pbf), "--out", str(tmp_path / "bad")]
    for extra, words in (
        (["--compounds-file", str(no_gates)], "出入口"),
        (["--compounds", "walls"], "--compounds must be gates or edges"),
        (["--compounds-file", str(tmp_path / "none.geojson")], "--compounds-file"),
    ):
        res = runner.invoke(app, [*bad_args, *extra])
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], res.stderr
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_compounds_coords_gcj02_reads_an_amap_file(chengdu_pbf: Path, tmp_path: Path) -> None:
    """--compounds-coords gcj02: the same 小区 drawn in AMap's GCJ-02 (about 500 m off in Chengdu)
    gates the same homes as the WGS84 file; read as WGS84 it would miss them."""
    import re

    from geoplan.io.coords import wgs84_to_gcj02

    city = geoplan.load_city(chengdu_pbf)
    gates = list(city.gates.geometry)
    poly = next(
        p for p in city.residential.geometry if any(p.boundary.distance(g) <= 5 for g in gates)
    )
    near = [g for g in gates if poly.boundary.distance(g) <= 5]
    wgs = gpd.GeoDataFrame(geometry=[poly, *near], crs=city.crs).to_crs(4326)
    gcj = wgs.copy()
    gcj.geometry = gcj.geometry.apply(
        lambda g: shapely.transform(
            g, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))
        )
    )
    out = {}
    for name, frame, coords in (
        ("wgs", wgs, "wgs84"),
        ("gcj", gcj, "gcj02"),
        ("raw", gcj, "wgs84"),
    ):
        f = tmp_path / f"{name}.geojson"
        frame.to_file(f)
        res = runner.invoke(
            app,
            [
                "check",
                "--osm",
                str(chengdu_pbf),
                "--out",
                str(tmp_path / name),
                "--compounds-file",
                str(f),
                "--compounds-coords",
                coords,
            ],
        )
        assert res.exit_code == 0, res.output
        m = re.search(r"(\d+) homes\s+inside walk out", " ".join(res.output.split()))
        out[name] = int(m.group(1)) if m else 0
    assert out["gcj"] == out["wgs"] > 0
    assert out["raw"] != out["wgs"]


def test_cell_areas_option_reaches_the_check(
    chengdu_pbf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--cell-areas / --exact-areas: the buffer shares written are measured on land cells or
    by the overlay; the cells' figures differ from the overlay's within 0.1 pp."""
    import pandas as pd

    import geoplan.indicators.cover as cover_mod

    monkeypatch.setattr(cover_mod, "CELLS_MIN_SOURCES", 0)  # central Chengdu is small
    values = {}
    for flag in ("--exact-areas", "--cell-areas"):
        out = tmp_path / flag.strip("-")
        res = runner.invoke(
            app, ["check", "--osm", str(chengdu_pbf), "--out", str(out), flag, "--quiet"]
        )
        assert res.exit_code == 0, res.output
        m = pd.read_csv(next(out.glob("*measures.csv")))
        rows = m[(m["method"] == "buffer") & (m["basis"] == "residential_area")]
        values[flag] = rows.set_index("measure")["value"].astype(float)
    a, b = values["--exact-areas"], values["--cell-areas"]
    d = (a - b).abs().dropna()
    assert len(d) >= 25
    assert 0 < d.max() * 100 <= 0.1


def test_check_with_the_map_in_the_folder_above_its_tables(
    chengdu_pbf: Path, tmp_path: Path
) -> None:
    """The README's demo layout: tables in maps/demo, the map in maps/. Both are there after the
    run (and after a second run into the same folders), with the folders' modes kept."""
    import stat

    maps = tmp_path / "maps"
    for _ in range(2):
        res = runner.invoke(
            app,
            [
                "check",
                "--osm",
                str(chengdu_pbf),
                "--out",
                str(maps / "demo"),
                "--map",
                str(maps / "demo.html"),
                "--quiet",
            ],
        )
        assert res.exit_code == 0, res.output
        assert (maps / "demo.html").stat().st_size > 10_000
        csvs = list((maps / "demo").glob("*_scorecard.csv"))
        assert len(csvs) == 1 and csvs[0].stat().st_size > 100
    assert stat.S_IMODE((maps / "demo").stat().st_mode) & 0o055 == 0o055  # others can read
