"""The scorecard: measured values against a target sheet, one row per (target, method)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geoplan import names
from geoplan.indicators.registry import TARGETS
from geoplan.names import Status
from geoplan.rules.life_circles import LifeCircles, load_life_circles
from geoplan.scoring.targets import Target, TargetSheet

SCORECARD_COLUMNS = [
    "target_id",
    "indicator",
    "label_zh",
    "label_en",
    "method",
    "basis",
    "measured",
    "op",
    "target",
    "unit",
    "scope",
    "year",
    "implied",
    "status",
    "gap",
    "clause",
    "note",
    "bound",
]


def measure_of(t: Target, sheet: TargetSheet) -> str | None:
    """The measure id a target reads (:mod:`geoplan.names`), with the sheet's parameters.

    The template of the target's kind (``targets:`` of its registry entry) filled with its
    indicator's parameters (the sheet's overrides applied), the target's own params, its id.

    Parameters
    ----------
    t
        A target.
    sheet
        Its sheet (parameter overrides).

    Returns
    -------
    str or None
    """
    kind = TARGETS.get(str(t.indicator))
    if kind is None:
        return None
    params: dict[str, Any] = sheet.params_for(kind.indicator) if kind.indicator else {}
    params |= dict(t.params) | {"target_id": t.id, "indicator": t.indicator}
    return kind.measure_for(params)


def circle_measure(t: Target, lc: LifeCircles) -> tuple[str, str, float]:
    """(measure id, circle name, radius m) of a themed-circle target.

    Parameters
    ----------
    t
        A themed-circle target.
    lc
        The life-circle definitions.

    Returns
    -------
    tuple
        ``(measure id, circle name, radius m)``.
    """
    name = str(dict(t.params)["name"])
    r = t.number("radius_m", lc.circles[name].radius_m)
    return names.circle_measure(name, r), name, r


#: which (method, basis) rows of a measure the scorecard shows, in order
#: (first available basis with a value wins within each group)
_BASES: dict[str, list[list[tuple[str, str]]]] = {
    "bus_stop_coverage": [
        [("buffer", "built_up_area"), ("buffer", "boundary_area")],
        [("network", "built_up_area"), ("network", "boundary_area")],
    ],
    "default": [
        [("buffer", "residential_area")],
        [("network", "residents"), ("network", "residential_area"), ("network", "homes")],
    ],
}


def scorecard(
    sheet: TargetSheet,
    measures: pd.DataFrame,
    *,
    lc: LifeCircles | None = None,
    extra: Mapping[str, float] | None = None,
    scope: str = "city",
) -> pd.DataFrame:
    """Compare measured values with a target sheet.

    One row per checkable target and method (buffer and network side by side for coverage
    indicators); targets that map data cannot check are listed with status "not checkable".
    ``extra`` supplies measures computed elsewhere, keyed by target id or by measure name (e.g.
    the number of parks a scenario adds for a ``count_added`` target). ``scope``: the kind of
    study area measured (``city`` or ``town``); a target that applies to the other kind is "no
    data" (a 镇区 target is not scored on a city's figures).

    Parameters
    ----------
    sheet
        The target sheet.
    measures
        The measured rows (:data:`~geoplan.indicators.coverage.SUMMARY_COLUMNS`).
    lc
        Life-circle definitions (default: the bundled file).
    extra
        Measures computed elsewhere, by target id or measure.
    scope
        ``city`` or ``town``.

    Returns
    -------
    DataFrame
        :data:`SCORECARD_COLUMNS`.
    """
    lc = lc or load_life_circles()
    rows: list[dict[str, Any]] = []
    for t in sheet.targets:
        base = {
            "target_id": t.id,
            "indicator": t.indicator or "",
            "label_zh": t.label_zh,
            "label_en": t.label_en,
            "op": t.op or "",
            "target": _fmt_target(t.value),
            "unit": t.unit or "",
            "scope": t.scope or "",
            "year": int(t.year or sheet.year),
            "implied": bool(t.implied),
            "clause": f"{t.clause.section} {t.clause.text}".strip(),
        }
        unmeasured = _unmeasured(t, base, scope)
        if unmeasured is not None:
            rows.append(unmeasured)
            continue
        measure = circle_measure(t, lc)[0] if t.indicator == "circle" else measure_of(t, sheet)
        sel = measures.loc[measures["measure"] == measure] if measure else measures.iloc[0:0]
        key = t.id if extra and t.id in extra else measure
        if extra and key is not None and key in extra:
            v = t.evaluate(extra[key])
            rows.append(
                base
                | {
                    "method": "scenario",
                    "basis": "count",
                    "measured": v.measured,
                    "status": v.status,
                    "gap": v.gap,
                    "note": "",
                }
            )
            continue
        if sel.empty:
            v = t.evaluate(None)
            note = (
                "needs a plan scenario (geoplan run): counts what a plan adds"
                if t.indicator in ("count_added", "area_added")
                else "no data"
            )
            if t.indicator == "green_cover_ratio":
                note = "no data: needs a land-cover raster (--landcover)"
            rows.append(_blank(base, v.status, note))
            continue
        wanted = _BASES.get(t.indicator or "", _BASES["default"])
        shown = 0
        for group in wanted:
            found = None
            for method, basis in group:
                r = sel.loc[(sel["method"] == method) & (sel["basis"] == basis)]
                if not r.empty and (found is None or pd.notna(r.iloc[0]["value"])):
                    found = r.iloc[0]
                    if pd.notna(found["value"]):
                        break
            if found is None:
                continue
            shown += 1
            rows.append(_verdict_row(t, base, found))
        if not shown:  # non-coverage measures (road density …): their single row
            rows.append(_verdict_row(t, base, sel.iloc[0]))
    also = {t.id: _also(t) for t in sheet.targets if t.also and t.checkable}
    for row in rows:
        if row["target_id"] in also:
            row["note"] = str(row.get("note") or "") + also[row["target_id"]]
    return pd.DataFrame(rows, columns=SCORECARD_COLUMNS)


def _unmeasured(t: Target, base: dict[str, Any], scope: str) -> dict[str, Any] | None:
    """The row of a target this check does not measure (not checkable, other scope or area)."""
    if not t.checkable:
        reason = t.reason or "not checkable from map data"
        return _blank(base, Status.NOT_CHECKABLE, reason + _also(t))
    if t.area and t.indicator not in _AREA_AWARE:
        note = (
            f"no data: the target is set for {t.area}, not the whole study area; check "
            f"{t.area} alone (--boundary with its polygon)"
        )
        return _blank(base, Status.NO_DATA, note)
    if t.applies_to != scope:
        note = (
            f"no data: measured on a {t.applies_to} ({t.scope or t.applies_to}), not on this "
            f"{scope}'s study area; check the {t.applies_to} itself with --scope {t.applies_to}"
        )
        return _blank(base, Status.NO_DATA, note)
    return None


#: targets measured inside a named area of their own (``area:``): counts, scenario additions
_AREA_AWARE = (
    "count_existing",
    "count_per_unit",
    "count_added",
    "area_added",
    "development_intensity",
)


def _also(t: Target) -> str:
    """The other figures of a "分别" clause, for the note (``; 分别: 县级城市建成区 11%``)."""
    if not t.also:
        return ""
    parts = []
    for scope, value in t.also:
        if isinstance(value, float) and t.unit == "share":
            parts.append(f"{scope} {value:.1%}".replace(".0%", "%"))
        else:
            parts.append(f"{scope} {value:g}" if isinstance(value, float) else f"{scope} {value}")
    return "; 分别 also: " + ", ".join(parts)


def _blank(base: dict[str, Any], status: str, note: str) -> dict[str, Any]:
    """A row with no measured value (not checkable, no data): its status and why."""
    empty = {"method": "", "basis": "", "measured": np.nan, "gap": np.nan}
    return base | empty | {"status": status, "note": note}


def _verdict_row(t: Target, base: dict[str, Any], r: pd.Series) -> dict[str, Any]:
    val = r["value"]
    v = t.evaluate(None if (val is None or (isinstance(val, float) and math.isnan(val))) else val)
    bound = float(r.get("bound", np.nan))
    row = base | {
        "method": r["method"],
        "basis": r["basis"],
        "measured": np.nan if v.measured is None else v.measured,
        "status": v.status,
        "gap": np.nan if v.gap is None else v.gap,
        "note": r["note"],
        "bound": bound,
    }
    if v.status == Status.NO_DATA and math.isfinite(bound) and t.op in (">=", ">"):
        # the share is at most `bound`: below the target already, the target is failed
        at_most = t.evaluate(bound)
        if at_most.status == Status.FAIL:
            row |= {
                "status": Status.FAIL,
                "gap": at_most.gap,
                "note": f"at most {bound:.1%}, below the target whatever the missing data: "
                + str(r["note"]),
            }
    return row


def _fmt_target(value: object) -> str:
    """The target figure as text, every digit the sheet gives, never in exponent form."""
    if isinstance(value, tuple):
        return f"{value[0]:.15g}–{value[1]:.15g}"
    if isinstance(value, float | int):
        return f"{value:.15g}"
    return str(value)
