"""Maps drawn from real pipeline output: a check's map and its scorecard panel rows.

Everything shown comes from :class:`~geoplan.scoring.check.CheckResult` in the vocabulary of
:mod:`geoplan.names`: coverage areas with their :class:`~geoplan.names.CoverageLayer` labels, the
homes' own flag columns, statuses as :class:`~geoplan.names.Status`. Nothing is renamed.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from geoplan.city import City
from geoplan.names import MAP_MEASURES, Lang, Method, Status, coverage_key, method_label
from geoplan.outputs.formats import format_measured, format_target, format_value
from geoplan.outputs.map_style import GeoplanMap
from geoplan.scoring.check import CheckResult


def _label_with_method(label: str, method: object, lang: Lang) -> str:
    m = method_label(method, lang) if isinstance(method, str) and method else ""
    if not m:
        return label
    return f"{label}（{m}）" if lang == "zh" else f"{label} ({m})"


def _fmt_target(op: object, target: object, unit: str) -> str:
    return format_target(op, target, unit)


def _fmt_gap(gap: object, unit: str) -> str:
    if gap is None or pd.isna(gap):  # type: ignore[call-overload]
        return ""
    g = float(gap)  # type: ignore[arg-type]
    return f"{100 * g:+.1f} pt" if unit == "share" else f"{g:+.2f}"


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def scorecard_rows(card: pd.DataFrame, *, lang: Lang = "zh") -> pd.DataFrame:
    """Checkable scorecard rows for the map panel: method in the label, values formatted.

    Parameters
    ----------
    card
        ``CheckResult.scorecard``.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    DataFrame
        ``indicator``, ``label_zh``, ``label_en`` (with the method), ``measured``, ``target``,
        ``gap`` (formatted text) and ``status`` (:class:`~geoplan.names.Status` values).
    """
    rows = card.loc[card["status"] != Status.NOT_CHECKABLE].copy()
    for col, lg in (("label_zh", "zh"), ("label_en", "en")):
        rows[col] = [
            _label_with_method(str(lab), m, lg)  # type: ignore[arg-type]
            for lab, m in zip(rows[col], rows["method"], strict=True)
        ]
    bounds = rows["bound"] if "bound" in rows else pd.Series(float("nan"), index=rows.index)
    rows["measured"] = [
        format_measured(v, b, str(u))
        for v, b, u in zip(rows["measured"], bounds, rows["unit"], strict=True)
    ]
    rows["target"] = [
        _fmt_target(op, t, str(u))
        for op, t, u in zip(rows["op"], rows["target"], rows["unit"], strict=True)
    ]
    rows["gap"] = [_fmt_gap(g, str(u)) for g, u in zip(rows["gap"], rows["unit"], strict=True)]
    return rows


def change_rows(card: pd.DataFrame, *, lang: Lang = "zh") -> pd.DataFrame:
    """A scenario's scorecard for the change-map panel: baseline → plan.

    Parameters
    ----------
    card
        ``ScenarioResult.scorecard`` (``measured_baseline``, ``measured_plan``, ``delta``,
        ``status_baseline``, ``status_plan`` …).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    DataFrame
        ``label_zh``, ``label_en`` (with the method), ``baseline``, ``plan``, ``delta``,
        ``target`` (formatted: shares in %), ``status_baseline``, ``status_plan``.
    """
    rows = card.loc[card["status_plan"] != Status.NOT_CHECKABLE].copy()
    for col, lg in (("label_zh", "zh"), ("label_en", "en")):
        rows[col] = [
            _label_with_method(str(lab), m, lg)  # type: ignore[arg-type]
            for lab, m in zip(rows[col], rows["method"], strict=True)
        ]
    units = [str(u) for u in rows["unit"]]
    rows["baseline"] = [
        format_value(_num(v), u) for v, u in zip(rows["measured_baseline"], units, strict=True)
    ]
    rows["plan"] = [
        format_value(_num(v), u) for v, u in zip(rows["measured_plan"], units, strict=True)
    ]
    rows["delta"] = [_fmt_gap(d, u) for d, u in zip(rows["delta"], units, strict=True)]
    rows["target"] = [
        _fmt_target(op, t, u) for op, t, u in zip(rows["op"], rows["target"], units, strict=True)
    ]
    return rows


def map_coverage_keys(result: CheckResult) -> list[str]:
    """Coverage keys a check map draws, both methods.

    :data:`geoplan.names.MAP_MEASURES`, then the measure of every coverage row of the check's
    scorecard (its life circles and themed circles), so each coverage figure a reviewer reads
    has its area on the map.

    Parameters
    ----------
    result
        The check.

    Returns
    -------
    list of str
        Keys of ``result.coverage``.
    """
    from geoplan.rules.life_circles import load_life_circles
    from geoplan.scoring.scorecard import circle_measure, measure_of

    methods = (Method.BUFFER, Method.NETWORK)
    keys = [coverage_key(m, meth) for m in MAP_MEASURES for meth in methods]
    sheet, lc = result.sheet, load_life_circles()
    scored = set()
    for t in sheet.checkable:
        if t.unit != "share" or t.indicator is None:
            continue
        try:
            m = circle_measure(t, lc)[0] if t.indicator == "circle" else measure_of(t, sheet)
        except KeyError:  # a circle the bundled definitions do not hold
            continue
        if m is not None:
            scored.add(m)
    for key, layer in result.coverage_layers.items():
        if layer.measure in scored and key not in keys:
            keys.append(key)
    return [k for k in keys if k in result.coverage]


def check_map(city: City, result: CheckResult, *, lang: Lang = "zh", **kwargs: Any) -> GeoplanMap:
    """The map of a check: coverage (labelled), gaps, homes by completeness, the scorecard.

    Parameters
    ----------
    city
        The city that was checked (metric CRS).
    result
        Its :class:`~geoplan.scoring.check.CheckResult`.
    lang
        ``"zh"`` or ``"en"``.
    **kwargs
        Passed to :func:`geoplan.outputs.webmap.build_map` (basemap, max_features …).

    Returns
    -------
    GeoplanMap
    """
    import datetime as dt

    from geoplan.indicators.gap_tables import gap_homes
    from geoplan.names import GAP_MEASURES
    from geoplan.outputs.webmap import build_map

    keys = map_coverage_keys(result)
    sheet = result.sheet
    zh = lang == "zh"
    sub = [
        (f"目标：{sheet.name_zh}（{sheet.id}）" if zh else f"Targets: {sheet.name_en or sheet.id}"),
        (f"核查日期 {dt.date.today().isoformat()}" if zh else f"Checked {dt.date.today()}"),
        ("数据：OpenStreetMap；" if zh else "Data: OpenStreetMap; ")
        + (sheet.source.doc_no or sheet.source.title),
    ]
    kwargs.setdefault("subtitle", sub)
    kwargs.setdefault("title", f"{city.name} · {'城市体检' if zh else 'city check'}")
    return build_map(
        city,
        homes=result.homes,
        coverage={k: result.coverage[k] for k in keys},
        coverage_layers=result.coverage_layers,
        gaps=result.gaps,
        gap_homes=gap_homes(result.homes, GAP_MEASURES),
        gap_labels={
            lay.measure: lay.label_zh if zh else lay.label_en
            for lay in result.coverage_layers.values()
        },
        scorecard=scorecard_rows(result.scorecard, lang=lang),
        lang=lang,
        **kwargs,
    )
