"""The content of a 城市体检 chapter, once, for both the Word and the PDF writer.

A check becomes a list of blocks — headings numbered as a Chinese document numbers them
(一、 （一） 1.), paragraphs, numbered tables (表1) and figures (图1) — that
:mod:`~geoplan.outputs.report.docx_writer` and :mod:`~geoplan.outputs.report.pdf_writer` lay out.
Units are written as a Chinese document writes them (≥, 平方米/人, 公里/平方公里, 个百分点).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoplan._version import __version__
from geoplan.city import City
from geoplan.names import Method, Status, basis_label, method_label, status_label
from geoplan.outputs.formats import ATTRIBUTION, finite_float, format_target, unit_text

#: at most this many failing indicators get their own map (the rest are listed): every one of
#: a real sheet (the 城市体检 sheet has 27 checkable targets)
MAX_MAPS = 40


@dataclass(frozen=True)
class Heading:
    """A numbered heading: level 1 一、, level 2 （一）, level 3 1."""

    level: int
    text: str


@dataclass(frozen=True)
class Para:
    """A paragraph; ``small`` for notes and sources."""

    text: str
    small: bool = False


@dataclass(frozen=True)
class TableBlock:
    """A numbered table: caption, header and rows of text, relative column widths."""

    caption: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]
    widths: Sequence[float]
    status_col: int | None = None


@dataclass(frozen=True)
class Figure:
    """A numbered figure: a PNG and its caption."""

    path: Path
    caption: str


Block = Heading | Para | TableBlock | Figure


@dataclass
class Chapter:
    """The chapter: title, date line and blocks (tables and figures numbered in order)."""

    title: str
    subtitle: str
    blocks: list[Block] = field(default_factory=list)
    lang: str = "zh"

    def add(self, block: Block) -> None:
        """Append a block.

        Parameters
        ----------
        block
            A heading, paragraph, table or figure.
        """
        self.blocks.append(block)


_NUM = "一二三四五六七八九十"


def cn_number(i: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二 (section numbers of a Chinese document).

    Parameters
    ----------
    i
        A number from 1 to 99.

    Returns
    -------
    str
    """
    if i <= 10:
        return _NUM[i - 1]
    if i < 20:
        return "十" + _NUM[i - 11]
    return _NUM[i // 10 - 1] + "十" + (_NUM[i % 10 - 1] if i % 10 else "")


def heading_text(level: int, index: int, text: str, lang: str) -> str:
    """``一、总体情况`` / ``（一）…`` / ``1. …``; in English ``1.`` / ``1.1`` style numbers.

    Parameters
    ----------
    level, index, text
        Heading level (1–3), its number within its parent, its words.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    if lang != "zh":
        return f"{index}. {text}" if level == 1 else f"{text}"
    if level == 1:
        return f"{cn_number(index)}、{text}"
    if level == 2:
        return f"（{cn_number(index)}）{text}"
    return f"{index}. {text}"


def gap_words(gap: float | None, unit: str, lang: str) -> str:
    """A gap as a document writes it: ``低于目标 22.7 个百分点`` / ``22.7 points below``.

    Parameters
    ----------
    gap
        ``measured - target`` in the target's unit (shares 0–1), or ``None``.
    unit, lang
        The target's unit; ``zh`` or ``en``.

    Returns
    -------
    str
    """
    if gap is None:
        return "—"
    if unit == "share":
        v = round(100 * gap, 1)
        if lang == "zh":
            return (
                "达到目标" if v == 0 else f"{'高于' if v > 0 else '低于'}目标{abs(v):.1f}个百分点"
            )
        return "on target" if v == 0 else f"{abs(v):.1f} points {'above' if v > 0 else 'below'}"
    shown = unit_text(unit, lang)
    if lang == "zh":
        return (
            "达到目标" if gap == 0 else f"{'高于' if gap > 0 else '低于'}目标{abs(gap):.2f}{shown}"
        )
    return "on target" if gap == 0 else f"{abs(gap):.2f} {shown} {'above' if gap > 0 else 'below'}"


def value_words(value: Any, bound: Any, unit: str, lang: str) -> str:
    """A measured value in document units (``15.3%``, ``12.40 平方米/人``, ``≤ 8.3%``).

    Parameters
    ----------
    value, bound
        The measured value, or the upper bound when only that is known (NaN / ``None`` else).
    unit, lang
        Its unit; ``zh`` or ``en``.

    Returns
    -------
    str
    """
    v, b = finite_float(value), finite_float(bound)
    if v is None and b is not None:
        return "≤ " + value_words(b, None, unit, lang)
    if v is None:
        return "无数据" if lang == "zh" else "no data"
    if unit == "share":
        return f"{100 * v:.1f}%"
    if unit == "count":
        return f"{v:.0f}{'个' if lang == 'zh' else ''}"
    if unit == "m2":
        return f"{v:,.0f} {unit_text(unit, lang)}"
    return f"{v:.2f} {unit_text(unit, lang)}"


def _method(r: pd.Series, lang: str) -> str:
    m = str(r["method"] or "")
    return method_label(m, "zh" if lang == "zh" else "en") if m else "—"


def summary_rows(card: pd.DataFrame, lang: str) -> list[list[str]]:
    """表1: every checkable target and method: 序号, 指标, 方法, 现状, 目标, 评估, 差距.

    Parameters
    ----------
    card
        The scorecard.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    list of list of str
    """
    rows = []
    checked = card.loc[card["status"] != Status.NOT_CHECKABLE]
    for i, (_, r) in enumerate(checked.iterrows(), start=1):
        unit = str(r["unit"])
        rows.append(
            [
                str(i),
                str(r["label_zh"] if lang == "zh" else r["label_en"]),
                _method(r, lang),
                value_words(r["measured"], r.get("bound"), unit, lang),
                format_target(r["op"], r["target"], unit, lang=lang),
                status_label(r["status"], "zh" if lang == "zh" else "en"),
                gap_words(finite_float(r["gap"]), unit, lang),
            ]
        )
    return rows


def problem_list(
    units: gpd.GeoDataFrame | None, card: pd.DataFrame, sheet: Any, lang: str
) -> list[list[str]]:
    """问题清单: each unit and the targets it misses (its share below the target), worst first.

    A unit's share of a coverage measure (the per-unit table, ``<measure>_<method>``) is compared
    with the sheet's target of that measure; units missing the most targets come first.

    Parameters
    ----------
    units
        The per-unit table (``unit`` and share columns), or ``None``.
    card, sheet
        The scorecard and its target sheet.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    list of list of str
        Rows 单元, 未达标项数, 未达标指标（现状）.
    """
    from geoplan.scoring.scorecard import measure_of

    if units is None or not len(units):
        return []
    targets: list[tuple[str, str, float]] = []  # (column, label, target share)
    for t in sheet.checkable:
        if t.unit != "share" or not isinstance(t.value, float) or t.indicator == "circle":
            continue
        measure = measure_of(t, sheet)
        for method in (Method.BUFFER, Method.NETWORK):
            col = f"{measure}_{method}"
            if col in units.columns:
                label = t.label_zh if lang == "zh" else t.label_en
                label += f"（{method_label(method, 'zh' if lang == 'zh' else 'en')}）"
                targets.append((col, label, t.value))
    out = []
    for _, u in units.iterrows():
        missed = []
        for col, label, value in targets:
            share = finite_float(u[col])
            if share is not None and share < value - 1e-9:
                missed.append((share - value, f"{label} {100 * share:.0f}%"))
        if missed:
            missed.sort()
            out.append((len(missed), str(u["unit"]), "；".join(m for _, m in missed)))
    out.sort(key=lambda t: -t[0])
    return [[name, str(n), text] for n, name, text in out]


def data_rows(
    city: City, result: Any, provenance: Mapping[str, Any] | None, lang: str
) -> list[list[str]]:
    """数据来源: each input, its file and date (the OSM extract's own timestamp).

    Parameters
    ----------
    city, result
        The checked city and its check.
    provenance
        The check's provenance record (input files, OSM data date).
    lang
        ``zh`` or ``en``.

    Returns
    -------
    list of list of str
    """
    prov = dict(provenance or {})
    osm_date = str(prov.get("osm_data_timestamp") or "")[:10] or "—"
    rows = [
        [
            "OpenStreetMap" if lang != "zh" else "OpenStreetMap 开放地图",
            Path(str(city.report.source)).name,
            osm_date,
        ]
    ]
    for role, entry in (prov.get("inputs") or {}).items():
        path = entry.get("path") if isinstance(entry, Mapping) else entry
        if role in ("osm", "targets") or not path:
            continue
        p = Path(str(path))
        date = ""
        if p.exists():
            date = dt.date.fromtimestamp(p.stat().st_mtime).isoformat()
        rows.append([str(role), p.name, date or "—"])
    sheet = result.sheet
    rows.append(
        [
            "目标表" if lang == "zh" else "Target sheet",
            f"{sheet.name_zh} {getattr(sheet.source, 'doc_no', '') or ''}".strip(),
            str(getattr(sheet.source, "date", "") or sheet.year),
        ]
    )
    return rows


def no_data_rows(card: pd.DataFrame, lang: str) -> list[list[str]]:
    """Every target without a figure or known only as a bound: why, and the fix.

    Parameters
    ----------
    card
        The scorecard.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    list of list of str
        Rows 指标, 原因与补充方法.
    """
    out = []
    seen = set()
    for _, r in card.iterrows():
        bound = finite_float(r.get("bound"))
        if r["status"] != Status.NO_DATA and bound is None:
            continue
        if r["target_id"] in seen:
            continue
        seen.add(r["target_id"])
        label = str(r["label_zh"] if lang == "zh" else r["label_en"])
        out.append([label, str(r["note"] or "")])
    return out


def sources_text(city: City, result: Any, lang: str) -> list[str]:
    """The closing notes: method, standards, version and the ODbL credit.

    Parameters
    ----------
    city, result
        The checked city and its check.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    list of str
    """
    today = dt.date.today().isoformat()
    method = (
        "缓冲区法按服务半径画直线缓冲区（各地规划的官方口径）；步行网络法沿 OpenStreetMap 步行路网"
        "计算最短步行距离（有界多源 Dijkstra），住宅点沿最近道路接入。占比按居住用地面积、住宅数、"
        "人口三种口径统计；面积类指标以建成区为分母。生活圈按《城市居住区规划设计标准》"
        "（GB 50180-2018）附录B判定。"
        if lang == "zh"
        else "The buffer method draws straight-line service radii (the official method); the "
        "network method measures the shortest walk on the OpenStreetMap walking network (bounded "
        "multi-source Dijkstra), homes joining their nearest street. Shares by residential land, "
        "homes and residents; area figures over the built-up area. Life circles per GB 50180-2018 "
        "Appendix B."
    )
    made = (
        f"本章由 geoplan {__version__} 于 {today} 生成；坐标系 {city.crs.to_string()}。"
        if lang == "zh"
        else f"Written by geoplan {__version__} on {today}; CRS {city.crs.to_string()}."
    )
    return [method, made, ATTRIBUTION]


def failing(card: pd.DataFrame) -> list[pd.DataFrame]:
    """The failing targets, each with its rows, in sheet order.

    Parameters
    ----------
    card
        The scorecard.

    Returns
    -------
    list of DataFrame
    """
    out = []
    for _, g in card.groupby("target_id", sort=False):
        if (g["status"] == Status.FAIL).any():
            out.append(g)
    return out


def is_nan(v: Any) -> bool:
    """True for NaN / None.

    Parameters
    ----------
    v
        Any value.

    Returns
    -------
    bool
    """
    return v is None or (isinstance(v, float) and math.isnan(v))


def gap_cause_words(
    table: pd.DataFrame | None, measure: str, basis: str, lang: str, *, top: int = 3
) -> str:
    """One sentence naming the top causes of a measure's buffer − walking gap.

    Parameters
    ----------
    table
        :attr:`CheckResult.gap_causes` (``None``: no sentence).
    measure, basis
        The measure and the basis of the figure (falls back to ``homes``).
    lang
        ``zh`` or ``en``.
    top
        How many causes to name (largest first; negative rows are not causes).

    Returns
    -------
    str
        ``""`` when the table has no gap for the measure.
    """
    if table is None or not len(table):
        return ""
    rows = table.loc[table["measure"] == measure]
    if basis not in set(rows["basis"]):
        basis = "homes"
    rows = rows.loc[rows["basis"] == basis]
    total = float(rows["gap_pp"].sum())
    causes = rows.loc[rows["gap_pp"] > 0].sort_values("gap_pp", ascending=False).head(top)
    if not len(causes) or total <= 0:
        return ""
    zh = lang == "zh"
    b = basis_label(basis, "zh" if zh else "en")
    named = [
        (str(z), str(e), float(pp))
        for z, e, pp in zip(causes["label_zh"], causes["label_en"], causes["gap_pp"], strict=True)
    ]
    if zh:
        parts = "、".join(f"{z}造成的覆盖差{pp:.1f}个百分点" for z, _, pp in named)
        return f"按{b}，步行覆盖比服务半径覆盖低{total:.1f}个百分点，主要原因：{parts}。"
    text = ", ".join(f"{e.lower()} {pp:.1f} pp" for _, e, pp in named)
    return f"By {b}, walking covers {total:.1f} pp less than the buffer; main causes: {text}."
