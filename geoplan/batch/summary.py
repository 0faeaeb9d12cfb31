"""The combined outputs of a batch: one table of every place and an overview map."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import folium
import pandas as pd
import shapely

from geoplan.outputs.formats import (
    ATTRIBUTION,
    csv_safe,
    excel_text,
    excel_writer,
    formulas_as_text,
)
from geoplan.outputs.map_style import GeoplanMap, esc
from geoplan.outputs.webmap import save_map

_BASE = [
    "rank",
    "name",
    "status",
    "error",
    "targets",
    "pass",
    "fail",
    "no_data",
    "not_checkable",
    "measured_only",
    "pass_rate",
    "area_km2",
    "data_share",
    "homes",
    "seconds",
]

HEADERS_ZH = {
    "rank": "排名 rank",
    "name": "地区 place",
    "status": "状态 status",
    "data_share": "数据覆盖 data coverage",
    "error": "错误 error",
    "targets": "目标表 targets",
    "pass": "达标 pass",
    "fail": "未达标 fail",
    "no_data": "无数据 no data",
    "not_checkable": "不可核查 not checkable",
    "measured_only": "仅监测 measured, no figure",
    "pass_rate": "达标率 pass rate",
    "area_km2": "面积 km²",
    "homes": "住宅点 homes",
    "seconds": "用时 s",
}


def summary_table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per place: counts, pass rate and rank, then every measured figure.

    Places are ranked by pass rate (passes ÷ checked targets), ties by name; failed places have
    no rank. Figure columns are ``<target id>|<method>`` (shares 0–1, as in the scorecards).

    Parameters
    ----------
    rows
        The places' summary rows.

    Returns
    -------
    DataFrame
    """
    df = pd.DataFrame(
        [
            {k: v for k, v in r.items() if k not in ("measured", "boundary_wkt", "hash", "notes")}
            for r in rows
        ]
    )
    for c in _BASE:
        if c not in df.columns:
            df[c] = None
    ok = df["status"] != "failed"
    order = df.loc[ok].sort_values(
        ["pass_rate", "name"], ascending=[False, True], na_position="last"
    )
    df["rank"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df.loc[order.index, "rank"] = range(1, len(order) + 1)
    figs = pd.DataFrame([r.get("measured", {}) for r in rows])
    df = pd.concat([df[_BASE], figs], axis=1)
    return df


def write_summary(df: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """``summary.csv`` and a styled ``summary.xlsx`` (bilingual headers, %, frozen header).

    Parameters
    ----------
    df
        The summary table.
    folder
        Output folder.

    Returns
    -------
    dict of str to Path
        ``summary_csv`` and ``summary_xlsx``.
    """
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    out = {"summary_csv": folder / "summary.csv", "summary_xlsx": folder / "summary.xlsx"}
    csv_safe(df).to_csv(out["summary_csv"], index=False, encoding="utf-8-sig")
    shown = df.rename(columns=HEADERS_ZH)
    with excel_writer(out["summary_xlsx"]) as xw:
        excel_text(shown).to_excel(xw, sheet_name="summary", index=False)
        ws = xw.sheets["summary"]
        formulas_as_text(ws)
        ws.freeze_panes = "C2"
        ws.auto_filter.ref = ws.dimensions
        for j, col in enumerate(shown.columns, start=1):
            letter = get_column_letter(j)
            ws.column_dimensions[letter].width = max(10, min(40, len(str(col)) + 2))
            ws[f"{letter}1"].font = Font(bold=True)
            share = col in (HEADERS_ZH["pass_rate"], HEADERS_ZH["data_share"]) or "|" in str(col)
            for cell in ws[letter][1:]:
                if share and isinstance(cell.value, int | float):
                    cell.number_format = "0.0%"
        status_col = list(shown.columns).index(HEADERS_ZH["status"]) + 1
        fills = {"failed": "F8D7DA", "ok": "D4EDDA", "skipped": "E2E3E5", "partial data": "FFEB9C"}
        for row in ws.iter_rows(min_row=2, min_col=status_col, max_col=status_col):
            for cell in row:
                if cell.value in fills:
                    cell.fill = PatternFill("solid", fgColor=fills[cell.value])
    return out


def _colour(rate: float | None) -> str:
    """Pass rate 0 → red, 1 → green (a 5-step ramp); grey when nothing was checked."""
    if rate is None or (isinstance(rate, float) and math.isnan(rate)):
        return "#9e9e9e"
    return RAMP[min(4, int(rate * 5))]


RAMP = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")


def _style(colour: str) -> Callable[[Any], dict[str, Any]]:
    return lambda _f: {"color": "#333", "weight": 1, "fillColor": colour, "fillOpacity": 0.6}


def overview_map(rows: Sequence[dict[str, Any]], path: Path, *, title: str) -> Path:
    """An offline map of every place coloured by pass rate (legend, escaped labels, ODbL).

    Parameters
    ----------
    rows
        The places' summary rows (with ``boundary_wkt``).
    path
        The HTML file to write.
    title
        Map title.

    Returns
    -------
    Path
        ``path``.
    """
    shapes = [(r, shapely.from_wkt(r["boundary_wkt"])) for r in rows if r.get("boundary_wkt")]
    m = GeoplanMap(tiles=None, control_scale=False, metric_scale=True, osm_credit=True)
    if shapes:
        b = shapely.union_all([s for _, s in shapes]).bounds
        m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    for r, g in shapes:
        rate = r.get("pass_rate")
        label = (
            f"{esc(r['name'])}: {esc(r.get('pass', 0))} 达标 pass / "
            f"{esc(r.get('fail', 0))} 未达标 fail"
        ) + (f" ({rate:.0%})" if rate is not None else "")
        folium.GeoJson(
            shapely.geometry.mapping(g),
            style_function=_style(_colour(rate)),
            tooltip=label,
            name=esc(r["name"]),
        ).add_to(m)
        # each place labelled on the map with its name and pass rate (not only on hover)
        c = g.representative_point()
        tag = esc(r["name"]) + (f" {rate:.0%}" if rate is not None else "")
        folium.Marker(
            [c.y, c.x],
            icon=folium.DivIcon(
                html=f'<div class="geoplan-place" style="font:bold 12px sans-serif;'
                f'white-space:nowrap;text-shadow:0 0 3px #fff">{tag}</div>'
            ),
        ).add_to(m)
    failed = [r for r in rows if r.get("status") == "failed"]
    legend = "".join(
        f'<div><span style="background:{c};width:14px;height:10px;display:inline-block">'
        f"</span> {20 * k}–{20 * k + 20}%</div>"
        for k, c in enumerate(RAMP)
    )
    fail_html = "".join(f"<div>✘ {esc(r['name'])}: {esc(r['error'])}</div>" for r in failed)
    box = (
        '<div style="position:fixed;top:10px;left:50px;z-index:9999;background:white;padding:8px;'
        'border:1px solid #999;font:13px sans-serif;max-width:360px">'
        f"<b>{esc(title)}</b><br>达标率 pass rate{legend}{fail_html}"
        f'<div style="color:#666;margin-top:4px">{esc(ATTRIBUTION)}</div></div>'
    )
    root: Any = m.get_root()
    root.html.add_child(folium.Element(box))
    return save_map(m, path)
