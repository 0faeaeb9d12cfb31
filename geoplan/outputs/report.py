"""A 城市体检 chapter of a check: a Word document (python-docx) and a PDF (matplotlib).

Both hold the same content: the summary of passes and failures, a table per target with the
buffer and network figures and the gap, static maps drawn offline (matplotlib, a CJK font, no
tiles), the per-unit ranking when units are given, and a method note (definitions, standards, data
sources, "© OpenStreetMap contributors"). ``lang="en"`` writes an English version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplan._atomic import atomic_path
from geoplan._errors import OutputError
from geoplan._version import __version__
from geoplan.city import City
from geoplan.names import (
    Method,
    Status,
    basis_label,
    bus_measure,
    coverage_key,
    method_label,
    status_label,
    unit_share_columns,
)
from geoplan.outputs.formats import (
    ATTRIBUTION,
    finite_float,
    format_measured,
    format_target,
    format_value,
)

_T = {
    "title": ("城市体检：{city} · {sheet}", "City check: {city} · {sheet}"),
    "date": ("生成日期 {d}（geoplan {v}）", "Generated {d} (geoplan {v})"),
    "s1": ("一、总体情况", "1. Summary"),
    "summary": (
        "对照《{sheet}》可核查的 {n} 项指标结果中，达标 {p} 项、未达标 {f} 项、无数据 {nd} 项；"
        "另有 {nc} 项目标无法用地图数据核查。",
        "Of {n} checkable results against {sheet}: {p} pass, {f} fail, {nd} no data; "
        "{nc} targets cannot be checked from map data.",
    ),
    "fails": ("未达标指标", "Targets not met"),
    "s2": ("二、分项指标", "2. Indicators"),
    "s3": ("三、空间分布", "3. Maps"),
    "map_cap": (
        "公交站点500米覆盖：左为服务半径缓冲区，右为步行网络距离",
        "Bus stops within 500 m: straight-line buffer (left), walking distance (right)",
    ),
    "s4": ("四、分单元排名", "4. Ranking of units"),
    "s5": ("五、方法说明", "5. Method"),
    "method": (
        "缓冲区法按服务半径画直线缓冲区（各地规划的官方口径）；"
        "步行网络法沿 OpenStreetMap 步行路网计算最短步行距离"
        "（scipy 有界多源 Dijkstra），住宅点沿最近道路接入。"
        "居住用地、住宅数、人口为三种统计口径；面积类指标以建成区为分母"
        "（未提供时由 OSM 用地与路网密度推算）。"
        "生活圈按 GB 50180-2018 表 B.0.1/B.0.3 配置要求判定。",
        "The buffer method draws straight-line service radii (the official method of the plans);"
        " the network method measures the shortest walk on the OpenStreetMap walking network "
        "(bounded multi-source Dijkstra, scipy), homes joining their nearest street. Shares are "
        "given by residential land, homes and residents; area figures use the built-up area "
        "(derived from OSM land use and street density when none is given). Life circles follow"
        " GB 50180-2018 tables B.0.1/B.0.3.",
    ),
    "sources": ("数据与来源", "Data and sources"),
    "cols": (
        ["方法", "口径", "现状值", "目标", "结果", "差距"],
        ["Method", "Basis", "Measured", "Target", "Status", "Gap"],
    ),
    "unit_cols": (["单元", "居住用地覆盖率"], ["Unit", "Residential land covered"]),
}


def _t(key: str, lang: str) -> Any:
    return _T[key][0 if lang == "zh" else 1]


def cjk_font() -> str | None:
    """A font with Chinese glyphs known to matplotlib (Noto Sans CJK SC first), or None."""
    from matplotlib import font_manager

    names = [f.name for f in font_manager.fontManager.ttflist]
    for pref in ("Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "SimHei"):
        if pref in names:
            return pref
    cjk = [n for n in names if "CJK" in n]
    return cjk[0] if cjk else None


def _rows(card: pd.DataFrame, lang: str) -> list[tuple[str, list[list[str]]]]:
    """Per target: its title and the rows (method, basis, measured, target, status, gap)."""
    out = []
    for tid, g in card.groupby("target_id", sort=False):
        first = g.iloc[0]
        label = str(first["label_zh"] if lang == "zh" else first["label_en"])
        title = f"{label}（{first.get('clause') or str(tid)}）"
        rows = []
        for r in g.itertuples():
            meas = finite_float(r.measured)
            gap = finite_float(r.gap)
            rows.append(
                [
                    method_label(r.method, "zh" if lang == "zh" else "en"),
                    basis_label(r.basis, "zh" if lang == "zh" else "en"),
                    format_measured(meas, getattr(r, "bound", None), str(r.unit)),
                    format_target(r.op, r.target, str(r.unit)),
                    status_label(r.status, "zh" if lang == "zh" else "en"),
                    format_value(gap, str(r.unit)) if gap is not None else "—",
                ]
            )
        out.append((str(title), rows))
    return out


def _map_png(city: City, result: Any, path: Path, lang: str) -> Path:
    """Two panels (buffer, network) of bus-stop 500 m coverage on residential land; offline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6), dpi=110)
    bnd = gpd.GeoSeries([city.boundary_polygon], crs=city.crs)
    for ax, method in zip(axes, (Method.BUFFER, Method.NETWORK), strict=True):
        if result.area is not None:
            gpd.GeoSeries([result.area], crs=city.crs).plot(ax=ax, color="#f3efe6", lw=0)
        if len(city.residential):
            city.residential.plot(ax=ax, color="#d9d9d9", lw=0)
        cov = result.coverage.get(coverage_key(bus_measure(500), method))
        if cov is not None and not cov.is_empty:
            gpd.GeoSeries([cov], crs=city.crs).plot(ax=ax, color="#3182bd", alpha=0.35, lw=0)
        if len(city.roads):
            city.roads.plot(ax=ax, color="#666666", lw=0.25)
        if len(city.bus_stops):
            city.bus_stops.plot(ax=ax, color="#08306b", markersize=2)
        bnd.boundary.plot(ax=ax, color="black", lw=0.8)
        ax.set_title(method_label(method, "zh" if lang == "zh" else "en"))
        ax.set_axis_off()
        x0, y0, _, _ = city.boundary_polygon.bounds
        ax.plot([x0, x0 + 1000], [y0 - 150, y0 - 150], color="black", lw=2)
        ax.text(x0, y0 - 120, "1 km", fontsize=7, va="bottom")
    fig.suptitle(_t("map_cap", lang), fontsize=11)
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", fontsize=7, color="#555")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _bound_notes(card: pd.DataFrame) -> dict[str, str]:
    """Per target title of :func:`_rows`: the note of its rows known only as an upper bound."""
    out: dict[str, str] = {}
    for _, g in card.groupby("target_id", sort=False):
        first = g.iloc[0]
        b = g.loc[g["bound"].notna()] if "bound" in g else g.iloc[0:0]
        if len(b):
            for lang_title in (first["label_zh"], first["label_en"]):
                out[f"{lang_title}（{first.get('clause') or str(first['target_id'])}）"] = str(
                    b.iloc[0]["note"]
                )
    return out


def _unit_rows(units: gpd.GeoDataFrame | None) -> tuple[str, list[tuple[str, float]]] | None:
    if units is None or not len(units):
        return None
    cols = unit_share_columns(units.columns, (Method.BUFFER,))
    if not cols:
        return None
    col = cols[0]
    df = units[["unit", col]].dropna().sort_values(col, ascending=False)
    return col, [(str(u), float(v)) for u, v in zip(df["unit"], df[col], strict=True)]


def write_report(
    city: City,
    result: Any,
    folder: Path,
    *,
    lang: str = "zh",
    units: gpd.GeoDataFrame | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``<stem>_report.docx`` and ``<stem>_report.pdf`` into ``folder``; paths by kind."""
    import matplotlib

    matplotlib.use("Agg")
    from docx import Document
    from docx.shared import Cm, Pt

    font = cjk_font()
    if lang == "zh" and font is None:
        raise OutputError(
            "the Chinese report needs a CJK font (e.g. apt-get install fonts-noto-cjk); or use "
            "--lang en"
        )
    if font:
        matplotlib.rcParams["font.family"] = [font, "DejaVu Sans"]
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{result.city_name}_{result.sheet.id}"
    sheet_name = result.sheet.name_zh if lang == "zh" else (result.sheet.name_en or result.sheet.id)
    card = result.scorecard
    st = card["status"].astype(str)
    counts = {k: int((st == k).sum()) for k in Status}
    n = counts[Status.PASS] + counts[Status.FAIL] + counts[Status.NO_DATA]
    summary = _t("summary", lang).format(
        sheet=sheet_name,
        n=n,
        p=counts[Status.PASS],
        f=counts[Status.FAIL],
        nd=counts[Status.NO_DATA],
        nc=counts[Status.NOT_CHECKABLE],
    )
    title = _t("title", lang).format(city=result.city_name, sheet=sheet_name)
    today = dt.date.today().isoformat()

    dateline = _t("date", lang).format(d=today, v=__version__)
    checked = card.loc[st != Status.NOT_CHECKABLE]
    blocks = _rows(checked, lang)
    bounds = _bound_notes(checked)
    fails = [
        t
        for t, rows in blocks
        if any(r[4] == status_label(Status.FAIL, "zh" if lang == "zh" else "en") for r in rows)
    ]
    png = _map_png(city, result, folder / f"{stem}_report_map.png", lang)
    ranking = _unit_rows(units)
    sources = [
        f"OpenStreetMap: {Path(str(city.report.source)).name}"
        + (
            f"（{provenance.get('osm_data_timestamp')}）"
            if provenance and provenance.get("osm_data_timestamp")
            else ""
        ),
        f"{result.sheet.source.title} {getattr(result.sheet.source, 'doc_no', '') or ''}".strip(),
        f"CRS {city.crs.to_string()}; "
        + (
            f"area {provenance.get('area_basis')} {provenance.get('area_km2')} km²"
            if provenance
            else ""
        ),
        ATTRIBUTION,
    ]

    # ---- Word
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(10.5)
    if font:
        style.font.name = font
        rpr = style.element.get_or_add_rPr()
        rfonts = rpr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}rFonts")
        if rfonts is not None:
            rfonts.set(
                "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia", font
            )
    doc.add_heading(title, level=0)
    doc.add_paragraph(dateline)
    doc.add_heading(_t("s1", lang), level=1)
    doc.add_paragraph(summary)
    if fails:
        doc.add_paragraph(_t("fails", lang) + "：" + "；".join(fails))
    doc.add_heading(_t("s2", lang), level=1)
    for t, rows in blocks:
        doc.add_heading(t, level=3)
        tab = doc.add_table(rows=1, cols=6)
        tab.style = "Light Grid Accent 1"
        for j, h in enumerate(_t("cols", lang)):
            tab.rows[0].cells[j].text = h
        for r in rows:
            cells = tab.add_row().cells
            for j, v in enumerate(r):
                cells[j].text = v
        if bounds.get(t):  # an upper bound only: why, and the fix
            doc.add_paragraph(bounds[t])
    doc.add_heading(_t("s3", lang), level=1)
    doc.add_picture(str(png), width=Cm(16))
    doc.add_paragraph(_t("map_cap", lang))
    if ranking:
        doc.add_heading(_t("s4", lang), level=1)
        ucol, rows_u = ranking
        tab = doc.add_table(rows=1, cols=2)
        tab.style = "Light Grid Accent 1"
        h = _t("unit_cols", lang)
        tab.rows[0].cells[0].text, tab.rows[0].cells[1].text = h[0], f"{h[1]} ({ucol})"
        for unit_name, share in rows_u[:50]:
            c = tab.add_row().cells
            c[0].text, c[1].text = unit_name, f"{100 * share:.1f}%"
    doc.add_heading(_t("s5", lang), level=1)
    doc.add_paragraph(_t("method", lang))
    doc.add_heading(_t("sources", lang), level=2)
    for s in sources:
        doc.add_paragraph(s, style="List Bullet")
    docx_path = folder / f"{stem}_report.docx"
    with atomic_path(docx_path) as tmp:
        doc.save(str(tmp))

    # ---- PDF (the same content, A4 pages drawn by matplotlib)
    pdf_path = folder / f"{stem}_report.pdf"
    with atomic_path(pdf_path) as tmp:
        _write_pdf(
            tmp,
            title,
            dateline,
            summary,
            fails,
            blocks,
            png,
            ranking,
            sources,
            lang,
            caveats={t: bounds[t] for t, _ in blocks if t in bounds},
        )
    return {"report_docx": docx_path, "report_pdf": pdf_path, "report_map": png}


def _caveats_page(pdf: Any, page: Any, caveats: Mapping[str, str], lang: str) -> None:
    """A PDF page listing, per target known only as an upper bound, why and the fix (if any)."""
    import textwrap

    import matplotlib.pyplot as plt

    if not caveats:
        return
    fig = page()
    y = 0.95
    for t, note in caveats.items():
        for k, line in enumerate(textwrap.wrap(f"{t}：{note}", 48 if lang == "zh" else 95)):
            fig.text(0.08, y, line, fontsize=8, weight="bold" if k == 0 else "normal")
            y -= 0.022
        y -= 0.01
    pdf.savefig(fig)
    plt.close(fig)


def _write_pdf(
    path: Path,
    title: str,
    dateline: str,
    summary: str,
    fails: list[str],
    blocks: list[tuple[str, list[list[str]]]],
    png: Path,
    ranking: tuple[str, list[tuple[str, float]]] | None,
    sources: list[str],
    lang: str,
    *,
    caveats: Mapping[str, str] | None = None,
) -> None:
    import textwrap

    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    a4 = (8.27, 11.69)
    wrap = 38 if lang == "zh" else 90

    def page() -> Any:
        fig = plt.figure(figsize=a4)
        fig.text(0.5, 0.02, ATTRIBUTION, ha="center", fontsize=7, color="#666")
        return fig

    with PdfPages(path) as pdf:
        fig = page()
        y = 0.95
        for line in textwrap.wrap(title, 30 if lang == "zh" else 70):
            fig.text(0.08, y, line, fontsize=14, weight="bold")
            y -= 0.03
        fig.text(0.08, y, dateline, fontsize=9, color="#444")
        y -= 0.04
        fig.text(0.08, y, _t("s1", lang), fontsize=12, weight="bold")
        y -= 0.03
        for line in textwrap.wrap(summary, wrap):
            fig.text(0.08, y, line, fontsize=10)
            y -= 0.022
        if fails:
            y -= 0.01
            fig.text(0.08, y, _t("fails", lang), fontsize=10, weight="bold")
            y -= 0.024
            for f in fails[:25]:
                for line in textwrap.wrap("· " + f, wrap):
                    fig.text(0.1, y, line, fontsize=9)
                    y -= 0.02
        ax = fig.add_axes((0.04, 0.05, 0.92, max(0.1, y - 0.07)))
        ax.imshow(mpimg.imread(png))
        ax.set_axis_off()
        pdf.savefig(fig)
        plt.close(fig)
        # indicator tables, ~36 rows per page
        rows: list[list[str]] = []
        for t, rs in blocks:
            rows.append([t, "", "", "", "", ""])
            rows += rs
        for start in range(0, len(rows), 36):
            fig = page()
            fig.text(0.08, 0.95, _t("s2", lang), fontsize=12, weight="bold")
            ax = fig.add_axes((0.04, 0.05, 0.92, 0.88))
            ax.set_axis_off()
            chunk = rows[start : start + 36]
            lim = 22 if lang == "zh" else 40
            tab = ax.table(
                cellText=[[c if len(c) <= lim else c[: lim - 1] + "…" for c in r] for r in chunk],
                colLabels=_t("cols", lang),
                loc="upper center",
                cellLoc="left",
                colWidths=[0.3, 0.16, 0.12, 0.16, 0.12, 0.14],
            )
            tab.auto_set_font_size(False)
            tab.set_fontsize(7)
            for (r, _c), cell in tab.get_celld().items():
                if r > 0 and chunk[r - 1][1] == "":
                    cell.set_facecolor("#e8eef7")
            pdf.savefig(fig)
            plt.close(fig)
        _caveats_page(pdf, page, caveats or {}, lang)
        fig = page()
        y = 0.95
        if ranking:
            rcol, ranked = ranking
            fig.text(0.08, y, _t("s4", lang), fontsize=12, weight="bold")
            ax = fig.add_axes((0.3, 0.55, 0.6, 0.37))
            top = ranked[:20][::-1]
            ax.barh([u for u, _ in top], [100 * v for _, v in top], color="#3182bd")
            ax.set_xlabel(f"% ({rcol})")
            ax.tick_params(labelsize=7)
            y = 0.5
        fig.text(0.08, y, _t("s5", lang), fontsize=12, weight="bold")
        y -= 0.03
        for line in textwrap.wrap(_t("method", lang), wrap):
            fig.text(0.08, y, line, fontsize=9)
            y -= 0.02
        y -= 0.01
        fig.text(0.08, y, _t("sources", lang), fontsize=10, weight="bold")
        y -= 0.025
        for s in sources:
            for line in textwrap.wrap("· " + s, wrap):
                fig.text(0.08, y, line, fontsize=8)
                y -= 0.018
        pdf.savefig(fig)
        plt.close(fig)


__all__ = ["cjk_font", "write_report"]
