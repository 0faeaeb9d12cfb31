"""The scenario change map, built on real scenario output (郑州中原区 parks on central Chengdu).

Expected labels and values are written here from the planner's side (the sheet's labels, shares
formatted as %), and compared with what the map shows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import geoplan
from geoplan.outputs.change_map import change_map
from geoplan.outputs.webmap import overlay_layers
from geoplan.scenario.files import load_scenario_file
from geoplan.scenario.session import ScenarioSession

ROOT = Path(__file__).parents[2]
EVIL = "<img src=x onerror=alert(4)>"


@pytest.fixture(scope="module")
def result(chengdu: geoplan.City) -> geoplan.ScenarioResult:
    """The scenario's own city spec is the Chengdu bbox of the ``chengdu`` fixture."""
    scn = load_scenario_file(ROOT / "scenarios" / "chengdu_zhengzhou_parks.yaml")
    return ScenarioSession(chengdu).run(scn)


@pytest.fixture(scope="module")
def html(result: geoplan.ScenarioResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = change_map(result, tmp_path_factory.mktemp("cm") / "demo.html")
    return path.read_text(encoding="utf-8")


def _panel(html: str) -> str:
    texts = [json.loads(f'"{s}"') for s in re.findall(r'div.innerHTML = "((?:[^"\\]|\\.)*)"', html)]
    return next(t for t in texts if "指标评估" in t)


def _layer_names(html: str) -> set[str]:
    """Names in the grouped layer control (its groups are written as JSON)."""
    at = html.find("var groups = ")
    assert at >= 0
    groups, _ = json.JSONDecoder().raw_decode(html[at + len("var groups = ") :])
    return {it["label"] for g in groups for it in g["items"]}


def test_every_overlay_is_labelled(html: str) -> None:
    names = _layer_names(html)
    assert names
    raw = [n for n in names if re.fullmatch(r"[a-z0-9_ ]+", n) or "_buffer" in n or "_network" in n]
    assert raw == []
    # the planner's overlays of a parks scenario, both methods, and the homes by completeness
    for want in (
        "公园绿地服务半径覆盖率（缓冲区）",
        "公园绿地服务半径覆盖率（步行网络）",
        "300米见绿（缓冲区）",
        "300米见绿（步行网络）",
        "500米见园（缓冲区）",
        "规划新增·公园绿地",
    ):
        assert want in names, (want, sorted(names))
    # the standard's life-circle levels lack categories on this extract ("no data (k of n)"):
    # no layer of homes by completeness is drawn for them
    assert "住宅 · 生活圈完整度" not in names
    assert any(n.startswith("新覆盖住宅·300米见绿") for n in names)


def test_panel_shows_baseline_to_plan_in_percent(result: geoplan.ScenarioResult, html: str) -> None:
    panel = _panel(html)
    assert "<th>现状</th><th>规划</th><th>变化</th>" in panel
    assert "评估（现状→规划）" in panel
    sc = result.scorecard
    rows = sc.loc[(sc["status_plan"] != "not checkable") & (sc["unit"] == "share")]
    rows = rows.dropna(subset=["measured_baseline", "measured_plan"])
    assert len(rows) >= 4  # medical and fitness circles, both methods (life circles: no data)
    for _, r in rows.iterrows():
        method = {"buffer": "缓冲区", "network": "步行网络"}[r["method"]]
        label = f"{r['label_zh']}（{method}）"
        b, p = f"{100 * r['measured_baseline']:.1f}%", f"{100 * r['measured_plan']:.1f}%"
        assert re.search(re.escape(f"<td>{label}</td><td>{b}</td><td>{p}</td>"), panel), label
    # status before → after, in Chinese
    assert "→" in panel and "未达标" in panel
    assert "0.7447" not in panel and "no data" not in panel.replace("无数据 no data", "")


def test_plan_layer_names_are_escaped(
    helsinki: geoplan.City, result: geoplan.ScenarioResult, tmp_path: Path
) -> None:
    c = helsinki.boundary_polygon.centroid
    evil = gpd.GeoDataFrame(
        {"name": [EVIL]}, geometry=[shapely.box(c.x, c.y, c.x + 80, c.y + 80)], crs=helsinki.crs
    )
    scn = geoplan.Scenario("evil", targets="zhengzhou-zhongyuan-2019").add_parks(evil)
    res = ScenarioSession(helsinki).run(scn)
    html = change_map(res, tmp_path / "evil.html").read_text(encoding="utf-8")
    assert EVIL not in html and "onerror=alert(4)>" not in html
    # escaped once by geoplan, then JSON-encoded by folium (& as \u0026)
    assert "&lt;img src=x onerror=alert(4)&gt;" in html.replace("\\u0026", "&")


def test_overlays_are_folium_layers_of_the_map(result: geoplan.ScenarioResult) -> None:
    """The change map's coverage comes from the plan check, keyed by the vocabulary."""
    from geoplan.names import KEY_MEASURES, coverage_key

    plan = result.plan
    for m in KEY_MEASURES:
        for meth in ("buffer", "network"):
            key = coverage_key(m, meth)
            if key in plan.coverage:
                assert key in plan.coverage_layers
    assert overlay_layers  # imported API stays public
