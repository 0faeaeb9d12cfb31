"""Homes on the map (points or grid cells by life-circle completeness) and basemaps."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.names import LEVELS, Method, coverage_key, dist_column
from geoplan.outputs.map_layers import (
    Ctx,
    add_geojson,
    cat_label,
    clip_points,
    keyed_style,
    known_categories,
)
from geoplan.outputs.map_panels import Legend, point_swatch
from geoplan.outputs.map_style import (
    BACKGROUND,
    BASEMAPS,
    COMPLETE_COLOURS,
    DIST_COLOURS,
    HOME_RADIUS,
    OSM_ATTRIBUTION,
    Lang,
    dist_class,
    esc,
    share_class,
)

_TIANDITU = "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"


_AMAP = "https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}"


def _complete_col(level: str) -> str:
    return coverage_key(level, Method.NETWORK)


def _share_of(level: str) -> str:
    return f"share_{level}"


def _home_columns(homes: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    """Life-circle levels and categories the homes carry.

    Levels with a per-home completeness flag and categories with a walking-distance column, in
    the check's own column names (:mod:`geoplan.names`).
    """
    complete = [lev for lev in LEVELS if _complete_col(lev) in homes.columns]
    cats = [c for c in known_categories() if dist_column(c) in homes.columns]
    if not complete and not cats:
        raise LayerError(
            f"homes: no {'/'.join(_complete_col(lev) for lev in LEVELS)} or dist_<category>_m "
            "columns; pass the homes of geoplan.check_city"
        )
    return complete, cats


def _fmt_dist(d: float, t: Mapping[str, str]) -> str:
    return f"{d:.0f}" if math.isfinite(d) else t["unreachable"]


def _completeness_class(homes: pd.DataFrame, complete: list[str]) -> NDArray[np.int64]:
    k = np.full(len(homes), 3, dtype=np.int64)
    for i, level in reversed(list(enumerate(LEVELS))):
        if level in complete:
            k[homes[_complete_col(level)].fillna(False).to_numpy(dtype=bool)] = i
    return k


def aggregate_homes(homes: gpd.GeoDataFrame, *, cell_m: float) -> gpd.GeoDataFrame:
    """Homes (metric CRS) summed to ``cell_m`` squares aligned on multiples of ``cell_m``.

    Columns: ``n_homes``, ``share_5min`` / ``share_10min`` / ``share_15min`` (share of homes with
    ``lc_<level>_complete_network`` true) and ``dist_<category>_m`` (median over the cell's homes,
    ``inf`` when more than half are unreachable). One row per non-empty cell, geometry the square.

    Parameters
    ----------
    homes
        Homes (metric CRS) with flags and distances.
    cell_m
        Cell side (m).

    Returns
    -------
    GeoDataFrame
        One row per non-empty cell.
    """
    complete, cats = _home_columns(homes)
    x = homes.geometry.x.to_numpy()
    y = homes.geometry.y.to_numpy()
    df = pd.DataFrame(
        {"ix": np.floor(x / cell_m).astype(np.int64), "iy": np.floor(y / cell_m).astype(np.int64)}
    )
    agg: dict[str, Any] = {}
    for level in complete:
        col = _complete_col(level)
        df[col] = homes[col].fillna(False).to_numpy(dtype=float)
        agg[_share_of(level)] = (col, "mean")
    for cat in cats:
        col = dist_column(cat)
        df[col] = homes[col].to_numpy(dtype=float)
        agg[col] = (col, "median")
    agg["n_homes"] = ("ix", "size")
    g = df.groupby(["ix", "iy"], sort=True).agg(**agg).reset_index()
    boxes = shapely.box(
        g["ix"] * cell_m, g["iy"] * cell_m, (g["ix"] + 1) * cell_m, (g["iy"] + 1) * cell_m
    )
    return gpd.GeoDataFrame(g.drop(columns=["ix", "iy"]), geometry=boxes, crs=homes.crs)


def add_homes(
    m: folium.Map,
    ctx: Ctx,
    homes: gpd.GeoDataFrame,
    bnd: BaseGeometry,
    max_features: int,
    grid_m: float,
    legend: Legend,
    *,
    categories: bool = True,
) -> None:
    """Homes by life-circle completeness (points or grid cells) and per category distance layers.

    ``categories=False``: no per-category layers and no distances in the popups.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    homes
        Homes with ``lc_*_complete_network`` flags and ``dist_<category>_m`` (any CRS).
    bnd : BaseGeometry
        Study boundary (city metric CRS); the layer is clipped to it.
    max_features
        Homes drawn one by one up to this many, else aggregated to cells.
    grid_m
        Cell side (m) of aggregated homes.
    legend : Legend
        The legend the layer adds its entries to.
    categories
        Also draw one layer of homes per facility category, by distance.
    """
    complete, cats = _home_columns(homes)
    if not categories:
        cats = []
    homes = clip_points(homes, bnd)
    if homes.empty:
        return
    t = ctx.t
    grid = len(homes) > max_features
    data = aggregate_homes(homes, cell_m=grid_m) if grid else homes
    if grid:  # cells on the edge are cut at the boundary, like every other layer
        data = data.set_geometry(data.geometry.intersection(bnd))
    radius = None if grid else HOME_RADIUS
    base = {"weight": 0.5, "color": "#ffffff", "fillOpacity": 0.85 if not grid else 0.6}
    dists = {c: data[dist_column(c)].to_numpy(dtype=float) for c in cats}
    dist_fields = [(f"d{i}", f"{cat_label(c, ctx.lang)} (m)") for i, c in enumerate(cats)]

    if complete:
        if grid:
            share = data[_share_col(complete)].to_numpy(dtype=float)
            k = np.array([share_class(s) for s in share])
            head: list[tuple[str, str]] = [("h", t["homes_n"])] + [
                (f"s{lev[:-3]}", t[f"share{lev[:-3]}"]) for lev in complete
            ]
            name = t["homes_grid"].format(cell=f"{grid_m:g}")
            keys = [f"sh{i}" for i in range(4)]
        else:
            k = _completeness_class(data, complete)
            head = [("l", t["life_circle"])]
            name = t["homes"]
            keys = [f"lc{i}" for i in range(4)]
        props = []
        for i in range(len(data)):
            p: dict[str, Any] = {"k": int(k[i])}
            if grid:
                p["h"] = int(data["n_homes"].iloc[i])
                for lev in complete:
                    p[f"s{lev[:-3]}"] = f"{data[_share_of(lev)].iloc[i]:.0%}"
            else:
                p["l"] = t[f"lc{k[i]}"]
            for j, c in enumerate(cats):
                p[f"d{j}"] = _fmt_dist(dists[c][i], t)
            props.append(p)
        styles = {i: {**base, "fillColor": COMPLETE_COLOURS[i], "fill": True} for i in range(4)}
        add_geojson(
            m,
            ctx,
            data.geometry.values,
            props,
            name,
            keyed_style(styles),
            popup=head + dist_fields,
            radius=radius,
            group="homes",
        )
        legend.add_section(name, [point_swatch(COMPLETE_COLOURS[i], t[keys[i]]) for i in range(4)])

    dstyles = {i: {**base, "fillColor": DIST_COLOURS[i], "fill": True} for i in range(5)}
    for cat in cats:
        label = cat_label(cat, ctx.lang)
        props = [{"k": dist_class(d), "d": _fmt_dist(d, t)} for d in dists[cat]]
        add_geojson(
            m,
            ctx,
            data.geometry.values,
            props,
            t["homes_cat"].format(cat=label),
            keyed_style(dstyles),
            show=False,
            popup=[("d", t["median_dist"] if grid else t["dist"])],
            radius=radius,
            group="homes_dist",
        )
    if cats:
        legend.add_section(
            t["homes_cat"].format(cat="…"),
            [point_swatch(DIST_COLOURS[i], t[f"d{i}"]) for i in range(5)],
        )


def _share_col(complete: list[str]) -> str:
    return _share_of("15min" if "15min" in complete else complete[-1])


def add_basemap(
    m: folium.Map,
    basemap: str,
    lang: Lang,
    tianditu_key: str | None,
    local_url: str | None,
    local_attr: str,
) -> None:
    """The background tiles (none, local, osm, tianditu, amap) with their attribution.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    basemap
        ``none``, ``local``, ``osm``, ``tianditu`` or ``amap``.
    lang : str
        Language of the labels: ``zh`` or ``en``.
    tianditu_key
        天地图 key (``tianditu``).
    local_url
        Tile URL template (``local``).
    local_attr
        Credit line of the local tiles.
    """
    if basemap == "none":
        m.get_root().header.add_child(  # type: ignore[attr-defined]
            folium.Element(
                f"<style>.folium-map.leaflet-container{{background:{BACKGROUND};}}</style>"
            ),
            name="geoplan_background",
        )
    elif basemap == "osm":
        folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr=OSM_ATTRIBUTION,
            name="OpenStreetMap",
            max_zoom=19,
        ).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise LayerError(
                "basemap 'tianditu' needs a Tianditu browser key: pass tianditu_key=... "
                "(apply at the Tianditu developer console), or use basemap='none' / 'local'"
            )
        attr = "© 天地图 Tianditu (国家地理信息公共服务平台)"
        for layer in ("vec", "cva" if lang == "zh" else "eva"):
            folium.TileLayer(
                _TIANDITU.format(layer=layer, key=tianditu_key),
                attr=attr,
                name="天地图" if layer == "vec" else "天地图注记",
                subdomains="01234567",
                max_zoom=18,
                overlay=layer != "vec",
                control=False,
            ).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            _AMAP.format(lang="zh_cn" if lang == "zh" else "en"),
            attr="© 高德地图 AutoNavi (GCJ-02)",
            name="高德地图 AMap",
            subdomains="1234",
            max_zoom=18,
        ).add_to(m)
    elif basemap == "local":
        if not local_url:
            raise LayerError(
                "basemap 'local' needs local_tiles_url, a tile URL template such as "
                "http://gis.intranet/tiles/{z}/{x}/{y}.png or tiles/{z}/{x}/{y}.png"
            )
        folium.TileLayer(local_url, attr=esc(local_attr) or " ", name="local").add_to(m)
    else:
        raise LayerError(f"unknown basemap {basemap!r}; choose one of {', '.join(BASEMAPS)}")
