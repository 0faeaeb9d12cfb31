"""A baseline kept in memory, so a re-run after editing one layer recomputes only what changed."""

from __future__ import annotations

import dataclasses
import time

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.city import City
from geoplan.homes import homes_from_city
from geoplan.indicators.coverage import SUMMARY_COLUMNS
from geoplan.io.plan_layers import PlanLayer, read_plan_layer
from geoplan.network.cache import AccessCache
from geoplan.scenario.compare import ScenarioResult, compare, grid_units
from geoplan.scenario.model import ChangeLog, Scenario
from geoplan.scoring.check import CheckResult, check_city
from geoplan.scoring.scorecard import scorecard
from geoplan.scoring.targets import TargetSheet, load_target_sheet


class ScenarioSession:
    """Keeps a loaded baseline, its check and an :class:`AccessCache` across scenario runs.

    Editing one layer of a scenario and running it again recomputes only the categories whose
    inputs changed (the cache is keyed by network, homes, facility geometries and limit).

    >>> session = ScenarioSession(geoplan.load_city("demo"))   # doctest: +SKIP
    >>> r1 = session.run(scenario); r2 = session.run(scenario)  # doctest: +SKIP
    """

    def __init__(self, city: City, *, cache: AccessCache | None = None) -> None:
        self.city = city
        self.cache = cache if cache is not None else AccessCache()
        self._baseline: dict[str, CheckResult] = {}
        self._base_homes = homes_from_city(city)

    def baseline(self, sheet: str | TargetSheet) -> CheckResult:
        """The baseline check against ``sheet`` (computed once per sheet)."""
        ts = sheet if isinstance(sheet, TargetSheet) else load_target_sheet(sheet)
        if ts.id not in self._baseline:
            self._baseline[ts.id] = check_city(
                self.city, sheet=ts, homes=self._base_homes, cache=self.cache
            )
        return self._baseline[ts.id]

    def run(self, scenario: Scenario, *, sheet: str | TargetSheet | None = None) -> ScenarioResult:
        """Apply ``scenario`` to the baseline, check both, compare."""
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        ts = sheet or scenario.targets
        ts = ts if isinstance(ts, TargetSheet) else load_target_sheet(ts)
        t = time.perf_counter()
        base = self.baseline(ts)
        seconds["baseline_check"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        scenario.layer_notes.clear()
        plan_city, log = scenario.apply_with_log(self.city)
        log.notes += scenario.layer_notes
        seconds["apply"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        homes = _plan_homes(self.city, plan_city, self._base_homes, log)
        plan = check_city(plan_city, sheet=ts, homes=homes, cache=self.cache)
        if len(plan_city.bus_stops) == 0 and len(log.removed.get("bus_stops", ())):
            plan = _no_bus_stops(plan, ts)
        seconds["plan_check"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        units = _units_layer(scenario, self.city)
        result = compare(base, plan, base_city=self.city, plan_city=plan_city, log=log, units=units)
        result.name = scenario.name
        seconds["compare"] = round(time.perf_counter() - t, 3)
        seconds["total"] = round(time.perf_counter() - t0, 3)
        result.seconds = seconds
        return result


def _no_bus_stops(res: CheckResult, ts: TargetSheet) -> CheckResult:
    """Bus-stop coverage is 0 (not "no data") when the scenario removed every stop."""
    ms = res.measures.loc[res.measures["indicator"] != "bus_stop_coverage"]
    rows = []
    for r in (300.0, 500.0):
        for method, basis in (
            ("buffer", "boundary_area"),
            ("buffer", "residential_area"),
            ("network", "homes"),
            ("network", "residential_area"),
            ("network", "boundary_area"),
        ):
            rows.append(
                {
                    "indicator": "bus_stop_coverage",
                    "measure": f"bus_cov_{r:g}",
                    "method": method,
                    "basis": basis,
                    "value": 0.0,
                    "unit": "share",
                    "label_zh": f"公交站点{r:g}米覆盖率",
                    "label_en": f"Bus stop {r:g} m coverage",
                    "note": "every bus stop removed by the scenario",
                }
            )
    measures = pd.concat([ms, pd.DataFrame(rows, columns=SUMMARY_COLUMNS)], ignore_index=True)
    homes = res.homes.copy()
    for r in (300, 500):
        homes[f"bus_cov_{r}_network"] = False
    return dataclasses.replace(
        res, measures=measures, homes=homes, scorecard=scorecard(ts, measures)
    )


def _plan_homes(
    base: City, plan: City, base_homes: gpd.GeoDataFrame, log: ChangeLog
) -> gpd.GeoDataFrame:
    """Homes of the plan: the baseline's when residential land and buildings are unchanged."""
    same = (
        "residential" not in log.added
        and "residential" not in log.removed
        and "buildings" not in log.removed
    )
    homes = base_homes if same else homes_from_city(plan)
    if log.residents:
        homes = homes.copy()
        pid = homes["parcel_osmid"].to_numpy()
        for osmid, res in log.residents.items():
            m = pid == osmid
            if m.any():
                homes.loc[m, "residents"] = res / m.sum()
        log.notes.append(
            "residents are known only in the added parcels: the residents share covers them only"
        )
    return homes


def _units_layer(scenario: Scenario, city: City) -> gpd.GeoDataFrame:
    if scenario.units is None:
        return grid_units(city.boundary_polygon, city.crs, cell_m=scenario.grid_m)
    u = scenario.units
    if isinstance(u, gpd.GeoDataFrame):
        gdf = u.to_crs(city.crs)
    else:
        path = u.source if isinstance(u, PlanLayer) else scenario.resolve(u)
        gdf = read_plan_layer(path, geometry_types=("Polygon",)).gdf.to_crs(city.crs)
    col = scenario.units_name_column or ("name" if "name" in gdf.columns else None)
    names = gdf[col].astype(str).to_numpy() if col else np.arange(len(gdf)).astype(str)
    return gpd.GeoDataFrame({"unit": names}, geometry=gdf.geometry.values, crs=city.crs)
