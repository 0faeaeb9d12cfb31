"""生活圈覆盖率: life circles (GB 50180-2018) and themed circles, both methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.coverage import (
    IndicatorResult,
    column_name,
    distances_of,
    measure_row,
    network_rows,
    no_data_rows,
    residential_land,
    summary_frame,
    union_of_buffers,
)
from geoplan.rules import taxonomy as tx
from geoplan.rules.life_circles import LifeCircles, load_life_circles


def _requirement_met(
    table: pd.DataFrame,
    cat: str,
    alternatives: Mapping[str, Sequence[str]],
    radius_m: float,
) -> NDArray[np.bool_]:
    d = distances_of(table, cat)
    for alt in alternatives.get(cat, ()):
        d = np.minimum(d, distances_of(table, alt))
    return np.asarray(d <= radius_m)


def _buffer_union(
    geoms: Mapping[str, NDArray[np.object_]],
    cats: Sequence[str],
    radius_m: float,
) -> BaseGeometry:
    parts = [g for c in cats for g in geoms.get(c, np.zeros(0, dtype=object))]
    return union_of_buffers(np.asarray(parts, dtype=object), radius_m)


def _circle_rows(
    indicator: str,
    key: str,
    label_zh: str,
    label_en: str,
    cats: Sequence[str],
    alternatives: Mapping[str, Sequence[str]],
    radius_m: float,
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    land: BaseGeometry,
    geoms: Mapping[str, NDArray[np.object_]],
) -> tuple[list[dict[str, Any]], dict[str, NDArray[np.bool_]], dict[str, BaseGeometry]]:
    cat_labels = tx.categories()
    rows: list[dict[str, Any]] = []
    per_home: dict[str, NDArray[np.bool_]] = {}
    geo: dict[str, BaseGeometry] = {}
    have = [c for c in cats if any(len(geoms.get(x, ())) for x in (c, *alternatives.get(c, ())))]
    missing = [c for c in cats if c not in have]
    all_net = np.ones(len(homes), dtype=bool)
    all_buf: BaseGeometry | None = None
    for cat in cats:
        lab = cat_labels.get(cat)
        czh = lab.label_zh if lab else cat
        cen = lab.label_en if lab else cat
        group = [cat, *alternatives.get(cat, ())]
        measure = f"{key}:{cat}"
        if cat in missing:
            rows += no_data_rows(
                indicator,
                measure,
                f"{label_zh}·{czh}",
                f"{label_en} · {cen}",
                "no data: no facility of this category in the data",
            )
            continue
        met = _requirement_met(table, cat, alternatives, radius_m)
        all_net &= met
        per_home[column_name(f"lc_{key}_{cat}", method="network")] = met
        rows += network_rows(
            indicator, measure, met, homes, f"{label_zh}·{czh}", f"{label_en} · {cen}"
        )
        cover = _buffer_union(geoms, group, radius_m)
        share = float(shapely.intersection(land, cover).area / land.area) if land.area else None
        rows.append(
            measure_row(
                indicator,
                measure,
                "buffer",
                "residential_area",
                share,
                "share",
                f"{label_zh}·{czh}",
                f"{label_en} · {cen}",
            )
        )
        all_buf = cover if all_buf is None else shapely.intersection(all_buf, cover)
    note = ""
    if missing:
        note = "excludes categories with no data: " + ", ".join(missing)
    if not have:
        rows += no_data_rows(
            indicator, key, label_zh, label_en, "no data: no required category has a facility"
        )
        return rows, per_home, geo
    per_home[column_name(f"lc_{key}_complete", method="network")] = all_net
    rows += network_rows(indicator, key, all_net, homes, label_zh, label_en, note)
    assert all_buf is not None
    share = float(shapely.intersection(land, all_buf).area / land.area) if land.area else None
    rows.append(
        measure_row(
            indicator, key, "buffer", "residential_area", share, "share", label_zh, label_en, note
        )
    )
    geo[f"{key}_complete_buffer"] = all_buf
    return rows, per_home, geo


def life_circle_coverage(
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    geometries: Mapping[str, NDArray[np.object_]],
    *,
    circles: LifeCircles | None = None,
    levels: Sequence[str] = ("5min", "10min", "15min"),
    radius_m: Mapping[str, float] | None = None,
) -> IndicatorResult:
    """生活圈覆盖率: per level and category, and for every required category of the level.

    GB 50180-2018 (levels 5 / 10 / 15 min ≈ 300 / 500 / 1000 m; categories from
    ``life_circles.yaml``). A category with no facility in the data is reported as "no data",
    not 0 %; the all-category share then covers the categories that have data and says so.

    Parameters
    ----------
    table
        :func:`access_table` output for ``homes`` (metres).
    homes
        Homes (``area_m2``, ``residents``), same order as ``table``.
    residential
        Residential land polygons (metric CRS) for the buffer method.
    geometries
        Facility geometries per category (:func:`category_geometries`), for the buffer method.
    circles
        Life-circle definitions (default: the bundled ``life_circles.yaml``).
    levels
        Levels to report.
    radius_m
        Override of each level's radius (m), e.g. ``{"15min": 800}``.
    """
    lc = circles or load_life_circles()
    land = residential_land(residential)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}
    for key in levels:
        lev = lc.levels[key]
        r = (radius_m or {}).get(key, lev.radius_m)
        rr, ph, gg = _circle_rows(
            "life_circle",
            key,
            lev.label_zh,
            lev.label_en,
            lev.required,
            lev.alternatives,
            r,
            table,
            homes,
            land,
            geometries,
        )
        rows += rr
        per_home.update(ph)
        geo.update(gg)
    return IndicatorResult(
        "life_circle", pd.DataFrame(per_home, index=homes.index), summary_frame(rows), geo
    )


def themed_circle_coverage(
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    geometries: Mapping[str, NDArray[np.object_]],
    *,
    name: str,
    radius_m: float | None = None,
    circles: LifeCircles | None = None,
) -> IndicatorResult:
    """Themed circles of the plans (15分钟健身圈, 阅读圈, 医疗圈, 养老服务圈 …).

    Share of homes reaching every category of the circle within ``radius_m`` (default from
    ``life_circles.yaml``), both methods.
    """
    lc = circles or load_life_circles()
    c = lc.circles[name]
    r = c.radius_m if radius_m is None else radius_m
    key = f"{name}_{r:g}"
    rows, ph, geo = _circle_rows(
        "circle",
        key,
        c.label_zh,
        c.label_en,
        c.categories,
        c.alternatives,
        r,
        table,
        homes,
        residential_land(residential),
        geometries,
    )
    return IndicatorResult("circle", pd.DataFrame(ph, index=homes.index), summary_frame(rows), geo)
