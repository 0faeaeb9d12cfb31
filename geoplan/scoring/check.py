"""Checking a city against a target sheet: run the registry's indicators, build the scorecard.

The pipeline of :func:`check_city`: homes → one access stage (every source set every indicator
asks for, through an :class:`~geoplan.network.cache.AccessCache`) → each indicator of the
registry (:mod:`geoplan.indicators.registry`) with the sheet's parameters, through a
:class:`~geoplan.indicators.result_cache.ResultCache` keyed by the layers it reads → scorecard.
Nothing here re-implements an indicator.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan._gc import with_collector_paused
from geoplan._memo import IdentityMemo
from geoplan.city import City
from geoplan.city.density import density_units
from geoplan.city.population import check_homes
from geoplan.indicators.access import Access, compute_access, merge_requests
from geoplan.indicators.cover import Area, CoverageAreas, area_method
from geoplan.indicators.coverage import IndicatorResult, residential_land, summary_frame
from geoplan.indicators.gap_tables import (
    explain_gaps,
    grid_cells,
    land_buffer_shares,
    with_causes,
)
from geoplan.indicators.inputs import Inputs, layer_keys
from geoplan.indicators.registry import REGISTRY
from geoplan.indicators.result_cache import ResultCache
from geoplan.names import (
    GAP_MEASURES,
    CoverageLayer,
    Method,
    coverage_key,
    dist_column,
    gap_labels,
)
from geoplan.network.access import EdgeAttachment
from geoplan.network.cache import AccessCache
from geoplan.network.gates import GateModel, compound_notes, gate_model
from geoplan.rules.life_circles import LifeCircles, load_life_circles
from geoplan.scoring.built_up import area_basis, resolve_built_up
from geoplan.scoring.counts import count_rows
from geoplan.scoring.scorecard import circle_measure, scorecard
from geoplan.scoring.targets import TargetSheet, load_target_sheet
from geoplan.scoring.urban import urban_rows


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
        Coverage areas for maps (metric CRS): ``bus_cov_500_buffer``, ``park_service_network`` …
    coverage_layers
        What each coverage area is (:class:`geoplan.names.CoverageLayer`: measure, method,
        labels), same keys as ``coverage``.
    cache_report
        Per indicator: served from the result cache (``hit``) or computed (``miss``).
    seconds
        Wall time per step.
    gaps
        Residential land outside the buffer coverage of the key indicators (``indicator``,
        ``label_zh``, ``label_en``, ``area_m2``), for maps.
    area, area_source
        The area of the area-based figures (``None``: the study area) and where it came from.
    units
        The units (街道 / 社区 or grid cells, metric CRS) the check was given, if any.
    gap_causes
        Why walking falls short of the buffer: per coverage measure and basis, the percentage
        points of the buffer − walking gap by cause (:func:`geoplan.indicators.gaps.gap_table`);
        the homes carry each one's cause in ``<measure>_gap_cause``.
    """

    city_name: str
    sheet: TargetSheet
    scorecard: pd.DataFrame
    measures: pd.DataFrame
    homes: gpd.GeoDataFrame
    coverage: Mapping[str, BaseGeometry]
    seconds: dict[str, float]
    notes: list[str] = field(default_factory=list)
    gaps: gpd.GeoDataFrame | None = None
    coverage_layers: dict[str, CoverageLayer] = field(default_factory=dict)
    cache_report: dict[str, str] = field(default_factory=dict)
    area: BaseGeometry | None = None
    area_source: str = "study_area"
    units: gpd.GeoDataFrame | None = None
    gap_causes: pd.DataFrame | None = None


@contextmanager
def _timed(seconds: dict[str, float], step: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    seconds[step] = round(seconds.get(step, 0.0) + time.perf_counter() - t0, 4)


#: steps of ``CheckResult.seconds`` by registry indicator
_STEP = {
    "life_circle": "life_circles",
    "circle": "life_circles",
    "park_coverage": "parks",
    "green_land_ratio": "parks",
    "park_area_per_resident": "parks",
    "green_cover_ratio": "parks",
    "bus_stop_coverage": "bus_stops",
    "road_density": "roads",
    "intersection_density": "roads",
    "road_area_ratio": "roads",
}


def _plan(
    ts: TargetSheet, lc: LifeCircles, inputs: Inputs, extra: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(run name, registry id, parameters) of every indicator the check runs, in report order."""
    circle_specs = sorted(
        {
            circle_measure(t, lc)[1:]
            for t in ts.checkable
            if t.indicator == "circle" and dict(t.params).get("name") in lc.circles
        }
    )
    runs: list[tuple[str, str, dict[str, Any]]] = [
        ("life_circle", "life_circle", ts.params_for("life_circle") | {"circles": lc})
    ]
    for name, r in circle_specs:
        runs.append(
            (
                f"circle:{name}:{r:g}",
                "circle",
                ts.params_for("circle") | {"name": name, "radius_m": r, "circles": lc},
            )
        )
    runs += [
        ("park_coverage", "park_coverage", ts.params_for("park_coverage")),
        ("green_land_ratio", "green_land_ratio", {}),
        ("park_area_per_resident", "park_area_per_resident", {}),
    ]
    if inputs.landcover is not None:
        runs.append(("green_cover_ratio", "green_cover_ratio", ts.params_for("green_cover_ratio")))
    runs += [
        ("bus_stop_coverage", "bus_stop_coverage", ts.params_for("bus_stop_coverage")),
        ("road_density", "road_density", ts.params_for("road_density")),
        ("intersection_density", "intersection_density", ts.params_for("intersection_density")),
        ("road_area_ratio", "road_area_ratio", {}),
    ]
    return [(run, iid, p | dict(extra.get(iid, {}))) for run, iid, p in runs]


@with_collector_paused
def check_city(
    city: City,
    *,
    sheet: str | TargetSheet = "national",
    homes: gpd.GeoDataFrame | None = None,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    population_kind: Literal["auto", "census", "cells"] = "auto",
    population_raster: str | Path | None = None,
    home_spacing_m: float = 50.0,
    cache: AccessCache | None = None,
    results: ResultCache | None = None,
    life_circles: LifeCircles | None = None,
    extra_measures: Mapping[str, float] | None = None,
    landcover: str | Path | None = None,
    green_classes: Sequence[int] | None = None,
    emptied: Collection[str] = (),
    built_up: BaseGeometry | Literal["osm", "study_area"] | None = None,
    units: gpd.GeoDataFrame | None = None,
    built_up_source: str | None = None,
    scope: Literal["city", "town"] = "city",
    areas: gpd.GeoDataFrame | None = None,
    compounds: Literal["gates", "edges"] = "gates",
    exact_areas: bool | None = None,
) -> CheckResult:
    """Measure every indicator on ``city`` and score it against a target sheet.

    Parameters
    ----------
    city
        A loaded city (:func:`geoplan.load_city`), metric CRS.
    sheet
        Target sheet id (``"anyang-2023"`` …, see :func:`geoplan.list_target_sheets`) or a loaded
        :class:`TargetSheet`; its ``parameters:`` override the registry's defaults.
    homes
        Homes to measure from (default: :func:`geoplan.city.homes.homes_from_city`).
    population
        Population points / cells with residents (column ``population_column``): homes become
        these points and coverage is also reported by residents.
    population_column
        Residents column of ``population``.
    population_kind
        ``cells``: each point / cell is a home (a hex grid); ``census``: polygons (街道 / 社区)
        whose counts are spread over the city's homes
        (:func:`geoplan.city.population.distribute_census`);
        ``auto``: census when the polygons hold on average 5 homes or more.
    population_raster
        A population GeoTIFF (WorldPop / GHSL, residents per pixel, any CRS) spread over the homes
        in each pixel (:func:`geoplan.city.population.distribute_raster`).
    home_spacing_m
        Sample spacing (m) in residential parcels without mapped buildings.
    cache
        Reuse attachments and distances across runs (scenarios).
    results
        Reuse indicator results across runs: an indicator whose layers did not change is not
        recomputed (``CheckResult.cache_report`` says which were).
    life_circles
        Life-circle definitions (default: the bundled ``life_circles.yaml``).
    extra_measures
        Measures computed elsewhere (a scenario's ``count_added``), by target id or measure.
    landcover
        Land-cover (class) or NDVI (float) GeoTIFF for 绿化覆盖率 (green cover ratio).
    green_classes
        Raster classes counted as vegetation (default: the registry's, ESA WorldCover 10, 20,
        30, 90, 95).
    built_up
        The area of the area-based figures (路网密度, 绿地率, 道路面积率, bus coverage of area):
        the 建成区 / 中心城区 polygon in the city's metric CRS (its part inside the study area,
        basis ``built_up_area``); ``None`` or ``"osm"`` (default): the built-up area derived from
        OSM land use and street density (:func:`geoplan.rules.built_up.built_up_area`; the whole
        study area when nothing urban is mapped, said in a note); ``"study_area"``: the whole
        study area (basis ``boundary_area``).
    units
        Polygons of the units (街道 / 社区) in the city's metric CRS, for per-unit count targets
        (``count_per_unit``, 每个街道…); without them those targets are "no data".
    emptied
        Layers a plan emptied on purpose (``"bus_stops"``): their coverage is 0 %, not "no data".
    built_up_source
        Where ``built_up`` came from, as the notes say it (a scenario passes its baseline's).
    areas
        Named parts of the study area (``unit`` = name, metric CRS) for targets restricted to one
        (``area: 老城区``); without the named one such a target is "no data".
    scope
        The kind of study area: ``city`` (default) or ``town`` (镇区); targets that apply to the
        other kind are "no data".
    compounds
        ``gates`` (default): homes inside a gated compound (``city.compounds``) reach the
        streets only through its entrances (:mod:`geoplan.network.gates`); ``edges``: every home
        walks straight to its nearest street, walls or not.
    exact_areas
        How the buffer method measures the covered share of an area: ``True`` overlays the
        union of the buffers (exact); ``False`` counts land cells (within 0.1 pp of the exact
        figure; home flags identical; :mod:`geoplan.indicators.cover`); ``None`` (default):
        exact unless the city is large (:func:`geoplan.indicators.cover.area_method`).

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import geoplan
    >>> city = geoplan.load_city("demo")
    >>> res = geoplan.check_city(city, sheet="anyang-2023")
    >>> sorted(res.coverage_layers)[:2]
    ['bus_cov_300_buffer', 'bus_cov_300_network']
    """
    seconds: dict[str, float] = {}
    ts = sheet if isinstance(sheet, TargetSheet) else load_target_sheet(sheet)
    lc = life_circles or load_life_circles()
    own_cache = cache is None  # nothing reuses it after this check
    cache = cache if cache is not None else AccessCache()
    results = results if results is not None else ResultCache()
    net = city.network
    if net.n_edges == 0:
        raise LayerError(
            f"{city.name}: no walkable street inside the study area (the walk network is empty); "
            "check that the extract holds highway ways and that the boundary lies over them"
        )

    with _timed(seconds, "homes"):
        if homes is None:
            homes = check_homes(
                city,
                population=population,
                population_column=population_column,
                population_kind=population_kind,
                population_raster=population_raster,
                home_spacing_m=home_spacing_m,
            )
        att = cache.attach(net, np.asarray(homes.geometry.values, dtype=object))
    with _timed(seconds, "built_up"):
        area, area_source = resolve_built_up(city, built_up, landcover=landcover)
        area_source = built_up_source or area_source
        inputs = Inputs(
            city,
            homes,
            None if landcover is None else str(landcover),
            area,
            area_source,
            area_method(city, exact_areas),
        )
        _ = inputs.boundary  # the area of area-based figures (built-up ∩ study area), once
    if area is not None and inputs.boundary.area <= 0:
        raise LayerError(
            "the built-up area does not overlap the study area; pass the 建成区 / 中心城区 polygon "
            "of this city"
        )
    extra: dict[str, dict[str, Any]] = {
        "bus_stop_coverage": {"zero_if_empty": "bus_stops" in emptied},
    }
    if green_classes is not None:
        extra["green_cover_ratio"] = {"classes": tuple(green_classes)}
    runs = _plan(ts, lc, inputs, extra)

    with _timed(seconds, "access"):
        access, gm = _access(runs, inputs, att, cache, gated=compounds == "gates")
        if own_cache:
            cache.release_searches()
    out = _run_indicators(runs, access, inputs, results, seconds)

    with _timed(seconds, "scorecard"):
        counted = summary_frame(
            count_rows(ts.checkable, city, inputs.boundary, units, areas, inputs.residents_total)
            + urban_rows(
                ts.checkable,
                city=city,
                land=inputs.boundary,
                built_up_source=inputs.built_up_source,
                units=units,
                areas=areas,
                density=lambda: density_units(
                    city,
                    population=population,
                    population_column=population_column,
                    population_raster=population_raster,
                ),
            )
        )
        measures = area_basis(
            pd.concat([r.summary for r in out] + [counted], ignore_index=True), inputs
        )
        homes_out, coverage, layers = _assemble(homes, access, out)
        card = scorecard(ts, measures, lc=lc, extra=extra_measures, scope=scope)
    notes = _notes(city, homes) + compound_notes(city.compounds, compounds, gm)
    if inputs.areas == "cells":
        notes.append(cells_note(city.residential))
    with _timed(seconds, "gaps"):
        gaps = coverage_gaps(city.residential, coverage, layers)
    with _timed(seconds, "gap_causes"):
        reach = {m: r for res in out for m, r in res.reach.items()}
        cause_table, causes = explain_gaps(
            net,
            city.barriers,
            city.gates,
            homes_out,
            att,
            reach,
            land_buffer_share=land_buffer_shares(measures),
            cells=grid_cells(access, out, measures),
        )
        homes_out = with_causes(homes_out, causes)
    return CheckResult(
        city.name,
        ts,
        card,
        measures,
        homes_out,
        coverage,
        seconds,
        notes,
        gaps,
        layers,
        {r: _hit_or_miss(results, r) for r, _, _ in runs},
        inputs.built_up,
        inputs.built_up_source,
        units,
        cause_table,
    )


def _access(
    runs: Sequence[tuple[str, str, dict[str, Any]]],
    inputs: Inputs,
    att: EdgeAttachment,
    cache: AccessCache,
    *,
    gated: bool,
) -> tuple[Access, GateModel | None]:
    """The access stage of a check: every run's source sets, homes through their gates."""
    city, homes, net = inputs.city, inputs.homes, inputs.city.network
    asked = {
        run: REGISTRY[iid].request_sets(inputs, REGISTRY[iid].build(params))
        for run, iid, params in runs
    }
    gm = None
    if gated and city.compounds is not None:
        xy = shapely.get_coordinates(np.asarray(homes.geometry.values, dtype=object))
        gm = gate_model(city.compounds, xy, att, net)
    access = compute_access(
        net,
        att,
        merge_requests(asked),
        boundary=inputs.boundary,
        cache=cache,
        gates=gm,
        compounds=city.compounds if gated else None,
    )
    return access, gm


def _run_indicators(
    runs: Sequence[tuple[str, str, dict[str, Any]]],
    access: Access,
    inputs: Inputs,
    results: ResultCache,
    seconds: dict[str, float],
) -> list[IndicatorResult]:
    """Each planned run of a registry indicator, through the result cache (timed per step)."""
    out: list[IndicatorResult] = []
    for run, iid, params in runs:
        spec = REGISTRY[iid]
        with _timed(seconds, _STEP[iid]):
            keys = layer_keys(inputs, spec.reads_for(params)) | {"areas": inputs.areas}
            compute = functools.partial(spec.compute, access, inputs, spec.build(params))
            out.append(results.get(run, params, keys, compute))
    return out


def _assemble(
    homes: gpd.GeoDataFrame, access: Access, out: Sequence[IndicatorResult]
) -> tuple[gpd.GeoDataFrame, CoverageAreas, dict[str, CoverageLayer]]:
    """Homes with every distance and flag column; coverage areas and their descriptions."""
    dist = pd.DataFrame(_dist_columns(access.home_m), index=homes.index)
    per_home = pd.concat([dist] + [r.per_home for r in out if len(r.per_home.columns)], axis=1)
    # one concat, not a column insert per flag (a sheet with many circles has hundreds)
    new = pd.DataFrame({c: per_home[c].to_numpy() for c in per_home.columns}, index=homes.index)
    order = list(homes.columns) + [c for c in new.columns if c not in homes.columns]
    kept = homes.drop(columns=[c for c in new.columns if c in homes.columns])
    homes_out = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame(kept), new], axis=1)[order],
        geometry=homes.geometry.name,
        crs=homes.crs,
    )
    homes_out.attrs = dict(homes.attrs)
    raw: dict[str, Area] = {}
    layers: dict[str, CoverageLayer] = {}
    for res in out:
        raw.update(res.geometries)
        layers.update(res.layers)
    return homes_out, CoverageAreas(raw), layers


def cells_note(residential: gpd.GeoDataFrame) -> str:
    """The note of a check whose large buffer unions were measured on land cells.

    Parameters
    ----------
    residential
        Residential land (metric CRS).

    Returns
    -------
    str
    """
    from geoplan.indicators.cells import cell_size_m
    from geoplan.indicators.cover import CELLS_MIN_SOURCES

    side = cell_size_m(float(residential.geometry.area.sum())) if len(residential) else 0.0
    return (
        f"buffer shares of facility sets with {CELLS_MIN_SOURCES:,}+ features measured on land "
        f"cells ({side:g} m on residential land; within 0.1 pp of the exact overlay; home flags "
        "exact); the QGIS package draws the buffer areas of the map measures; --exact-areas "
        "overlays every union"
    )


def _notes(city: City, homes: gpd.GeoDataFrame) -> list[str]:
    """The check's notes on its population source and on schools without a level."""
    notes: list[str] = []
    tot = homes.attrs.get("population")
    if tot and "pixel_homes" in tot:
        notes.append(
            f"population raster: {tot['input']:,.0f} residents in the pixels over the study "
            f"area, {tot['inside']:,.0f} inside it, {tot['assigned']:,.0f} assigned "
            f"({tot['pixel_homes']} pixels with people but no mapped home became homes)"
        )
    elif tot and "assigned" in tot:
        notes.append(
            f"census: {tot['input']:,.0f} residents in {tot['units']} units, "
            f"{tot['inside']:,.0f} inside the study area, {tot['assigned']:,.0f} assigned to "
            f"{int((homes['residents'] > 0).sum())} homes (the top 1 % of homes hold "
            f"{tot.get('top1pct_share', 0.0):.1%}); {tot['units_without_homes']} units "
            "with residents but no home inside (not assigned)"
            + (
                f"; {tot['containers_dropped']} polygons holding others (a coarser level: 区 "
                "totals over 街道) left out"
                if tot.get("containers_dropped")
                else ""
            )
        )
    elif tot:
        notes.append(
            f"population: {tot['input']:,.0f} residents in the file, {tot['inside']:,.0f} inside "
            f"the study area ({tot['dropped']} features outside dropped, {tot['cut']} cells cut "
            "at the edge and counted by their area inside)"
        )
    if (city.facilities["category"] == "school_unknown").any():
        n = int((city.facilities["category"] == "school_unknown").sum())
        notes.append(
            f"{n} schools have no level in OSM (no isced:level, name does not say 小学/中学); "
            "they are not counted as primary or middle schools"
        )
    return notes


def _dist_columns(home_m: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-home walking distance (m) of every source set the check searched, by vocabulary name.

    ``cat:<category>`` → ``dist_<category>_m``; the indicators' own sets (park tiers, green and
    parks above a size) → ``dist_<set>_m``, so that filtering homes.gpkg at a radius reproduces
    every homes-based share (a set named like a category keeps the category's column).
    """
    out = {dist_column(k.split(":", 1)[1]): v for k, v in home_m.items() if k.startswith("cat:")}
    for k, v in home_m.items():
        if not k.startswith("cat:") and dist_column(k) not in out:
            out[dist_column(k)] = v
    return out


def _hit_or_miss(results: ResultCache, run: str) -> str:
    return "hit" if results.last.get(run) else "miss"


_GAPS = IdentityMemo(maxsize=64)


def coverage_gaps(
    residential: gpd.GeoDataFrame,
    coverage: Mapping[str, BaseGeometry],
    layers: Mapping[str, CoverageLayer],
) -> gpd.GeoDataFrame:
    """Residential land outside the buffer coverage of :data:`geoplan.names.GAP_MEASURES`.

    Parameters
    ----------
    residential
        Residential land polygons (metric CRS).
    coverage, layers
        Coverage areas and their descriptions (:class:`CheckResult`).

    Returns
    -------
    GeoDataFrame
        ``indicator`` (the coverage key), ``label_zh``, ``label_en``, ``area_m2``; metric CRS.
    """
    land = residential_land(residential) if len(residential) else None
    rows, geoms = [], []
    for measure in GAP_MEASURES:
        key = coverage_key(measure, Method.BUFFER)
        if land is None or key not in coverage or key not in layers:
            continue
        # unchanged land and coverage are the same objects across runs (content-keyed caches)
        gap = _GAPS.get(
            "gap", (land, coverage[key]), functools.partial(shapely.difference, land, coverage[key])
        )
        if gap.is_empty:
            continue
        zh, en = gap_labels(layers[key])
        rows.append({"indicator": key, "label_zh": zh, "label_en": en, "area_m2": gap.area})
        geoms.append(gap)
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["indicator", "label_zh", "label_en", "area_m2"]),
        geometry=gpd.GeoSeries(geoms, crs=residential.crs),
        crs=residential.crs,
    )
