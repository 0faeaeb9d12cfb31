"""``geoplan run``: run a scenario file, print baseline vs plan, write the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from geoplan.cli.console import console, is_quiet, run_cli_errors, state


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
        from geoplan.scenario.files import run_scenario_file

        result, files = run_scenario_file(scenario, out=out, sheet=sheet, lang=lang)
        con = console()
        table = Table(title=f"{result.name}: baseline → plan", show_lines=False)
        for col in ("target", "method", "basis", "goal", "baseline", "plan", "delta", "status"):
            table.add_column(col)
        for r in result.summary().itertuples():
            table.add_row(
                str(r.target_id),
                str(r.method),
                str(r.basis),
                str(r.target),
                _fmt(r.measured_baseline),
                _fmt(r.measured_plan),
                _fmt(r.delta),
                f"{r.status_baseline} → {r.status_plan}",
            )
        con.print(table)
        con.print(f"added/removed: {result.log.counts()}  seconds: {result.seconds}")
        for note in result.notes:
            con.print(f"note: {note}")
        for p in files.values():
            if is_quiet():
                typer.echo(str(p))
            else:
                con.print(f"wrote {p}")


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "" if v != v else f"{v:.4g}"
    return str(v)
