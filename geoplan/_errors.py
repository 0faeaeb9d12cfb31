"""Exceptions raised by geoplan.

Every error a user can cause subclasses a built-in exception and carries a one-line message that
names the file, the layer and what to do. The CLI prints that line and exits with status 2; it never
shows a traceback for a user mistake.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


class InputFileError(GeoplanError, FileNotFoundError):
    """An input file is missing, unreadable or of an unknown format."""


class LayerError(GeoplanError, ValueError):
    """A layer is empty, lacks a required attribute, or has an unusable CRS / geometry."""


class CRSError(GeoplanError, ValueError):
    """A coordinate reference system is unknown or not metric where one is required."""


class TargetSheetError(GeoplanError, ValueError):
    """A target sheet is unknown or malformed."""


class ScenarioError(GeoplanError, ValueError):
    """A scenario file is malformed (unknown key, wrong type, missing layer)."""


class OutputError(GeoplanError, OSError):
    """An output folder or file cannot be used (a file, unwritable, an input, foreign layers)."""


class DownloadError(GeoplanError, RuntimeError):
    """An online download (Overpass) failed or was not allowed."""


def unknown_message(what: str, got: str, valid: Sequence[str], where: str) -> str:
    """One line naming a wrong key and the closest valid one: ``where: unknown <what> …``.

    Parameters
    ----------
    what
        What the key names (``category``, ``indicator`` …).
    got
        The key given.
    valid
        The valid keys.
    where
        Where it was given (file, row, option).

    Returns
    -------
    str
        The message.
    """
    by_lower = {str(v).lower(): str(v) for v in valid}
    close = [
        by_lower[c]
        for c in difflib.get_close_matches(str(got).lower(), list(by_lower), n=1, cutoff=0.5)
    ]
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{where}: unknown {what} {got!r}; {hint}valid: {', '.join(valid)}"
