"""Baseline vs plan: scorecards, measures, per-home and per-unit tables side by side."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.city import City
from geoplan.city.units import grid_units
from geoplan.indicators.coverage import SUMMARY_COLUMNS
from geoplan.names import KEY_MEASURES, Method, Status, coverage_key, flag_stem
from geoplan.scenario.additions import added_measure
from geoplan.scenario.changes import ChangeLog
from geoplan.scoring.check import CheckResult
from geoplan.scoring.scorecard import scorecard
from geoplan.scoring.targets import Target, TargetSheet
from geoplan.scoring.units import unit_shares

#: per-home flag columns of the key measures, both methods (the vocabulary's names)
_KEY_FLAGS = {
    coverage_key(m, meth) for m in KEY_MEASURES for meth in (Method.BUFFER, Method.NETWORK)
}
#: flags that count in ``newly_covered_any``
_ANY_STEMS = tuple(flag_stem(m) for m in KEY_MEASURES)


@dataclass
class ScenarioResult:
    """Baseline vs plan.

    Attributes
    ----------
    scorecard
        One row per (target, method): ``measured_baseline``, ``measured_plan``, ``delta``,
        ``status_baseline``, ``status_plan``, ``gap_plan`` and the target's columns.
    measures
        Every measure side by side (``value_baseline``, ``value_plan``, ``delta``).
    homes
        Plan homes (metric CRS) with, for each coverage flag ``f`` (network flags of the check
        and ``<measure>_buffer`` = home inside the buffer coverage), ``new_<f>`` = False in the
        baseline and True in the plan; ``new_home`` for homes the plan added.
    units
        Per unit (街道 / 社区 polygon or grid cell): residential area, homes, and baseline / plan
        coverage shares of the key measures (buffer over residential land, network by area).
    """

    name: str
    baseline: CheckResult
    plan: CheckResult
    plan_city: City
    base_city: City
    log: ChangeLog
    scorecard: pd.DataFrame
    measures: pd.DataFrame
    homes: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    seconds: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The checkable scorecard rows, compact.

        Returns
        -------
        DataFrame
        """
        sc = self.scorecard
        sc = sc.loc[sc["status_plan"] != Status.NOT_CHECKABLE]
        return sc[
            [
                "target_id",
                "method",
                "basis",
                "target",
                "measured_baseline",
                "measured_plan",
                "delta",
                "status_baseline",
                "status_plan",
            ]
        ].reset_index(drop=True)


def count_added(log: ChangeLog, target: Target) -> int:
    """Distinct features of the target's ``kind`` the scenario added in the study area.

    See :func:`geoplan.scenario.additions.added_measure` (a road drawn in pieces counts once).

    Parameters
    ----------
    log
        The scenario's change log.
    target
        A ``count_added`` target.

    Returns
    -------
    int
    """
    v, _ = added_measure(log, target)
    return 0 if v is None else int(v)


def _count_rows(
    sheet: TargetSheet,
    log: ChangeLog | None,
    areas: Sequence[gpd.GeoDataFrame | None] = (),
) -> dict[str, pd.DataFrame]:
    """Scorecard rows of the targets a scenario's additions measure (``count_added`` …)."""
    empty = pd.DataFrame(columns=SUMMARY_COLUMNS)
    out = {}
    for t in sheet.targets:
        if t.checkable and t.indicator in ("count_added", "area_added"):
            v, note = added_measure(log or ChangeLog(), t, areas)
            one = dataclasses.replace(sheet, targets=(t,))
            extra = {} if v is None else {t.indicator: v}
            card = scorecard(one, empty, extra=extra)
            card["note"] = note if log is not None or v is None else "baseline: nothing added"
            out[t.id] = card
    return out


def _with_counts(card: pd.DataFrame, rows: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for tid, grp in card.groupby("target_id", sort=False):
        parts.append(rows.get(str(tid), grp))
    return pd.concat(parts, ignore_index=True) if parts else card


def _home_flags(res: CheckResult) -> pd.DataFrame:
    """Boolean coverage flags per home, both methods, as the indicators produced them."""
    h = res.homes
    return pd.DataFrame({c: h[c].to_numpy(dtype=bool) for c in h.columns if h[c].dtype == bool})


def _xy_key(g: gpd.GeoSeries) -> pd.MultiIndex:
    """Each point's position to the centimetre, as an index to match homes by."""
    xy = np.round(shapely.get_coordinates(np.asarray(g.values, dtype=object)) * 100.0)
    return pd.MultiIndex.from_arrays([xy[:, 0].astype(np.int64), xy[:, 1].astype(np.int64)])


def compare(
    base: CheckResult,
    plan: CheckResult,
    *,
    base_city: City,
    plan_city: City,
    log: ChangeLog | None = None,
    units: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
) -> ScenarioResult:
    """Baseline and plan side by side (see :class:`ScenarioResult`).

    ``areas`` (and ``units``) name the parts of the study area a target may be set for
    (``area: 老城区``).

    Parameters
    ----------
    base, plan
        The baseline's and the plan's checks.
    base_city, plan_city
        The cities they were measured on.
    log
        What the scenario added and removed.
    units
        Units of the per-unit table (default: a grid).
    areas
        Named parts of the study area.

    Returns
    -------
    ScenarioResult
    """
    log = log or ChangeLog()
    homes, n_gone = _home_changes(base, plan)
    units_out = _unit_table(
        units if units is not None else grid_units(plan_city.boundary_polygon, plan_city.crs),
        base,
        plan,
        base_city,
        plan_city,
    )
    notes = list(log.notes)
    if n_gone:
        notes.append(f"{n_gone} baseline homes are not in the plan")
    return ScenarioResult(
        name=plan_city.name,
        baseline=base,
        plan=plan,
        plan_city=plan_city,
        base_city=base_city,
        log=log,
        scorecard=_scorecard_change(base, plan, log, (areas, units)),
        measures=_measure_change(base, plan),
        homes=homes,
        units=units_out,
        seconds={},
        notes=notes,
    )


_CARD_COLUMNS = [
    "target_id",
    "indicator",
    "label_zh",
    "label_en",
    "method",
    "basis",
    "op",
    "target",
    "unit",
    "measured_baseline",
    "measured_plan",
    "delta",
    "status_baseline",
    "status_plan",
    "gap_baseline",
    "gap_plan",
    "clause",
    "note",
]


def _scorecard_change(
    base: CheckResult,
    plan: CheckResult,
    log: ChangeLog,
    areas: Sequence[gpd.GeoDataFrame | None] = (),
) -> pd.DataFrame:
    """The plan's scorecard with the baseline's figure, status and gap beside each row."""
    sheet = plan.sheet
    card_b = _with_counts(base.scorecard, _count_rows(sheet, None, areas))
    card_p = _with_counts(plan.scorecard, _count_rows(sheet, log, areas))
    key = ["target_id", "method", "basis"]
    b = card_b[[*key, "measured", "status", "gap"]].rename(
        columns={
            "measured": "measured_baseline",
            "status": "status_baseline",
            "gap": "gap_baseline",
        }
    )
    b = b.drop_duplicates(key)
    sc = card_p.rename(
        columns={"measured": "measured_plan", "status": "status_plan", "gap": "gap_plan"}
    )
    sc = sc.merge(b, on=key, how="left")
    sc["delta"] = sc["measured_plan"] - sc["measured_baseline"]
    return sc[_CARD_COLUMNS]


def _measure_change(base: CheckResult, plan: CheckResult) -> pd.DataFrame:
    """Every measure of baseline and plan side by side, with the change."""
    mk = ["indicator", "measure", "method", "basis"]
    mb = (
        base.measures[[*mk, "value"]]
        .drop_duplicates(mk)
        .rename(columns={"value": "value_baseline"})
    )
    ms = plan.measures.rename(columns={"value": "value_plan"}).merge(mb, on=mk, how="outer")
    ms["delta"] = ms["value_plan"] - ms["value_baseline"]
    cols = ["label_zh", "label_en", "unit", "value_baseline", "value_plan", "delta", "note"]
    return ms[[*mk, *cols]]


def _home_changes(base: CheckResult, plan: CheckResult) -> tuple[gpd.GeoDataFrame, int]:
    """The plan's homes with what each newly reaches, and the number of baseline homes gone.

    Homes are matched by position; a home of the plan not in the baseline is ``new_home``.
    """
    fb, fp = _home_flags(base), _home_flags(plan)
    kb = _xy_key(base.homes.geometry)
    first = ~kb.duplicated()
    kb, ib = kb[first], np.flatnonzero(first)
    kp = _xy_key(plan.homes.geometry)
    pos = kb.get_indexer(kp)
    new_home = pos < 0
    mi = np.where(new_home, 0, ib[np.maximum(pos, 0)]).astype(np.int64)
    keep = ("home_id", "source", "parcel_osmid", "area_m2", "residents")
    homes = plan.homes[[c for c in keep if c in plan.homes]].copy()
    homes["new_home"] = new_home
    any_new = np.zeros(len(homes), dtype=bool)
    for c in fp.columns:
        was = fb[c].to_numpy()[mi] if c in fb.columns else np.zeros(len(homes), dtype=bool)
        was = np.where(new_home, False, was)
        now = fp[c].to_numpy()
        homes[f"new_{c}"] = now & ~was
        if c.startswith(_ANY_STEMS):
            any_new |= now & ~was
        if c in _KEY_FLAGS:
            homes[f"{c}_baseline"] = was
            homes[f"{c}_plan"] = now
    homes["newly_covered_any"] = any_new
    out = gpd.GeoDataFrame(homes, geometry=plan.homes.geometry.values, crs=plan.homes.crs)
    return out, int(np.sum(~kb.isin(kp)))


def _unit_table(
    units: gpd.GeoDataFrame,
    base: CheckResult,
    plan: CheckResult,
    base_city: City,
    plan_city: City,
) -> gpd.GeoDataFrame:
    """Per unit: residential land, homes and the key measures' shares, baseline and plan."""
    b = unit_shares(units, base, base_city)
    p = unit_shares(units, plan, plan_city)
    out = units[["unit"]].copy()
    for col in ("residential_m2", "homes"):
        out[f"{col}_baseline"] = b[col].to_numpy()
        out[f"{col}_plan"] = p[col].to_numpy()
    for measure in KEY_MEASURES:
        name = flag_stem(measure)
        for meth in ("buffer", "network"):
            out[f"{name}_{meth}_baseline"] = b[f"{name}_{meth}"].to_numpy()
            out[f"{name}_{meth}_plan"] = p[f"{name}_{meth}"].to_numpy()
        for meth in ("buffer", "network"):
            out[f"{name}_{meth}_delta"] = (
                out[f"{name}_{meth}_plan"] - out[f"{name}_{meth}_baseline"]
            )
    return gpd.GeoDataFrame(out, geometry=units.geometry.values, crs=units.crs)
