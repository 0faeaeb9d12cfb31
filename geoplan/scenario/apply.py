"""Applying plan layers to a city: one adder per kind (parks, facilities, bus stops, roads…)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geoplan._errors import LayerError, ScenarioError, unknown_message
from geoplan.city import City
from geoplan.io.population import residents_of
from geoplan.rules import taxonomy as tx


def concat(a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Two layers as one (index reset); either may be empty.

    Parameters
    ----------
    a
        A layer, or ``None``.
    b
        Features to append (same CRS).

    Returns
    -------
    GeoDataFrame
    """
    if a is None or len(a) == 0:
        return b.reset_index(drop=True)
    if len(b) == 0:
        return a.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        out = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=a.crs)


def _text(gdf: gpd.GeoDataFrame, col: str | None, default: str = "") -> list[str]:
    col = col or ("name" if "name" in gdf.columns else None)
    if col is None:
        return [default] * len(gdf)
    return [
        "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in gdf[col]
    ]


def _add_parks(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    kind = (
        gdf["green_kind"].astype(str).to_numpy()
        if "green_kind" in gdf.columns
        else np.full(len(gdf), p.get("green_kind", "park"), dtype=object)
    )
    bad = sorted(set(kind) - {"park", "green"})
    if bad:
        raise ScenarioError(f"{where}: green_kind must be park or green, not {bad[0]!r}")
    area = gdf.geometry.area.to_numpy()
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "osm_type": "plan",
            "green_kind": kind,
            "name": _text(gdf, p.get("name_column")),
            "leisure": np.where(kind == "park", "park", "garden"),
            "area_m2": area,
            "area_in_boundary_m2": shapely.area(
                shapely.intersection(gdf.geometry.values, city.boundary_polygon)
            ),
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_facilities(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    cats = tx.categories()
    cat = str(p["category"])
    if cat not in cats:
        raise ScenarioError(unknown_message("facility category", cat, sorted(cats), where))
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "osm_type": "plan",
            "category": cat,
            "category_zh": cats[cat].label_zh,
            "name": _text(gdf, p.get("name_column")),
            "school_level_from": "",
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_bus_stops(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osmid": ids, "osm_type": "plan", "name": _text(gdf, p.get("name_column"))},
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_roads(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    hw = (
        gdf["highway"].astype(str).to_numpy()
        if "highway" in gdf.columns
        else np.full(len(gdf), p.get("highway", "residential"), dtype=object)
    )
    grades = tx.road_grades()
    grade = [tx.road_grade(h) for h in hw]
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "highway": hw,
            "grade": grade,
            "name": _text(gdf, p.get("name_column")),
            "oneway": "no",
            "lanes": "",
            "width": gdf["width"].astype(str) if "width" in gdf.columns else "",
            "access": gdf["access"].astype(str) if "access" in gdf.columns else "",
            "grade_zh": [grades[g].label_zh if g else "" for g in grade],
            "length_m": gdf.geometry.length.to_numpy(),
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_residential(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    col = p.get("residents_column")
    if col and col not in gdf.columns:
        raise ScenarioError(
            f"{where}: the layer has no column {col!r} (residents_column); "
            f"columns are {[c for c in gdf.columns if c != 'geometry']}"
        )
    try:
        res = residents_of(gdf, col, where=where) if col else np.full(len(gdf), np.nan)
    except LayerError as exc:
        raise ScenarioError(str(exc)) from exc
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "osm_type": "plan",
            "name": _text(gdf, p.get("name_column")),
            "area_m2": shapely.area(
                shapely.intersection(gdf.geometry.values, city.boundary_polygon)
            ),
            "residents": res,
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


ADDERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    "parks": _add_parks,
    "facilities": _add_facilities,
    "bus_stops": _add_bus_stops,
    "roads": _add_roads,
    "paths": lambda g, i, p, c, w: _add_roads(
        g, i, {**p, "highway": p.get("highway", "footway")}, c, w
    ),
    "residential": _add_residential,
}
