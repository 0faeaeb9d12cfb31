"""The CLI's console, quiet mode and error handling (a user mistake prints one line, exit 2)."""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from geoplan._errors import GeoplanError
from geoplan._version import __version__

state = {"quiet": False, "debug": False}


def _err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def is_quiet() -> bool:
    """True when ``--quiet`` was given (globally or to the command).

    Returns
    -------
    bool
    """
    return state["quiet"]


def console() -> Console:
    """Console for normal output on stdout; prints nothing with ``--quiet``.

    Returns
    -------
    rich.console.Console
    """
    con = Console(quiet=is_quiet(), highlight=False)
    if not con.is_terminal:  # pipes and log files: wide enough for the scorecard tables
        con.width = 140
    return con


@contextmanager
def run_cli_errors() -> Iterator[None]:
    """Turn user mistakes into one red ``error: <message>`` line on stderr and exit status 2.

    Catches :class:`geoplan.GeoplanError` (bad input files, CRS, boundaries, download failures)
    and :class:`OSError` (unwritable output directory, disk full); everything else is a bug and
    keeps its traceback. Usable as ``with run_cli_errors():`` or as a decorator
    ``@run_cli_errors()``.
    """
    try:
        yield
    except GeoplanError as exc:
        _fail(str(exc), exc)
    except OSError as exc:
        _fail(_os_message(exc), exc)
    except KeyboardInterrupt as exc:
        _fail("interrupted", exc, code=130)


_STAGED = re.compile(r"/\.geoplan-[^/]+\.staging/\.?")
_TMP = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp$")


def user_path(path: object) -> str:
    """The path the user asked for, for a path inside an output set's staging folder.

    ``out/.geoplan-x1.staging/.name_scorecard.csv.ab12cd34.tmp`` → ``out/name_scorecard.csv``.

    Parameters
    ----------
    path
        A path, possibly a staging path.

    Returns
    -------
    str
        The final path.
    """
    text = str(path)
    return _TMP.sub("", _STAGED.sub("/", text))


def _os_message(exc: OSError) -> str:
    """An OSError as one line with the path (the user's, never a staging path) and the fix."""
    if exc.filename:
        exc.filename = user_path(exc.filename)
    if getattr(exc, "errno", None) == errno.ENAMETOOLONG and exc.filename:
        name = Path(str(exc.filename)).name
        return (
            f"{exc.filename}: the file name is too long ({len(name.encode())} bytes, the limit "
            "is 255); give a shorter --name or a shorter OSM file name"
        )
    if isinstance(exc, PermissionError) and exc.filename:
        return f"{exc.filename}: permission denied; choose a file or folder you can write to"
    if isinstance(exc, FileExistsError) and exc.filename:
        return f"{exc.filename}: exists and is in the way; give another path"
    if exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


def _fail(message: str, exc: BaseException | None = None, *, code: int = 2) -> None:
    line = " ".join(message.split())  # exactly one line
    _err_console().print(Text(f"error: {line}", style="bold red"))
    if state["debug"] and exc is not None:  # --debug: the traceback too
        raise exc
    raise typer.Exit(code)


def show_version(value: bool) -> None:
    """Print the version and exit (the ``--version`` callback).

    Parameters
    ----------
    value
        Whether ``--version`` was given.
    """
    if value:
        typer.echo(f"geoplan {__version__}")
        raise typer.Exit()
