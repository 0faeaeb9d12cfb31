"""The scenario change map: baseline vs plan coverage, added and removed features."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import shapely

from geoplan.io.projection import WGS84

if TYPE_CHECKING:
    from geoplan.scenario.compare import ScenarioResult


def change_map(result: ScenarioResult, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the change map: the plan city with its coverage, newly covered homes, the added and
    removed features and the plan layers (``geoplan.outputs.webmap``), atomically."""
    from geoplan.outputs.webmap import build_map, save_map

    plan = result.plan
    cov = {
        k: v
        for k, v in plan.coverage.items()
        if k in ("park_service_buffer", "green_300_buffer", "park_500_buffer", "bus_cov_500_buffer")
    }
    card = result.scorecard.loc[result.scorecard["status_plan"] != "not checkable"].copy()
    card = card.rename(
        columns={"measured_plan": "measured", "status_plan": "status", "gap_plan": "gap"}
    )
    homes = plan.homes.copy()
    m = build_map(
        result.plan_city,
        homes=homes,
        coverage=cov,
        scorecard=card[
            ["indicator", "label_zh", "label_en", "method", "measured", "target", "status", "gap"]
        ],
        lang="en" if lang == "en" else "zh",
    )
    zh = lang != "en"
    nh = result.homes.loc[result.homes["newly_covered_any"]]
    for col, label_zh, label_en in (
        (
            "new_park_service_network",
            "新覆盖住宅·公园服务（步行）",
            "Newly covered homes · park service (walk)",
        ),
        (
            "new_park_service_buffer",
            "新覆盖住宅·公园服务（半径）",
            "Newly covered homes · park service (radius)",
        ),
        (
            "new_bus_cov_500_network",
            "新覆盖住宅·公交500米（步行）",
            "Newly covered homes · bus 500 m (walk)",
        ),
        (
            "new_bus_cov_500_buffer",
            "新覆盖住宅·公交500米（半径）",
            "Newly covered homes · bus 500 m (radius)",
        ),
        (
            "new_green_300_network",
            "新覆盖住宅·300米见绿（步行）",
            "Newly covered homes · green 300 m (walk)",
        ),
    ):
        if col in nh.columns and nh[col].any():
            _points_layer(m, nh.loc[nh[col]], label_zh if zh else label_en, "#7b2cbf")
    for kind, g in result.log.added.items():
        label = f"规划新增·{kind}" if zh else f"Plan: added {kind}"
        _feature_layer(m, g, label, "#e63946" if kind == "bus_stops" else "#1d7a1d")
    for kind, g in result.log.removed.items():
        label = f"规划移除·{kind}" if zh else f"Plan: removed {kind}"
        _feature_layer(m, g, label, "#555555", dash=True)
    # the layer control lists the layers present when it was added: add it again, last
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
    folium.LayerControl(collapsed=True).add_to(m)
    return save_map(m, path)


def _points_layer(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, colour: str) -> None:
    w = gdf.to_crs(WGS84)
    fg = folium.FeatureGroup(name=name, show=True)
    for x, y in zip(w.geometry.x.round(6), w.geometry.y.round(6), strict=True):
        folium.CircleMarker(
            [y, x], radius=3, color=colour, fill=True, weight=1, fill_opacity=0.9
        ).add_to(fg)
    fg.add_to(m)


def _feature_layer(
    m: folium.Map, gdf: gpd.GeoDataFrame, name: str, colour: str, *, dash: bool = False
) -> None:
    if len(gdf) == 0:
        return
    w = gdf.to_crs(WGS84)
    keep = [
        c for c in ("osmid", "name", "category", "area_m2", "highway", "change") if c in w.columns
    ]
    w = w[[*keep, "geometry"]].copy()
    if "area_m2" in w:
        w["area_m2"] = w["area_m2"].round(0)
    for c in ("name", "category", "highway"):
        if c in w:
            w[c] = w[c].astype(str)
    w["geometry"] = shapely.set_precision(w.geometry.values, 1e-6)
    style = {"color": colour, "weight": 3, "fillOpacity": 0.35, "fillColor": colour}
    if dash:
        style["dashArray"] = "6 4"
    fg = folium.FeatureGroup(name=name, show=True)
    folium.GeoJson(
        w.__geo_interface__,
        style_function=lambda _f, s=style: s,
        marker=folium.CircleMarker(radius=5, color=colour, fill=True, fill_opacity=0.9),
        tooltip=folium.GeoJsonTooltip(fields=keep) if keep else None,
    ).add_to(fg)
    fg.add_to(m)
