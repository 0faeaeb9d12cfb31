"""Map layers of a check's results: coverage areas, uncovered land, homes in a gap by cause.

Drawn with the helpers of :mod:`geoplan.outputs.map_layers` (projection, GeoJSON, styles).
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.names import CoverageLayer, Method, method_of_key
from geoplan.outputs.map_layers import (
    Ctx,
    add_geojson,
    clip_points,
    clip_polygons,
    const_style,
    keyed_style,
    name_or,
)
from geoplan.outputs.map_panels import Legend, area_swatch, point_swatch
from geoplan.outputs.map_style import GAP_STYLE, HOME_RADIUS, coverage_label, coverage_style, esc


def add_coverage(
    m: folium.Map,
    ctx: Ctx,
    bnd: BaseGeometry,
    name: str,
    geom: BaseGeometry,
    legend: Legend,
    layer: CoverageLayer | None = None,
) -> None:
    """Draw one coverage area, labelled and styled by its :class:`CoverageLayer`.

    Network areas are shown on opening, buffer areas are off.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    bnd : BaseGeometry
        Study boundary (city metric CRS); the layer is clipped to it.
    name
        The coverage key (``bus_cov_500_buffer`` …).
    geom
        The coverage area (city metric CRS).
    legend : Legend
        The legend the layer adds its entries to.
    layer
        Its description (label, method, colour family); ``None``: described from the key.
    """
    if not isinstance(geom, BaseGeometry):
        raise LayerError(f"coverage {name!r}: expected a shapely geometry in the city's CRS")
    clipped = geom.intersection(bnd)
    if clipped.is_empty:
        return
    label = coverage_label(name, layer, ctx.lang)
    style = coverage_style(layer)
    buffer = (layer.method if layer is not None else method_of_key(name)) == Method.BUFFER
    add_geojson(
        m,
        ctx,
        [clipped],
        [{}],
        label,
        const_style(style),
        show=not buffer,
        interactive=False,
        group="cov_buffer" if buffer else "cov_network",
    )
    legend.add_section(None, [area_swatch(style, label)])


def add_gaps(
    m: folium.Map, ctx: Ctx, gaps: gpd.GeoDataFrame, bnd: BaseGeometry, legend: Legend
) -> None:
    """Uncovered residential land, clipped to the boundary: one layer per indicator.

    Each coverage measure's gap is its own layer ("公交站点500米覆盖率·未覆盖居住用地"), never
    the land two indicators leave uncovered merged into one.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    gaps
        Gap polygons (:func:`geoplan.scoring.check.coverage_gaps`, city metric CRS).
    bnd : BaseGeometry
        Study boundary (city metric CRS); the layer is clipped to it.
    legend : Legend
        The legend the layer adds its entries to.
    """
    gaps = clip_polygons(gaps, bnd)
    if gaps.empty:
        return
    t = ctx.t
    label_col = "label_zh" if ctx.lang == "zh" else "label_en"
    groups = (
        gaps.groupby(gaps[label_col].astype(str), sort=False) if label_col in gaps else [("", gaps)]
    )
    for label, g in groups:
        names = g["name"] if "name" in g else [""] * len(g)
        props = [
            {"n": name_or(n, t), "a": f"{a:,.0f}"}
            for n, a in zip(names, g.geometry.area, strict=True)
        ]
        title = label or t["gaps"]  # its label already says what it is (names.gap_labels)
        add_geojson(
            m,
            ctx,
            g.geometry.values,
            props,
            title,
            const_style(GAP_STYLE),
            popup=[("n", t["name"]), ("a", t["area_m2"])],
            group="gaps",
        )
    legend.add_section(None, [area_swatch(GAP_STYLE, t["gaps"])])


def add_gap_causes(
    m: folium.Map,
    ctx: Ctx,
    gap_homes: gpd.GeoDataFrame,
    bnd: BaseGeometry,
    legend: Legend,
    labels: Mapping[str, str],
) -> None:
    """Homes the buffer covers and walking does not, coloured by the cause (one layer per measure).

    ``gap_homes``: :func:`geoplan.indicators.gap_tables.gap_homes`; ``labels``: measure → its
    label in the map's language. Hidden at first.

    Parameters
    ----------
    m : folium.Map
        The map drawn on.
    ctx : Ctx
        Projection and language of the map.
    gap_homes
        Homes in a buffer-walking gap with their cause
        (:func:`geoplan.indicators.gap_tables.gap_homes`).
    bnd : BaseGeometry
        Study boundary (city metric CRS); the layer is clipped to it.
    legend : Legend
        The legend the layer adds its entries to.
    labels
        Measure → its label in the map's language.
    """
    from geoplan.indicators.gap_tables import CAUSE_COLOURS
    from geoplan.indicators.gaps import cause_labels

    data = clip_points(gap_homes, bnd)
    if data.empty:
        return
    t = ctx.t
    i = 0 if ctx.lang == "zh" else 1
    names = cause_labels()
    styles = {
        k: {
            "weight": 0.5,
            "color": "#ffffff",
            "fillOpacity": 0.9,
            "fill": True,
            "fillColor": f"rgb({c})",
        }
        for k, c in CAUSE_COLOURS.items()
    }
    seen: set[str] = set()
    for measure, g in data.groupby("measure", sort=False):
        causes = g["cause"].astype(str).tolist()
        seen |= set(causes)
        props = [{"k": c, "c": esc(names.get(c, (c, c))[i])} for c in causes]
        add_geojson(
            m,
            ctx,
            g.geometry.values,
            props,
            t["gap_causes"].format(measure=labels.get(str(measure), str(measure))),
            keyed_style(styles),
            show=False,
            popup=[("c", t["cause"])],
            radius=HOME_RADIUS,
            group="gap_causes",
        )
    legend.add_section(
        t["gap_causes"].format(measure="…"),
        [point_swatch(f"rgb({c})", names[k][i]) for k, c in CAUSE_COLOURS.items() if k in seen],
    )
