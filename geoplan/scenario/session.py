"""A baseline kept in memory, so a re-run after editing one layer recomputes only what changed."""

from __future__ import annotations

import time

import geopandas as gpd

from geoplan._gc import with_collector_paused
from geoplan.city import City, Study
from geoplan.city.homes import homes_from_city
from geoplan.city.units import grid_units, units_from_frame
from geoplan.indicators.result_cache import ResultCache
from geoplan.io.plan_layers import PlanLayer, read_plan_layer
from geoplan.network.cache import AccessCache
from geoplan.scenario.changes import ChangeLog
from geoplan.scenario.compare import ScenarioResult, compare
from geoplan.scenario.model import Scenario
from geoplan.scoring.check import CheckResult, check_city
from geoplan.scoring.targets import TargetSheet, load_target_sheet


class ScenarioSession:
    """A loaded baseline, its check and the caches, kept across scenario runs.

    Holds an :class:`AccessCache` and a :class:`ResultCache`.

    Editing one layer of a scenario and running it again recomputes only the indicators that read
    that layer (the result cache is keyed by the content of each indicator's layers) and only the
    distances whose inputs changed (network, homes, facility geometries, limit).
    ``last_cache_report`` says, per indicator, whether the last plan check computed it.

    Parameters
    ----------
    city
        The baseline city.
    cache
        An access cache to share (default: a new one).
    results
        A result cache to share (default: a new one).

    Examples
    --------
    >>> session = ScenarioSession(geoplan.load_city("demo"))   # doctest: +SKIP
    >>> r1 = session.run(scenario); r2 = session.run(scenario)  # doctest: +SKIP
    """

    def __init__(
        self,
        city: City,
        *,
        cache: AccessCache | None = None,
        results: ResultCache | None = None,
    ) -> None:
        self.city = city
        self.cache = cache if cache is not None else AccessCache()
        self.results = results if results is not None else ResultCache()
        self.last_cache_report: dict[str, str] = {}
        self._units: dict[float, gpd.GeoDataFrame] = {}
        self._baseline: dict[str, CheckResult] = {}
        self._base_homes = homes_from_city(city)

    def baseline(self, sheet: str | TargetSheet) -> CheckResult:
        """The baseline check against ``sheet`` (computed once per sheet).

        Parameters
        ----------
        sheet
            A sheet id or a loaded sheet.

        Returns
        -------
        CheckResult
        """
        ts = sheet if isinstance(sheet, TargetSheet) else load_target_sheet(sheet)
        if ts.id not in self._baseline:
            self._baseline[ts.id] = check_city(
                self.city, sheet=ts, homes=self._base_homes, cache=self.cache, results=self.results
            )
        return self._baseline[ts.id]

    def _units_for(self, scenario: Scenario) -> gpd.GeoDataFrame:
        """The scenario's units layer; the default grid is built once per session."""
        if scenario.units is not None:
            return _units_layer(scenario, self.city)
        key = float(scenario.grid_m)
        if key not in self._units:
            self._units[key] = _units_layer(scenario, self.city)
        return self._units[key]

    @with_collector_paused
    def run(self, scenario: Scenario, *, sheet: str | TargetSheet | None = None) -> ScenarioResult:
        """Apply ``scenario`` to the baseline, check both, compare.

        Parameters
        ----------
        scenario
            The scenario.
        sheet
            A target sheet (default: the scenario's).

        Returns
        -------
        ScenarioResult
        """
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
        emptied = [
            k for k, g in log.removed.items() if len(g) and len(getattr(plan_city, k, ())) == 0
        ]
        plan = check_city(
            plan_city,
            sheet=ts,
            homes=homes,
            cache=self.cache,
            results=self.results,
            emptied=emptied,
            # the plan is measured over the baseline's area (a plan's roads and parks must not
            # move the denominator of 路网密度 or 绿地率)
            built_up=base.area if base.area is not None else "study_area",
            built_up_source=base.area_source,
        )
        self.last_cache_report = plan.cache_report
        seconds["plan_check"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        units = self._units_for(scenario)
        areas = scenario.base.areas_layer(self.city) if isinstance(scenario.base, Study) else None
        result = compare(
            base,
            plan,
            base_city=self.city,
            plan_city=plan_city,
            log=log,
            units=units,
            areas=areas,
        )
        result.name = scenario.name
        seconds["compare"] = round(time.perf_counter() - t, 3)
        seconds["total"] = round(time.perf_counter() - t0, 3)
        result.seconds = seconds
        return result


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
        gdf, where = u, f"scenario {scenario.name!r}: units"
    else:
        path = u.source if isinstance(u, PlanLayer) else scenario.resolve(u)
        gdf, where = read_plan_layer(path, geometry_types=("Polygon",)).gdf, str(path)
    return units_from_frame(gdf, city.crs, name_column=scenario.units_name_column, where=where)


def run_scenario(
    scenario: Scenario,
    city: City | None = None,
    *,
    sheet: str | TargetSheet | None = None,
    cache: AccessCache | None = None,
    session: ScenarioSession | None = None,
) -> ScenarioResult:
    """Check the baseline and the plan of ``scenario`` against ``sheet`` and compare them.

    Parameters
    ----------
    scenario
        The plan.
    city
        The baseline city (default: the scenario's own city spec, loaded).
    sheet
        Target sheet (default: the scenario's targets).
    cache
        Access cache for a new session.
    session
        Reuse a :class:`ScenarioSession` (its baseline, access and result caches).

    Returns
    -------
    ScenarioResult
    """
    if session is None:
        session = ScenarioSession(city if city is not None else scenario.load_base(), cache=cache)
    return session.run(scenario, sheet=sheet)
