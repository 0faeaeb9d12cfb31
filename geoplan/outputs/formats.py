"""How values and targets are shown in every output: numbers, shares as %, units, attribution.

The lowest room of :mod:`geoplan.outputs`: tables, workbook, report, maps and the CLI format
through it, so a share reads ``43.2%`` and a target ``≥ 43.25%`` everywhere.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ATTRIBUTION",
    "excel_text",
    "finite_float",
    "format_measured",
    "format_target",
    "format_value",
    "formulas_as_text",
]

#: the credit every table, map and report carries (ODbL)
ATTRIBUTION = "© OpenStreetMap contributors (ODbL) 地图数据"


def finite_float(value: Any) -> float | None:
    """A value as a finite float.

    Parameters
    ----------
    value
        Anything a table cell may hold.

    Returns
    -------
    float or None
        ``None`` for text, NaN, infinities and ``None``.
    """
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None


def format_value(value: float | None, unit: str) -> str:
    """Human form of a measured value: shares as %, others with their unit.

    Parameters
    ----------
    value
        The value (shares 0–1); ``None`` / NaN print as "—".
    unit
        ``share``, ``count``, ``km/km2``, ``m2/person`` …

    Returns
    -------
    str
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "count":
        return f"{value:.0f}"
    if unit == "m2":  # an area: whole square metres, thousands separated
        return f"{value:,.0f} m²"
    return f"{value:.2f} {unit.replace('km2', 'km²').replace('m2', 'm²')}"


#: how a comparison is written in a document
OP_SYMBOLS: dict[str, str] = {">=": "≥", "<=": "≤", "==": "=", "between": "", "report": ""}

#: (zh, zh short, en) of each target unit: a Chinese document writes 平方米/人, a terminal m²/人
UNIT_TEXT: dict[str, tuple[str, str, str]] = {
    "m2/person": ("平方米/人", "m²/人", "m²/person"),
    "km/km2": ("公里/平方公里", "km/km²", "km/km²"),
    "per_km2": ("个/平方公里", "个/km²", "per km²"),
    "m2": ("平方米", "m²", "m²"),
    "km2": ("平方公里", "km²", "km²"),
    "count": ("个", "个", ""),
}


def unit_text(unit: str, lang: str = "en", *, short: bool = False) -> str:
    """A unit as a document in ``lang`` writes it (``m2/person`` → 平方米/人 / m²/person).

    Parameters
    ----------
    unit
        A target unit (``m2/person``, ``km/km2`` …).
    lang
        ``zh`` or ``en``.
    short
        The short Chinese form for a terminal (m²/人).

    Returns
    -------
    str
    """
    row = UNIT_TEXT.get(unit)
    if row is None:
        return unit.replace("km2", "km²").replace("m2", "m²")
    return row[2] if lang != "zh" else row[1] if short else row[0]


def format_target(
    op: object, target: object, unit: str, *, lang: str = "en", short: bool = False
) -> str:
    """A target as the plan writes it, exactly: ``≥ 43.25%``, ``≥ 35.6%``, ``≥ 22 m²/person``.

    Shares print as % with every digit the plan gives (never rounded to 43 % / 36 %); other
    units print their unit, in Chinese for ``lang="zh"`` (平方米/人; ``short``: m²/人).

    Parameters
    ----------
    op
        The comparison (``>=`` …, written ``≥``), or empty.
    target
        The target value as the sheet gives it (a number, ``lo–hi`` or text).
    unit
        The target's unit.
    lang, short
        Language of the unit, and its short form for a terminal.

    Returns
    -------
    str

    Examples
    --------
    >>> format_target(">=", "0.4325", "share"), format_target(">=", "0.356", "share")
    ('≥ 43.25%', '≥ 35.6%')
    >>> format_target(">=", "22", "m2/person"), format_target("", "13.14万亩", "")
    ('≥ 22 m²/person', '13.14万亩')
    >>> format_target(">=", "22", "m2/person", lang="zh")
    '≥ 22 平方米/人'
    """
    op_s = OP_SYMBOLS.get(str(op or ""), str(op or ""))
    text = str(target)
    if unit == "share":
        try:
            parts = [float(x) for x in text.split("–")]
        except ValueError:
            return f"{op_s} {text}".strip()
        text = "–".join(f"{round(100 * v, 6):g}%" for v in parts)
        return f"{op_s} {text}".strip()
    shown = unit_text(unit, lang, short=short)
    try:
        float(text.split("–")[0])
    except ValueError:
        return f"{op_s} {text}".strip()
    return f"{op_s} {text} {shown}".strip()


def format_measured(measured: Any, bound: Any, unit: str) -> str:
    """A scorecard's measured value, or ``≤ bound`` where only an upper bound is known.

    Parameters
    ----------
    measured
        The measured value (NaN / ``None`` when unknown).
    bound
        The upper bound when the value is unknown (categories missing), else NaN / ``None``.
    unit
        The value's unit.

    Returns
    -------
    str

    Examples
    --------
    >>> format_measured(float("nan"), 0.412, "share"), format_measured(0.5, float("nan"), "share")
    ('≤ 41.2%', '50.0%')
    """
    m, b = finite_float(measured), finite_float(bound)
    if m is None and b is not None:
        return f"≤ {format_value(b, unit)}"  # categories missing from the data
    return format_value(m, unit)


#: characters an XLSX cell cannot hold (XML 1.0 control characters)
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def excel_text(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells hold no character a workbook cannot store (control characters).

    A planner's unit or place name with such a character made openpyxl fail mid-write.

    Parameters
    ----------
    df
        A table about to be written to a workbook.

    Returns
    -------
    DataFrame
        A copy with those characters removed from its text cells.
    """
    out = df.copy()
    for c in out.columns:
        if not pd.api.types.is_numeric_dtype(out[c]):  # object or pandas' string dtype
            out[c] = [_NOT_IN_XLSX.sub("", v) if isinstance(v, str) else v for v in out[c]]
    return out


_FORMULA_START = ("=", "+", "@", "\t", "\r")
_NUMBER = re.compile(r"^-?\d[\d,]*(\.\d+)?%?$")


def csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot be read as a formula when the CSV opens in Excel or WPS.

    A text cell beginning with ``=``, ``+``, ``@``, a tab, a return, or ``-`` not followed by a
    number gets a leading apostrophe (OWASP "CSV injection"): a unit named ``=HYPERLINK(…)``
    shows as text instead of running. Numbers, and numeric text such as ``-22.7``, are untouched.

    Parameters
    ----------
    df
        A table about to be written as CSV.

    Returns
    -------
    DataFrame
        The escaped copy.
    """
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_numeric_dtype(out[c]):
            continue
        out[c] = [
            "'" + v
            if isinstance(v, str)
            and (v.startswith(_FORMULA_START) or (v.startswith("-") and not _NUMBER.match(v)))
            else v
            for v in out[c]
        ]
    return out


def formulas_as_text(ws: Any) -> int:
    """Make every cell of an openpyxl worksheet that would be a formula plain text; the count.

    openpyxl writes any string beginning with ``=`` as a live formula, so a unit named
    ``=HYPERLINK(…)`` would run in the reviewer's Excel; geoplan writes no formula itself.

    Parameters
    ----------
    ws
        An openpyxl worksheet, after the table was written into it.

    Returns
    -------
    int
        The number of cells turned into text.
    """
    n = 0
    for row in ws.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"
                n += 1
    return n


@contextmanager
def excel_writer(path: str | Path) -> Iterator[pd.ExcelWriter]:
    """A pandas ``ExcelWriter`` (openpyxl) that saves ``path`` only when its block succeeds.

    ``pd.ExcelWriter``'s own ``__exit__`` saves whatever was written even while an exception
    (an interrupt, a SIGTERM turned into ``KeyboardInterrupt``) leaves its block; with no sheet
    written yet that save fails with openpyxl's "At least one sheet must be visible", which then
    replaces the interrupt. Here the workbook is built in memory and written only at the end.

    Parameters
    ----------
    path
        The file to write (a staging path of :func:`geoplan._atomic.atomic_path`).

    Yields
    ------
    pandas.ExcelWriter
    """
    buf = io.BytesIO()
    xw = pd.ExcelWriter(buf, engine="openpyxl")
    yield xw  # an exception propagates as is: nothing is saved
    xw.close()
    Path(path).write_bytes(buf.getvalue())
