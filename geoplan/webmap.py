"""Interactive maps a planner can publish, and open offline: life circles, coverage and gaps.

:func:`build_map` draws a :class:`~geoplan.City` and the results of the indicator engine (homes
with their walking distances, coverage areas, uncovered residential land, the scorecard) as a
folium / Leaflet map; :func:`save_map` writes it as one self-contained HTML file. With
``offline=True`` (the default) Leaflet's JS and CSS are inlined from the copy shipped in geoplan
(npm ``leaflet@1.9.4``, BSD-2-Clause), so the page opens on an intranet with no internet; with
``basemap="none"`` or ``"local"`` it fetches nothing at all.

Geometries are simplified in the city's metric CRS (``simplify_m``), projected to WGS84, shifted
to GCJ-02 when the AMap (Gaode) basemap is chosen (its tiles are GCJ-02, see :mod:`geoplan.coords`)
and rounded to 6 decimals (≈ 0.1 m). More than ``max_features`` homes are aggregated to square grid
cells of ``grid_m`` metres. Every string from OSM or from user layers is HTML-escaped before it
reaches a popup, a tooltip, a layer name, the legend or the scorecard.

Map data © OpenStreetMap contributors (ODbL); the attribution is always shown.

>>> import geoplan
>>> from geoplan.webmap import build_map, save_map
>>> city = geoplan.load_city("demo")                          # doctest: +SKIP
>>> save_map(build_map(city, lang="en"), "maps/helsinki.html")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from numpy.typing import NDArray
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from . import taxonomy as tx
from ._atomic import atomic_path
from ._errors import InputFileError, LayerError
from ._webmap_assets import (
    BACKGROUND,
    BOUNDARY_STYLE,
    BUS_STOP_STYLE,
    CATEGORY_PALETTE,
    COMPLETE_COLOURS,
    DIST_COLOURS,
    FACILITY_RADIUS,
    GAP_STYLE,
    HOME_RADIUS,
    OSM_ATTRIBUTION,
    PARK_STYLE,
    ROAD_STYLE,
    TEXT,
    GeoplanMap,
    Lang,
    coverage_label,
    coverage_style,
    dist_class,
    esc,
    share_class,
)
from .city import City
from .coords import wgs84_to_gcj02

__all__ = [
    "BASEMAPS",
    "build_map",
    "map_command",
    "overlay_layers",
    "save_map",
    "write_map",
]

Basemap = Literal["none", "osm", "tianditu", "amap", "local"]
BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu", "amap", "local")

_DIST_RE = re.compile(r"^dist_(.+)_m$")
_COMPLETE_COLS = ("complete_5min", "complete_10min", "complete_15min")

_TIANDITU = "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
_AMAP = "https://webrd0{{s}}.is.autonavi.com/appmaptile?lang={lang}&size=1&scale=1&style=8&x={{x}}&y={{y}}&z={{z}}"


# --------------------------------------------------------------------------------------------
# public API


def build_map(
    city: City,
    *,
    homes: gpd.GeoDataFrame | None = None,
    coverage: Mapping[str, BaseGeometry] | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    scorecard: pd.DataFrame | None = None,
    lang: Lang = "zh",
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    local_tiles_url: str | None = None,
    local_tiles_attribution: str = "",
    max_features: int = 3000,
    grid_m: float = 250.0,
    simplify_m: float = 2.0,
) -> GeoplanMap:
    """Draw a city and its life-circle results as an interactive Leaflet map.

    Parameters
    ----------
    city
        The loaded city (layers in its metric CRS). Drawn: the study boundary, roads by grade
        (快速路/主干路/次干路/支路/内部道路), parks, bus stops and facilities by category (one
        layer each, names in popups).
    homes
        Home points with boolean ``complete_5min`` / ``complete_10min`` / ``complete_15min`` and
        float ``dist_<category>_m`` columns (walking metres, ``inf`` if unreachable), any CRS.
        Drawn coloured by life-circle completeness, plus one layer per category (off by default)
        coloured by distance class (≤300 / ≤500 / ≤1000 m, GB 50180-2018). Points outside the
        boundary are dropped. More than ``max_features`` homes are aggregated to ``grid_m`` squares
        showing the share of complete homes and the median distances.
    coverage
        Named coverage areas in the city's metric CRS, e.g. ``bus_300_buffer``,
        ``bus_500_network``, ``park_service_buffer``, ``park_service_network``; clipped to the
        boundary. Network versions are shown on opening, buffer versions are off.
    gaps
        Uncovered residential land polygons (any CRS), clipped to the boundary, highlighted.
    scorecard
        Table with columns ``indicator``, ``label_zh``, ``label_en``, ``measured``, ``target``,
        ``status``, ``gap`` (``method`` optional), shown as a panel on the map.
    lang
        ``"zh"`` (default) or ``"en"`` for layer names, popups, legend and scorecard.
    basemap
        ``"none"`` (blank, default), ``"local"`` (``local_tiles_url``, e.g. an intranet tile
        server ``http://gis.local/tiles/{z}/{x}/{y}.png``), ``"osm"``, ``"tianditu"`` (needs
        ``tianditu_key``) or ``"amap"`` (Gaode; geometries are shifted to GCJ-02).
    max_features
        Most homes drawn as points; above it homes become grid cells.
    grid_m
        Grid cell side for aggregated homes, metres.
    simplify_m
        Douglas–Peucker tolerance in metres, applied in the metric CRS before projection.

    Returns
    -------
    GeoplanMap
        A :class:`folium.Map`; save it with :func:`save_map`.

    Raises
    ------
    LayerError
        Unknown ``lang`` / ``basemap``, a missing key or tile URL, a layer without CRS or required
        columns.
    """
    if lang not in TEXT:
        raise LayerError(f"lang must be 'zh' or 'en', not {lang!r}")
    t = TEXT[lang]
    shift = basemap == "amap"
    bnd = city.boundary_polygon
    ctx = _Ctx(crs=city.crs, simplify_m=simplify_m, shift=shift, lang=lang)
    bounds = _bounds_latlon(ctx.project([bnd])[0])

    m = GeoplanMap(
        location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=True,
    )
    m.get_root().title = esc(t["title"].format(city=city.name))  # type: ignore[attr-defined]
    _add_basemap(m, basemap, lang, tianditu_key, local_tiles_url, local_tiles_attribution)
    legend = _Legend(lang)

    _add_geojson(
        m, ctx, [bnd], [{}], t["boundary"], _const_style(BOUNDARY_STYLE), interactive=False
    )
    for name, geom in (coverage or {}).items():
        _add_coverage(m, ctx, bnd, str(name), geom, legend)
    if gaps is not None:
        _add_gaps(m, ctx, _to_city_crs(gaps, city, "gaps"), bnd, legend)
    _add_parks(m, ctx, city.parks, legend)
    _add_roads(m, ctx, city.roads, legend)
    if homes is not None:
        _add_homes(m, ctx, _to_city_crs(homes, city, "homes"), bnd, max_features, grid_m, legend)
    _add_facilities(m, ctx, city.facilities, legend)
    _add_bus_stops(m, ctx, city.bus_stops, legend)

    m.add_child(legend)
    if scorecard is not None:
        m.add_child(_Scorecard(scorecard, lang))
    m.add_child(_Attribution())
    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds(bounds)
    return m


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write ``m`` as one HTML file, atomically (temporary file + ``os.replace``).

    With ``offline=True`` Leaflet's JS and CSS are inlined (no ``<script src>`` or stylesheet link
    to the internet); with ``False`` they are linked from a CDN (a smaller file that needs the
    internet). Missing parent folders are created. Returns the path written.
    """
    html = render_html(m, offline=offline)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path)


def render_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map's full HTML page as a string (see :func:`save_map`)."""
    if isinstance(m, GeoplanMap):
        m.offline = offline
    elif offline:
        raise LayerError("offline rendering needs a map made by geoplan.webmap.build_map")
    return m.get_root().render()


def write_map(city: City, path: str | Path, *, offline: bool = True, **kwargs: Any) -> Path:
    """:func:`build_map` then :func:`save_map`; ``kwargs`` go to :func:`build_map`."""
    return save_map(build_map(city, **kwargs), path, offline=offline)


def overlay_layers(m: folium.Map) -> list[folium.map.Layer]:
    """The overlay layers of a map in drawing order (what the layer control lists)."""
    return [
        c
        for c in m._children.values()
        if isinstance(c, folium.map.Layer) and c.overlay and c.control
    ]


def map_command(
    source: str | Path,
    *,
    out: str | Path | None = None,
    boundary: Any = None,
    crs: str | int | None = None,
    name: str | None = None,
    homes: str | Path | gpd.GeoDataFrame | None = None,
    gaps: str | Path | gpd.GeoDataFrame | None = None,
    coverage: Mapping[str, BaseGeometry] | str | Path | None = None,
    scorecard: str | Path | pd.DataFrame | None = None,
    lang: Lang = "zh",
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    local_tiles_url: str | None = None,
    offline: bool = True,
    max_features: int = 3000,
    progress: bool | None = None,
) -> Path:
    """What ``geoplan map`` runs: load the city, read result layers, write ``maps/<name>.html``.

    ``homes`` / ``gaps`` are GeoDataFrames or vector files (``path`` or ``path::layer`` for a
    GeoPackage layer); ``coverage`` a mapping or a vector file with a ``name`` column (one row per
    coverage area); ``scorecard`` a DataFrame or a CSV / XLSX file. Returns the written path.
    """
    from .city import load_city

    city = load_city(source, boundary=boundary, crs=crs, name=name, progress=progress)
    target = Path(out) if out is not None else Path("maps") / f"{city.name}.html"
    return write_map(
        city,
        target,
        offline=offline,
        homes=_read_layer(homes, "homes"),
        gaps=_read_layer(gaps, "gaps"),
        coverage=_read_coverage(coverage, city),
        scorecard=_read_table(scorecard),
        lang=lang,
        basemap=basemap,
        tianditu_key=tianditu_key,
        local_tiles_url=local_tiles_url,
        max_features=max_features,
    )


# --------------------------------------------------------------------------------------------
# geometry preparation


class _Ctx:
    """Projection settings shared by every layer of one map."""

    def __init__(self, *, crs: Any, simplify_m: float, shift: bool, lang: Lang) -> None:
        self.crs = crs
        self.simplify_m = simplify_m
        self.shift = shift
        self.lang = lang
        self.t = TEXT[lang]

    def project(self, geoms: Iterable[BaseGeometry]) -> NDArray[np.object_]:
        """Simplify (metres), project to WGS84, shift to GCJ-02 if asked, round to 6 decimals."""
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


def _to_city_crs(gdf: gpd.GeoDataFrame, city: City, what: str) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise LayerError(f"{what}: expected a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None:
        raise LayerError(f"{what}: layer has no CRS; set one with .set_crs(EPSG) before mapping")
    return gdf if gdf.crs == city.crs else gdf.to_crs(city.crs)


def clip_points(gdf: gpd.GeoDataFrame, poly: BaseGeometry) -> gpd.GeoDataFrame:
    """Rows whose point lies in ``poly`` (boundary included)."""
    return gdf.loc[shapely.intersects(gdf.geometry.values, poly)]


def clip_polygons(gdf: gpd.GeoDataFrame, poly: BaseGeometry) -> gpd.GeoDataFrame:
    """Rows intersected with ``poly``; rows left empty are dropped."""
    out = gdf.loc[~gdf.geometry.isna()].copy()
    out = out.set_geometry(out.geometry.intersection(poly))
    return out.loc[~out.geometry.is_empty & (out.geometry.area > 0)]


def _bounds_latlon(geom: BaseGeometry) -> list[list[float]]:
    x0, y0, x1, y1 = geom.bounds
    return [[y0, x0], [y1, x1]]


# --------------------------------------------------------------------------------------------
# layers


def _const_style(style: Mapping[str, Any]) -> folium.JsCode:
    return folium.JsCode(f"function(f){{return {_js(style)};}}")


def _keyed_style(styles: Mapping[Any, Mapping[str, Any]]) -> folium.JsCode:
    """Style function reading the compact class key ``k`` of each feature."""
    table = {str(k): v for k, v in styles.items()}
    return folium.JsCode(f"function(f){{var s={_js(table)};return s[f.properties.k]||{{}};}}")


def _js(obj: Any) -> str:
    return (
        json.dumps(obj, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _add_geojson(
    m: folium.Map,
    ctx: _Ctx,
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
) -> folium.GeoJson:
    """One GeoJSON overlay; ``props`` values must already be HTML-escaped strings or numbers."""
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
    layer.add_to(m)
    return layer


def _name_or(value: Any, t: Mapping[str, str]) -> str:
    s = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return esc(s.strip() or t["unnamed"])


def _add_roads(m: folium.Map, ctx: _Ctx, roads: gpd.GeoDataFrame, legend: _Legend) -> None:
    if roads.empty:
        return
    t, grades = ctx.t, tx.road_grades()
    props = []
    for grade, name in zip(roads["grade"], roads.get("name", [""] * len(roads)), strict=True):
        g = grades.get(str(grade))
        label = (g.label_zh if ctx.lang == "zh" else g.label_en) if g else str(grade)
        props.append({"k": str(grade), "n": _name_or(name, t), "g": esc(label)})
    _add_geojson(
        m,
        ctx,
        roads.geometry.values,
        props,
        t["roads"],
        _keyed_style(ROAD_STYLE),
        popup=[("n", t["name"]), ("g", t["grade"])],
    )
    present = set(roads["grade"].astype(str))
    legend.add_section(
        t["roads"],
        [
            _line_swatch(ROAD_STYLE[k], g.label_zh if ctx.lang == "zh" else g.label_en)
            for k, g in grades.items()
            if k in present and k in ROAD_STYLE
        ],
    )


def _add_parks(m: folium.Map, ctx: _Ctx, parks: gpd.GeoDataFrame, legend: _Legend) -> None:
    if parks.empty:
        return
    t = ctx.t
    props = [
        {"n": _name_or(n, t), "a": f"{a:,.0f}"}
        for n, a in zip(parks["name"], parks["area_m2"], strict=True)
    ]
    _add_geojson(
        m,
        ctx,
        parks.geometry.values,
        props,
        t["parks"],
        _const_style(PARK_STYLE),
        popup=[("n", t["name"]), ("a", t["area_m2"])],
    )
    legend.add_section(None, [_area_swatch(PARK_STYLE, t["parks"])])


def _add_bus_stops(m: folium.Map, ctx: _Ctx, stops: gpd.GeoDataFrame, legend: _Legend) -> None:
    if stops.empty:
        return
    t = ctx.t
    props = [{"n": _name_or(n, t)} for n in stops["name"]]
    _add_geojson(
        m,
        ctx,
        stops.geometry.values,
        props,
        t["bus_stops"],
        _const_style(BUS_STOP_STYLE),
        popup=[("n", t["name"])],
        radius=float(BUS_STOP_STYLE["radius"]),
    )
    legend.add_section(None, [_point_swatch(str(BUS_STOP_STYLE["fillColor"]), t["bus_stops"])])


def category_colours() -> dict[str, str]:
    """Facility category → colour, stable across maps (taxonomy order)."""
    return {k: CATEGORY_PALETTE[i % len(CATEGORY_PALETTE)] for i, k in enumerate(tx.categories())}


def _cat_label(key: str, lang: Lang) -> str:
    cat = tx.categories().get(key)
    if cat is None:
        return key
    return cat.label_zh if lang == "zh" else cat.label_en


def _add_facilities(m: folium.Map, ctx: _Ctx, fac: gpd.GeoDataFrame, legend: _Legend) -> None:
    if fac.empty:
        return
    t, colours = ctx.t, category_colours()
    order = [k for k in tx.categories() if k in set(fac["category"])]
    order += sorted(set(fac["category"].astype(str)) - set(order))
    items = []
    for key in order:
        sub = fac.loc[fac["category"] == key]
        label = _cat_label(key, ctx.lang)
        colour = colours.get(key, "#525252")
        style = {"color": "#ffffff", "weight": 1, "fillColor": colour, "fillOpacity": 0.9}
        props = [{"n": _name_or(n, t), "c": esc(label)} for n in sub["name"]]
        _add_geojson(
            m,
            ctx,
            sub.geometry.values,
            props,
            t["facility"].format(cat=label),
            _const_style(style),
            popup=[("n", t["name"]), ("c", t["category"])],
            tooltip="n",
            radius=FACILITY_RADIUS,
        )
        items.append(_point_swatch(colour, label))
    legend.add_section(t["facility"].format(cat="").rstrip(" ·"), items)


def _add_coverage(
    m: folium.Map, ctx: _Ctx, bnd: BaseGeometry, name: str, geom: BaseGeometry, legend: _Legend
) -> None:
    if not isinstance(geom, BaseGeometry):
        raise LayerError(f"coverage {name!r}: expected a shapely geometry in the city's CRS")
    clipped = geom.intersection(bnd)
    if clipped.is_empty:
        return
    label = coverage_label(name, ctx.lang)
    style = coverage_style(name)
    _add_geojson(
        m,
        ctx,
        [clipped],
        [{}],
        label,
        _const_style(style),
        show=not name.endswith("_buffer"),
        interactive=False,
    )
    legend.add_section(None, [_area_swatch(style, label)])


def _add_gaps(
    m: folium.Map, ctx: _Ctx, gaps: gpd.GeoDataFrame, bnd: BaseGeometry, legend: _Legend
) -> None:
    gaps = clip_polygons(gaps, bnd)
    if gaps.empty:
        return
    t = ctx.t
    names = gaps["name"] if "name" in gaps else [""] * len(gaps)
    props = [
        {"n": _name_or(n, t), "a": f"{a:,.0f}"}
        for n, a in zip(names, gaps.geometry.area, strict=True)
    ]
    _add_geojson(
        m,
        ctx,
        gaps.geometry.values,
        props,
        t["gaps"],
        _const_style(GAP_STYLE),
        popup=[("n", t["name"]), ("a", t["area_m2"])],
    )
    legend.add_section(None, [_area_swatch(GAP_STYLE, t["gaps"])])


# --------------------------------------------------------------------------------------------
# homes


def _home_columns(homes: gpd.GeoDataFrame) -> tuple[list[str], list[str]]:
    complete = [c for c in _COMPLETE_COLS if c in homes.columns]
    cats = [m.group(1) for c in homes.columns if (m := _DIST_RE.match(str(c)))]
    if not complete and not cats:
        raise LayerError(
            "homes: no complete_5min/complete_10min/complete_15min or dist_<category>_m columns; "
            "pass the homes table of the access indicators"
        )
    return complete, cats


def _fmt_dist(d: float, t: Mapping[str, str]) -> str:
    return f"{d:.0f}" if math.isfinite(d) else t["unreachable"]


def _completeness_class(homes: pd.DataFrame, complete: list[str]) -> NDArray[np.int64]:
    k = np.full(len(homes), 3, dtype=np.int64)
    for level, col in reversed(list(enumerate(_COMPLETE_COLS))):
        if col in complete:
            k[homes[col].fillna(False).to_numpy(dtype=bool)] = level
    return k


def aggregate_homes(homes: gpd.GeoDataFrame, *, cell_m: float) -> gpd.GeoDataFrame:
    """Homes (metric CRS) summed to ``cell_m`` squares aligned on multiples of ``cell_m``.

    Columns: ``n_homes``, ``share_5min`` / ``share_10min`` / ``share_15min`` (share of homes with
    ``complete_*`` true) and ``dist_<category>_m`` (median over the cell's homes, ``inf`` when more
    than half are unreachable). One row per non-empty cell, geometry the square.
    """
    complete, cats = _home_columns(homes)
    x = homes.geometry.x.to_numpy()
    y = homes.geometry.y.to_numpy()
    df = pd.DataFrame(
        {"ix": np.floor(x / cell_m).astype(np.int64), "iy": np.floor(y / cell_m).astype(np.int64)}
    )
    agg: dict[str, Any] = {}
    for col in complete:
        df[col] = homes[col].fillna(False).to_numpy(dtype=float)
        agg[col.replace("complete_", "share_")] = (col, "mean")
    for cat in cats:
        df[f"dist_{cat}_m"] = homes[f"dist_{cat}_m"].to_numpy(dtype=float)
        agg[f"dist_{cat}_m"] = (f"dist_{cat}_m", "median")
    agg["n_homes"] = ("ix", "size")
    g = df.groupby(["ix", "iy"], sort=True).agg(**agg).reset_index()
    boxes = shapely.box(
        g["ix"] * cell_m, g["iy"] * cell_m, (g["ix"] + 1) * cell_m, (g["iy"] + 1) * cell_m
    )
    return gpd.GeoDataFrame(g.drop(columns=["ix", "iy"]), geometry=boxes, crs=homes.crs)


def _add_homes(
    m: folium.Map,
    ctx: _Ctx,
    homes: gpd.GeoDataFrame,
    bnd: BaseGeometry,
    max_features: int,
    grid_m: float,
    legend: _Legend,
) -> None:
    complete, cats = _home_columns(homes)
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
    dists = {c: data[f"dist_{c}_m"].to_numpy(dtype=float) for c in cats}
    dist_fields = [(f"d{i}", f"{_cat_label(c, ctx.lang)} (m)") for i, c in enumerate(cats)]

    if complete:
        if grid:
            share = data[_share_col(complete)].to_numpy(dtype=float)
            k = np.array([share_class(s) for s in share])
            head: list[tuple[str, str]] = [("h", t["homes_n"])] + [
                (f"s{c[9:-3]}", t[f"share{c[9:-3]}"]) for c in complete
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
                for c in complete:
                    p[f"s{c[9:-3]}"] = f"{data[c.replace('complete_', 'share_')].iloc[i]:.0%}"
            else:
                p["l"] = t[f"lc{k[i]}"]
            for j, c in enumerate(cats):
                p[f"d{j}"] = _fmt_dist(dists[c][i], t)
            props.append(p)
        styles = {i: {**base, "fillColor": COMPLETE_COLOURS[i], "fill": True} for i in range(4)}
        _add_geojson(
            m,
            ctx,
            data.geometry.values,
            props,
            name,
            _keyed_style(styles),
            popup=head + dist_fields,
            radius=radius,
        )
        legend.add_section(name, [_point_swatch(COMPLETE_COLOURS[i], t[keys[i]]) for i in range(4)])

    dstyles = {i: {**base, "fillColor": DIST_COLOURS[i], "fill": True} for i in range(5)}
    for cat in cats:
        label = _cat_label(cat, ctx.lang)
        props = [{"k": dist_class(d), "d": _fmt_dist(d, t)} for d in dists[cat]]
        _add_geojson(
            m,
            ctx,
            data.geometry.values,
            props,
            t["homes_cat"].format(cat=label),
            _keyed_style(dstyles),
            show=False,
            popup=[("d", t["median_dist"] if grid else t["dist"])],
            radius=radius,
        )
    if cats:
        legend.add_section(
            t["homes_cat"].format(cat="…"),
            [_point_swatch(DIST_COLOURS[i], t[f"d{i}"]) for i in range(5)],
        )


def _share_col(complete: list[str]) -> str:
    col = "complete_15min" if "complete_15min" in complete else complete[-1]
    return col.replace("complete_", "share_")


# --------------------------------------------------------------------------------------------
# basemaps


def _add_basemap(
    m: folium.Map,
    basemap: str,
    lang: Lang,
    tianditu_key: str | None,
    local_url: str | None,
    local_attr: str,
) -> None:
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


# --------------------------------------------------------------------------------------------
# legend, scorecard panel, attribution


def _line_swatch(style: Mapping[str, Any], label: str) -> str:
    h = max(1, int(style.get("weight", 2)))
    return (
        f'<i style="display:inline-block;width:22px;height:{h}px;background:{style["color"]};'
        f'vertical-align:middle;margin-right:6px"></i>{esc(label)}'
    )


def _area_swatch(style: Mapping[str, Any], label: str) -> str:
    border = "dashed" if style.get("dashArray") else "solid"
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    return (
        f'<i style="display:inline-block;width:16px;height:12px;background:{fill};opacity:.75;'
        f'border:2px {border} {style["color"]};vertical-align:middle;margin-right:6px"></i>'
        f"{esc(label)}"
    )


def _point_swatch(colour: str, label: str) -> str:
    return (
        f'<i style="display:inline-block;width:10px;height:10px;border-radius:50%;'
        f'background:{colour};vertical-align:middle;margin:0 8px 0 3px"></i>{esc(label)}'
    )


_CONTROL_TEMPLATE = Template(
    """
    {% macro header(this, kwargs) %}
    <style>
    .geoplan-panel {background:rgba(255,255,255,.94);padding:6px 9px;border-radius:5px;
      box-shadow:0 1px 5px rgba(0,0,0,.35);font:12px/1.45 system-ui,"Noto Sans CJK SC",
      "Microsoft YaHei",sans-serif;max-height:45vh;overflow:auto;}
    .geoplan-panel summary {font-weight:600;cursor:pointer;}
    .geoplan-panel .sec {font-weight:600;margin-top:4px;}
    .geoplan-panel table {border-collapse:collapse;}
    .geoplan-panel td,.geoplan-panel th {padding:1px 6px;border-bottom:1px solid #ddd;
      text-align:left;}
    .geoplan-panel .met {color:#1a7f37;font-weight:600;}
    .geoplan-panel .not_met {color:#c62828;font-weight:600;}
    </style>
    {% endmacro %}
    {% macro script(this, kwargs) %}
    (function(){
      var ctl = L.control({position: {{ this.position|tojson }}});
      ctl.onAdd = function() {
        var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
        div.innerHTML = {{ this.html|tojson }};
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      ctl.addTo({{ this._parent.get_name() }});
    })();
    {% endmacro %}
    """
)


class _Legend(MacroElement):
    """Legend as a Leaflet control (bottom right); sections are added while layers are drawn."""

    _template = _CONTROL_TEMPLATE

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self._name = "Legend"
        self.position = "bottomright"
        self.css_class = "geoplan-panel geoplan-legend"
        self.title = TEXT[lang]["legend"]
        self.sections: list[tuple[str | None, list[str]]] = []

    def add_section(self, title: str | None, items: list[str]) -> None:
        """``items`` are HTML snippets built from escaped labels."""
        if items:
            self.sections.append((title, items))

    @property
    def html(self) -> str:
        parts = [f"<details open><summary>{esc(self.title)}</summary>"]
        for title, items in self.sections:
            if title:
                parts.append(f'<div class="sec">{esc(title)}</div>')
            parts.extend(f"<div>{item}</div>" for item in items)
        parts.append("</details>")
        return "".join(parts)


_MET = {"met", "pass", "ok", "true", "yes", "达标", "满足"}
_NOT_MET = {"not_met", "not met", "fail", "false", "no", "未达标", "不满足"}


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return esc(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return esc(f"{float(value):,.4g}") if math.isfinite(value) else "∞"
    return esc(value)


class _Scorecard(MacroElement):
    """The scorecard table as a collapsible Leaflet control (bottom left)."""

    _template = _CONTROL_TEMPLATE
    required = ("measured", "target", "status")

    def __init__(self, table: pd.DataFrame, lang: Lang) -> None:
        super().__init__()
        missing = [c for c in self.required if c not in table.columns]
        if missing:
            raise LayerError(
                f"scorecard: missing column(s) {', '.join(missing)}; pass the table returned by "
                "geoplan's scorecard (indicator, label_zh, label_en, measured, target, status, gap)"
            )
        self._name = "ScorecardPanel"
        self.position = "bottomleft"
        self.css_class = "geoplan-panel geoplan-scorecard"
        self.table = table
        self.lang = lang

    @property
    def html(self) -> str:
        t = TEXT[self.lang]
        label_col = f"label_{self.lang}"
        cols = ["measured", "target", "status"] + (["gap"] if "gap" in self.table else [])
        head = "".join(f"<th>{esc(t[c])}</th>" for c in ["indicator", *cols])
        rows = []
        for _, r in self.table.iterrows():
            label = r.get(label_col) or r.get("indicator", "")
            cells = [f"<td>{_cell(label)}</td>"]
            for c in cols:
                if c == "status":
                    cells.append(_status_cell(r[c], t))
                else:
                    cells.append(f"<td>{_cell(r[c])}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return (
            f"<details open><summary>{esc(t['scorecard'])}</summary>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></details>"
        )


def _status_cell(value: Any, t: Mapping[str, str]) -> str:
    key = str(value).strip().lower()
    if key in _MET:
        return f'<td class="met">✓ {esc(t["met"])}</td>'
    if key in _NOT_MET:
        return f'<td class="not_met">✗ {esc(t["not_met"])}</td>'
    return f"<td>{_cell(value)}</td>"


class _Attribution(MacroElement):
    """ "© OpenStreetMap contributors" in the attribution control, whatever the basemap."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = OSM_ATTRIBUTION


# --------------------------------------------------------------------------------------------
# reading result layers for the CLI


def _read_layer(value: Any, what: str) -> gpd.GeoDataFrame | None:
    if value is None or isinstance(value, gpd.GeoDataFrame):
        return value
    path, _, layer = str(value).partition("::")
    if not Path(path).exists():
        raise InputFileError(f"{path}: {what} file not found; pass a GeoPackage/GeoJSON file")
    try:
        return gpd.read_file(path, layer=layer or None)
    except Exception as exc:  # pyogrio raises its own error types
        raise InputFileError(f"{path}: cannot read {what} layer ({exc})") from exc


def _read_coverage(value: Any, city: City) -> Mapping[str, BaseGeometry] | None:
    if value is None or isinstance(value, Mapping):
        return value
    gdf = _read_layer(value, "coverage")
    assert gdf is not None
    if "name" not in gdf.columns:
        raise LayerError(f"{value}: coverage layer needs a 'name' column (e.g. bus_500_network)")
    gdf = _to_city_crs(gdf, city, "coverage")
    return {str(n): shapely.union_all(g.geometry.values) for n, g in gdf.groupby("name")}


def _read_table(value: Any) -> pd.DataFrame | None:
    if value is None or isinstance(value, pd.DataFrame):
        return value
    path = Path(value)
    if not path.exists():
        raise InputFileError(f"{path}: scorecard file not found; pass a CSV or XLSX table")
    reader: Callable[[Path], pd.DataFrame] = (
        pd.read_excel if path.suffix.lower() in (".xlsx", ".xls") else pd.read_csv
    )
    return reader(path)
