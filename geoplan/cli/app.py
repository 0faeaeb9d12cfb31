"""The ``geoplan`` command line (typer).

Commands
--------
``geoplan layers``
    Load a real city from OpenStreetMap and write its metric layers to one GeoPackage.

Adding a command
----------------
Each command lives in its own module (``cli/layers.py``, ``cli/check.py``, ``cli/run.py``) and is
registered at the end of this module with ``app.command(name=...)(function)``; keep the command a
thin wrapper. Wrap the body in
:func:`run_cli_errors` so that a user mistake (any :class:`geoplan.GeoplanError`) prints ONE red
line ``error: <message>`` on stderr and exits with status 2, never a traceback::

    def check(osm: str = typer.Option(...)) -> None:
        \"\"\"Scorecard ... (help text with an example)\"\"\"
        with run_cli_errors():
            ...

Use :func:`console` for output (silent with ``--quiet``) and :func:`is_quiet` to decide on
progress bars.
"""

from __future__ import annotations

from typing import Annotated

import typer

from geoplan.cli import batch as batch_cmd
from geoplan.cli import check as check_cmd
from geoplan.cli import indicators as indicators_cmd
from geoplan.cli import layers as layers_cmd
from geoplan.cli import run as run_cmd
from geoplan.cli import suggest as suggest_cmd
from geoplan.cli.console import show_version, state

app = typer.Typer(
    name="geoplan",
    help=(
        "geoplan — check Chinese city plan targets (15-minute life circles 十五分钟生活圈, "
        "park and bus-stop coverage 公园/公交覆盖率, road density 路网密度) against real "
        "OpenStreetMap geography.\n\n"
        "Examples:\n\n"
        "  geoplan layers --osm demo --out layers/\n\n"
        "  geoplan suggest --osm demo -i bus_stop_coverage --method network --out out/\n\n"
        "  geoplan layers --osm chengdu.osm.pbf --boundary study_area.geojson --crs 4547 "
        "--out layers/\n\n"
        '  geoplan layers --place "郑州市中原区" --download --out layers/\n\n'
        "Run `geoplan COMMAND --help` for each command. "
        "Data © OpenStreetMap contributors (ODbL)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def main(  # numpydoc ignore=PR01
    *,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=show_version, is_eager=True
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No tables or progress bars (errors still shown)."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="On an error, also show the Python traceback."),
    ] = False,
) -> None:
    """Geoplan command line."""
    state["quiet"] = quiet
    state["debug"] = debug


app.command(name="layers")(layers_cmd.layers)
app.command(name="check")(check_cmd.check)
app.command(name="map")(check_cmd.map_cmd)
app.command(name="run")(run_cmd.run)
app.command(name="indicators")(indicators_cmd.indicators)
app.command(name="suggest")(suggest_cmd.suggest)
app.command(name="batch")(batch_cmd.batch)
app.command(name="report")(check_cmd.report_cmd)


if __name__ == "__main__":  # python -m geoplan.cli.app
    app()
