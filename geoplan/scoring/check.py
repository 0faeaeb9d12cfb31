"""Checking a city against a target sheet: run the indicators, build the scorecard.

This module composes the pure indicator functions of :mod:`geoplan.indicators`; it does not
re-implement them. Access distances are computed once per category and may be reused across runs
through an :class:`AccessCache` (scenario re-runs only recompute the categories whose inputs
changed).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan import indicators as ind
from geoplan.city import City
from geoplan.homes import homes_from_city, homes_from_population
from geoplan.network.access import (
    attach_points,
)
from geoplan.network.cache import AccessCache
from geoplan.rules.life_circles import LifeCircles, load_life_circles
from geoplan.scoring.scorecard import circle_measure, scorecard
from geoplan.scoring.targets import TargetSheet, load_target_sheet


@dataclass
class CheckResult:
    """Everything a check produces.

    Attributes
    ----------
    city_name, sheet
        What was checked against what.
    scorecard
        One row per (target, method): :data:`SCORECARD_COLUMNS`.
    measures
        Every indicator value measured (tidy, :data:`geoplan.indicators.SUMMARY_COLUMNS`).
    homes
        Homes (points, metric CRS) with per-home distances (``dist_<category>_m``) and coverage
        flags (``bus_cov_500_network``, ``lc_15min_complete_network`` …).
    coverage
        Coverage areas for maps (metric CRS): ``bus_cov_500_buffer``, ``park_service_buffer`` …
    seconds
        Wall time per step.
    gaps
        Residential land outside the buffer coverage of the key indicators (``indicator``,
        ``label_zh``, ``label_en``, ``area_m2``), for maps.
    """

    city_name: str
    sheet: TargetSheet
    scorecard: pd.DataFrame
    measures: pd.DataFrame
    homes: gpd.GeoDataFrame
    coverage: dict[str, BaseGeometry]
    seconds: dict[str, float]
    notes: list[str] = field(default_factory=list)
    gaps: gpd.GeoDataFrame | None = None


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    seconds[step] = round(seconds.get(step, 0.0) + time.perf_counter() - t0, 4)


def check_city(
    city: City,
    *,
    sheet: str | TargetSheet = "national",
    homes: gpd.GeoDataFrame | None = None,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    home_spacing_m: float = 50.0,
    cache: AccessCache | None = None,
    life_circles: LifeCircles | None = None,
    extra_measures: Mapping[str, float] | None = None,
    landcover: str | Path | None = None,
    green_classes: Sequence[int] | None = None,
) -> CheckResult:
    """Measure every indicator on ``city`` and score it against a target sheet.

    Parameters
    ----------
    city
        A loaded city (:func:`geoplan.load_city`), metric CRS.
    sheet
        Target sheet id (``"anyang-2023"`` …, see
        ``geoplan.scoring.targets.list_target_sheets()``) or
        a loaded :class:`TargetSheet`.
    homes
        Homes to measure from (default: :func:`geoplan.homes.homes_from_city`).
    population
        Population points / cells with residents (column ``population_column``): homes become
        these points and coverage is also reported by residents.
    home_spacing_m
        Sample spacing (m) in residential parcels without mapped buildings.
    cache
        Reuse access results across runs (scenarios).
    landcover
        Land-cover (class) or NDVI (float) GeoTIFF for 绿化覆盖率 (green cover ratio).
    green_classes
        Raster classes counted as vegetation (default: ESA WorldCover 10, 20, 30, 90, 95).
    """
    seconds: dict[str, float] = {}
    ts = sheet if isinstance(sheet, TargetSheet) else load_target_sheet(sheet)
    lc = life_circles or load_life_circles()
    cache = cache if cache is not None else AccessCache()
    net = city.network
    bnd = city.boundary_polygon
    notes: list[str] = []

    with _timed(seconds, "homes"):
        if homes is None:
            if population is not None:
                homes = homes_from_population(population, crs=city.crs, column=population_column)
            else:
                homes = homes_from_city(city, spacing_m=home_spacing_m)
        att = attach_points(net, homes.geometry.values)
    residents_total = (
        float(np.nansum(homes["residents"].to_numpy(dtype=float)))
        if homes["residents"].notna().any()
        else None
    )

    # circles the sheet asks for beyond the defaults
    circle_specs = {
        circle_measure(t, lc)[1:]
        for t in ts.checkable
        if t.indicator == "circle" and dict(t.params).get("name") in lc.circles
    }

    with _timed(seconds, "access"):
        geoms = ind.category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)
        limits: dict[str, float] = {}
        for lev in lc.levels.values():
            for c in lev.required:
                for x in (c, *lev.alternatives.get(c, ())):
                    limits[x] = max(limits.get(x, 0.0), lev.radius_m)
        for name, r in circle_specs:
            circ = lc.circles[name]
            for c in circ.categories:
                for x in (c, *circ.alternatives.get(c, ())):
                    limits[x] = max(limits.get(x, 0.0), r)
        cols = {}
        for cat, g in geoms.items():
            if cat not in limits:
                continue
            cols[f"dist_{cat}_m"] = cache.distances(net, att, g, limit_m=limits[cat])
        table = pd.DataFrame(cols, index=homes.index)

    results: list[ind.IndicatorResult] = []
    with _timed(seconds, "life_circles"):
        results.append(ind.life_circle_coverage(table, homes, city.residential, geoms, circles=lc))
        for name, r in sorted(circle_specs):
            results.append(
                ind.themed_circle_coverage(
                    table, homes, city.residential, geoms, name=name, radius_m=r, circles=lc
                )
            )
    with _timed(seconds, "parks"):
        results.append(ind.park_coverage(homes, att, net, city.parks, city.residential))
        results.append(ind.green_land_ratio(city.parks, bnd))
        results.append(ind.park_area_per_resident(city.parks, residents_total))
        if landcover is not None:
            results.append(
                ind.green_cover_ratio(
                    str(landcover),
                    bnd,
                    crs=city.crs,
                    classes=tuple(green_classes or ind.WORLDCOVER_GREEN),
                )
            )
    with _timed(seconds, "bus_stops"):
        results.append(
            ind.bus_stop_coverage(homes, att, net, city.bus_stops, city.residential, bnd)
        )
    with _timed(seconds, "roads"):
        results.append(ind.road_density(city.roads, bnd))
        results.append(ind.intersection_density(net, bnd))
        results.append(ind.road_area_ratio(city.roads, bnd, residents=residents_total))

    with _timed(seconds, "scorecard"):
        measures = pd.concat([r.summary for r in results], ignore_index=True)
        per_home = pd.concat(
            [table] + [r.per_home for r in results if len(r.per_home.columns)], axis=1
        )
        homes_out = homes.copy()
        for c in per_home.columns:
            homes_out[c] = per_home[c].to_numpy()
        coverage: dict[str, BaseGeometry] = {}
        for res in results:
            coverage.update(res.geometries)
        card = scorecard(ts, measures, lc=lc, extra=extra_measures)
    if (city.facilities["category"] == "school_unknown").any():
        n = int((city.facilities["category"] == "school_unknown").sum())
        notes.append(
            f"{n} schools have no level in OSM (no isced:level, name does not say 小学/中学); "
            "they are not counted as primary or middle schools"
        )
    gaps = coverage_gaps(city.residential, coverage)
    return CheckResult(city.name, ts, card, measures, homes_out, coverage, seconds, notes, gaps)


#: coverage areas whose gaps (uncovered residential land) are drawn on maps
GAP_LAYERS = {
    "bus_cov_500_buffer": (
        "公交500米未覆盖居住用地",
        "Residential land beyond 500 m of a bus stop",
    ),
    "park_service_buffer": ("公园服务半径未覆盖居住用地", "Residential land outside park service"),
}


def coverage_gaps(
    residential: gpd.GeoDataFrame, coverage: Mapping[str, BaseGeometry]
) -> gpd.GeoDataFrame:
    """Residential land not covered by each key buffer coverage area (metric CRS)."""
    land = shapely.union_all(residential.geometry.values) if len(residential) else None
    rows, geoms = [], []
    for key, (zh, en) in GAP_LAYERS.items():
        if land is None or key not in coverage:
            continue
        gap = shapely.difference(land, coverage[key])
        if gap.is_empty:
            continue
        rows.append({"indicator": key, "label_zh": zh, "label_en": en, "area_m2": gap.area})
        geoms.append(gap)
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["indicator", "label_zh", "label_en", "area_m2"]),
        geometry=gpd.GeoSeries(geoms, crs=residential.crs),
        crs=residential.crs,
    )
