"""``geoplan indicators``: the registry's indicators, their parameters, defaults and sources."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from geoplan.cli.console import console, run_cli_errors


def _fmt(value: Any) -> str:
    if value is None:
        return "(data file)"
    if isinstance(value, tuple):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def indicators(  # numpydoc ignore=PR01
    *,
    indicator: Annotated[
        str | None,
        typer.Argument(metavar="[ID]", help="Show one indicator only (e.g. park_coverage)."),
    ] = None,
) -> None:
    """List the indicators 指标 of the engine with their parameters 参数.

    Default, unit, allowed range and the standard each default comes from.

    A target sheet overrides any of them under `parameters:`, e.g.

      parameters: {park_coverage: {park_min_area_m2: 10000}}

    Examples
    --------
      geoplan indicators

      geoplan indicators park_coverage
    """
    from geoplan._errors import TargetSheetError, unknown_message
    from geoplan.indicators.registry import REGISTRY

    with run_cli_errors():
        ids = list(REGISTRY)
        if indicator is not None:
            if indicator not in REGISTRY:
                raise TargetSheetError(unknown_message("indicator", indicator, ids, "indicators"))
            ids = [indicator]
        con = console()
        if not con.is_terminal:
            con.width = 140
        table = Table(title="指标与参数 indicators and parameters", title_justify="left")
        for col in ("指标 Indicator", "参数 Parameter", "默认 Default", "单位 Unit", "范围 Range"):
            table.add_column(col)
        table.add_column("来源 Source", overflow="fold")
        for iid in ids:
            ind = REGISTRY[iid]
            head = f"{iid}\n[dim]{ind.label_zh} · {ind.label_en}[/dim]"
            if not ind.params:
                table.add_row(head, "—", "", "", "", "")
                continue
            for i, (name, p) in enumerate(ind.params.items()):
                table.add_row(
                    head if i == 0 else "",
                    name,
                    escape(_fmt(p.default)),
                    escape(p.unit),
                    f"{p.minimum:g}–{p.maximum:g}",
                    escape(p.source),
                )
        con.print(table)
        if indicator is None:
            con.print(_sheets_table())


def _sheets_table() -> Table:
    """The target sheets shipped with geoplan (``-t ID``): id, title, targets checkable / all."""
    from geoplan.scoring.targets import list_target_sheets, load_target_sheet

    table = Table(title="目标表 target sheets (-t ID)", title_justify="left")
    for col in ("表 Sheet", "文件 Document", "年 Year", "可核查/全部 Checkable/all"):
        table.add_column(col)
    for sid in list_target_sheets():
        ts = load_target_sheet(sid)
        table.add_row(
            sid,
            escape(f"{ts.name_zh}\n{ts.name_en}"),
            str(ts.year),
            f"{len(ts.checkable)} / {len(ts.targets)}",
        )
    return table
