"""The scorecard workbook planners open: styled sheets in the sheet's language.

Numbers stay numbers (shares with a % format, others with their unit's), status, method and
basis are written in the chosen language, pass / fail / no-data rows are filled, the header row is
frozen with filters on, columns are sized. Sheets: scorecard, measures, not checkable, units (when
given), provenance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geoplan._atomic import atomic_path
from geoplan.names import Status, basis_label, method_label, status_label, unit_share_columns
from geoplan.outputs.formats import excel_text, excel_writer, finite_float, formulas_as_text

#: fill colour of each status (pass green, fail red, no data amber, not checkable grey)
STATUS_FILLS: dict[str, str] = {
    Status.PASS: "C6EFCE",
    Status.FAIL: "FFC7CE",
    Status.NO_DATA: "FFEB9C",
    Status.NOT_CHECKABLE: "EDEDED",
    Status.MEASURED: "DDEBF7",
}

_CARD_COLS: dict[str, tuple[str, str]] = {
    "target_id": ("目标编号", "Target"),
    "label_zh": ("指标名称", "Indicator (zh)"),
    "label_en": ("Indicator", "Indicator"),
    "method": ("方法", "Method"),
    "basis": ("口径", "Basis"),
    "measured": ("现状值", "Measured"),
    "bound": ("上限（数据不全）", "At most (data incomplete)"),
    "op": ("比较", "Op"),
    "target": ("目标值", "Target value"),
    "unit": ("单位", "Unit"),
    "status": ("结果", "Status"),
    "gap": ("差距", "Gap"),
    "scope": ("范围", "Scope"),
    "year": ("年份", "Year"),
    "clause": ("文件条款", "Clause"),
    "note": ("说明", "Note"),
}
_MEASURE_COLS: dict[str, tuple[str, str]] = {
    "indicator": ("指标", "Indicator"),
    "measure": ("测度", "Measure"),
    "label_zh": ("指标名称", "Indicator (zh)"),
    "label_en": ("Indicator", "Indicator"),
    "method": ("方法", "Method"),
    "basis": ("口径", "Basis"),
    "value": ("数值", "Value"),
    "unit": ("单位", "Unit"),
    "note": ("说明", "Note"),
}
_CHANGE_COLS: dict[str, tuple[str, str]] = {
    "target_id": ("目标编号", "Target"),
    "label_zh": ("指标名称", "Indicator (zh)"),
    "label_en": ("Indicator", "Indicator"),
    "method": ("方法", "Method"),
    "basis": ("口径", "Basis"),
    "op": ("比较", "Op"),
    "target": ("目标值", "Target value"),
    "unit": ("单位", "Unit"),
    "measured_baseline": ("现状", "Baseline"),
    "measured_plan": ("规划", "Plan"),
    "delta": ("变化", "Change"),
    "status_baseline": ("现状结果", "Status, baseline"),
    "status_plan": ("规划结果", "Status, plan"),
    "clause": ("文件条款", "Clause"),
    "note": ("说明", "Note"),
}
_CHANGE_MEASURE_COLS: dict[str, tuple[str, str]] = {
    "indicator": ("指标", "Indicator"),
    "measure": ("测度", "Measure"),
    "label_zh": ("指标名称", "Indicator (zh)"),
    "label_en": ("Indicator", "Indicator"),
    "method": ("方法", "Method"),
    "basis": ("口径", "Basis"),
    "value_baseline": ("现状", "Baseline"),
    "value_plan": ("规划", "Plan"),
    "delta": ("变化", "Change"),
    "unit": ("单位", "Unit"),
    "note": ("说明", "Note"),
}
_GAP_COLS: dict[str, tuple[str, str]] = {
    "measure": ("测度", "Measure"),
    "basis": ("口径", "Basis"),
    "cause": ("原因代码", "Cause"),
    "label_zh": ("原因", "Cause (zh)"),
    "label_en": ("Cause", "Cause"),
    "gap_pp": ("覆盖差（百分点）", "Gap (pp)"),
    "share_of_gap": ("占覆盖差比例（%）", "Share of the gap (%)"),
    "count": ("住宅点/网格数", "Homes or grid cells"),
}
_SHEETS = {
    "scorecard": ("记分卡", "Scorecard"),
    "measures": ("全部指标", "Measures"),
    "gap_causes": ("覆盖差原因", "Gap causes"),
    "not_checkable": ("不可核查", "Not checkable"),
    "units": ("分单元", "Units"),
    "provenance": ("数据来源", "Provenance"),
}


def number_format(unit: object) -> str:
    """Excel number format of a unit: shares as %, counts as integers, others 2 decimals.

    Parameters
    ----------
    unit
        A measure's unit (``share``, ``count``, ``km/km2`` …).

    Returns
    -------
    str
        Excel number format.
    """
    u = str(unit or "")
    if u == "share":
        return "0.0%"
    if u == "count":
        return "0"
    shown = u.replace("km2", "km²").replace("m2", "m²")
    return f'0.00" {shown}"' if shown else "0.00"


def _frame(df: pd.DataFrame, cols: Mapping[str, tuple[str, str]], lang: str) -> pd.DataFrame:
    i = 0 if lang == "zh" else 1
    out = pd.DataFrame({cols[c][i]: df[c] for c in cols if c in df.columns})
    m, b = cols.get("method", ("", ""))[i], cols["basis"][i]
    s = cols.get("status", ("", ""))[i]
    if m in out:
        out[m] = [method_label(v, "zh" if lang == "zh" else "en") for v in df["method"]]
    if b in out:
        out[b] = [basis_label(v, "zh" if lang == "zh" else "en") for v in df["basis"]]
    if s and s in out:
        out[s] = [status_label(v, "zh" if lang == "zh" else "en") for v in df["status"]]
    for c in ("status_baseline", "status_plan"):
        if c in cols and cols[c][i] in out:
            out[cols[c][i]] = [status_label(v, "zh" if lang == "zh" else "en") for v in df[c]]
    numeric: tuple[str, ...] = ("measured", "bound", "target", "gap", "value")
    numeric += ("measured_baseline", "measured_plan", "delta", "value_baseline", "value_plan")
    for c in numeric:
        if c in cols and cols[c][i] in out:
            nums = [finite_float(v) for v in df[c]]
            if c == "target":  # keep a text target ('13.14万亩') as text
                out[cols[c][i]] = [
                    n if n is not None else v for n, v in zip(nums, df[c], strict=True)
                ]
            else:
                out[cols[c][i]] = nums
    return out


def _style(
    ws: Any,
    df: pd.DataFrame,
    units: Sequence[object],
    num_cols: Sequence[str],
    statuses: Sequence[object] | None,
) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions
    for j, col in enumerate(df.columns, start=1):
        letter = get_column_letter(j)
        ws[f"{letter}1"].font = Font(bold=True)
        ws[f"{letter}1"].alignment = Alignment(wrap_text=True, vertical="top")
        width = max([len(str(col))] + [len(str(v)) for v in df[col].head(200)])
        ws.column_dimensions[letter].width = min(48, max(9, width + 2))
        if col in num_cols:
            for r, unit in enumerate(units, start=2):
                ws.cell(row=r, column=j).number_format = number_format(unit)
    if statuses is not None:
        for r, st in enumerate(statuses, start=2):
            fill = STATUS_FILLS.get(str(st))
            if fill:
                for j in range(1, len(df.columns) + 1):
                    ws.cell(row=r, column=j).fill = PatternFill("solid", fgColor=fill)


def write_comparison_workbook(
    path: Path,
    *,
    scorecard: pd.DataFrame,
    measures: pd.DataFrame,
    extra: Sequence[tuple[str, pd.DataFrame]] = (),
    lang: str = "zh",
) -> Path:
    """A scenario's comparison workbook, styled as the check's (one writer of the styling).

    Parameters
    ----------
    path
        The .xlsx to write (atomically).
    scorecard, measures
        Baseline vs plan (:class:`~geoplan.ScenarioResult` ``scorecard`` and ``measures``).
    extra
        Further sheets as they are (units, homes, added, removed).
    lang
        Headers and labels: ``zh`` or ``en``.

    Returns
    -------
    Path
        ``path``.
    """
    i = 0 if lang == "zh" else 1
    card = _frame(scorecard, _CHANGE_COLS, lang)
    meas = _frame(measures, _CHANGE_MEASURE_COLS, lang)
    names = (("规划对比", "Baseline vs plan"), ("全部指标", "Measures"))
    nums_card = [_CHANGE_COLS[c][i] for c in ("measured_baseline", "measured_plan", "delta")]
    nums_meas = [_CHANGE_MEASURE_COLS[c][i] for c in ("value_baseline", "value_plan", "delta")]
    with atomic_path(path) as tmp, excel_writer(tmp) as xw:
        for name, df, units, nums, statuses in (
            (names[0][i], card, list(scorecard["unit"]), nums_card, list(scorecard["status_plan"])),
            (names[1][i], meas, list(measures["unit"]), nums_meas, None),
        ):
            excel_text(df).to_excel(xw, sheet_name=name, index=False)
            formulas_as_text(xw.book[name])
            _style(xw.book[name], df, units, nums, statuses)
        for name, df in extra:
            excel_text(df).to_excel(xw, sheet_name=name, index=False)
            formulas_as_text(xw.book[name])
            _style(xw.book[name], df, [], [], None)
    return path


def write_workbook(
    path: Path,
    *,
    scorecard: pd.DataFrame,
    measures: pd.DataFrame,
    lang: str = "zh",
    units: pd.DataFrame | None = None,
    provenance: Sequence[tuple[str, str]] = (),
    gap_causes: pd.DataFrame | None = None,
) -> Path:
    """Write the styled workbook atomically (see the module docstring); returns ``path``.

    ``gap_causes``: why walking falls short of the buffer
    (:func:`geoplan.indicators.gaps.gap_table`), one more sheet.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write.
    scorecard
        The scorecard table.
    measures
        Every measured row.
    lang
        ``zh`` or ``en`` (headers, sheet names).
    units
        The per-unit table, or ``None``.
    provenance
        ``(key, value)`` rows of the provenance record.
    gap_causes
        The gap-cause table, or ``None``.

    Returns
    -------
    Path
        ``path``.
    """
    i = 0 if lang == "zh" else 1
    card = _frame(scorecard, _CARD_COLS, lang)
    meas = _frame(measures, _MEASURE_COLS, lang)
    nc_mask = scorecard["status"].astype(str) == Status.NOT_CHECKABLE
    with atomic_path(path) as tmp, excel_writer(tmp) as xw:
        sheets: list[tuple[str, pd.DataFrame, Sequence[object], list[str], Any]] = [
            (
                _SHEETS["scorecard"][i],
                card,
                list(scorecard["unit"]),
                [_CARD_COLS[c][i] for c in ("measured", "bound", "target", "gap")],
                list(scorecard["status"]),
            ),
            (
                _SHEETS["measures"][i],
                meas,
                list(measures["unit"]),
                [_MEASURE_COLS["value"][i]],
                None,
            ),
            (
                _SHEETS["not_checkable"][i],
                card.loc[nc_mask.to_numpy()].reset_index(drop=True),
                list(scorecard.loc[nc_mask, "unit"]),
                [],
                None,
            ),
        ]
        if gap_causes is not None and len(gap_causes):
            gaps = _frame(gap_causes, _GAP_COLS, lang)
            sheets.append(
                (
                    _SHEETS["gap_causes"][i],
                    gaps,
                    ["pp"] * len(gaps),
                    [_GAP_COLS["gap_pp"][i]],
                    None,
                )
            )
        if units is not None:
            share_cols = unit_share_columns(units.columns)
            sheets.append((_SHEETS["units"][i], units, ["share"] * len(units), share_cols, None))
        prov = pd.DataFrame(provenance, columns=["项目 item", "内容 value"])
        sheets.append((_SHEETS["provenance"][i], prov, [], [], None))
        for name, df, unit_list, num_cols, statuses in sheets:
            excel_text(df).to_excel(xw, sheet_name=name, index=False)
            ws = xw.book[name]
            formulas_as_text(ws)  # names are data, never formulas
            if num_cols and name == _SHEETS["units"][i]:
                # one format for all share columns of the unit table
                _style(ws, df, ["share"] * len(df), num_cols, None)
            else:
                _style(ws, df, unit_list, num_cols, statuses)
    return path
