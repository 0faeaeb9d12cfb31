"""geoplan.outputs.webmap: map structure (folium objects and parsed HTML), offline assets, GCJ-02,
escaping.

Counts are checked against independent computations on the inputs (shapely containment and
overlay), never against the map code's own clipping helpers.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

import geoplan
from geoplan.io.coords import wgs84_to_gcj02
from geoplan.outputs.map_homes import aggregate_homes
from geoplan.outputs.map_result import map_coverage_keys, scorecard_rows
from geoplan.outputs.webmap import build_map, overlay_layers, render_html, save_map
from geoplan.rules import taxonomy as tx
from geoplan.rules.life_circles import load_life_circles

EVIL_NAMES = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
#: facility categories of the Chengdu clip (hand count of its facilities layer)
HOME_CATS = (
    "community_commerce",
    "food_market",
    "hospital",
    "school_unknown",
    "middle_school",
    "pharmacy",
    "primary_school",
    "restaurant",
    "sports_medium",
    "sports_small",
    "metro_station",  # node 4079221431 李家沱: railway=station, station=subway
)
#: levels requiring only categories the clip holds: the standard's levels are "no data" there,
#: and the map draws homes by completeness only where a level can be measured
MAPPED_LC = Path(__file__).parents[1] / "data" / "life_circles_mapped.yaml"


def real_results(city: geoplan.City) -> dict:
    """The map inputs of a real check (``geoplan.check_city`` on the city, anyang-2023), as
    :func:`geoplan.outputs.map_result.check_map` passes them, plus 5 home points outside the
    boundary (copies of real homes moved away) that the map must drop."""
    res = geoplan.check_city(city, sheet="anyang-2023", life_circles=load_life_circles(MAPPED_LC))
    _, _, x1, y1 = city.boundary_polygon.bounds
    out = res.homes.iloc[:5].copy()
    out["geometry"] = [shapely.Point(x1 + 200 + 50 * i, y1 + 200) for i in range(5)]
    homes = pd.concat([res.homes, out], ignore_index=True)
    homes = gpd.GeoDataFrame(homes, geometry="geometry", crs=city.crs)
    keys = map_coverage_keys(res)
    return {
        "homes": homes,
        "coverage": {k: res.coverage[k] for k in keys},
        "coverage_layers": res.coverage_layers,
        "gaps": res.gaps,
        "scorecard": scorecard_rows(res.scorecard),
        "result": res,
    }


def map_args(results: dict) -> dict:
    return {k: v for k, v in results.items() if k != "result"}


def with_evil_facilities(city: geoplan.City) -> geoplan.City:
    """A copy of ``city`` whose first facilities carry script-injection names."""
    fac = city.facilities.copy()
    for i, name in enumerate(EVIL_NAMES):
        fac.iloc[i, fac.columns.get_loc("name")] = name
    return dataclasses.replace(city, facilities=fac)


def features(layer: folium.GeoJson) -> list[dict]:
    return layer.data["features"]


def layers_by_name(m: folium.Map) -> dict[str, folium.GeoJson]:
    return {layer.layer_name: layer for layer in overlay_layers(m)}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def external_assets(html: str) -> list[str]:
    """``src`` / ``href`` of scripts and stylesheets that point to the internet."""
    p = _Tags()
    p.feed(html)
    out = []
    for tag, attrs in p.tags:
        url = attrs.get("src") if tag == "script" else attrs.get("href") if tag == "link" else None
        if url and re.match(r"(https?:)?//", url):
            out.append(url)
    return out


@pytest.fixture(scope="module")
def results(chengdu_clip: geoplan.City) -> dict:
    return real_results(chengdu_clip)


@pytest.fixture(scope="module")
def zh_map(chengdu_clip: geoplan.City, results: dict) -> folium.Map:
    return build_map(chengdu_clip, **map_args(results))


def test_layers_present_with_chinese_names(zh_map: folium.Map, chengdu_clip: geoplan.City) -> None:
    names = set(layers_by_name(zh_map))
    expected = {
        "研究范围",
        "道路（按等级）",
        "公园绿地",
        "公交站",
        # one layer per indicator's uncovered land (never two indicators merged)
        "公交站点500米覆盖率·未覆盖居住用地",
        "公园绿地服务半径覆盖率·未覆盖居住用地",
        "住宅 · 生活圈完整度",
        # every coverage overlay a planner reads, labelled with its method (the clip has
        # bus stops, parks in the service tiers and a park of 5000 m² or more)
        "公交站点300米覆盖率（缓冲区）",
        "公交站点300米覆盖率（步行网络）",
        "公交站点500米覆盖率（缓冲区）",
        "公交站点500米覆盖率（步行网络）",
        "公园绿地服务半径覆盖率（缓冲区）",
        "公园绿地服务半径覆盖率（步行网络）",
        "500米见园（缓冲区）",
        "500米见园（步行网络）",
        # a scorecard row of anyang-2023: 300米见绿 has its layer too
        "300米见绿（缓冲区）",
        "300米见绿（步行网络）",
        # and every themed circle the sheet scores (健身圈, 阅读圈, 生活购物圈)
        "15分钟健身圈（缓冲区）",
        "15分钟健身圈（步行网络）",
        "15分钟阅读圈（缓冲区）",
        "15分钟阅读圈（步行网络）",
        "15分钟生活购物圈（缓冲区）",
        "15分钟生活购物圈（步行网络）",
    }
    cats = tx.categories()
    expected |= {f"住宅 · 至{cats[c].label_zh}" for c in HOME_CATS}
    expected |= {"住宅 · 至公交站", "住宅 · 至公园", "住宅 · 至公共绿地"}
    expected |= {f"设施 · {cats[c].label_zh}" for c in set(chengdu_clip.facilities["category"])}
    assert names == expected, (expected - names, names - expected)
    # per-category home layers and buffer coverage are off by default, the rest on
    by_name = layers_by_name(zh_map)
    assert not by_name[f"住宅 · 至{cats['primary_school'].label_zh}"].show
    assert not by_name["公交站点500米覆盖率（缓冲区）"].show
    assert by_name["公交站点500米覆盖率（步行网络）"].show
    assert by_name["住宅 · 生活圈完整度"].show


def test_feature_counts_equal_inputs(
    zh_map: folium.Map, chengdu_clip: geoplan.City, results: dict
) -> None:
    city = chengdu_clip
    by_name = layers_by_name(zh_map)
    assert len(features(by_name["道路（按等级）"])) == len(city.roads)
    assert len(features(by_name["公园绿地"])) == len(city.parks)
    assert len(features(by_name["公交站"])) == len(city.bus_stops)
    cats = tx.categories()
    for cat, n in city.facilities["category"].value_counts().items():
        assert len(features(by_name[f"设施 · {cats[cat].label_zh}"])) == n
    # homes: independent containment test in WGS84 degrees
    bnd_wgs = gpd.GeoSeries([city.boundary_polygon], crs=city.crs).to_crs(4326).iloc[0]
    homes_wgs = results["homes"].to_crs(4326)
    n_inside = int(homes_wgs.geometry.within(bnd_wgs.buffer(1e-9)).sum())
    assert n_inside == len(results["homes"]) - 5
    assert len(features(by_name["住宅 · 生活圈完整度"])) == n_inside
    for cat in HOME_CATS:
        assert len(features(by_name[f"住宅 · 至{cats[cat].label_zh}"])) == n_inside
    # gaps: shapely overlay with the boundary, keep parts with area
    clipped = gpd.overlay(results["gaps"], city.boundary[["geometry"]], how="intersection")
    clipped = clipped.loc[clipped.area > 0]
    for label, part in clipped.groupby("label_zh"):  # one layer per indicator's gap
        assert len(features(by_name[str(label)])) == len(part)
    for name in ("公交站点500米覆盖率（步行网络）", "公园绿地服务半径覆盖率（步行网络）"):
        assert len(features(by_name[name])) == 1


def test_home_classes_match_columns(zh_map: folium.Map, results: dict) -> None:
    layer = layers_by_name(zh_map)["住宅 · 生活圈完整度"]
    homes = results["homes"].iloc[:-5]  # the 5 outside points are last
    c5, c10, c15 = (
        homes.get(f"lc_{lev}_complete_network", pd.Series(False, index=homes.index))
        for lev in ("5min", "10min", "15min")
    )
    expected = np.where(c5, 0, np.where(c10, 1, np.where(c15, 2, 3)))
    got = [f["properties"]["k"] for f in features(layer)]
    assert got == expected.tolist()
    dist = homes["dist_primary_school_m"].to_numpy()
    cat_layer = layers_by_name(zh_map)[f"住宅 · 至{tx.categories()['primary_school'].label_zh}"]
    for f, d in zip(features(cat_layer), dist, strict=True):
        k = f["properties"]["k"]
        if math.isinf(d):
            assert k == 4 and f["properties"]["d"] == "不可达"
        else:
            assert k == int(np.searchsorted([300, 500, 1000], d, side="left"))


def test_initial_view_fits_boundary(zh_map: folium.Map, chengdu_clip: geoplan.City) -> None:
    fit = [c for c in zh_map._children.values() if isinstance(c, folium.map.FitBounds)]
    assert len(fit) == 1
    (lat0, lon0), (lat1, lon1) = fit[0].bounds
    x0, y0, x1, y1 = (
        gpd.GeoSeries([chengdu_clip.boundary_polygon], crs=chengdu_clip.crs)
        .to_crs(4326)
        .total_bounds
    )
    assert (lon0, lat0, lon1, lat1) == pytest.approx((x0, y0, x1, y1), abs=1e-5)


def test_structure_to_dict_has_legend_scorecard_attribution_and_control(zh_map: folium.Map) -> None:
    kinds = {child["name"] for child in zh_map.to_dict()["children"].values()}
    assert {"Legend", "ScorecardPanel", "Attribution", "LayerControl", "GeoJson"} <= kinds


def test_html_legend_scorecard_attribution_zh(zh_map: folium.Map, results: dict) -> None:
    html = render_html(zh_map)
    assert "geoplan-legend" in html and "geoplan-scorecard" in html
    assert "OpenStreetMap" in html and "contributors" in html
    # panel HTML goes through tojson: Chinese text is \\u-escaped, markup < > too
    panel = json.loads('"' + re.search(r'div.innerHTML = "((?:[^"\\]|\\.)*)"', html).group(1) + '"')
    assert "图例" in panel
    assert any(g.label_zh in panel for g in tx.road_grades().values())
    sc = re.findall(r'div.innerHTML = "((?:[^"\\]|\\.)*)"', html)
    texts = [json.loads(f'"{s}"') for s in sc]
    scorecard = next(t for t in texts if "指标评估" in t)
    card = results["result"].scorecard
    for method, zh in (("buffer", "缓冲区"), ("network", "步行网络")):
        label = card.loc[card["method"] == method, "label_zh"].iloc[0]
        assert f"{label}（{zh}）" in scorecard
    assert "✗ 未达标" in scorecard and "无数据" in scorecard and "no data" not in scorecard


def test_english_labels(chengdu_clip: geoplan.City, results: dict) -> None:
    args = map_args(results) | {"scorecard": scorecard_rows(results["result"].scorecard, lang="en")}
    m = build_map(chengdu_clip, **args, lang="en")
    names = set(layers_by_name(m))
    assert {"Study area", "Roads (by grade)", "Homes · life-circle completeness"} <= names
    assert not any(re.search(r"[\u4e00-\u9fff]", n) for n in names)
    texts = [
        json.loads(f'"{s}"')
        for s in re.findall(r'div.innerHTML = "((?:[^"\\]|\\.)*)"', render_html(m))
    ]
    assert any("Legend" in t for t in texts)
    assert any("(walking network)" in t and "✗ fail" in t for t in texts)


def test_offline_html_has_no_external_scripts_or_styles(zh_map: folium.Map, tmp_path: Path) -> None:
    path = save_map(zh_map, tmp_path / "m.html")
    html = path.read_text(encoding="utf-8")
    assert external_assets(html) == []
    assert "Leaflet 1.9.4" in html  # inlined
    assert "sourceMappingURL" not in html
    assert not re.search(r"url\((?!data:|#default)", html.split("<body>")[0])
    # no tile layer with basemap "none"
    assert "L.tileLayer(" not in html.split("<body>")[1]
    online = render_html(zh_map, offline=False)
    assert any("leaflet@1.9.4" in u for u in external_assets(online))
    assert not any("jquery" in u or "bootstrap" in u for u in external_assets(online))


def test_online_basemaps(chengdu_clip: geoplan.City) -> None:
    html = render_html(build_map(chengdu_clip, basemap="osm"))
    assert "tile.openstreetmap.org" in html and external_assets(html) == []
    html = render_html(build_map(chengdu_clip, basemap="tianditu", tianditu_key="KEY123"))
    assert "tianditu.gov.cn" in html and "tk=KEY123" in html
    html = render_html(
        build_map(chengdu_clip, basemap="local", local_tiles_url="tiles/{z}/{x}/{y}.png")
    )
    assert '"tiles/{z}/{x}/{y}.png"' in html
    with pytest.raises(geoplan.LayerError, match="tianditu_key"):
        build_map(chengdu_clip, basemap="tianditu")
    with pytest.raises(geoplan.LayerError, match="local_tiles_url"):
        build_map(chengdu_clip, basemap="local")
    with pytest.raises(geoplan.LayerError, match="unknown basemap"):
        build_map(chengdu_clip, basemap="google")  # type: ignore[arg-type]


def test_amap_shifts_geometry_to_gcj02(chengdu_clip: geoplan.City) -> None:
    city = chengdu_clip
    c = city.boundary_polygon.centroid
    homes = gpd.GeoDataFrame({"lc_15min_complete_network": [True]}, geometry=[c], crs=city.crs)
    lon, lat = pyproj.Transformer.from_crs(city.crs, 4326, always_xy=True).transform(c.x, c.y)

    def home_xy(basemap: str) -> tuple[float, float]:
        m = build_map(city, homes=homes, basemap=basemap)  # type: ignore[arg-type]
        (f,) = features(layers_by_name(m)["住宅 · 生活圈完整度"])
        return tuple(f["geometry"]["coordinates"])  # type: ignore[return-value]

    plain, shifted = home_xy("none"), home_xy("amap")
    assert plain == pytest.approx((lon, lat), abs=1e-6)
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert shifted == pytest.approx((float(glon), float(glat)), abs=1e-6)
    # the GCJ-02 offset in Chengdu is a few hundred metres (published transforms: ~250–600 m)
    geod = pyproj.Geod(ellps="WGS84")
    offset_m = geod.inv(plain[0], plain[1], shifted[0], shifted[1])[2]
    assert 150 < offset_m < 700
    # the boundary and the fitted view move too
    fit = next(
        c
        for c in build_map(city, basemap="amap")._children.values()
        if isinstance(c, folium.map.FitBounds)
    )
    fit0 = next(
        c for c in build_map(city)._children.values() if isinstance(c, folium.map.FitBounds)
    )
    assert fit.bounds != fit0.bounds


def test_strings_are_html_escaped(
    chengdu_clip: geoplan.City, results: dict, tmp_path: Path
) -> None:
    city = with_evil_facilities(chengdu_clip)
    sc = results["scorecard"].copy()
    sc.loc[0, "label_zh"] = EVIL_NAMES[0]
    gaps = results["gaps"].assign(name=EVIL_NAMES[1])
    coverage = {EVIL_NAMES[1]: results["coverage"]["bus_cov_500_network"]}
    m = build_map(city, homes=results["homes"], gaps=gaps, coverage=coverage, scorecard=sc)
    html = save_map(m, tmp_path / "evil.html").read_text(encoding="utf-8")
    for raw in ("<script>alert", "<img src=x", "onerror=alert(1)>"):
        assert raw not in html
    # the names are there, escaped once
    names = {
        f["properties"]["n"]
        for layer in overlay_layers(m)
        for f in features(layer)
        if "n" in f["properties"]
    }
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in names
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in names
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in {
        lyr.layer_name for lyr in overlay_layers(m)
    }


def test_aggregation_to_grid(chengdu_clip: geoplan.City, results: dict) -> None:
    homes = results["homes"].iloc[:-5]
    m = build_map(chengdu_clip, homes=results["homes"], max_features=50, grid_m=250)
    by_name = layers_by_name(m)
    layer = by_name["住宅 · 生活圈完整度（250 m 网格）"]
    cells = features(layer)
    assert sum(f["properties"]["h"] for f in cells) == len(homes)
    # brute force: cell index of every home
    ix = np.floor(homes.geometry.x / 250).astype(int)
    iy = np.floor(homes.geometry.y / 250).astype(int)
    assert len(cells) == len(set(zip(ix, iy, strict=True)))
    grid = aggregate_homes(homes, cell_m=250)
    first = (ix == ix.min()) & (iy == iy[ix == ix.min()].min())
    row = grid.loc[grid.geometry.contains(homes.geometry[first].iloc[0])].iloc[0]
    assert row["n_homes"] == first.sum()
    assert row["share_15min"] == pytest.approx(homes.loc[first, "lc_15min_complete_network"].mean())
    assert row["dist_restaurant_m"] == pytest.approx(
        np.median(homes.loc[first, "dist_restaurant_m"])
    )


def test_coordinates_rounded_to_6_decimals(zh_map: folium.Map) -> None:
    coords = json.dumps([features(layer) for layer in overlay_layers(zh_map)])
    decimals = [len(d) for d in re.findall(r"-?\d+\.(\d+)", coords)]
    assert max(decimals) <= 6


def test_bad_inputs(chengdu_clip: geoplan.City, results: dict) -> None:
    no_crs = results["homes"].set_crs(None, allow_override=True)
    with pytest.raises(geoplan.LayerError, match="no CRS"):
        build_map(chengdu_clip, homes=no_crs)
    with pytest.raises(geoplan.LayerError, match="lc_5min_complete_network"):
        build_map(chengdu_clip, homes=results["homes"][["geometry"]])
    with pytest.raises(geoplan.LayerError, match="missing column"):
        build_map(chengdu_clip, scorecard=pd.DataFrame({"indicator": ["x"]}))
    with pytest.raises(geoplan.LayerError, match="lang"):
        build_map(chengdu_clip, lang="fr")  # type: ignore[arg-type]


def test_save_map_is_atomic(zh_map: folium.Map, tmp_path: Path) -> None:
    target = tmp_path / "maps" / "city.html"
    save_map(zh_map, target)
    first = target.read_text(encoding="utf-8")
    save_map(zh_map, target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(first) > 100_000
    assert sorted(p.name for p in target.parent.iterdir()) == ["city.html"]


def test_homes_in_other_crs_are_reprojected(chengdu_clip: geoplan.City, results: dict) -> None:
    m1 = build_map(chengdu_clip, homes=results["homes"])
    m2 = build_map(chengdu_clip, homes=results["homes"].to_crs(4326))
    f1 = features(layers_by_name(m1)["住宅 · 生活圈完整度"])
    f2 = features(layers_by_name(m2)["住宅 · 生活圈完整度"])
    assert len(f1) == len(f2)
    a = np.array([f["geometry"]["coordinates"] for f in f1])
    b = np.array([f["geometry"]["coordinates"] for f in f2])
    assert np.abs(a - b).max() <= 2e-6


def test_one_colour_per_method_and_a_layer_per_coverage_row(helsinki: geoplan.City) -> None:
    """Buffer areas are blue, walking areas orange, whatever the indicator; every coverage
    measure a sheet scores (300米见绿 included) has its layers on the check map."""
    from geoplan.names import green_measure
    from geoplan.outputs.map_style import coverage_style

    res = geoplan.check_city(helsinki, sheet="anyang-2023")
    keys = map_coverage_keys(res)
    for m in ("buffer", "network"):
        assert f"{green_measure(300)}_{m}" in keys
    colours: dict[str, set[str]] = {"buffer": set(), "network": set()}
    for key in keys:
        layer = res.coverage_layers[key]
        colours[str(layer.method)].add(coverage_style(layer)["color"])
    assert colours["buffer"] and colours["network"]
    assert not colours["buffer"] & colours["network"]
    assert all(c.startswith(("#08", "#42")) for c in colours["buffer"])  # blues
    # every coverage area behind a measured share row of the scorecard is drawn
    from geoplan.rules.life_circles import load_life_circles
    from geoplan.scoring.scorecard import circle_measure, measure_of

    measured = set(res.scorecard.loc[res.scorecard["measured"].notna(), "target_id"])
    for t in res.sheet.checkable:
        if t.unit != "share" or t.id not in measured:
            continue
        m = (
            circle_measure(t, load_life_circles())[0]
            if t.indicator == "circle"
            else measure_of(t, res.sheet)
        )
        areas = [k for k, lay in res.coverage_layers.items() if lay.measure == m]
        assert all(k in keys for k in areas), (t.id, areas)


def test_check_map_draws_gap_homes_by_cause(chengdu: geoplan.City) -> None:
    """One hidden layer per key measure; its points are the gap homes, coloured by cause."""
    from geoplan.outputs.map_result import check_map

    res = geoplan.check_city(chengdu, sheet="anyang-2023")
    m = check_map(chengdu, res)
    layers = {k: v for k, v in layers_by_name(m).items() if k.startswith("步行未达原因")}
    assert len(layers) == 2  # bus 500 m and park service
    h = res.homes
    bnd = chengdu.boundary_polygon
    for name, layer in layers.items():
        measure = "bus_cov_500" if "公交" in name else "park_service"
        gap = h.loc[h[f"{measure}_buffer"] & ~h[f"{measure}_network"]]
        gap = gap.loc[gap.intersects(bnd)]
        feats = features(layer)
        assert len(feats) == len(gap) > 0
        want = gap[f"{measure}_gap_cause"].value_counts().to_dict()
        got: dict[str, int] = {}
        for f in feats:
            got[f["properties"]["k"]] = got.get(f["properties"]["k"], 0) + 1
        assert got == want
        assert not layer.show
