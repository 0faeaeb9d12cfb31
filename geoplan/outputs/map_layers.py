"""Map layers drawn from a city: roads, parks, bus stops, facilities, and the GeoJSON helpers.

The layers of a check's results (coverage areas, gaps, gap causes) are in
:mod:`geoplan.outputs.map_coverage`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city import City
from geoplan.io.coords import wgs84_to_gcj02
from geoplan.names import (
    LAYER_CATEGORIES,
    LAYER_CATEGORY_LABELS,
)
from geoplan.outputs.map_panels import Legend, area_swatch, line_swatch, point_swatch
from geoplan.outputs.map_style import (
    BUS_STOP_STYLE,
    CATEGORY_PALETTE,
    FACILITY_RADIUS,
    PARK_STYLE,
    ROAD_STYLE,
    TEXT,
    Lang,
    esc,
)
from geoplan.rules import taxonomy as tx


class Ctx:
    """Projection settings shared by every layer of one map.

    Parameters
    ----------
    crs
        The city's metric CRS (the layers' CRS).
    simplify_m
        Simplification tolerance (m) before projecting; 0 keeps every vertex.
    shift
        Shift WGS84 to GCJ-02 (for AMap / 天地图-GCJ basemaps).
    lang
        Language of the labels: ``zh`` or ``en``.
    """

    def __init__(self, *, crs: Any, simplify_m: float, shift: bool, lang: Lang) -> None:
        self.crs = crs
        self.simplify_m = simplify_m
        self.shift = shift
        self.lang = lang
        self.t = TEXT[lang]

    def project(self, geoms: Iterable[BaseGeometry]) -> NDArray[np.object_]:
        """Simplify (metres), project to WGS84, shift to GCJ-02 if asked, round to 6 decimals.

        Parameters
        ----------
        geoms
            Geometries in the city's metric CRS.

        Returns
        -------
        ndarray of shapely geometries
            WGS84 (or GCJ-02) degrees, rounded to 6 decimals (about 0.1 m).
        """
        arr = np.asarray(list(geoms), dtype=object)
        if arr.size == 0:
            return arr
        if self.simplify_m > 0:
            arr = shapely.simplify(arr, self.simplify_m, preserve_topology=True)
        wgs = np.asarray(gpd.GeoSeries(arr, crs=self.crs).to_crs(4326).values, dtype=object)
        shift = self.shift

        def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
            if shift:
                lon, lat = wgs84_to_gcj02(xy[:, 0], xy[:, 1])
                xy = np.column_stack([lon, lat])
            return np.round(xy, 6)

        return np.asarray(shapely.transform(wgs, fn), dtype=object)


def to_city_crs(gdf: gpd.GeoDataFrame, city: City, what: str) -> gpd.GeoDataFrame:
    """A layer in the city's CRS (refused with one line when it has none).

    Parameters
    ----------
    gdf
        A layer handed to the map.
    city
        The city (its metric CRS).
    what
        Name of the layer in the error message.

    Returns
    -------
    GeoDataFrame
        The layer in ``city.crs``.
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise LayerError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise LayerError(f"{what}: layer has no CRS; set one with .set_crs(EPSG) before mapping")
    return gdf if gdf.crs == city.crs else gdf.to_crs(city.crs)


def clip_points(gdf: gpd.GeoDataFrame, poly: BaseGeometry) -> gpd.GeoDataFrame:
    """Rows whose point lies in ``poly`` (boundary included).

    Parameters
    ----------
    gdf
        Point features (metric CRS).
    poly
        The clip polygon (same CRS).

    Returns
    -------
    GeoDataFrame
        The rows inside.
    """
    return gdf.loc[shapely.intersects(gdf.geometry.values, poly)]


def clip_polygons(gdf: gpd.GeoDataFrame, poly: BaseGeometry) -> gpd.GeoDataFrame:
    """Rows intersected with ``poly``; rows left empty are dropped.

    Parameters
    ----------
    gdf
        Polygon features (metric CRS).
    poly
        The clip polygon (same CRS).

    Returns
    -------
    GeoDataFrame
        The rows cut to ``poly``, empty and zero-area ones dropped.
    """
    out = gdf.loc[~gdf.geometry.isna()].copy()
    out = out.set_geometry(out.geometry.intersection(poly))
    return out.loc[~out.geometry.is_empty & (out.geometry.area > 0)]


def bounds_latlon(geom: BaseGeometry) -> list[list[float]]:
    """``[[south, west], [north, east]]`` of a geometry in degrees.

    Parameters
    ----------
    geom
        A geometry in WGS84 degrees.

    Returns
    -------
    list of list of float
        ``[[south, west], [north, east]]`` (Leaflet's ``fitBounds`` order).
    """
    x0, y0, x1, y1 = geom.bounds
    return [[y0, x0], [y1, x1]]


def const_style(style: Mapping[str, Any]) -> folium.JsCode:
    """A Leaflet style function returning ``style`` for every feature.

    Parameters
    ----------
    style
        Leaflet path options (``color``, ``weight``, ``fillOpacity`` …).

    Returns
    -------
    folium.JsCode
        A style function returning them for every feature.
    """
    return folium.JsCode(f"function(f){{return {_js(style)};}}")


def keyed_style(styles: Mapping[Any, Mapping[str, Any]]) -> folium.JsCode:
    """Style function reading the compact class key ``k`` of each feature.

    Parameters
    ----------
    styles
        Class key → Leaflet path options.

    Returns
    -------
    folium.JsCode
        A style function reading each feature's ``k`` property.
    """
    table = {str(k): v for k, v in styles.items()}
    return folium.JsCode(f"function(f){{var s={_js(table)};return s[f.properties.k]||{{}};}}")


def _js(obj: Any) -> str:
    return (
        json.dumps(obj, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def add_geojson(
    m: folium.Map,
    ctx: Ctx,
    geoms: Sequence[BaseGeometry] | NDArray[np.object_],
    props: Sequence[Mapping[str, Any]],
    name: str,
    style: folium.JsCode,
    *,
    show: bool = True,
    popup: Sequence[tuple[str, str]] = (),
    tooltip: str | None = None,
    radius: float | None = None,
    interactive: bool = True,
    group: str = "other",
) -> folium.GeoJson:
    """One GeoJSON overlay; ``props`` values must already be HTML-escaped strings or numbers.

    ``group``: its entry in the grouped layer control
    (:class:`geoplan.outputs.map_panels.GroupedLayers`).

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    geoms
        Geometries (city metric CRS).
    props
        Properties per geometry: HTML-escaped strings or numbers.
    name
        Layer name in the layer control (escaped by the caller).
    style
        Style function (:func:`const_style`, :func:`keyed_style`).
    show
        Shown when the map opens.
    popup
        ``(property, label)`` rows of the popup.
    tooltip
        Property shown on hover.
    radius
        Circle-marker radius (px) for points; ``None`` draws Leaflet markers.
    interactive
        Whether features answer clicks and hovers.
    group
        Group of the layer control (``base``, ``coverage``, ``gaps`` …).

    Returns
    -------
    folium.GeoJson
        The overlay added to ``m``.
    """
    projected = ctx.project(geoms)
    features = [
        {"type": "Feature", "properties": dict(p), "geometry": mapping(g)}
        for g, p in zip(projected, props, strict=True)
        if not g.is_empty
    ]
    data = {"type": "FeatureCollection", "features": features}
    kwargs: dict[str, Any] = {"style": style}
    if not interactive:
        kwargs["interactive"] = False
    layer = folium.GeoJson(
        data,
        name=esc(name),
        show=show,
        marker=folium.CircleMarker(radius=radius, fill=True) if radius else None,
        popup=folium.GeoJsonPopup(fields=[f for f, _ in popup], aliases=[esc(a) for _, a in popup])
        if popup and features
        else None,
        tooltip=folium.GeoJsonTooltip(fields=[tooltip], labels=False)
        if tooltip and features
        else None,
        **kwargs,
    )
    layer.geoplan_group = group  # type: ignore[attr-defined]
    layer.add_to(m)
    return layer


def name_or(value: Any, t: Mapping[str, str]) -> str:
    """A feature's name for a popup, escaped (``t["unnamed"]`` when it has none).

    Parameters
    ----------
    value
        The name (``None`` / NaN: none).
    t
        The map's texts (:data:`geoplan.outputs.map_style.TEXT`).

    Returns
    -------
    str
    """
    s = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return esc(s.strip() or t["unnamed"])


def add_roads(m: folium.Map, ctx: Ctx, roads: gpd.GeoDataFrame, legend: Legend) -> None:
    """Roads coloured by Chinese grade, with names in popups.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    roads
        Roads (city metric CRS) with ``grade`` and ``name``.
    legend : Legend
        The legend the layer adds its entries to.
    """
    if roads.empty:
        return
    t, grades = ctx.t, tx.road_grades()
    props = []
    for grade, name in zip(roads["grade"], roads.get("name", [""] * len(roads)), strict=True):
        g = grades.get(str(grade))
        label = (g.label_zh if ctx.lang == "zh" else g.label_en) if g else str(grade)
        props.append({"k": str(grade), "n": name_or(name, t), "g": esc(label)})
    add_geojson(
        m,
        ctx,
        roads.geometry.values,
        props,
        t["roads"],
        keyed_style(ROAD_STYLE),
        popup=[("n", t["name"]), ("g", t["grade"])],
        group="roads",
    )
    present = set(roads["grade"].astype(str))
    legend.add_section(
        t["roads"],
        [
            line_swatch(ROAD_STYLE[k], g.label_zh if ctx.lang == "zh" else g.label_en)
            for k, g in grades.items()
            if k in present and k in ROAD_STYLE
        ],
    )


def add_parks(m: folium.Map, ctx: Ctx, parks: gpd.GeoDataFrame, legend: Legend) -> None:
    """Parks and green space polygons.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    parks
        Public green (city metric CRS) with ``name`` and ``area_m2``.
    legend : Legend
        The legend the layer adds its entries to.
    """
    if parks.empty:
        return
    t = ctx.t
    props = [
        {"n": name_or(n, t), "a": f"{a:,.0f}"}
        for n, a in zip(parks["name"], parks["area_m2"], strict=True)
    ]
    add_geojson(
        m,
        ctx,
        parks.geometry.values,
        props,
        t["parks"],
        const_style(PARK_STYLE),
        popup=[("n", t["name"]), ("a", t["area_m2"])],
        group="parks",
    )
    legend.add_section(None, [area_swatch(PARK_STYLE, t["parks"])])


def add_bus_stops(m: folium.Map, ctx: Ctx, stops: gpd.GeoDataFrame, legend: Legend) -> None:
    """Bus stops as points.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    stops
        Bus stops (city metric CRS) with ``name``.
    legend : Legend
        The legend the layer adds its entries to.
    """
    if stops.empty:
        return
    t = ctx.t
    props = [{"n": name_or(n, t)} for n in stops["name"]]
    add_geojson(
        m,
        ctx,
        stops.geometry.values,
        props,
        t["bus_stops"],
        const_style(BUS_STOP_STYLE),
        popup=[("n", t["name"])],
        radius=float(BUS_STOP_STYLE["radius"]),
        group="services",
    )
    legend.add_section(None, [point_swatch(str(BUS_STOP_STYLE["fillColor"]), t["bus_stops"])])


def category_colours() -> dict[str, str]:
    """Facility category → colour, stable across maps (taxonomy order).

    Returns
    -------
    dict of str to str
        Category → hex colour.
    """
    return {k: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, k in enumerate(tx.categories())}


def known_categories() -> list[str]:
    """Facility categories of the taxonomy, then the layer categories (bus stop, park, green).

    Returns
    -------
    list of str
        Category keys in the order of the legend.
    """
    cats = list(tx.categories())
    return cats + [c for c in LAYER_CATEGORIES if c not in cats]


def cat_label(key: str, lang: Lang) -> str:
    """Label of a facility or layer category in ``lang``.

    Parameters
    ----------
    key
        A facility or layer category.
    lang : str
        Language of the labels: ``zh`` or ``en``.

    Returns
    -------
    str
        Its label (the key itself when unknown).
    """
    cat = tx.categories().get(key)
    if cat is None:
        pair = LAYER_CATEGORY_LABELS.get(key)
        return key if pair is None else pair[0] if lang == "zh" else pair[1]
    return cat.label_zh if lang == "zh" else cat.label_en


def add_facilities(m: folium.Map, ctx: Ctx, fac: gpd.GeoDataFrame, legend: Legend) -> None:
    """One point layer per facility category (names escaped in popups).

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    fac
        Facilities (city metric CRS) with ``category`` and ``name``.
    legend : Legend
        The legend the layer adds its entries to.
    """
    if fac.empty:
        return
    t, colours = ctx.t, category_colours()
    order = [k for k in tx.categories() if k in set(fac["category"])]
    order += sorted(set(fac["category"].astype(str)) - set(order))
    items = []
    for key in order:
        sub = fac.loc[fac["category"] == key]
        label = cat_label(key, ctx.lang)
        colour = colours.get(key, "#525252")
        style = {"color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.9}
        props = [{"n": name_or(n, t), "c": esc(label)} for n in sub["name"]]
        add_geojson(
            m,
            ctx,
            sub.geometry.values,
            props,
            t["facility"].format(cat=label),
            const_style(style),
            popup=[("n", t["name"]), ("c", t["category"])],
            tooltip="n",
            radius=FACILITY_RADIUS,
            group="services",
        )
        items.append(point_swatch(colour, label))
    legend.add_section(t["facility"].format(cat="").rstrip(" ·"), items)
