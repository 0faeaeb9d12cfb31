"""The scenario change map: plan coverage, newly covered homes, added and removed features.

Drawn from real :class:`~geoplan.scenario.compare.ScenarioResult` output in the vocabulary of
:mod:`geoplan.names`: every overlay carries its zh/en label, the panel shows baseline → plan in %
with the method and the status before → after.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geoplan.city import City
from geoplan.io.projection import WGS84
from geoplan.names import KEY_MEASURES, Lang, Method, coverage_key, layer_label
from geoplan.outputs.map_panels import GroupedLayers, Legend, point_swatch
from geoplan.outputs.map_result import change_rows
from geoplan.outputs.map_style import esc
from geoplan.scoring.check import CheckResult


class _Log(Protocol):
    @property
    def added(self) -> Mapping[str, gpd.GeoDataFrame]: ...
    @property
    def removed(self) -> Mapping[str, gpd.GeoDataFrame]: ...


class _Result(Protocol):
    """What the change map reads of a :class:`geoplan.ScenarioResult` (no import of it)."""

    @property
    def plan(self) -> CheckResult: ...
    @property
    def baseline(self) -> CheckResult: ...
    @property
    def base_city(self) -> City: ...
    @property
    def plan_city(self) -> City: ...
    @property
    def scorecard(self) -> pd.DataFrame: ...
    @property
    def homes(self) -> gpd.GeoDataFrame: ...
    @property
    def log(self) -> _Log: ...


#: colours of the change layers
NEW_HOMES_COLOUR = "#7b2cbf"
ADDED_COLOUR = {"bus_stops": "#e63946"}
ADDED_DEFAULT = "#1d7a1d"
REMOVED_COLOUR = "#555555"


def change_map(result: _Result, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the change map of a scenario, atomically.

    Parameters
    ----------
    result
        Baseline vs plan (:meth:`geoplan.Scenario.run`).
    path
        HTML file to write (offline: Leaflet inlined).
    lang
        ``"zh"`` (default) or ``"en"``.

    Returns
    -------
    Path
        The file written.
    """
    from geoplan.outputs.webmap import save_map

    return save_map(_plan_map(result, "en" if lang == "en" else "zh"), path)


def _plan_map(result: _Result, lg: Lang, *, home_categories: bool = True) -> folium.Map:
    """The plan city with its coverage, newly covered homes and the features added / removed."""
    from geoplan.outputs.webmap import build_map

    plan = result.plan
    keys = [coverage_key(m, meth) for m in KEY_MEASURES for meth in (Method.BUFFER, Method.NETWORK)]
    cov = {k: plan.coverage[k] for k in keys if k in plan.coverage}
    m = build_map(
        result.plan_city,
        homes=plan.homes,
        coverage=cov,
        coverage_layers=plan.coverage_layers,
        scorecard=change_rows(result.scorecard, lang=lg),
        lang=lg,
        layer_control=False,
        home_categories=home_categories,
        title=("规划 plan · " if lg == "zh" else "Plan · ") + str(getattr(result, "name", "")),
    )
    nh = result.homes.loc[result.homes["newly_covered_any"]]
    for key in keys:
        col = f"new_{key}"
        layer = plan.coverage_layers.get(key)
        if layer is None or col not in nh.columns or not nh[col].any():
            continue
        label = (
            f"新覆盖住宅·{layer.label('zh')}"
            if lg == "zh"
            else f"Newly covered homes · {layer.label('en')}"
        )
        _points_layer(m, nh.loc[nh[col]], label, NEW_HOMES_COLOUR)
    for kind, g in result.log.added.items():
        name = layer_label(kind, lg)
        label = f"规划新增·{name}" if lg == "zh" else f"Plan: added {name}"
        _feature_layer(m, g, label, ADDED_COLOUR.get(kind, ADDED_DEFAULT))
    for kind, g in result.log.removed.items():
        name = layer_label(kind, lg)
        label = f"规划移除·{name}" if lg == "zh" else f"Plan: removed {name}"
        _feature_layer(m, g, label, REMOVED_COLOUR, dash=True)
    legend = next((c for c in m._children.values() if isinstance(c, Legend)), None)
    if legend is not None:
        items = [
            point_swatch(NEW_HOMES_COLOUR, "新覆盖住宅" if lg == "zh" else "Newly covered homes")
        ]
        items += [
            point_swatch(
                ADDED_COLOUR.get(kind, ADDED_DEFAULT),
                ("规划新增·" if lg == "zh" else "Plan: added ") + layer_label(kind, lg),
            )
            for kind in result.log.added
        ]
        items += [
            point_swatch(
                REMOVED_COLOUR,
                ("规划移除·" if lg == "zh" else "Plan: removed ") + layer_label(kind, lg),
            )
            for kind in result.log.removed
        ]
        legend.add_section("规划方案" if lg == "zh" else "Plan", items)
    m.add_child(GroupedLayers(m.overlays(), lg))
    return m


def side_by_side(result: _Result, path: str | Path, *, lang: str = "zh") -> Path:
    """Baseline (left) and plan (right) in one offline page, the two maps moving together.

    Each side is a full geoplan map (its own layers and scorecard) in an ``<iframe srcdoc>``;
    they open at the same view, panning or zooming one sets the other's, and only the plan shows
    the legend. Written atomically.

    Parameters
    ----------
    result
        A scenario comparison (baseline and plan checks).
    path
        The HTML file to write.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    Path
        The path written.
    """
    from geoplan._atomic import atomic_path
    from geoplan.outputs.map_result import check_map
    from geoplan.outputs.webmap import render_html

    lg: Lang = "en" if lang == "en" else "zh"
    # homes by completeness only: the per-category distance layers (about 25 copies of every
    # home) stay on the single maps, side by side compares coverage
    base = check_map(
        result.base_city,
        result.baseline,
        home_categories=False,
        lang=lg,
        title=("现状 baseline · " if lg == "zh" else "Baseline · ") + result.base_city.name,
    )
    # one legend: the plan's (it holds the baseline's layers and the plan's changes)
    left = render_html(base).replace(
        "</head>", "<style>.geoplan-legend{display:none}</style></head>", 1
    )
    right = render_html(_plan_map(result, lg, home_categories=False))
    title = esc(
        ("现状 → 规划 " if lg == "zh" else "Baseline → plan ") + str(getattr(result, "name", ""))
    )
    page = f"""<!DOCTYPE html>
<html lang="{"zh-CN" if lg == "zh" else "en"}"><head><meta charset="utf-8"><title>{title}</title>
<style>html,body{{margin:0;height:100%}}body{{display:flex}}
iframe{{flex:1;border:0;height:100%}}#a{{border-right:3px solid #333}}</style></head>
<body><iframe id="a" title="baseline"></iframe><iframe id="b" title="plan"></iframe>
<script type="application/json" id="page-a">{_json_html(left)}</script>
<script type="application/json" id="page-b">{_json_html(right)}</script>
<script>
(function(){{
  var frames = [document.getElementById("a"), document.getElementById("b")], busy = false;
  // each side's page is a JSON string (a quote costs 2 bytes, not the 6 of &quot; in srcdoc)
  frames[0].srcdoc = JSON.parse(document.getElementById("page-a").textContent);
  frames[1].srcdoc = JSON.parse(document.getElementById("page-b").textContent);
  function map(f) {{ try {{ return f.contentWindow.geoplanMap; }} catch (e) {{ return null; }} }}
  function link() {{
    var a = map(frames[0]), b = map(frames[1]);
    if (!a || !b) {{ setTimeout(link, 100); return; }}
    // open at the same view: the plan follows the baseline's fitted view, now and once both
    // have finished fitting around their panels
    function view(m) {{  // a map's view, or null before it has a valid one
      try {{
        var c = m.getCenter(), z = m.getZoom();
        return isFinite(c.lat) && isFinite(c.lng) && isFinite(z) ? [c, z] : null;
      }} catch (e) {{ return null; }}
    }}
    function copy(from, to) {{
      var v = view(from);
      if (!v || busy) return !!v;
      busy = true; to.setView(v[0], v[1], {{animate: false}}); busy = false;
      return true;
    }}
    function same() {{ if (!copy(a, b)) setTimeout(same, 100); }}
    setTimeout(same, 0); setTimeout(same, 400);
    [[a, b], [b, a]].forEach(function(p) {{
      p[0].on("move", function() {{ copy(p[0], p[1]); }});
    }});
    window.geoplanMaps = [a, b];
  }}
  setTimeout(link, 100);
}})();
</script></body></html>
"""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    return Path(path)


def _json_html(page: str) -> str:
    """A page as a JSON string safe inside ``<script>`` (no ``</`` to end it early)."""
    return json.dumps(page, ensure_ascii=False).replace("</", "<\\/")


def _points_layer(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, colour: str) -> None:
    """Points as one GeoJSON layer of circle markers (not one Leaflet object per point)."""
    w = gdf.to_crs(WGS84)
    fg = folium.FeatureGroup(name=esc(name), show=True)
    fg.geoplan_group = "plan"  # type: ignore[attr-defined]
    data = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [x, y]},
            }
            for x, y in zip(w.geometry.x.round(6), w.geometry.y.round(6), strict=True)
        ],
    }
    style = {"color": colour, "fillColor": colour, "weight": 1, "fillOpacity": 0.9}
    folium.GeoJson(
        data,
        style_function=lambda _f, s=style: s,
        marker=folium.CircleMarker(radius=3, color=colour, fill=True, fill_opacity=0.9),
    ).add_to(fg)
    fg.add_to(m)


def _feature_layer(
    m: folium.Map, gdf: gpd.GeoDataFrame, name: str, colour: str, *, dash: bool = False
) -> None:
    """Added or removed features, with an escaped tooltip (OSM and plan names are user text)."""
    if len(gdf) == 0:
        return
    w = gdf.to_crs(WGS84)
    keep = [
        c for c in ("osmid", "name", "category", "area_m2", "highway", "change") if c in w.columns
    ]
    w = w[[*keep, "geometry"]].copy()
    if "area_m2" in w:
        w["area_m2"] = w["area_m2"].round(0)
    for c in keep:
        if c != "area_m2":
            w[c] = w[c].astype(str).map(esc)
    w["geometry"] = shapely.set_precision(w.geometry.values, 1e-6)
    style = {"color": colour, "weight": 3, "fillOpacity": 0.35, "fillColor": colour}
    if dash:
        style["dashArray"] = "6 4"
    fg = folium.FeatureGroup(name=esc(name), show=True)
    fg.geoplan_group = "plan"  # type: ignore[attr-defined]
    folium.GeoJson(
        w.__geo_interface__,
        style_function=lambda _f, s=style: s,
        marker=folium.CircleMarker(radius=5, color=colour, fill=True, fill_opacity=0.9),
        tooltip=folium.GeoJsonTooltip(fields=keep) if keep else None,
    ).add_to(fg)
    fg.add_to(m)
