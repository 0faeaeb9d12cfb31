"""``geoplan run``: run a scenario file, print baseline vs plan, write the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from geoplan._outputs_set import check_output_dir, output_set
from geoplan.cli.check import method_text, status_text
from geoplan.cli.console import console, is_quiet, run_cli_errors, state
from geoplan.names import Status, layer_label
from geoplan.outputs.formats import format_target, format_value
from geoplan.scenario.compare import ScenarioResult


def run(
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
    """
    from geoplan.city import Study
    from geoplan.outputs.scenario_set import write_scenario
    from geoplan.scenario import ScenarioSession, load_scenario_file

    check_output_dir(Path(out))
    scn = load_scenario_file(path)
    if name is not None:
        from geoplan._errors import ScenarioError
        from geoplan.city.study import NAME_PATTERN

        if not NAME_PATTERN.match(name) or set(name) <= {"."}:
            raise ScenarioError(
                f"--name {name!r} must be folder-safe (letters, 汉字, digits, _ - .): it names "
                "the output files"
            )
        scn.name = name
    city = scn.load_base()
    result = ScenarioSession(city).run(scn, sheet=sheet)
    inputs: list[str | Path | None] = [path]
    if isinstance(scn.base, Study):
        inputs += scn.base.input_files()
    inputs += [c.layer for c in scn.changes if isinstance(c.layer, str | Path)]
    with output_set(f"run-{result.name}", inputs=inputs) as outs:
        staged = write_scenario(result, outs.dir(out), lang=lang)
    return result, {k: outs.final(v) for k, v in staged.items()}


def _change_label(key: str) -> str:
    """``added_parks`` → ``新增 公园绿地 added parks``."""
    op, _, kind = key.partition("_")
    zh = {"added": "新增", "removed": "移除"}.get(op, op)
    return f"{zh}{layer_label(kind, 'zh')} {op} {layer_label(kind, 'en')}"


def change_table(card: pd.DataFrame, *, title: str) -> Table:
    """Baseline vs plan, bilingual: label, method, target, baseline, plan, change, status."""
    table = Table(title=title, title_justify="left")
    for col, just in (
        ("指标 Indicator", "left"),
        ("方法 Method", "left"),
        ("目标 Target", "right"),
        ("现状 Baseline", "right"),
        ("规划 Plan", "right"),
        ("变化 Change", "right"),
        ("评估 Status", "left"),
    ):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    rows = card.loc[card["status_plan"] != Status.NOT_CHECKABLE]
    for _, r in rows.iterrows():
        unit = str(r["unit"])
        b, after = (
            format_value(None if pd.isna(v) else float(v), unit)
            for v in (r["measured_baseline"], r["measured_plan"])
        )
        d = r["delta"]
        delta = "" if pd.isna(d) else (f"{100 * d:+.1f} pt" if unit == "share" else f"{d:+.2f}")
        target = format_target(r["op"], r["target"], unit)
        sb = " ".join(status_text(r["status_baseline"])[0].split()[:2])  # mark + 中文
        sp_full, style = status_text(r["status_plan"])
        sp = " ".join(sp_full.split()[:2])
        table.add_row(
            f"{r['label_zh']}\n[dim]{r['label_en']}[/dim]",
            method_text(r["method"], r["basis"]),
            target,
            b,
            after,
            delta,
            Text(f"{sb} → {sp}", style=style),
        )
    return table
