"""Scenarios on real data, checked against independent overlays and hand computations."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from conftest import CHENGDU_BBOX
from typer.testing import CliRunner

import geoplan
from geoplan.network.cache import AccessCache
from geoplan.scenario.files import load_scenario_file
from geoplan.scenario.model import Scenario
from geoplan.scenario.session import ScenarioSession

ROOT = Path(__file__).parents[2]
#: tolerance (share) between a scenario's buffer coverage and the independent overlay
ABS_TOL_SHARE = 1e-9
#: how close (m) a converted plan-layer point must land to its known WGS84 position
TOL_POSITION_M = 1.0


@pytest.fixture(scope="module")
def chengdu_session(chengdu: geoplan.City) -> ScenarioSession:
    return ScenarioSession(chengdu)


def _value(res: geoplan.scenario.ScenarioResult, measure: str, method: str, basis: str) -> float:
    m = res.plan.measures
    row = m.loc[(m["measure"] == measure) & (m["method"] == method) & (m["basis"] == basis)]
    return float(row["value"].iloc[0])


def test_park_in_a_gap_raises_coverage_as_overlay_predicts(
    chengdu: geoplan.City, chengdu_session: ScenarioSession
) -> None:
    parks = chengdu.parks
    area = parks["area_m2"].to_numpy()
    is_park = (parks["green_kind"] == "park").to_numpy()
    radius = np.where(is_park & (area >= 5000), 500.0, np.where(is_park & (area >= 2000), 300.0, 0))
    served = radius > 0
    old = shapely.union_all(
        shapely.buffer(parks.geometry.values[served], radius[served], quad_segs=16)
    )
    land = shapely.union_all(chengdu.residential.geometry.values)
    gap = land.difference(old)
    # the biggest uncovered residential piece: a 90 m park (8100 m², 500 m tier) at its inner point
    piece = max(shapely.get_parts(gap), key=lambda g: g.area)
    c = piece.representative_point()
    new_park = shapely.box(c.x - 45, c.y - 45, c.x + 45, c.y + 45)
    expected_before = land.intersection(old).area / land.area
    new_cover = shapely.union(old, shapely.buffer(new_park, 500.0, quad_segs=16))
    expected = land.intersection(new_cover).area / land.area
    assert expected > expected_before + 0.005  # the gap is real

    layer = gpd.GeoDataFrame({"name": ["gap park"]}, geometry=[new_park], crs=chengdu.crs)
    res = chengdu_session.run(Scenario("gap_park", targets="anyang-2023").add_parks(layer))
    assert (
        abs(_value(res, "park_service", "buffer", "residential_area") - expected) <= ABS_TOL_SHARE
    )
    row = res.scorecard.loc[
        (res.scorecard["target_id"] == "park_service_coverage")
        & (res.scorecard["method"] == "buffer")
    ].iloc[0]
    assert abs(row["measured_baseline"] - expected_before) <= ABS_TOL_SHARE
    assert abs(row["delta"] - (expected - expected_before)) <= ABS_TOL_SHARE
    # homes newly covered (buffer) are exactly the homes inside the new buffer and not the old
    pts = res.homes.geometry.values
    want = shapely.intersects(new_cover, pts) & ~shapely.intersects(old, pts)
    assert np.array_equal(res.homes["new_park_service_buffer"].to_numpy(), want)


def test_removing_every_bus_stop_gives_zero(
    chengdu: geoplan.City, chengdu_session: ScenarioSession
) -> None:
    res = chengdu_session.run(
        Scenario("no_bus", targets="anyang-2023").remove("bus_stops", all=True)
    )
    assert len(res.plan_city.bus_stops) == 0 and len(chengdu.bus_stops) > 0
    for method, basis in (
        ("buffer", "built_up_area"),
        ("buffer", "residential_area"),
        ("network", "built_up_area"),
        ("network", "residential_area"),
    ):
        assert _value(res, "bus_cov_500", method, basis) == 0.0
    sc = res.scorecard.loc[res.scorecard["target_id"] == "bus_stop_coverage_500m"]
    assert set(sc["method"]) == {"buffer", "network"}
    assert (sc["measured_plan"] == 0.0).all() and (sc["measured_baseline"] > 0).all()
    assert not res.plan.homes["bus_cov_500_network"].any()


# ---- coordinate systems ---------------------------------------------------------------------

_A, _EE = 6378245.0, 0.00669342162296594323  # Krasovsky 1940, as in the published GCJ-02 code


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * math.sqrt(abs(x))
        + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (_A / sq * math.cos(rad) * math.pi)
    return dlon, dlat


def _to_gcj(lon: float, lat: float) -> tuple[float, float]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _to_bd(lon: float, lat: float) -> tuple[float, float]:
    x, y = _to_gcj(lon, lat)
    xp = math.pi * 3000.0 / 180.0
    z = math.sqrt(x * x + y * y) + 0.00002 * math.sin(y * xp)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * xp)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


KNOWN = [(104.0650, 30.6600), (104.0800, 30.6900), (104.1100, 30.7100)]


@pytest.mark.parametrize("system", ["gcj02", "bd09", "epsg4543"])
def test_plan_layers_land_within_1m(chengdu: geoplan.City, tmp_path: Path, system: str) -> None:
    if system == "epsg4543":
        fwd = pyproj.Transformer.from_crs(4326, 4543, always_xy=True)
        xy = [fwd.transform(lo, la) for lo, la in KNOWN]
        pd.DataFrame({"x": [p[0] for p in xy], "y": [p[1] for p in xy]}).to_csv(
            tmp_path / "s.csv", index=False
        )
        scn = Scenario("cs").add_bus_stops(tmp_path / "s.csv", crs=4543)
    else:
        conv = _to_gcj if system == "gcj02" else _to_bd
        ll = [conv(lo, la) for lo, la in KNOWN]
        pd.DataFrame({"lon": [p[0] for p in ll], "lat": [p[1] for p in ll]}).to_csv(
            tmp_path / "s.csv", index=False
        )
        scn = Scenario("cs").add_bus_stops(tmp_path / "s.csv", coord_system=system)
    _, log = scn.apply_with_log(chengdu)
    got = log.added["bus_stops"].to_crs(4326)
    geod = pyproj.Geod(ellps="WGS84")
    for (lo, la), p in zip(KNOWN, got.geometry, strict=True):
        assert geod.inv(lo, la, p.x, p.y)[2] <= TOL_POSITION_M


# ---- scenario files -------------------------------------------------------------------------


def _yaml(tmp_path: Path, text: str) -> Path:
    (tmp_path / "layers").mkdir(exist_ok=True)
    gpd.GeoDataFrame(geometry=[shapely.box(24.93, 60.16, 24.931, 60.1605)], crs=4326).to_file(
        tmp_path / "layers" / "p.geojson"
    )
    p = tmp_path / "scenarios" / "s.yaml"
    p.parent.mkdir(exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    ("text", "must"),
    [
        ("name: x\ncity: demo\nchnages:\n  - {add: parks, layer: layers/p.geojson}\n", "'changes'"),
        ("name: x\ncity: demo\nchanges:\n  - {add: prks, layer: layers/p.geojson}\n", "'parks'"),
        ("name: x\ncity: demo\nchanges:\n  - {add: parks, layr: layers/p.geojson}\n", "'layer'"),
        (
            "name: x\ncity: demo\nchanges:\n  - {add: parks, layer: layers/missing.geojson}\n",
            "not found",
        ),
        (
            "name: x\ncity: demo\nchanges:\n  - {remove: bus_stops, all: yes please}\n",
            "'all' must be bool",
        ),
    ],
)
def test_scenario_file_errors_are_one_line(tmp_path: Path, text: str, must: str) -> None:
    p = _yaml(tmp_path, text)
    with pytest.raises(geoplan.ScenarioError) as exc:
        load_scenario_file(p)
    msg = str(exc.value)
    assert "\n" not in msg and str(p) in msg and must in msg
    if "changes:" in text:
        assert "change 1" in msg


def test_typo_suggests_the_right_key(tmp_path: Path) -> None:
    p = _yaml(tmp_path, "name: x\ncity: demo\nchnages: []\n")
    with pytest.raises(geoplan.ScenarioError, match="did you mean 'changes'"):
        load_scenario_file(p)


def _layer_hash(city: geoplan.City) -> str:
    h = hashlib.sha256()
    for name, g in city.layers().items():
        h.update(name.encode())
        h.update(b"".join(shapely.to_wkb(g.geometry.values)))
        h.update(
            pd.util.hash_pandas_object(
                g.drop(columns="geometry").astype(str), index=True
            ).values.tobytes()
        )
    return h.hexdigest()


def test_baseline_unchanged_after_apply(helsinki: geoplan.City) -> None:
    before = _layer_hash(helsinki)
    n_edges = helsinki.network.n_edges
    scn = load_scenario_file(ROOT / "scenarios" / "demo_xinxiang.yaml")
    scn.remove("bus_stops", all=True).remove(
        "facilities", within=helsinki.boundary.to_crs(4326).geometry.iloc[0]
    )
    plan = scn.apply(helsinki)
    assert _layer_hash(helsinki) == before and helsinki.network.n_edges == n_edges
    assert plan.network is not helsinki.network and plan.network.n_edges > n_edges
    assert len(plan.roads) > len(helsinki.roads) and len(plan.bus_stops) == 0


def test_rerun_reuses_access_cache(helsinki: geoplan.City) -> None:
    session = ScenarioSession(helsinki, cache=AccessCache())
    scn = load_scenario_file(ROOT / "scenarios" / "demo_zhengzhou_parks.yaml")
    session.run(scn)
    misses = session.cache.misses
    res = session.run(scn)
    assert session.cache.misses == misses  # nothing recomputed for unchanged categories
    counts = res.scorecard.set_index("target_id")
    assert counts.loc["parks_added", "measured_plan"] == 5
    assert counts.loc["micro_parks_added", "measured_plan"] == 40


def test_cli_run_writes_comparison_and_map(tmp_path: Path) -> None:
    from geoplan.cli.app import app

    out = tmp_path / "out"
    r = CliRunner().invoke(
        app, ["run", str(ROOT / "scenarios" / "demo_zhengzhou_parks.yaml"), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    for f in ("scorecard.csv", "units.csv", "homes.csv", "comparison.xlsx"):
        assert (out / f"demo_zhengzhou_parks_{f}").is_file()
    html = (out / "maps" / "demo_zhengzhou_parks.html").read_text(encoding="utf-8")
    assert "规划新增" in html or "\\u89c4\\u5212\\u65b0\\u589e" in html  # layer name
    # the comparison workbook is styled as the check's: Chinese headers, numbers as numbers
    # with their unit's format, the plan's status as a fill
    import openpyxl
    import pandas as pd

    wb = openpyxl.load_workbook(out / "demo_zhengzhou_parks_comparison.xlsx")
    ws = wb["规划对比"]
    head = [c.value for c in ws[1]]
    assert {"现状", "规划", "变化", "规划结果"} <= set(head)
    card = pd.read_csv(out / "demo_zhengzhou_parks_scorecard.csv")
    j = head.index("规划") + 1
    for r, row in enumerate(card.itertuples(), start=2):
        cell = ws.cell(row=r, column=j)
        if row.unit == "share" and pd.notna(row.measured_plan):
            assert cell.number_format == "0.0%" and cell.value == pytest.approx(row.measured_plan)
        fill = ws.cell(row=r, column=1).fill.fgColor.rgb
        want = {"pass": "C6EFCE", "fail": "FFC7CE", "no data": "FFEB9C"}.get(row.status_plan)
        if want:
            assert str(fill).endswith(want)
    # the comparison workbook is styled as the check's: Chinese headers, numbers as numbers
    # with their unit's format, the plan's status as a fill
    import openpyxl
    import pandas as pd

    wb = openpyxl.load_workbook(out / "demo_zhengzhou_parks_comparison.xlsx")
    ws = wb["规划对比"]
    head = [c.value for c in ws[1]]
    assert {"现状", "规划", "变化", "规划结果"} <= set(head)
    card = pd.read_csv(out / "demo_zhengzhou_parks_scorecard.csv")
    j = head.index("规划") + 1
    n_shares = 0
    for r, row in enumerate(card.itertuples(), start=2):
        cell = ws.cell(row=r, column=j)
        if row.unit == "share" and pd.notna(row.measured_plan):
            n_shares += 1
            assert cell.number_format == "0.0%" and cell.value == pytest.approx(row.measured_plan)
        fill = ws.cell(row=r, column=1).fill.fgColor.rgb
        want = {"pass": "C6EFCE", "fail": "FFC7CE", "no data": "FFEB9C"}.get(row.status_plan)
        if want:
            assert str(fill).endswith(want)
    assert n_shares > 0
    bad = CliRunner().invoke(app, ["run", str(tmp_path / "nope.yaml")])
    assert bad.exit_code == 2


def test_chengdu_bbox_is_the_shared_one() -> None:
    assert CHENGDU_BBOX == (104.0421, 30.6528, 104.1296, 30.7279)


def test_parks_edit_reruns_only_park_indicators(chengdu: geoplan.City) -> None:
    """A parks-only edit recomputes the indicators that read parks and serves the rest from the
    result cache; every figure equals a fresh session's."""
    res = chengdu.residential
    c = shapely.point_on_surface(res.geometry.values[:12])
    x, y = shapely.get_x(c), shapely.get_y(c)
    parks = gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(len(c))]},
        geometry=shapely.box(x - 30, y - 30, x + 30, y + 30),
        crs=chengdu.crs,
    )
    moved = parks.copy()
    moved.loc[0, "geometry"] = shapely.affinity.translate(moved.geometry.iloc[0], 200.0, 0.0)

    def scn(layer: gpd.GeoDataFrame) -> Scenario:
        return Scenario("edit", targets="zhengzhou-zhongyuan-2019").add_parks(layer)

    session = ScenarioSession(chengdu)
    session.run(scn(parks))
    runs_before = session.cache.dijkstra_runs
    second = session.run(scn(moved))
    report = session.last_cache_report
    park_readers = {"park_coverage", "green_land_ratio", "park_area_per_resident"}
    for name, state in report.items():
        assert state == ("miss" if name in park_readers else "hit"), (name, state)
    # the only new searches are the park source sets the edit changed (tiers, green, park)
    assert 0 < session.cache.dijkstra_runs - runs_before <= 4
    fresh = ScenarioSession(chengdu).run(scn(moved))
    pd.testing.assert_frame_equal(second.scorecard, fresh.scorecard)
    pd.testing.assert_frame_equal(second.measures, fresh.measures)
    pd.testing.assert_frame_equal(
        pd.DataFrame(second.units.drop(columns="geometry")),
        pd.DataFrame(fresh.units.drop(columns="geometry")),
    )


def test_removing_roads_is_not_served_stale_distances(chengdu: geoplan.City) -> None:
    """The plan network of a road removal has its own content key: the session's warm caches
    give the same figures as a cold check of the plan city."""
    from geoplan.network.cache import network_key

    session = ScenarioSession(chengdu)
    base_key = network_key(chengdu.network)  # the baseline's key is computed and cached
    c = chengdu.boundary_polygon.centroid
    box = (
        gpd.GeoDataFrame(
            geometry=[shapely.box(c.x - 800, c.y - 800, c.x + 800, c.y + 800)], crs=chengdu.crs
        )
        .to_crs(4326)
        .geometry.iloc[0]
    )
    scn = Scenario("cut", targets="national").remove("roads", within=box)
    res = session.run(scn)
    assert res.plan_city.network.n_edges < chengdu.network.n_edges
    assert network_key(res.plan_city.network) != base_key
    cold = geoplan.check_city(
        res.plan_city,
        sheet="national",
        homes=res.plan.homes[
            ["home_id", "source", "parcel_osmid", "area_m2", "residents", "geometry"]
        ],
        built_up=res.baseline.area,  # the plan is measured over the baseline's built-up area
        built_up_source=res.baseline.area_source,
    )
    pd.testing.assert_frame_equal(res.plan.measures, cold.measures)


def test_run_prints_a_bilingual_table_not_ids_or_dicts(tmp_path: Path) -> None:
    from geoplan.cli import app

    scn = ROOT / "scenarios" / "demo_zhengzhou_parks.yaml"
    res = CliRunner().invoke(app, ["run", str(scn), "--out", str(tmp_path)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = res.output
    assert "{'" not in out and "added_parks" not in out
    assert "新增公园绿地 added parks and green space 45" in out
    card = load_scenario_file(scn)
    sc = pd.read_csv(tmp_path / "demo_zhengzhou_parks_scorecard.csv")
    for tid in sc["target_id"]:
        assert str(tid) not in out  # labels, not ids
    shares = sc.loc[(sc["unit"] == "share") & sc["measured_plan"].notna()]
    for v in shares["measured_plan"]:
        assert f"{100 * v:.1f}%" in out
    assert "✘ 未达标 → ✔ 达标" in out
    assert card.name == "demo_zhengzhou_parks"


def test_a_removal_that_matches_nothing_is_an_error(helsinki: geoplan.City) -> None:
    """A plan removing a road that does not exist, or a category typo, used to equal the baseline
    with only 'removed 0' to show for it."""
    real = int(helsinki.roads["osmid"].iloc[0])
    with pytest.raises(geoplan.ScenarioError, match=r"no roads in the study area has OSM id 1\b"):
        Scenario("x").remove("roads", ids=[real, 1]).apply(helsinki)
    with pytest.raises(geoplan.ScenarioError, match=r"did you mean 'kindergarten'"):
        Scenario("x").remove("facilities", all=True, category="kindergarden").apply(helsinki)
    x0, y0, _, _ = helsinki.boundary.to_crs(4326).total_bounds
    empty = (x0 - 1.0, y0 - 1.0, x0 - 0.9, y0 - 0.9)  # a bbox far outside the city
    with pytest.raises(geoplan.ScenarioError, match=r"removes nothing"):
        Scenario("x").remove("bus_stops", within=empty).apply(helsinki)
    plan = Scenario("x").remove("roads", ids=[real]).apply(helsinki)  # a real id still works
    assert real not in set(plan.roads["osmid"])
