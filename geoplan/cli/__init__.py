"""The ``geoplan`` command line (typer)."""

from geoplan.cli.app import app

__all__ = ["app"]
