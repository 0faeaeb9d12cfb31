"""Interactive maps a planner can publish, and open offline: life circles, coverage and gaps.

:func:`build_map` draws a :class:`~geoplan.City` and the results of the indicator engine (homes
with their walking distances, coverage areas, uncovered residential land, the scorecard) as a
folium / Leaflet map; :func:`save_map` writes it as one self-contained HTML file. With
``offline=True`` (the default) Leaflet's JS and CSS are inlined from the copy shipped in geoplan
(npm ``leaflet@1.9.4``, BSD-2-Clause), so the page opens on an intranet with no internet; with
``basemap="none"`` or ``"local"`` it fetches nothing at all.

Geometries are simplified in the city's metric CRS (``simplify_m``), projected to WGS84, shifted
to GCJ-02 when the AMap (Gaode) basemap is chosen (its tiles are GCJ-02, see
:mod:`geoplan.io.coords`)
and rounded to 6 decimals (≈ 0.1 m). More than ``max_features`` homes are aggregated to square grid
cells of ``grid_m`` metres. Every string from OSM or from user layers is HTML-escaped before it
reaches a popup, a tooltip, a layer name, the legend or the scorecard.

Map data © OpenStreetMap contributors (ODbL); the attribution is always shown.

>>> import geoplan
>>> from geoplan.outputs.webmap import build_map, save_map
>>> city = geoplan.load_city("demo")                          # doctest: +SKIP
>>> save_map(build_map(city, lang="en"), "maps/helsinki.html")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._atomic import atomic_path
from geoplan._errors import InputFileError, LayerError
from geoplan.city import City
from geoplan.names import CoverageLayer
from geoplan.outputs.map_coverage import add_coverage, add_gap_causes, add_gaps
from geoplan.outputs.map_homes import add_basemap, add_homes
from geoplan.outputs.map_layers import (
    Ctx,
    add_bus_stops,
    add_facilities,
    add_geojson,
    add_parks,
    add_roads,
    bounds_latlon,
    const_style,
    to_city_crs,
)
from geoplan.outputs.map_panels import (
    Attribution,
    FitAroundPanels,
    GroupedLayers,
    Legend,
    Scorecard,
    TitleBlock,
)
from geoplan.outputs.map_style import (
    BOUNDARY_STYLE,
    TEXT,
    GeoplanMap,
    Lang,
    esc,
)


def read_layer(value: Any, what: str) -> gpd.GeoDataFrame | None:
    """A vector layer given as a GeoDataFrame or a file path (``None`` passes through).

    Parameters
    ----------
    value
        A GeoDataFrame, a vector file path (``path`` or ``path::layer``), or ``None``.
    what
        Name of the layer in error messages.

    Returns
    -------
    GeoDataFrame or None
        The layer as read (its own CRS).
    """
    if value is None or isinstance(value, gpd.GeoDataFrame):
        return value
    path, _, layer = str(value).partition("::")
    if not Path(path).exists():
        raise InputFileError(f"{path}: {what} file not found; pass a GeoPackage/GeoJSON file")
    try:
        return gpd.read_file(path, layer=layer or None)
    except Exception as exc:  # pyogrio raises its own error types
        raise InputFileError(f"{path}: cannot read {what} layer ({exc})") from exc


def read_coverage(value: Any, city: City) -> Mapping[str, BaseGeometry] | None:
    """Coverage areas from a mapping or a vector file with a ``name`` column.

    Parameters
    ----------
    value
        A mapping of coverage key → area, a vector file with a ``name`` column, or ``None``.
    city
        The city (its metric CRS).

    Returns
    -------
    Mapping or None
        Coverage key → area in ``city.crs`` (the rows of one name unioned).
    """
    if value is None or isinstance(value, Mapping):
        return value
    gdf = read_layer(value, "coverage")
    assert gdf is not None
    if "name" not in gdf.columns:
        raise LayerError(f"{value}: coverage layer needs a 'name' column (e.g. bus_500_network)")
    gdf = to_city_crs(gdf, city, "coverage")
    return {str(n): shapely.union_all(g.geometry.values) for n, g in gdf.groupby("name")}


def read_table(value: Any) -> pd.DataFrame | None:
    """A scorecard table from a DataFrame or a CSV / XLSX file.

    Parameters
    ----------
    value
        A DataFrame, a CSV / XLSX path, or ``None``.

    Returns
    -------
    DataFrame or None
        The scorecard table.
    """
    if value is None or isinstance(value, pd.DataFrame):
        return value
    path = Path(value)
    if not path.exists():
        raise InputFileError(f"{path}: scorecard file not found; pass a CSV or XLSX table")
    reader: Callable[[Path], pd.DataFrame] = (
        pd.read_excel if path.suffix.lower() in (".xlsx", ".xls") else pd.read_csv
    )
    return reader(path)


Basemap = Literal["none", "osm", "tianditu", "amap", "local"]


def build_map(
    city: City,
    *,
    homes: gpd.GeoDataFrame | None = None,
    coverage: Mapping[str, BaseGeometry] | None = None,
    coverage_layers: Mapping[str, CoverageLayer] | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    gap_homes: gpd.GeoDataFrame | None = None,
    gap_labels: Mapping[str, str] | None = None,
    scorecard: pd.DataFrame | None = None,
    lang: Lang = "zh",
    basemap: Basemap = "none",
    tianditu_key: str | None = None,
    local_tiles_url: str | None = None,
    local_tiles_attribution: str = "",
    max_features: int = 3000,
    grid_m: float = 250.0,
    home_categories: bool = True,
    simplify_m: float = 2.0,
    layer_control: bool = True,
    title: str | None = None,
    subtitle: Sequence[str] = (),
    note: str | None = None,
) -> GeoplanMap:
    """Draw a city and its life-circle results as an interactive Leaflet map.

    Parameters
    ----------
    city
        The loaded city (layers in its metric CRS). Drawn: the study boundary, roads by grade
        (快速路/主干路/次干路/支路/内部道路), parks, bus stops and facilities by category (one
        layer each, names in popups).
    homes
        Home points with boolean ``lc_5min_complete_network`` / ``lc_10min_…`` / ``lc_15min_…`` and
        float ``dist_<category>_m`` columns (walking metres, ``inf`` if unreachable), any CRS.
        Drawn coloured by life-circle completeness, plus one layer per category (off by default)
        coloured by distance class (≤300 / ≤500 / ≤1000 m, GB 50180-2018). Points outside the
        boundary are dropped. More than ``max_features`` homes are aggregated to ``grid_m`` squares
        showing the share of complete homes and the median distances.
    coverage
        Coverage areas in the city's metric CRS by coverage key (``CheckResult.coverage``:
        ``bus_cov_500_network``, ``park_service_buffer`` …); clipped to the boundary. Network
        versions are shown on opening, buffer versions are off.
    coverage_layers
        What each coverage area is (``CheckResult.coverage_layers``): its zh/en label and colour
        family come from here; a key without one (a user's own layer) is labelled by its key.
    gaps
        Uncovered residential land polygons (any CRS), clipped to the boundary, highlighted.
    gap_homes
        Homes the buffer covers and walking does not, with their ``measure`` and ``cause``
        (:func:`geoplan.indicators.gap_tables.gap_homes`): one hidden layer per measure.
    gap_labels
        Measure → its label for those layers' names.
    scorecard
        Table with columns ``indicator``, ``label_zh``, ``label_en``, ``measured``, ``target``,
        ``status``, ``gap`` (``method`` optional), shown as a panel on the map.
    lang
        ``"zh"`` (default) or ``"en"`` for layer names, popups, legend and scorecard.
    basemap
        ``"none"`` (blank, default), ``"local"`` (``local_tiles_url``, e.g. an intranet tile
        server ``http://gis.local/tiles/{z}/{x}/{y}.png``), ``"osm"``, ``"tianditu"`` (needs
        ``tianditu_key``) or ``"amap"`` (Gaode; geometries are shifted to GCJ-02).
    tianditu_key
        天地图 API key (``basemap="tianditu"``).
    local_tiles_url, local_tiles_attribution
        Tile URL template and its credit line (``basemap="local"``).
    max_features
        Most homes drawn as points; above it homes become grid cells.
    grid_m
        Grid cell side for aggregated homes, metres.
    home_categories
        Draw a layer of homes per facility category (their walking distance) and the distances
        in the homes' popups; off, homes are drawn by completeness only (a much smaller page).
    simplify_m
        Douglas–Peucker tolerance in metres, applied in the metric CRS before projection.
    layer_control
        Add the layer control (a caller adding layers of its own adds it last instead).
    title, subtitle, note
        The title block (top left): title (default: the city), lines under it (target sheet,
        date, data sources) and an optional note (审图号, "内部资料").

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
    ctx = Ctx(crs=city.crs, simplify_m=simplify_m, shift=shift, lang=lang)
    bounds = bounds_latlon(ctx.project([bnd])[0])

    m = GeoplanMap(
        location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
        zoom_start=13,
        tiles=None,
        control_scale=False,
    )
    m.lang = lang
    m.get_root().title = esc(t["title"].format(city=city.name))  # type: ignore[attr-defined]
    add_basemap(m, basemap, lang, tianditu_key, local_tiles_url, local_tiles_attribution)
    legend = Legend(lang)

    add_geojson(
        m,
        ctx,
        [bnd],
        [{}],
        t["boundary"],
        const_style(BOUNDARY_STYLE),
        interactive=False,
        group="boundary",
    )
    for name, geom in (coverage or {}).items():
        add_coverage(m, ctx, bnd, str(name), geom, legend, (coverage_layers or {}).get(name))
    if gaps is not None:
        add_gaps(m, ctx, to_city_crs(gaps, city, "gaps"), bnd, legend)
    if gap_homes is not None and len(gap_homes):
        add_gap_causes(
            m, ctx, to_city_crs(gap_homes, city, "gap homes"), bnd, legend, gap_labels or {}
        )
    add_parks(m, ctx, city.parks, legend)
    add_roads(m, ctx, city.roads, legend)
    if homes is not None:
        add_homes(
            m,
            ctx,
            to_city_crs(homes, city, "homes"),
            bnd,
            max_features,
            grid_m,
            legend,
            categories=home_categories,
        )
    add_facilities(m, ctx, city.facilities, legend)
    add_bus_stops(m, ctx, city.bus_stops, legend)

    m.add_child(legend)
    if scorecard is not None:
        m.add_child(Scorecard(scorecard, lang))
    m.add_child(Attribution())
    m.add_child(
        TitleBlock(title or t["title"].format(city=city.name), [s for s in subtitle if s], note)
    )
    if layer_control:
        m.add_child(GroupedLayers(m.overlays(), lang))
    m.fit_bounds(bounds)
    m.add_child(FitAroundPanels([list(bounds[0]), list(bounds[1])]))
    return m


def save_map(m: folium.Map, path: str | Path, *, offline: bool = True) -> Path:
    """Write ``m`` as one HTML file, atomically (temporary file + ``os.replace``).

    With ``offline=True`` Leaflet's JS and CSS are inlined (no ``<script src>`` or stylesheet link
    to the internet); with ``False`` they are linked from a CDN (a smaller file that needs the
    internet). Missing parent folders are created. Returns the path written.

    Parameters
    ----------
    m
        A map made by :func:`build_map`.
    path
        The HTML file to write.
    offline
        Inline Leaflet (``True``) or link it from a CDN.

    Returns
    -------
    Path
        The path written.
    """
    html = render_html(m, offline=offline)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return Path(path)


def render_html(m: folium.Map, *, offline: bool = True) -> str:
    """The map's full HTML page as a string (see :func:`save_map`).

    Parameters
    ----------
    m
        A map made by :func:`build_map` (any folium map when ``offline`` is false).
    offline
        Inline Leaflet's JS and CSS.

    Returns
    -------
    str
        The HTML page.
    """
    if isinstance(m, GeoplanMap):
        m.offline = offline
        lang = getattr(m, "lang", "zh")
        html = m.get_root().render()
        return html.replace("<html>", f'<html lang="{"zh-CN" if lang == "zh" else "en"}">', 1)
    elif offline:
        raise LayerError("offline rendering needs a map made by geoplan.outputs.webmap.build_map")
    return m.get_root().render()


def write_map(city: City, path: str | Path, *, offline: bool = True, **kwargs: Any) -> Path:
    """:func:`build_map` then :func:`save_map`; ``kwargs`` go to :func:`build_map`.

    Parameters
    ----------
    city
        The loaded city.
    path
        The HTML file to write.
    offline
        Inline Leaflet (:func:`save_map`).
    **kwargs
        Options of :func:`build_map`.

    Returns
    -------
    Path
        The path written.
    """
    return save_map(build_map(city, **kwargs), path, offline=offline)


def overlay_layers(m: GeoplanMap) -> list[folium.map.Layer]:
    """The overlay layers of a map made by :func:`build_map`, in drawing order.

    Parameters
    ----------
    m
        A map made by :func:`build_map`.

    Returns
    -------
    list of folium.map.Layer
        Its overlays, bottom first.
    """
    return m.overlays()


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

    Parameters
    ----------
    source
        OSM file (``.osm.pbf`` …) or ``demo``.
    out
        HTML file to write (default ``maps/<city>.html``).
    boundary
        Study boundary: a polygon file, a bbox or ``None`` (the data extent).
    crs
        Metric CRS (default: the UTM zone).
    name
        City name (default: from the file).
    homes
        Homes with distances and flags: a GeoDataFrame or a vector file.
    gaps
        Uncovered residential land: a GeoDataFrame or a vector file.
    coverage
        Coverage areas: a mapping or a vector file with a ``name`` column.
    scorecard
        The scorecard: a DataFrame or a CSV / XLSX file.
    lang
        ``zh`` or ``en``.
    basemap
        Background tiles (:func:`build_map`).
    tianditu_key
        天地图 key for ``basemap='tianditu'``.
    local_tiles_url
        Tile URL template for ``basemap='local'``.
    offline
        Inline Leaflet (:func:`save_map`).
    max_features
        Homes drawn one by one up to this many, else aggregated.
    progress
        Show load progress (``None``: on a terminal).

    Returns
    -------
    Path
        The HTML file written.
    """
    from geoplan.city import load_city

    city = load_city(source, boundary=boundary, crs=crs, name=name, progress=progress)
    target = Path(out) if out is not None else Path("maps") / f"{city.name}.html"
    return write_map(
        city,
        target,
        offline=offline,
        homes=read_layer(homes, "homes"),
        gaps=read_layer(gaps, "gaps"),
        coverage=read_coverage(coverage, city),
        scorecard=read_table(scorecard),
        lang=lang,
        basemap=basemap,
        tianditu_key=tianditu_key,
        local_tiles_url=local_tiles_url,
        max_features=max_features,
    )
