"""Life-circle definitions (GB 50180-2018): levels, required categories, themed circles.

Read from ``data/life_circles.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from geoplan._errors import InputFileError
from geoplan.rules.categories import FACILITY_CATEGORIES
from geoplan.rules.datafile import (
    DATA_DIR,
    FileContext,
    check_keys,
    is_number,
    read_yaml,
    text_field,
)

#: The bundled life-circle definitions.
LIFE_CIRCLES_PATH: Path = DATA_DIR / "life_circles.yaml"


@dataclass(frozen=True, slots=True)
class LifeCircleLevel:
    """One life-circle level (5, 10 or 15 minutes).

    Attributes
    ----------
    key
        ``"5min"``, ``"10min"`` or ``"15min"``.
    radius_m
        Walking distance of the level, in metres.
    label_zh, label_en
        Labels for reports.
    required
        Facility categories this level requires *in addition to* lower levels (see
        :attr:`LifeCircles.includes_lower_levels`): the standard's ▲ (应配建).
    alternatives
        For a required category, other categories that also satisfy it (the standard's 或,
        e.g. 菜市场或生鲜超市: ``food_market`` may be met by a ``supermarket``).
    residents
        Resident range the level serves, ``(low, high)``, where the standard gives one.
    optional
        The standard's △ (宜配建): reported per category, not required for coverage.
    """

    key: str
    radius_m: float
    label_zh: str
    label_en: str
    required: tuple[str, ...]
    alternatives: Mapping[str, tuple[str, ...]]
    residents: tuple[int, int] | None = None
    optional: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ThemedCircle:
    """A themed circle named by the plans (15分钟健身圈, 阅读圈, …).

    Attributes
    ----------
    key
        Circle name used by the ``circle`` indicator (``params.name``).
    label_zh, label_en
        Labels for reports.
    categories
        Facility categories a home must reach, every one of them.
    alternatives
        As in :class:`LifeCircleLevel`.
    radius_m
        Default radius in metres; a target's ``params.radius_m`` overrides it.
    """

    key: str
    label_zh: str
    label_en: str
    categories: tuple[str, ...]
    alternatives: Mapping[str, tuple[str, ...]]
    radius_m: float


@dataclass(frozen=True, slots=True)
class LifeCircles:
    """The parsed ``life_circles.yaml``.

    Attributes
    ----------
    levels
        ``"5min"``, ``"10min"``, ``"15min"`` -> :class:`LifeCircleLevel`.
    circles
        Themed circles by key.
    includes_lower_levels
        False: each level's ``required`` lists only that level's own categories, and the
        standard requires them in addition to those of lower levels (非包含关系).
    notes
        Caveats to repeat in reports (unconfirmed list, unclassified schools, …).
    path
        The file read.
    """

    levels: Mapping[str, LifeCircleLevel]
    circles: Mapping[str, ThemedCircle]
    includes_lower_levels: bool
    notes: tuple[str, ...]
    path: Path


_LEVEL_KEYS = ("5min", "10min", "15min")


def load_life_circles(path: str | Path | None = None) -> LifeCircles:
    """Load the life-circle levels and themed circles.

    Parameters
    ----------
    path
        YAML file to read; the bundled ``data/life_circles.yaml`` when None.

    Returns
    -------
    LifeCircles

    Raises
    ------
    TargetSheetError
        A malformed file or an unknown facility category key; the message names the file, the
        level or circle and the fix.

    Examples
    --------
    >>> lc = load_life_circles()
    >>> lc.levels["10min"].radius_m
    500.0
    """
    if path is None:
        return _load_bundled_life_circles()
    return _parse_life_circles(Path(path))


@lru_cache(maxsize=1)
def _load_bundled_life_circles() -> LifeCircles:
    return _parse_life_circles(LIFE_CIRCLES_PATH)


def _parse_life_circles(path: Path) -> LifeCircles:
    if not path.is_file():
        raise InputFileError(f"{path}: life-circle file not found; check the path")
    raw = read_yaml(path)
    ctx = FileContext(path)
    check_keys(raw, {"source", "includes_lower_levels", "notes", "levels", "circles"}, "top", ctx)
    lower = raw.get("includes_lower_levels")
    if not isinstance(lower, bool):
        raise ctx.error("'includes_lower_levels' must be true or false", "write false")
    notes = raw.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ctx.error("'notes' must be a list of text", "write notes: ['...']")
    levels_raw = raw.get("levels")
    if not isinstance(levels_raw, dict) or sorted(levels_raw) != sorted(_LEVEL_KEYS):
        raise ctx.error("'levels' must have exactly 5min, 10min, 15min", "add the three levels")
    circles_raw = raw.get("circles")
    if not isinstance(circles_raw, dict) or not circles_raw:
        raise ctx.error("'circles' must be a non-empty mapping", "add the themed circles")
    levels = {k: _parse_level(k, levels_raw[k], path) for k in _LEVEL_KEYS}
    circles = {str(k): _parse_circle(str(k), v, path) for k, v in circles_raw.items()}
    return LifeCircles(
        levels=MappingProxyType(levels),
        circles=MappingProxyType(circles),
        includes_lower_levels=lower,
        notes=tuple(notes),
        path=path,
    )


def _categories(raw: Mapping[str, Any], key: str, where: str, path: Path) -> tuple[str, ...]:
    ctx = FileContext(path)
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise ctx.error(f"{where}: {key!r} must be a non-empty list", "list category keys")
    for cat in value:
        if cat not in FACILITY_CATEGORIES:
            raise ctx.error(
                f"{where}: unknown facility category {cat!r}",
                f"use one of: {', '.join(sorted(FACILITY_CATEGORIES))}",
            )
    return tuple(value)


def _alternatives(
    raw: Mapping[str, Any], cats: tuple[str, ...], where: str, path: Path
) -> Mapping[str, tuple[str, ...]]:
    ctx = FileContext(path)
    value = raw.get("alternatives") or {}
    if not isinstance(value, dict):
        raise ctx.error(f"{where}: 'alternatives' must be a mapping", "write {category: [...]}")
    out: dict[str, tuple[str, ...]] = {}
    for cat, subs in value.items():
        if cat not in cats:
            raise ctx.error(
                f"{where}: alternative given for {cat!r}, which is not listed",
                "add it to the list or drop the alternative",
            )
        out[cat] = _categories({"x": subs}, "x", f"{where} alternatives of {cat}", path)
    return MappingProxyType(out)


def _radius(raw: Mapping[str, Any], where: str, path: Path) -> float:
    radius = raw.get("radius_m")
    if not is_number(radius) or cast(float, radius) <= 0:
        raise FileContext(path).error(f"{where}: 'radius_m' must be a positive number", "e.g. 500")
    return float(cast(float, radius))


def _parse_level(key: str, raw: object, path: Path) -> LifeCircleLevel:
    where = f"level {key}"
    ctx = FileContext(path)
    if not isinstance(raw, dict):
        raise ctx.error(f"{where} must be a mapping", "give radius_m, labels and required")
    allowed = {
        "radius_m",
        "label_zh",
        "label_en",
        "required",
        "optional",
        "alternatives",
        "residents",
    }
    check_keys(raw, allowed, where, ctx)
    required = _categories(raw, "required", where, path)
    optional = _categories(raw, "optional", where, path) if raw.get("optional") else ()
    both = [c for c in optional if c in required]
    if both:
        raise ctx.error(f"{where}: {both[0]!r} is both required and optional", "list it once")
    residents = raw.get("residents")
    if residents is not None and not (
        isinstance(residents, list) and len(residents) == 2 and all(is_number(r) for r in residents)
    ):
        raise ctx.error(f"{where}: 'residents' must be [low, high]", "e.g. [5000, 12000]")
    return LifeCircleLevel(
        key=key,
        radius_m=_radius(raw, where, path),
        label_zh=cast(str, text_field(raw, "label_zh", ctx)),
        label_en=cast(str, text_field(raw, "label_en", ctx)),
        required=required,
        alternatives=_alternatives(raw, (*required, *optional), where, path),
        residents=(int(residents[0]), int(residents[1])) if residents else None,
        optional=optional,
    )


def _parse_circle(key: str, raw: object, path: Path) -> ThemedCircle:
    where = f"circle {key}"
    ctx = FileContext(path)
    if not isinstance(raw, dict):
        raise ctx.error(f"{where} must be a mapping", "give labels, categories and radius_m")
    allowed = {"label_zh", "label_en", "categories", "alternatives", "radius_m"}
    check_keys(raw, allowed, where, ctx)
    categories = _categories(raw, "categories", where, path)
    return ThemedCircle(
        key=key,
        label_zh=cast(str, text_field(raw, "label_zh", ctx)),
        label_en=cast(str, text_field(raw, "label_en", ctx)),
        categories=categories,
        alternatives=_alternatives(raw, categories, where, path),
        radius_m=_radius(raw, where, path),
    )
