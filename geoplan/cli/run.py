"""``geoplan run``: run a scenario file, print baseline vs plan, write the outputs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich import box
from rich.table import Table
from rich.text import Text

from geoplan._outputs_set import check_output_dir, output_set
from geoplan._progress import progress_steps
from geoplan.cli.check import gap_text, status_text
from geoplan.cli.console import console, is_quiet, run_cli_errors, state
from geoplan.names import Status, layer_label, method_short
from geoplan.outputs.formats import format_target, format_value
from geoplan.scenario.compare import ScenarioResult


def run(  # numpydoc ignore=PR01
    *,
    scenario: Annotated[
        Path,
        typer.Argument(metavar="SCENARIO", help="scenarios/NAME.yaml or scenarios/NAME.py"),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="DIR",
            help="Output directory: DIR/<name>_scorecard.csv … _comparison.xlsx, "
            "DIR/maps/<name>.html.",
        ),
    ] = Path("."),
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", help="Target sheet id (default: the scenario's targets)."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="Map language: zh or en.")] = "zh",
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="NAME",
            help="Name of the plan for titles and file names, e.g. 郑州市中原区绿地规划 "
            "(default: the scenario's name).",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the written file paths.")
    ] = False,
) -> None:
    """Run a plan scenario: baseline vs plan scorecards side by side, a change map.

    Examples
    --------
      geoplan run scenarios/demo_zhengzhou_parks.yaml --out out/

      geoplan run scenarios/chengdu_anyang_bus_buffer.yaml --out out/ --lang en
    """
    if quiet:
        state["quiet"] = True
    with run_cli_errors():
        result, files = run_scenario_file(scenario, out=out, sheet=sheet, lang=lang, name=name)
        con = console()
        moved = moved_table(result.measures, title=f"{result.name}: 指标变化 measures that moved")
        if moved is not None:
            con.print(moved)
        con.print(
            change_table(result.scorecard, title=f"{result.name}: 现状 → 规划 baseline → plan")
        )
        counts = result.log.counts()
        if counts:
            con.print(
                "规划变更 changes: "
                + ", ".join(f"{_change_label(k)} {v:,}" for k, v in counts.items())
            )
        con.print(
            "[dim]seconds: "
            + ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items())
            + "[/dim]"
        )
        for note in result.notes:
            con.print(f"note: {note}")
        for p in files.values():
            if is_quiet():
                typer.echo(str(p))
            else:
                con.print(f"wrote {p}")


def run_scenario_file(
    path: str | Path,
    *,
    out: str | Path = ".",
    sheet: str | None = None,
    lang: str = "zh",
    name: str | None = None,
) -> tuple[ScenarioResult, dict[str, Path]]:
    """Load, run and write a scenario file (what ``geoplan run`` does).

    The outputs are one set (:func:`geoplan._outputs_set.output_set`): written completely or not
    at all, never over an input. ``name`` replaces the scenario's name in titles and file names.

    Parameters
    ----------
    path
        The scenario file (YAML).
    out
        Output folder.
    sheet
        Target sheet (default: the scenario's).
    lang
        ``zh`` or ``en``.
    name
        Name replacing the scenario's in titles and file names.

    Returns
    -------
    tuple
        ``(ScenarioResult, paths written by kind)``.
    """
    from geoplan.city import Study
    from geoplan.outputs.scenario_set import write_scenario
    from geoplan.scenario import ScenarioSession, load_scenario_file

    check_output_dir(Path(out))
    scn = load_scenario_file(path)
    if name is not None:
        from geoplan.city.study import check_name

        check_name(name, "--name")
        scn.name = name
    steps = [
        "加载城市 loading the city",
        "现状与规划核查 baseline and plan",
        "写出表格与地图 writing",
    ]
    with progress_steps(steps, enabled=None, title=scn.name) as bar:
        t0 = time.perf_counter()
        city = scn.load_base()
        loaded = time.perf_counter() - t0
        bar.advance()
        result = ScenarioSession(city).run(scn, sheet=sheet)
        bar.advance()
        inputs: list[str | Path | None] = [path]
        if isinstance(scn.base, Study):
            inputs += scn.base.input_files()
        inputs += [c.layer for c in scn.changes if isinstance(c.layer, str | Path)]
        t = time.perf_counter()
        with output_set(f"run-{result.name}", inputs=inputs) as outs:
            staged = write_scenario(result, outs.dir(out), lang=lang)
        bar.advance()
    # "total" counts every step: loading, both checks, the comparison, tables and maps
    result.seconds = {"load": round(loaded, 3), **result.seconds}
    result.seconds["write"] = round(time.perf_counter() - t, 3)
    result.seconds["total"] = round(time.perf_counter() - t0, 3)
    return result, {k: outs.final(v) for k, v in staged.items()}


def _change_label(key: str) -> str:
    """``added_parks`` → ``新增 公园绿地 added parks``."""
    op, _, kind = key.partition("_")
    zh = {"added": "新增", "removed": "移除"}.get(op, op)
    return f"{zh}{layer_label(kind, 'zh')} {op} {layer_label(kind, 'en')}"


#: the bases a moved measure is shown on, per method (the others are in the CSV)
_SHOWN_BASES = {"buffer": "residential_area", "network": "residential_area"}


def moved_table(measures: pd.DataFrame, *, title: str) -> Table | None:
    """Every measure the plan moved, both methods side by side: baseline → plan.

    Coverage shares on residential land (the official basis; homes and residents are in the
    CSV), every other measure on its own basis. ``None`` when nothing moved.

    Parameters
    ----------
    measures
        The comparison's measures (baseline and plan values).
    title
        The table's title.

    Returns
    -------
    rich.table.Table or None
    """
    m = measures.copy()
    b, p = m["value_baseline"], m["value_plan"]
    changed = ((b - p).abs() > 1e-9) | (b.isna() != p.isna())
    want = m["method"].map(_SHOWN_BASES)
    m = m.loc[changed & (want.isna() | (m["basis"] == want))]
    if m.empty:
        return None
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("指标 Indicator", overflow="fold", max_width=30)
    for col in ("缓冲区 buffer", "步行网络 network", "其他 other"):
        table.add_column(col, justify="right", no_wrap=True)
    for _, grp in m.groupby("measure", sort=False):
        r0 = grp.iloc[0]
        cells = {"buffer": "", "network": "", "other": ""}
        for _, r in grp.iterrows():
            unit = str(r["unit"])
            vb, vp = r["value_baseline"], r["value_plan"]
            before = format_value(None if pd.isna(vb) else float(vb), unit)
            after = format_value(None if pd.isna(vp) else float(vp), unit)
            method = str(r["method"])
            cells[method if method in ("buffer", "network") else "other"] = f"{before} → {after}"
        table.add_row(
            f"{r0['label_zh']}\n[dim]{r0['label_en']}[/dim]",
            cells["buffer"],
            cells["network"],
            cells["other"],
        )
    return table


def change_table(card: pd.DataFrame, *, title: str) -> Table:
    """Baseline vs plan, bilingual: label, method, target, baseline, plan, change, status.

    Parameters
    ----------
    card
        The comparison scorecard.
    title
        The table's title.

    Returns
    -------
    rich.table.Table
    """
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for col, just in (
        ("指标 Indicator", "left"),
        ("方法 Method", "left"),
        ("目标 Target", "right"),
        ("现状 Baseline", "right"),
        ("规划 Plan", "right"),
        ("变化 Change", "right"),
        ("评估 Status", "left"),
    ):
        table.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    rows = card.loc[card["status_plan"] != Status.NOT_CHECKABLE]
    for _, r in rows.iterrows():
        unit = str(r["unit"])
        b, after = (
            format_value(None if pd.isna(v) else float(v), unit)
            for v in (r["measured_baseline"], r["measured_plan"])
        )
        sb = " ".join(status_text(r["status_baseline"])[0].split()[:2])  # mark + 中文
        sp_full, style = status_text(r["status_plan"])
        sp = " ".join(sp_full.split()[:2])
        table.add_row(
            f"{r['label_zh']}\n[dim]{r['label_en']}[/dim]",
            method_short(r["method"], r["basis"]),
            format_target(r["op"], r["target"], unit, lang="zh", short=True),
            b,
            after,
            gap_text(r["delta"], unit)
            + (" pt" if unit == "share" and pd.notna(r["delta"]) else ""),
            Text(f"{sb} → {sp}", style=style),
        )
    return table
