"""A 城市体检 chapter of a check, as a Word document and a PDF with the same content.

The chapter (:mod:`~geoplan.outputs.report.content`): 一、总体情况 with the summary table of every
target (现状 / 目标 / 评估 / 差距 in 个百分点); 二、未达标指标, each with its clause, both methods'
figures and a map (legend, scale bar, north arrow, data date); 三、分单元评估 with a choropleth
and the 问题清单 (units worst first, the targets each misses) when units are given; 四、数据与说明:
every input with its date, the caveats and no-data reasons with their fix, the targets a map
cannot check, the method and "© OpenStreetMap contributors". ``lang="en"`` writes it in English.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd

from geoplan._atomic import atomic_path
from geoplan._errors import OutputError
from geoplan._version import __version__
from geoplan.city import City
from geoplan.names import Method, Status, method_label, unit_share_columns
from geoplan.outputs.formats import finite_float, format_target
from geoplan.outputs.report.content import (
    MAX_MAPS,
    Chapter,
    Figure,
    Heading,
    Para,
    TableBlock,
    data_rows,
    failing,
    gap_cause_words,
    gap_words,
    no_data_rows,
    problem_list,
    sources_text,
    summary_rows,
    value_words,
)

__all__ = ["cjk_font", "write_report"]


def cjk_font(prefer: tuple[str, ...] = ("Noto Sans CJK SC",)) -> str | None:
    """A font with Chinese glyphs known to matplotlib (``prefer`` first), or None.

    Parameters
    ----------
    prefer
        Font family names to try first.

    Returns
    -------
    str or None
    """
    from matplotlib import font_manager

    names = [f.name for f in font_manager.fontManager.ttflist]
    for pref in (*prefer, "Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "SimHei"):
        if pref in names:
            return pref
    cjk = [n for n in names if "CJK" in n]
    return cjk[0] if cjk else None


def _covers(result: Any, measure: str) -> dict[str, Any]:
    """The coverage areas of ``measure`` by method (from the check's coverage layers)."""
    out: dict[str, Any] = {}
    for key, layer in result.coverage_layers.items():
        if layer.measure == measure and layer.method in (Method.BUFFER, Method.NETWORK):
            g = result.coverage.get(key)
            if g is not None and not g.is_empty:
                out[str(layer.method)] = g
    return out


def _measure(t: Any, sheet: Any) -> str | None:
    from geoplan.rules.life_circles import load_life_circles
    from geoplan.scoring.scorecard import circle_measure, measure_of

    if t.indicator == "circle":
        return circle_measure(t, load_life_circles())[0]
    return measure_of(t, sheet)


def _failing_section(
    ch: Chapter, city: City, result: Any, folder: Path, stem: str, data_date: str
) -> list[Path]:
    from geoplan.outputs.report.maps import coverage_map

    lang, zh = ch.lang, ch.lang == "zh"
    sheet = result.sheet
    groups = failing(result.scorecard)
    ch.add(Heading(1, "未达标指标" if zh else "Targets not met"))
    if not groups:
        ch.add(Para("本次核查无未达标指标。" if zh else "No target is failed."))
        return []
    pngs: list[Path] = []
    for k, g in enumerate(groups):
        first = g.iloc[0]
        label = str(first["label_zh"] if zh else first["label_en"])
        ch.add(Heading(2, label))
        ch.add(Para(f"{'条款' if zh else 'Clause'}：{first['clause']}"))
        parts = []
        for _, r in g.iterrows():
            unit = str(r["unit"])
            m = method_label(r["method"], "zh" if zh else "en") if r["method"] else ""
            v = value_words(r["measured"], r.get("bound"), unit, lang)
            target = format_target(r["op"], r["target"], unit, lang=lang)
            gap = gap_words(finite_float(r["gap"]), unit, lang)
            parts.append(
                f"按{m}，现状为{v}，目标{target}，{gap}"
                if zh
                else f"by {m}: {v} against {target}, {gap}"
            )
        ch.add(Para(("；".join(parts) + "。") if zh else ("; ".join(parts) + ".")))
        t = sheet.get(str(first["target_id"]))
        measure = _measure(t, sheet) if t.checkable else None
        why = gap_cause_words(
            getattr(result, "gap_causes", None), str(measure), str(first["basis"]), lang
        )
        if measure and why:
            ch.add(Para(why))
        covers = _covers(result, measure) if measure else {}
        if covers and k < MAX_MAPS:
            png = folder / f"{stem}_report_fig{len(pngs) + 1}.png"
            title = f"{label}：{'服务半径与步行可达覆盖' if zh else 'buffer and walking coverage'}"
            made = coverage_map(city, result, covers, title, png, lang=lang, data_date=data_date)
            if made is not None:
                pngs.append(made)
                ch.add(Figure(made, title))
    if len(groups) > MAX_MAPS:
        rest = "、".join(str(g.iloc[0]["label_zh"]) for g in groups[MAX_MAPS:])
        ch.add(Para((f"其余未达标指标（未附图）：{rest}。") if zh else f"Also failed: {rest}."))
    return pngs


def _units_section(
    ch: Chapter, result: Any, units: gpd.GeoDataFrame | None, folder: Path, stem: str, date: str
) -> list[Path]:
    from geoplan.outputs.report.maps import unit_map

    zh = ch.lang == "zh"
    if units is None or not len(units):
        return []
    ch.add(Heading(1, "分单元评估" if zh else "Units"))
    pngs = []
    for i, col in enumerate(unit_share_columns(units.columns, (Method.BUFFER,))[:4]):
        png = folder / f"{stem}_report_units{i + 1}.png"
        layer = result.coverage_layers.get(col)
        name = (layer.label_zh if zh else layer.label_en) if layer is not None else col
        method = method_label(Method.BUFFER, "zh" if zh else "en")
        title = f"各单元{name}（{method}，居住用地）" if zh else f"{name} by unit ({method})"
        pngs.append(unit_map(units, col, title, png, lang=ch.lang, data_date=date))
        ch.add(Figure(png, title))
    problems = problem_list(units, result.scorecard, result.sheet, ch.lang)
    if problems:
        ch.add(Heading(2, "问题清单" if zh else "Problem list"))
        ch.add(
            TableBlock(
                "各单元未达标指标（按未达标项数排序）" if zh else "Targets each unit misses",
                ["单元", "未达标项数", "未达标指标（现状）"]
                if zh
                else ["Unit", "Missed", "Targets"],
                problems,
                (1.6, 1.0, 5.4),
            )
        )
    return pngs


def _data_section(
    ch: Chapter, city: City, result: Any, provenance: Mapping[str, Any] | None
) -> None:
    """四、数据与说明: the inputs and their dates, no-data reasons, what a map cannot check.

    Also the caveats of the figures known only as upper bounds, and the method.
    """
    lang, zh = ch.lang, ch.lang == "zh"
    card = result.scorecard
    st = card["status"].astype(str)
    ch.add(Heading(1, "数据与说明" if zh else "Data and notes"))
    ch.add(
        TableBlock(
            "数据来源" if zh else "Data",
            ["数据", "文件或文号", "日期"] if zh else ["Data", "File or document", "Date"],
            data_rows(city, result, provenance, lang),
            (1.6, 4.4, 1.4),
        )
    )
    gaps = no_data_rows(card, lang)
    if gaps:
        ch.add(Heading(2, "无数据与数据局限" if zh else "No data and data limits"))
        ch.add(
            TableBlock(
                "无数据或仅知上限的指标：原因与补充方法" if zh else "Why a figure is missing",
                ["指标", "原因与补充方法"] if zh else ["Indicator", "Why, and the fix"],
                gaps,
                (2.0, 6.0),
            )
        )
    nc = card.loc[st == Status.NOT_CHECKABLE]
    if len(nc):
        ch.add(Heading(2, "不可由地图数据核查的目标" if zh else "Targets a map cannot check"))
        rows = [
            [
                str(r["label_zh"] if zh else r["label_en"]),
                format_target(r["op"], r["target"], str(r["unit"]), lang=lang),
                str(r.get("scope") or "—"),
                str(r.get("year") or ""),
                str(r["note"] or ""),
            ]
            for _, r in nc.iterrows()
        ]
        ch.add(
            TableBlock(
                "需由统计或台账核查的目标" if zh else "Targets for statistics or registers",
                ["目标", "值", "范围", "年份", "说明"]
                if zh
                else ["Target", "Value", "Scope", "Year", "Note"],
                rows,
                (2.2, 1.2, 1.6, 0.7, 3.3),
            )
        )
    ch.add(Heading(2, "方法" if zh else "Method"))
    for text in sources_text(city, result, lang):
        ch.add(Para(text, small=True))


def write_report(
    city: City,
    result: Any,
    folder: Path,
    *,
    lang: str = "zh",
    units: gpd.GeoDataFrame | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``<stem>_report.docx`` and ``<stem>_report.pdf`` into ``folder``.

    Parameters
    ----------
    city
        The checked city (metric CRS).
    result
        Its :class:`~geoplan.CheckResult`.
    folder
        Output folder (a staging folder of an output set).
    lang
        ``zh`` or ``en``.
    units
        The per-unit table (shares per unit), for the choropleth and the 问题清单.
    provenance
        The check's provenance record (input files, OSM data date).

    Returns
    -------
    dict of str to Path
        ``report_docx``, ``report_pdf``, ``report_map`` (the first figure) and the figures.
    """
    import matplotlib

    matplotlib.use("Agg")
    zh = lang == "zh"
    sans = cjk_font(("Noto Sans CJK SC",))
    serif = cjk_font(("Noto Serif CJK SC",))
    if sans is None or serif is None:
        if zh:
            raise OutputError(
                "the Chinese report needs a CJK font (e.g. apt-get install fonts-noto-cjk); or "
                "use --lang en"
            )
        sans = serif = "DejaVu Sans"
    # unit and place names may be Chinese in an English report too: the CJK face draws them
    with matplotlib.rc_context({"font.family": [sans, "DejaVu Sans"]}):  # not left set
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{result.city_name}_{result.sheet.id}"
        sheet = result.sheet
        sheet_name = sheet.name_zh if zh else (sheet.name_en or sheet.id)
        card = result.scorecard
        st = card["status"].astype(str)
        n = {k: int((st == k).sum()) for k in Status}
        data_date = str(dict(provenance or {}).get("osm_data_timestamp") or "")[:10] or "—"
        title = (
            f"{result.city_name}城市体检：对照《{sheet_name}》"
            if zh
            else f"City check of {result.city_name} against {sheet_name}"
        )
        today = dt.date.today().isoformat()
        subtitle = (
            f"geoplan {__version__} · {today} · OpenStreetMap 数据日期 {data_date}"
            if zh
            else f"geoplan {__version__} · {today} · OpenStreetMap data of {data_date}"
        )
        ch = Chapter(title, subtitle, lang=lang)
        ch.add(Heading(1, "总体情况" if zh else "Summary"))
        checked = n[Status.PASS] + n[Status.FAIL] + n[Status.NO_DATA] + n[Status.MEASURED]
        ch.add(
            Para(
                f"对照《{sheet_name}》，可由地图数据核查的 {checked} 项结果中，"
                f"达标 {n[Status.PASS]} 项、未达标 {n[Status.FAIL]} 项、无数据 {n[Status.NO_DATA]} "
                f"项{_measured_zh(n[Status.MEASURED])}；另有 {n[Status.NOT_CHECKABLE]} "
                "项目标无法用地图数据核查（见表末）。"
                "各项按服务半径（缓冲区）与步行网络两种方法测算，差距以个百分点计。"
                if zh
                else f"Of {checked} results checkable from map data against {sheet_name}: "
                f"{n[Status.PASS]} pass, {n[Status.FAIL]} fail, {n[Status.NO_DATA]} no data"
                f"{_measured_en(n[Status.MEASURED])}; "
                f"{n[Status.NOT_CHECKABLE]} targets cannot be checked from map data. Each is "
                "measured by straight-line service radius (buffer) and by walking distance."
            )
        )
        ch.add(
            TableBlock(
                "指标评估汇总" if zh else "All targets",
                ["序号", "指标", "方法", "现状", "目标", "评估", "差距"]
                if zh
                else ["No.", "Indicator", "Method", "Measured", "Target", "Status", "Gap"],
                summary_rows(card, lang),
                (0.55, 3.0, 1.25, 1.3, 1.45, 0.9, 2.0),
                status_col=5,
            )
        )
        pngs = _failing_section(ch, city, result, folder, stem, data_date)
        pngs += _units_section(ch, result, units, folder, stem, data_date)
        _data_section(ch, city, result, provenance)

        from geoplan.outputs.report.docx_writer import write_docx
        from geoplan.outputs.report.pdf_writer import write_pdf

        docx_path = folder / f"{stem}_report.docx"
        with atomic_path(docx_path) as tmp:
            write_docx(ch, tmp, serif=serif, sans=sans)
        pdf_path = folder / f"{stem}_report.pdf"
        with atomic_path(pdf_path) as tmp:
            write_pdf(ch, tmp, serif=serif, sans=sans)
        out = {"report_docx": docx_path, "report_pdf": pdf_path}
        for i, p in enumerate(pngs):
            out["report_map" if i == 0 else f"report_fig{i + 1}"] = p
        return out


def _measured_zh(n: int) -> str:
    """``、仅监测 2 项（文件未给目标值）`` when rows are measured without a target figure."""
    return f"、仅监测 {n} 项（文件未给目标值）" if n else ""


def _measured_en(n: int) -> str:
    """``, 2 measured with no target figure`` when rows have no figure to meet."""
    return f", {n} measured with no target figure" if n else ""
