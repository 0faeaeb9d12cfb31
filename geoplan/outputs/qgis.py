"""A QGIS-ready GeoPackage of a check: layers with their styles, in the planners' CRS.

One GPKG holds ``homes``, ``coverage`` (every coverage area, buffer and network, with its
measure and labels), ``uncovered`` (residential land outside the key coverage areas), ``roads``
(with the Chinese grade), ``barriers`` (water, railways, expressways, walls),
``gap_homes`` (homes the buffer covers and walking does not, coloured by cause), ``units`` (a
choropleth, when given) and ``provenance``; a
``layer_styles`` table (the one QGIS reads and writes) makes QGIS open each layer styled. For
cities in China the layers are written in CGCS2000 / 3-degree Gauss-Krüger (EPSG:4534–4554, the
zone of the study area's centre), the CRS Chinese planning bureaus use; elsewhere in the
computation's UTM zone; ``output_crs`` chooses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj

from geoplan._atomic import atomic_path
from geoplan.indicators.gap_tables import CAUSE_COLOURS
from geoplan.indicators.gaps import cause_labels
from geoplan.names import Method, bus_measure, coverage_key, method_label, unit_share_columns

#: colours of the road grades (快速路 … 内部道路)
GRADE_COLOURS = {
    "expressway": "84,39,143",
    "arterial": "140,81,10",
    "secondary": "191,129,45",
    "local": "120,120,120",
    "internal": "190,190,190",
}
METHOD_COLOURS = {Method.BUFFER: "49,130,189", Method.NETWORK: "49,163,84"}
SHARE_RAMP = ("215,25,28", "253,174,97", "255,255,191", "166,217,106", "26,150,65")


def china_crs(lon: float, lat: float) -> pyproj.CRS | None:
    """CGCS2000 / 3-degree Gauss-Krüger CM zone of a point in China (EPSG 4534–4554), else None.

    Parameters
    ----------
    lon
        Longitude (degrees, WGS84).
    lat
        Latitude (degrees, WGS84).

    Returns
    -------
    pyproj.CRS or None
        The zone's CRS; ``None`` outside China.
    """
    if not (73.0 <= lon <= 135.5 and 17.5 <= lat <= 54.0):
        return None
    cm = int(round(lon / 3.0) * 3)
    cm = min(135, max(75, cm))
    return pyproj.CRS.from_epsg(4534 + (cm - 75) // 3)


def _fill(colour: str, alpha: int = 110, outline: str = "60,60,60,200") -> str:
    return (
        '<layer class="SimpleFill" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option name="color" type="QString" value="{colour},{alpha}"/>'
        f'<Option name="outline_color" type="QString" value="{outline}"/>'
        '<Option name="outline_width" type="QString" value="0.2"/>'
        '<Option name="style" type="QString" value="solid"/></Option></layer>'
    )


def _line(colour: str, width: float) -> str:
    return (
        '<layer class="SimpleLine" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option name="line_color" type="QString" value="{colour},255"/>'
        f'<Option name="line_width" type="QString" value="{width}"/></Option></layer>'
    )


def _marker(colour: str) -> str:
    return (
        '<layer class="SimpleMarker" enabled="1" pass="0" locked="0"><Option type="Map">'
        f'<Option name="color" type="QString" value="{colour},255"/>'
        '<Option name="outline_color" type="QString" value="255,255,255,255"/>'
        '<Option name="size" type="QString" value="1.6"/>'
        '<Option name="name" type="QString" value="circle"/></Option></layer>'
    )


def _symbol(kind: str, i: int, layer: str) -> str:
    return f'<symbol type="{kind}" name="{i}" alpha="1" clip_to_extent="1">{layer}</symbol>'


def _qml(renderer: str, label_field: str | None = None) -> str:
    labels = ""
    if label_field:
        labels = (
            '<labeling type="simple"><settings><text-style fieldName='
            f'{quoteattr(label_field)} fontSize="9"/></settings></labeling>'
        )
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        f'<qgis version="3.28.0" styleCategories="Symbology|Labeling">{renderer}{labels}</qgis>'
    )


def categorized(attr: str, kind: str, cats: Sequence[tuple[str, str, str]]) -> str:
    """QML of a categorized renderer: ``cats`` = (value, label, symbol layer XML).

    Parameters
    ----------
    attr
        The attribute classified.
    kind
        Symbol kind: ``fill``, ``line`` or ``marker``.
    cats
        ``(value, label, symbol layer XML)`` per class.

    Returns
    -------
    str
        QML document.
    """
    c = "".join(
        f'<category render="true" symbol="{i}" value={quoteattr(v)} label={quoteattr(lab)}/>'
        for i, (v, lab, _) in enumerate(cats)
    )
    s = "".join(_symbol(kind, i, sym) for i, (_, _, sym) in enumerate(cats))
    return _qml(
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0">'
        f"<categories>{c}</categories><symbols>{s}</symbols></renderer-v2>"
    )


def graduated_share(attr: str, kind: str = "fill") -> str:
    """QML of a 5-class share choropleth (0–20 % … 80–100 %), red to green.

    Parameters
    ----------
    attr
        A share attribute (0–1).
    kind
        Symbol kind: ``fill`` or ``marker``.

    Returns
    -------
    str
        QML document.
    """
    ranges = "".join(
        f'<range render="true" symbol="{k}" lower="{k / 5:g}" upper="{(k + 1) / 5:g}" '
        f'label="{20 * k}–{20 * k + 20}%"/>'
        for k in range(5)
    )
    syms = "".join(
        _symbol(kind, k, _fill(c, 200) if kind == "fill" else _marker(c))
        for k, c in enumerate(SHARE_RAMP)
    )
    return _qml(
        f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(attr)} '
        f'graduatedMethod="GraduatedColor" symbollevels="0"><ranges>{ranges}</ranges>'
        f"<symbols>{syms}</symbols></renderer-v2>"
    )


def single(kind: str, layer: str) -> str:
    """QML of a single-symbol renderer.

    Parameters
    ----------
    kind
        Symbol kind: ``fill``, ``line`` or ``marker``.
    layer
        Symbol layer XML.

    Returns
    -------
    str
        QML document.
    """
    return _qml(
        '<renderer-v2 type="singleSymbol" symbollevels="0">'
        f"<symbols>{_symbol(kind, 0, layer)}</symbols></renderer-v2>"
    )


def _homes_flag(homes: gpd.GeoDataFrame) -> str | None:
    for measure in ("complete", "15min", bus_measure(500)):
        c = coverage_key(measure, Method.NETWORK)
        if c in homes.columns:
            return c
    return None


def _multipolygon(g: Any) -> Any:
    """The polygons of a geometry as one MultiPolygon (one geometry type per GPKG layer)."""
    import shapely

    parts = shapely.get_parts(g)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    parts = shapely.get_parts(parts)
    return shapely.MultiPolygon(list(parts))


def _as_lines(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lines and area outlines as MultiLineStrings (one geometry type per GPKG layer)."""
    import shapely

    g = np.asarray(gdf.geometry.values, dtype=object)
    area = np.isin(shapely.get_type_id(g), (3, 6))
    g = np.where(area, shapely.boundary(g), g)
    multi = [shapely.MultiLineString(list(shapely.get_parts(x))) for x in g]
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=multi, crs=gdf.crs)


def _package_layers(
    *,
    crs: Any,
    homes: gpd.GeoDataFrame,
    coverage: Mapping[str, Any],
    coverage_labels: Mapping[str, tuple[str, str, str]],
    uncovered: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    gap_homes: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame | None,
) -> dict[str, gpd.GeoDataFrame]:
    """The package's layers in ``crs``: flags as 0/1, infinite distances empty."""
    layers: dict[str, gpd.GeoDataFrame] = {}
    h = homes.copy()
    for c in h.columns:
        if c != h.geometry.name and pd.api.types.is_bool_dtype(h[c]):
            h[c] = h[c].astype(np.int8)
        elif pd.api.types.is_float_dtype(h[c]):
            h[c] = h[c].replace([np.inf, -np.inf], np.nan)
    layers["homes"] = h.to_crs(crs)
    keys = [k for k in coverage if not coverage[k].is_empty]
    polys = [_multipolygon(coverage[k]) for k in keys]
    cov = gpd.GeoDataFrame(
        {
            "key": keys,
            "method": [coverage_labels.get(k, ("", "", ""))[0] for k in keys],
            "label_zh": [coverage_labels.get(k, ("", k, ""))[1] for k in keys],
            "label_en": [coverage_labels.get(k, ("", "", k))[2] for k in keys],
        },
        geometry=polys,
        crs=homes.crs,
    )
    layers["coverage"] = cov.to_crs(crs)
    if uncovered is not None and len(uncovered):
        layers["uncovered"] = uncovered.to_crs(crs)
    layers["roads"] = roads[[c for c in roads.columns if c != "tags"]].to_crs(crs)
    if barriers is not None and len(barriers):
        layers["barriers"] = _as_lines(barriers).to_crs(crs)
    if gap_homes is not None and len(gap_homes):
        layers["gap_homes"] = gap_homes.to_crs(crs)
    if units is not None:
        layers["units"] = units.to_crs(crs)
    return layers


def _package_styles(
    layers: Mapping[str, gpd.GeoDataFrame], units: gpd.GeoDataFrame | None
) -> dict[str, str]:
    """The QML style of each layer (coverage by method, roads by grade, gaps by cause …)."""
    styles = {
        "coverage": categorized(
            "method",
            "fill",
            [
                (m, lab, _fill(METHOD_COLOURS[m], 70))
                for m, lab in (
                    (meth, f"{method_label(meth, 'zh')} {meth}")
                    for meth in (Method.BUFFER, Method.NETWORK)
                )
            ],
        ),
        "uncovered": single("fill", _fill("215,48,39", 150)),
        "roads": categorized(
            "grade",
            "line",
            [
                (g, g, _line(c, 0.6 if g in ("expressway", "arterial") else 0.3))
                for g, c in GRADE_COLOURS.items()
            ],
        ),
    }
    labels = cause_labels()
    styles["gap_homes"] = categorized(
        "cause",
        "marker",
        [(k, f"{labels[k][0]} {labels[k][1]}", _marker(c)) for k, c in CAUSE_COLOURS.items()],
    )
    styles["barriers"] = categorized(
        "cause",
        "line",
        [
            (k, f"{labels[k][0]} {labels[k][1]}", _line(CAUSE_COLOURS[k], 0.8))
            for k in ("water", "railway", "expressway", "wall")
        ],
    )
    flag = _homes_flag(layers["homes"])
    styles["homes"] = (
        categorized(
            flag,
            "marker",
            [
                ("1", "覆盖 covered", _marker("26,150,65")),
                ("0", "未覆盖 not covered", _marker("215,25,28")),
            ],
        )
        if flag
        else single("marker", _marker("90,90,90"))
    )
    if units is not None:
        share_cols = unit_share_columns(units.columns, (Method.NETWORK, Method.BUFFER))
        if share_cols:
            styles["units"] = graduated_share(share_cols[0])
    return styles


def write_qgis_gpkg(
    path: Path,
    *,
    homes: gpd.GeoDataFrame,
    coverage: Mapping[str, Any],
    coverage_labels: Mapping[str, tuple[str, str, str]],
    uncovered: gpd.GeoDataFrame | None,
    roads: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None = None,
    provenance: Sequence[tuple[str, str]] = (),
    output_crs: pyproj.CRS | None = None,
    gap_homes: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write the styled GeoPackage atomically; returns ``path``.

    ``coverage_labels`` maps each coverage key to (method, label_zh, label_en). ``gap_homes``
    (:func:`geoplan.indicators.gaps.gap_homes`) are drawn coloured by the cause of their gap,
    ``barriers`` (water, railways, expressways, walls) by cause.

    Parameters
    ----------
    path
        The ``.gpkg`` file to write.
    homes
        Homes with distances and flags (metric CRS).
    coverage
        Coverage areas by key (metric CRS).
    coverage_labels
        Coverage key → (method, label_zh, label_en).
    uncovered
        Residential land outside the buffer coverage, or ``None``.
    roads
        Roads with ``grade``.
    units
        Per-unit table with polygons, or ``None``.
    provenance
        ``(key, value)`` rows of the provenance record (a table in the package).
    output_crs
        CRS of the written layers (default: the homes' CRS).
    gap_homes
        Homes in a buffer-walking gap with their cause, or ``None``.
    barriers
        Barrier lines by cause, or ``None``.

    Returns
    -------
    Path
        ``path``.
    """
    import pyogrio

    crs = output_crs or homes.crs
    layers = _package_layers(
        crs=crs,
        homes=homes,
        coverage=coverage,
        coverage_labels=coverage_labels,
        uncovered=uncovered,
        roads=roads,
        units=units,
        gap_homes=gap_homes,
        barriers=barriers,
    )
    styles = _package_styles(layers, units)
    with atomic_path(path) as tmp:
        first = True
        for name, g in layers.items():
            pyogrio.write_dataframe(g, tmp, layer=name, driver="GPKG", append=not first)
            first = False
        rows = [
            {
                "f_table_catalog": "",
                "f_table_schema": "",
                "f_table_name": name,
                "f_geometry_column": "geom",
                "styleName": name,
                "styleQML": qml,
                "styleSLD": "",
                "useAsDefault": 1,
                "description": "geoplan",
                "owner": "",
                "ui": "",
                "update_time": pd.Timestamp.now(tz="UTC").isoformat(),
            }
            for name, qml in styles.items()
            if name in layers
        ]
        pyogrio.write_dataframe(
            pd.DataFrame(rows), tmp, layer="layer_styles", driver="GPKG", append=True
        )
        prov = pd.DataFrame(provenance or [("", "")], columns=["item", "value"])
        pyogrio.write_dataframe(prov, tmp, layer="provenance", driver="GPKG", append=True)
    return path
