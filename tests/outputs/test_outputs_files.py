"""The files planners open: the styled workbook, the QGIS GeoPackage, the provenance record.

Checked against independent readings: openpyxl cell types and formats, pyogrio layer CRSs and an
XML parse of each QGIS style, hashlib SHA-256 of the inputs, a pyosmium pass for the data date.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

import geoplan
from geoplan.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def chengdu_out(tmp_path_factory: pytest.TempPathFactory, chengdu_pbf: Path) -> Path:
    out = tmp_path_factory.mktemp("files")
    res = runner.invoke(
        app,
        [
            "check",
            "--osm",
            str(chengdu_pbf),
            "-t",
            "anyang-2023",
            "--units-grid",
            "1000",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def _one(out: Path, suffix: str) -> Path:
    (p,) = out.glob(f"*{suffix}")
    return p


def test_workbook_numbers_formats_language_and_fills(chengdu_out: Path) -> None:
    wb = openpyxl.load_workbook(_one(chengdu_out, "_scorecard.xlsx"))
    assert wb.sheetnames == ["记分卡", "全部指标", "不可核查", "覆盖差原因", "分单元", "数据来源"]
    ws = wb["记分卡"]
    head = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(head)}
    card = json.loads(_one(chengdu_out, "_scorecard.json").read_text(encoding="utf-8"))["scorecard"]
    assert ws.max_row == len(card) + 1
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    statuses = {"pass": "达标", "fail": "未达标", "no data": "无数据", "not checkable": "不可核查"}
    fills = {"pass": "C6EFCE", "fail": "FFC7CE", "no data": "FFEB9C", "not checkable": "EDEDED"}
    n_share = 0
    for r, row in enumerate(card, start=2):
        cells = ws[r]
        assert cells[col["结果"]].value == statuses[row["status"]]
        assert cells[0].fill.fgColor.rgb.endswith(fills[row["status"]])
        m = cells[col["现状值"]]
        if row["measured"] is None:
            assert m.value is None
        else:
            assert isinstance(m.value, float | int)
            assert m.value == pytest.approx(row["measured"], abs=1e-12)
        t = cells[col["目标值"]]
        try:
            tv = float(row["target"])
        except (TypeError, ValueError):
            continue
        assert isinstance(t.value, float | int) and t.value == pytest.approx(tv)
        if row["unit"] == "share":
            assert t.number_format == "0.0%" and m.number_format == "0.0%"
            n_share += 1
    assert n_share > 5
    assert "缓冲区" in {c.value for c in ws[f"{chr(65 + col['方法'])}"]}
    prov = {r[0].value: r[1].value for r in wb["数据来源"].iter_rows(min_row=2)}
    assert prov["geoplan_version"] == geoplan.__version__
    assert "OpenStreetMap" in prov["attribution"]


def test_workbook_in_english(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["check", "--osm", "demo", "--lang", "en", "--out", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(_one(tmp_path, "_scorecard.xlsx"))
    assert wb.sheetnames[:3] == ["Scorecard", "Measures", "Not checkable"]
    ws = wb["Scorecard"]
    col = next(c.column_letter for c in ws[1] if c.value == "Status")
    values = {c.value for c in ws[col]}
    assert values & {"pass", "fail"} and not values & {"达标", "未达标"}


def test_qgis_geopackage_layers_crs_and_styles(chengdu_out: Path, chengdu_pbf: Path) -> None:
    g = _one(chengdu_out, "_map.gpkg")
    names = {str(n) for n, _ in pyogrio.list_layers(g)}
    assert {
        "homes",
        "coverage",
        "uncovered",
        "roads",
        "units",
        "barriers",
        "gap_homes",
        "layer_styles",
        "provenance",
    } <= names
    # Chengdu 104.1°E: CGCS2000 3-degree Gauss-Krüger CM 105°E = EPSG:4544
    for layer in ("homes", "coverage", "uncovered", "roads", "units", "barriers", "gap_homes"):
        assert pyogrio.read_info(g, layer=layer)["crs"] == "EPSG:4544"
    styles = pyogrio.read_dataframe(g, layer="layer_styles")
    assert set(styles["f_table_name"]) == {
        *("homes", "coverage", "uncovered", "roads", "units", "barriers", "gap_homes"),
    }
    # the gap homes of the key measures, one row per home and measure, with its cause
    gh = pyogrio.read_dataframe(g, layer="gap_homes")
    homes = pyogrio.read_dataframe(_one(chengdu_out, "_homes.gpkg"))
    for m in ("bus_cov_500", "park_service"):
        gap = (homes[f"{m}_buffer"] == 1) & (homes[f"{m}_network"] == 0)
        assert (gh["measure"] == m).sum() == gap.sum() > 0
    assert set(gh["cause"]) <= {
        *("data_gap", "far_from_street", "water", "railway", "expressway", "wall", "other"),
    }
    assert pyogrio.read_info(g, layer="barriers")["geometry_type"] == "MultiLineString"
    for r in styles.itertuples():
        root = ET.fromstring(r.styleQML.split(">", 1)[1])  # after the DOCTYPE
        rend = root.find("renderer-v2")
        assert rend is not None
        attr = rend.get("attr")
        if attr:
            fields = pyogrio.read_info(g, layer=r.f_table_name)["fields"]
            assert attr in fields, (r.f_table_name, attr)
    # homes: the same points as homes.gpkg (computation CRS), reprojected
    import geopandas as gpd

    a = gpd.read_file(_one(chengdu_out, "_homes.gpkg"))
    b = pyogrio.read_dataframe(g, layer="homes").to_crs(a.crs)
    assert len(a) == len(b)
    d = shapely.distance(a.geometry.values, b.geometry.values)
    assert np.max(d) < 1e-3


def test_demo_outside_china_stays_utm(tmp_path: Path) -> None:
    res = runner.invoke(app, ["check", "--osm", "demo", "--out", str(tmp_path), "-q"])
    assert res.exit_code == 0
    assert pyogrio.read_info(_one(tmp_path, "_map.gpkg"), layer="homes")["crs"] == "EPSG:32635"


def test_provenance_hashes_and_data_date(
    chengdu_out: Path, chengdu_pbf: Path, tmp_path: Path
) -> None:
    p = json.loads(_one(chengdu_out, "_provenance.json").read_text(encoding="utf-8"))
    assert p["inputs"]["osm"]["sha256"] == hashlib.sha256(chengdu_pbf.read_bytes()).hexdigest()
    assert p["target_sheet"]["id"] == "anyang-2023"
    assert p["target_sheet"]["clause_source"]["doc_no"] == "安政办〔2021〕23号"
    assert p["crs"] == "EPSG:32648" and p["area_basis"] == "osm"
    assert p["osm_data_timestamp"] is None  # this extract carries no timestamps
    # the demo extract does: the newest object's, by an independent pass
    import osmium

    from geoplan.city import demo_path
    from geoplan.outputs.provenance import osm_timestamp

    newest = max(o.timestamp for o in osmium.FileProcessor(str(demo_path())))
    assert osm_timestamp(demo_path()) == newest.isoformat()


def _summary_rows(card: list[dict]) -> list[list[str]]:
    """表1 as a Chinese document writes it, formatted here by hand from the scorecard JSON."""
    units = {"m2/person": "平方米/人", "km/km2": "公里/平方公里", "count": "个", "m2": "平方米"}
    ops = {">=": "≥", "<=": "≤", "==": "="}
    methods = {"buffer": "缓冲区", "network": "步行网络", "area": "面积", "centreline": "中心线"}
    methods |= {"centreline×width": "中心线×宽度", "scenario": "方案"}
    status = {"pass": "达标", "fail": "未达标", "no data": "无数据"}

    def value(v: float | None, unit: str) -> str:
        if v is None:
            return "无数据"
        if unit == "share":
            return f"{100 * v:.1f}%"
        if unit == "count":
            return f"{v:.0f}个"
        return f"{v:.2f} {units.get(unit, unit)}"

    rows = []
    for r in card:
        if r["status"] == "not checkable":
            continue
        unit = r["unit"]
        if r["measured"] is None and r.get("bound") is not None:
            now = "≤ " + value(r["bound"], unit)
        else:
            now = value(r["measured"], unit)
        t = float(r["target"])
        target = f"{ops[r['op']]} " + (
            f"{round(100 * t, 6):g}%" if unit == "share" else f"{t:g} {units.get(unit, unit)}"
        )
        g = r["gap"]
        if g is None:
            gap = "—"
        elif unit == "share":
            v = round(100 * g, 1)
            gap = "达到目标" if v == 0 else f"{'高于' if v > 0 else '低于'}目标{abs(v):.1f}个百分点"
        else:
            gap = (
                "达到目标"
                if g == 0
                else f"{'高于' if g > 0 else '低于'}目标{abs(g):.2f}{units[unit]}"
            )
        method = methods.get(r["method"], "—") if r["method"] else "—"
        rows.append(
            [
                str(len(rows) + 1),
                r["label_zh"],
                method,
                now,
                target.strip(),
                status[r["status"]],
                gap,
            ]
        )
    return rows


def test_report_docx_and_pdf(tmp_path: Path, chengdu_pbf: Path) -> None:
    """`geoplan report` as a 城市体检 chapter: A4, numbered headings, page numbers, the summary
    table of every target, a map per failing coverage indicator, the units' 问题清单; the PDF
    rendered with pdftoppm, its text read back (nothing cut with "…")."""
    import shutil
    import subprocess

    from docx import Document
    from docx.shared import Cm

    res = runner.invoke(
        app,
        [
            "report",
            "--osm",
            str(chengdu_pbf),
            "-t",
            "anyang-2023",
            "--units-grid",
            "1000",
            "--name",
            "成都中心城区",
            "--out",
            str(tmp_path),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    card = json.loads(_one(tmp_path, "_scorecard.json").read_text(encoding="utf-8"))["scorecard"]
    doc = Document(str(_one(tmp_path, "_report.docx")))
    sec = doc.sections[0]
    assert abs(sec.page_width - Cm(21.0)) < Cm(0.01)  # A4 (stored in twips)
    assert abs(sec.page_height - Cm(29.7)) < Cm(0.01)
    assert "PAGE" in sec.footer._element.xml  # a page-number field
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    for h in ("一、总体情况", "二、未达标指标", "三、分单元评估", "四、数据与说明"):
        assert h in heads
    assert any(h.startswith("（一）") for h in heads)
    n_pass = sum(r["status"] == "pass" for r in card)
    n_fail = sum(r["status"] == "fail" for r in card)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert f"达标 {n_pass} 项、未达标 {n_fail} 项" in text
    assert "OpenStreetMap contributors" in text
    assert text.startswith("成都中心城区城市体检")
    # a failing coverage target names the causes of its buffer − walking gap
    assert "步行覆盖比服务半径覆盖低" in text and "主要原因" in text
    summary = [[c.text for c in row.cells] for row in doc.tables[0].rows[1:]]
    assert summary == _summary_rows(card)
    captions = [p.text for p in doc.paragraphs if p.style.name == "Caption"]
    assert captions[0].startswith("表1") and any(c.startswith("图1") for c in captions)
    failing = {r["target_id"] for r in card if r["status"] == "fail"}
    # a map per failing coverage indicator, and up to 4 choropleths of the units
    assert 1 <= len(doc.inline_shapes) <= len(failing) + 4
    pdf = _one(tmp_path, "_report.pdf")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) missing: PDF pages not rendered")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "pg")], check=True)
    pages = sorted(tmp_path.glob("pg-*.png"))
    assert len(pages) >= 3
    from PIL import Image

    first = np.asarray(Image.open(pages[0]).convert("L"), dtype=float)
    assert first.std() > 10  # text and a table, not a blank page
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True)
    assert out.returncode == 0
    sheets = out.stdout.split("\f")
    for i, page in enumerate(s for s in sheets if s.strip()):
        assert re.search(rf"第\s*{i + 1}\s*页", page) and "OpenStreetMap" in page
    assert "…" not in out.stdout  # no cell cut short
    # nothing outside the page: every word's box within the A4 page (pdftotext -bbox)
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True)
    pages_wh = re.findall(r'<page width="([\d.]+)" height="([\d.]+)"', boxes.stdout)
    assert pages_wh
    w, h = (float(v) for v in pages_wh[0])
    for x0, y0, x1, y1 in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', boxes.stdout
    ):
        assert float(x0) >= 0 and float(x1) <= w and float(y0) >= 0 and float(y1) <= h
    flat = re.sub(r"\s+", "", out.stdout)
    assert "二、未达标指标" in flat and "指标评估汇总" in flat


def test_report_in_english(tmp_path: Path) -> None:
    from docx import Document

    res = runner.invoke(
        app, ["report", "--osm", "demo", "--lang", "en", "--out", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0, res.output
    doc = Document(str(_one(tmp_path, "_report.docx")))
    heads = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "1. Summary" in heads and "3. Data and notes" in heads
    assert not any("总体" in h for h in heads)


def test_crs_option_chooses_the_output_crs(tmp_path: Path, chengdu_pbf: Path) -> None:
    """`--crs 32648` (UTM 48N): the styled GeoPackage is written in it, not the CGCS2000 zone."""
    import geopandas as gpd
    from conftest import CHENGDU_BBOX

    b = tmp_path / "b.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(*CHENGDU_BBOX)], crs=4326).to_file(b)
    res = runner.invoke(
        app,
        [
            "check",
            "--osm",
            str(chengdu_pbf),
            "--boundary",
            str(b),
            "--crs",
            "32648",
            "--out",
            str(tmp_path / "o"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    g = _one(tmp_path / "o", "_map.gpkg")
    assert pyogrio.read_info(g, layer="roads")["crs"] == "EPSG:32648"


def test_gap_cause_sheet_and_csv_add_up_to_the_measures(chengdu_out: Path) -> None:
    """The gap-cause rows of each measure and basis sum to buffer − walking in measures.csv."""
    meas = pd.read_csv(_one(chengdu_out, "_measures.csv"))
    gaps = pd.read_csv(_one(chengdu_out, "_gap_causes.csv"))
    sheet = pd.read_excel(_one(chengdu_out, "_scorecard.xlsx"), sheet_name="覆盖差原因")
    assert len(sheet) == len(gaps) and len(gaps) >= 10
    assert sheet["覆盖差（百分点）"].to_numpy() == pytest.approx(gaps["gap_pp"].to_numpy())
    bus = gaps.loc[(gaps["measure"] == "bus_cov_500") & (gaps["basis"] == "homes")]
    sel = (meas["measure"] == "bus_cov_500") & (meas["basis"] == "homes")
    b = float(meas.loc[sel & (meas["method"] == "buffer"), "value"].iloc[0])
    n = float(meas.loc[sel & (meas["method"] == "network"), "value"].iloc[0])
    assert bus["gap_pp"].sum() == pytest.approx(100 * (b - n), abs=1e-6)


def test_unit_gap_causes_are_a_hand_count_per_unit(chengdu_out: Path) -> None:
    """Per 1 km cell: gap homes by cause ÷ the cell's homes, counted from homes.gpkg."""
    homes = pyogrio.read_dataframe(_one(chengdu_out, "_homes.gpkg"))
    units = pyogrio.read_dataframe(_one(chengdu_out, "_units.gpkg"))
    table = pd.read_csv(_one(chengdu_out, "_gap_causes_by_unit.csv"))
    rows = table.loc[(table["measure"] == "bus_cov_500") & (table["basis"] == "homes")]
    assert len(rows) >= 5
    checked = 0
    for u in units.itertuples():
        inside = homes.loc[homes.intersects(u.geometry)]
        # a home on a shared cell edge counts in the first cell only
        if not len(inside) or (homes.touches(u.geometry)).any():
            continue
        gap = inside.loc[(inside["bus_cov_500_buffer"] == 1) & (inside["bus_cov_500_network"] == 0)]
        want = gap["bus_cov_500_gap_cause"].value_counts()
        got = rows.loc[rows["unit"] == u.unit].set_index("cause")
        assert set(got.index) == set(want.index), u.unit
        for cause, n in want.items():
            assert got.loc[cause, "homes"] == n
            assert got.loc[cause, "gap_pp"] == pytest.approx(100 * n / len(inside), abs=1e-9)
        checked += 1
    assert checked >= 5
