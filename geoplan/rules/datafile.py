"""Reading geoplan's YAML data files with one-line errors naming the file, the entry and the fix."""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from geoplan._errors import TargetSheetError

DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping, or a one-line error naming the file and line.

    Parameters
    ----------
    path
        A YAML file (a target sheet, life circles).

    Returns
    -------
    dict
        Its top-level mapping.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise TargetSheetError(f"{path}:{where} is not valid YAML; fix the syntax") from exc
    if not isinstance(data, dict):
        raise TargetSheetError(f"{path}: expected a YAML mapping at the top level")
    return data


@cache
def indicator_default(indicator: str, name: str) -> Any:
    """The default of a parameter of an indicator, as written once in ``indicators.yaml``.

    For the keyword options of the engine's pure functions, so that a caller who leaves one out
    gets the registry's default (lists come back as tuples).

    Parameters
    ----------
    indicator
        Registry id.
    name
        Parameter name.

    Returns
    -------
    Any
        Its ``default``.
    """
    value = read_yaml(DATA_DIR / "indicators.yaml")[indicator]["parameters"][name]["default"]
    return tuple(value) if isinstance(value, list) else value


class FileContext:
    """Builds one-line error messages naming the file and the target.

    Parameters
    ----------
    path
        The data file.
    target_id
        The target (row) being read, if any.
    """

    def __init__(self, path: Path, target_id: str | None = None) -> None:
        self.path = path
        self.target_id = target_id

    def error(self, problem: str, fix: str) -> TargetSheetError:
        """The error to raise: file, entry, problem and fix in one line.

        Parameters
        ----------
        problem
            What is wrong.
        fix
            What to do about it.

        Returns
        -------
        TargetSheetError
            To raise.
        """
        where = f"target {self.target_id!r}: " if self.target_id else ""
        return TargetSheetError(f"{self.path}: {where}{problem}; {fix}")


def check_keys(raw: Mapping[str, Any], allowed: set[str], what: str, ctx: FileContext) -> None:
    """Refuse keys of ``raw`` that are not in ``allowed`` (with the valid ones).

    Parameters
    ----------
    raw
        A mapping read from the file.
    allowed
        Its valid keys.
    what
        What the mapping is, for the message.
    ctx
        The file and target, for the message.
    """
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ctx.error(
            f"unknown {what} key(s) {', '.join(unknown)}",
            f"use only: {', '.join(sorted(allowed))}",
        )


def text_field(
    raw: Mapping[str, Any], key: str, ctx: FileContext, *, required: bool = True
) -> str | None:
    """A non-empty text value of ``raw[key]`` (``None`` if optional and absent).

    Parameters
    ----------
    raw
        A mapping read from the file.
    key
        The field.
    ctx
        The file and target, for the message.
    required
        Refuse a missing field.

    Returns
    -------
    str or None
    """
    value = raw.get(key)
    if value is None:
        if required:
            raise ctx.error(f"missing {key!r}", f"add a non-empty {key!r}")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
        raise ctx.error(f"{key!r} must be non-empty text", f"write {key!r} as a string")
    return str(value)


def is_number(value: object) -> bool:
    """Whether ``value`` is an int or float (not a bool, not NaN).

    Parameters
    ----------
    value
        Any value.

    Returns
    -------
    bool
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not (isinstance(value, float) and math.isnan(value))
