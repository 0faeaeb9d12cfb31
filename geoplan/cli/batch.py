"""``geoplan batch``: many places at once, locally or on a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from geoplan.cli.options import (
    QuietOpt,
)
from geoplan.outputs.formats import ATTRIBUTION


def batch(  # numpydoc ignore=PR01
    *,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.yaml", help="Batch file: places (see --help).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", metavar="DIR", help="DIR/<name>/… per place, DIR/summary.csv|.xlsx, overview."
        ),
    ] = Path("maps/batch"),
    workers: Annotated[
        int, typer.Option("--workers", "-w", help="Local worker processes (1 = serial).")
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", metavar="ADDRESS", help="Run on a Dask cluster: tcp://HOST:8786."
        ),
    ] = None,
    dask_local: Annotated[
        int | None,
        typer.Option("--dask-local", metavar="N", help="Start a Dask LocalCluster of N workers."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-run places whose inputs did not change.")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Check many places 多城市批量核查 and rank them.

    FILE.yaml lists places (each: name, osm, boundary or district, targets, and optionally
    population, facilities, built_up, units, crs), or one shared `osm:` plus `districts:`.
    Each place's scorecard, tables, homes GeoPackage and map go to DIR/<name>/; DIR/summary.csv
    and .xlsx hold one row per place (every figure, pass counts, rank) and DIR/overview.html
    colours the places by pass rate. A failing place is reported in one line and the others go
    on (exit status 1 if any failed). Unchanged places are skipped on re-run unless --force.

    Examples
    --------
      geoplan batch places.yaml --out out/batch --workers 2

      geoplan batch places.yaml --out out/batch --dask-local 2

      geoplan batch places.yaml --out /shared/out --scheduler tcp://10.0.0.5:8786
    """
    from geoplan.batch import load_batch, run_batch
    from geoplan.cli.console import console, is_quiet, run_cli_errors

    with run_cli_errors():
        quiet = quiet or is_quiet()
        con = console()
        if quiet:
            con.quiet = True
        b = load_batch(file)
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=con,
            disable=quiet or not con.is_terminal,
        )
        with progress:
            task = progress.add_task("places", total=len(b.places))

            def done(row: dict[str, Any]) -> None:
                mark = {"ok": "✔", "skipped": "↺", "failed": "✘"}.get(row["status"], "◐")
                progress.update(task, advance=1, description=f"{mark} {row['name']}")
                if not progress.disable:
                    return
                con.print(f"{mark} {row['name']} ({row['status']}, {row['seconds']} s)")

            res = run_batch(
                b,
                out,
                workers=workers,
                scheduler=scheduler,
                dask_local=dask_local,
                force=force,
                on_done=done,
                on_start=lambda link: con.print(f"Dask dashboard: {link}"),
            )
        con.print(_table(res.rows, f"{b.name}: {len(b.places)} places · {res.engine}"))
        for r in res.failed:
            con.print(f"[red]failed[/red] {r['name']}: {r['error']}")
        for kind, p in res.files.items():
            con.print(f"{kind}: {p}")
        con.print(f"[dim]{ATTRIBUTION}[/dim]")
        if res.failed:
            raise typer.Exit(1)


def _table(rows: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title)
    for c in ("地区 place", "状态 status", "达标 pass", "未达标 fail", "达标率 rate", "用时 s"):
        t.add_column(c)
    for r in rows:
        rate = r.get("pass_rate")
        t.add_row(
            r["name"],
            r["status"],
            str(r.get("pass", "")),
            str(r.get("fail", "")),
            f"{rate:.0%}" if isinstance(rate, float) else "",
            f"{r['seconds']:.1f}",
        )
    return t
