"""Target sheets: plan targets as data files, and the life-circle definitions they refer to.

A *target sheet* is a YAML file listing the measurable targets of one plan (a Chinese city action
plan, or the national defaults). Each target either names a checkable indicator, with its
parameters, a comparison and a value, or is marked ``checkable: false`` with a reason, so that
targets a map cannot check (urbanisation rate, sewage treatment rate, …) are still reported rather
than silently dropped. Bundled sheets live in :data:`TARGET_SHEETS_DIR`; users can load their own
YAML file with the same schema.

Schema of a sheet (top-level keys)::

    id: anyang-2023                 # sheet id, the file stem for bundled sheets
    name_zh: ...                    # plan title
    name_en: ...
    year: 2023                      # plan horizon
    source: {title, doc_no, issuer, date, seed_file, note}   # title required
    targets:
      - id: park_service_coverage   # snake_case, unique in the sheet
        label_zh: 公园绿地服务半径覆盖率
        label_en: Park service-radius coverage
        clause: {section: "二、(一)", text: "公园绿地服务半径覆盖率达到80%以上", verbatim: true}
        indicator: park_service_coverage   # checkable targets ...
        params: {}
        op: ">="                     # ">=", "<=", "==", "between"
        value: 0.8                   # number, or [lo, hi] for "between"
        unit: share                  # share | km/km2 | m2/person | per_km2 | count
        # ... or: checkable: false, value (number or text), reason
        # optional: year, scope, implied (value not written in the plan), note

``load_life_circles`` reads ``data/life_circles.yaml``: the required facility categories of the
5-, 10- and 15-minute life circles (GB 50180-2018 Appendix B, TD/T 1062-2021; unconfirmed) and the
themed circles (15分钟健身圈, 阅读圈, …) that the ``life_circle`` and ``circle`` indicators use.

Examples
--------
>>> from geoplan.targets import load_target_sheet
>>> sheet = load_target_sheet("luoyang-2023")
>>> target = sheet.get("park_service_coverage")
>>> target.evaluate(0.85).status
'fail'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

import yaml

from geoplan._errors import InputFileError, TargetSheetError

__all__ = [
    "FACILITY_CATEGORIES",
    "INDICATORS",
    "LIFE_CIRCLES_PATH",
    "TARGET_SHEETS_DIR",
    "UNITS",
    "Clause",
    "IndicatorSpec",
    "LifeCircleLevel",
    "LifeCircles",
    "Op",
    "ParamSpec",
    "Source",
    "Status",
    "Target",
    "TargetSheet",
    "ThemedCircle",
    "Verdict",
    "list_target_sheets",
    "load_life_circles",
    "load_target_sheet",
]

_DATA_DIR = Path(__file__).resolve().parent / "data"
#: Folder holding the bundled target sheets (``<sheet id>.yaml``).
TARGET_SHEETS_DIR: Path = _DATA_DIR / "targets"
#: The bundled life-circle definitions.
LIFE_CIRCLES_PATH: Path = _DATA_DIR / "life_circles.yaml"

Op = Literal[">=", "<=", "==", "between"]
Status = Literal["pass", "fail", "no data", "not checkable"]
_OPS: tuple[str, ...] = get_args(Op)

#: Units a checkable target may use. Percentages are stored as shares (80% -> 0.8).
UNITS: frozenset[str] = frozenset({"share", "km/km2", "m2/person", "per_km2", "count"})

#: Facility category keys the life circles may require. They mirror the facility taxonomy data
#: file; a key missing there is a typo here.
FACILITY_CATEGORIES: frozenset[str] = frozenset(
    {
        "kindergarten",
        "primary_school",
        "middle_school",
        "school_unknown",
        "health_centre",
        "clinic",
        "pharmacy",
        "elderly_care",
        "elderly_day_care",
        "culture_centre",
        "library",
        "community_service",
        "sports_large",
        "sports_small",
        "mall",
        "food_market",
        "supermarket",
        "convenience",
        "restaurant",
        "bank_post",
        "toilet",
        "waste",
        "bus_stop",
        "park",
        "green",
    }
)

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_SHEET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# --------------------------------------------------------------------------------------------
# Indicator catalogue
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One allowed parameter of an indicator.

    Parameters
    ----------
    kind
        ``"choice"`` (value must be one of ``choices``), ``"number"`` (a non-negative number),
        ``"name"`` (a snake_case word) or ``"circle"`` (a themed-circle key from
        ``life_circles.yaml``).
    choices
        Allowed values for ``"choice"``.
    required
        Whether a target must give the parameter.
    """

    kind: Literal["choice", "number", "name", "circle"]
    choices: tuple[str | int, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """What a checkable indicator returns and which parameters it accepts.

    Parameters
    ----------
    unit
        The unit of the indicator's value (one of :data:`UNITS`).
    params
        Allowed parameters by name.
    description
        One line saying what is measured.
    """

    unit: str
    params: Mapping[str, ParamSpec]
    description: str


def _spec(unit: str, description: str, **params: ParamSpec) -> IndicatorSpec:
    return IndicatorSpec(unit=unit, params=MappingProxyType(params), description=description)


_NUMBER = ParamSpec("number")

#: The indicators a target sheet may name, with their unit and allowed parameters. These are the
#: functions the indicator engine implements.
INDICATORS: Mapping[str, IndicatorSpec] = MappingProxyType(
    {
        "life_circle": _spec(
            "share",
            "share of homes reaching every required category of a life-circle level",
            level=ParamSpec("choice", ("5min", "10min", "15min"), required=True),
        ),
        "circle": _spec(
            "share",
            "share of homes reaching every category of a themed circle within radius_m",
            name=ParamSpec("circle", required=True),
            radius_m=_NUMBER,
        ),
        "park_service_coverage": _spec("share", "公园绿地服务半径覆盖率"),
        "green_300m": _spec("share", "300米见绿: share of homes with public green within 300 m"),
        "park_500m": _spec("share", "500米见园: share of homes with a park within 500 m"),
        "bus_stop_coverage": _spec(
            "share",
            "公交站点覆盖率: share within radius_m of a bus stop",
            radius_m=ParamSpec("choice", (300, 500), required=True),
        ),
        "road_density": _spec("km/km2", "路网密度: road centreline km per km2"),
        "intersection_density": _spec("per_km2", "intersections per km2"),
        "green_land_ratio": _spec("share", "绿地率 (OSM approximation)"),
        "green_cover_ratio": _spec("share", "绿化覆盖率 (needs a land-cover raster)"),
        "park_area_per_resident": _spec("m2/person", "人均公园绿地面积 (needs population)"),
        "road_area_ratio": _spec("share", "道路面积率"),
        "road_area_per_resident": _spec("m2/person", "人均道路面积 (needs population)"),
        "count_added": _spec(
            "count",
            "number of features of a kind added by a plan scenario",
            kind=ParamSpec("name", required=True),
            min_area_m2=_NUMBER,
            max_area_m2=_NUMBER,
        ),
    }
)


# --------------------------------------------------------------------------------------------
# Target sheets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clause:
    """Where a target comes from in its document.

    Parameters
    ----------
    section
        Section number in the document's own numbering, e.g. ``"二、(一)"``.
    text
        The sentence(s) the target comes from, quoted verbatim (when ``verbatim``).
    verbatim
        False when ``text`` is a paraphrase (the national sheet, whose standards are not at hand).
    """

    section: str
    text: str
    verbatim: bool = True


@dataclass(frozen=True, slots=True)
class Source:
    """The document a sheet was transcribed from.

    Parameters
    ----------
    title
        Document title.
    doc_no
        文号 (issue number), if the document has one.
    issuer, date
        Issuing body and date, where known.
    seed_file
        File name of the document's text in ``shared/seeds/``, if any.
    note
        Anything else worth saying about the source.
    """

    title: str
    doc_no: str | None = None
    issuer: str | None = None
    date: str | None = None
    seed_file: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking one target against a measured value.

    Parameters
    ----------
    target_id
        The target checked.
    status
        ``"pass"``, ``"fail"``, ``"no data"`` (nothing measured) or ``"not checkable"``.
    measured
        The measured value, in the target's unit, or None.
    gap
        ``measured - target``: for ``>=`` a negative gap is the shortfall; for ``<=`` a positive
        gap is the excess; for ``between`` the distance past the nearer bound (0 inside);
        None when there is no data or the target is not checkable.
    """

    target_id: str
    status: Status
    measured: float | None
    gap: float | None

    @property
    def passed(self) -> bool:
        """True when the target is met."""
        return self.status == "pass"


@dataclass(frozen=True, slots=True)
class Target:
    """One target of a plan.

    Parameters
    ----------
    id
        snake_case id, unique in its sheet.
    label_zh, label_en
        Labels for reports.
    clause
        Where the target comes from (see :class:`Clause`).
    checkable
        Whether an indicator can check it from map data.
    value
        Target value: a number, ``(lo, hi)`` for ``between``; for targets that are not checkable
        also free text (``"13.14万亩"``).
    indicator, params, op, unit
        The check: indicator name (one of :data:`INDICATORS`), its parameters, the comparison and
        the unit (shares are 0..1). ``op`` and ``unit`` may also describe a non-checkable target.
    reason
        Why a target is not checkable.
    year
        Deadline year, when it differs from the sheet's.
    scope
        Area the target applies to (中心城区, 建成区, 乡镇政府驻地 …) when the document says so.
    implied
        True when the document names the goal but not the figure, and ``value`` is the
        figure implied by the wording (e.g. 全覆盖 -> 1.0); ``note`` says why.
    note
        Free-text remark on the reading of the clause.
    """

    id: str
    label_zh: str
    label_en: str
    clause: Clause
    checkable: bool
    value: float | tuple[float, float] | str
    indicator: str | None = None
    params: Mapping[str, str | float] = field(default_factory=lambda: MappingProxyType({}))
    op: Op | None = None
    unit: str | None = None
    reason: str | None = None
    year: int | None = None
    scope: str | None = None
    implied: bool = False
    note: str | None = None

    def evaluate(self, measured: float | None, *, abs_tol: float = 1e-9) -> Verdict:
        """Compare a measured value with this target.

        Parameters
        ----------
        measured
            Value measured by the target's indicator, in the target's unit (shares 0..1).
            None or NaN means nothing could be measured.
        abs_tol
            Absolute tolerance of every comparison, so that floating-point noise
            (0.7999999999 against 0.8) does not fail a target.

        Returns
        -------
        Verdict
            ``"not checkable"`` for targets marked so, ``"no data"`` when ``measured`` is
            None/NaN, otherwise ``"pass"`` or ``"fail"`` with the signed gap.

        Examples
        --------
        >>> t = Target("x", "x", "x", Clause("一", "x"), True, 0.8, "park_500m", op=">=")
        >>> v = t.evaluate(0.75)
        >>> v.status, round(v.gap, 2)
        ('fail', -0.05)
        """
        if not self.checkable or self.op is None or isinstance(self.value, str):
            return Verdict(self.id, "not checkable", measured, None)
        if measured is None or math.isnan(measured):
            return Verdict(self.id, "no data", None, None)
        measured = float(measured)
        if self.op == "between":
            lo, hi = cast(tuple[float, float], self.value)
            gap = measured - lo if measured < lo else measured - hi if measured > hi else 0.0
            ok = lo - abs_tol <= measured <= hi + abs_tol
        else:
            goal = cast(float, self.value)
            gap = measured - goal
            if self.op == ">=":
                ok = gap >= -abs_tol
            elif self.op == "<=":
                ok = gap <= abs_tol
            else:
                ok = abs(gap) <= abs_tol
        return Verdict(self.id, "pass" if ok else "fail", measured, gap)


@dataclass(frozen=True, slots=True)
class TargetSheet:
    """The targets of one plan.

    Parameters
    ----------
    id, name_zh, name_en, year
        Sheet id, plan title and horizon year.
    source
        The document (see :class:`Source`).
    targets
        The targets, in document order.
    path
        The YAML file the sheet was read from.
    """

    id: str
    name_zh: str
    name_en: str
    year: int
    source: Source
    targets: tuple[Target, ...]
    path: Path

    @property
    def checkable(self) -> tuple[Target, ...]:
        """The targets an indicator can check."""
        return tuple(t for t in self.targets if t.checkable)

    def get(self, target_id: str) -> Target:
        """Return the target with this id.

        Raises
        ------
        KeyError
            If the sheet has no such target; the message lists the ids it has.
        """
        for target in self.targets:
            if target.id == target_id:
                return target
        ids = ", ".join(t.id for t in self.targets)
        raise KeyError(f"sheet {self.id!r} has no target {target_id!r}; it has: {ids}")


def list_target_sheets() -> list[str]:
    """Return the ids of the bundled target sheets, sorted.

    Examples
    --------
    >>> "national" in list_target_sheets()
    True
    """
    return sorted(p.stem for p in TARGET_SHEETS_DIR.glob("*.yaml"))


def load_target_sheet(name_or_path: str | Path) -> TargetSheet:
    """Load and validate a target sheet.

    Parameters
    ----------
    name_or_path
        A bundled sheet id (``"anyang-2023"``; see :func:`list_target_sheets`) or the path of a
        YAML file with the same schema.

    Returns
    -------
    TargetSheet

    Raises
    ------
    TargetSheetError
        Unknown sheet id (the message lists the available ones), or a malformed sheet: the
        one-line message names the file, the target and the fix.
    InputFileError
        A path that does not exist.
    """
    path = _resolve_sheet(name_or_path)
    return _parse_sheet(_read_yaml(path), path)


def _resolve_sheet(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, Path)
        or text.endswith((".yaml", ".yml"))
        or "/" in text
        or "\\" in text
    )
    if looks_like_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise InputFileError(f"{path}: target sheet file not found; check the path")
        return path
    path = TARGET_SHEETS_DIR / f"{text}.yaml"
    if not path.is_file():
        available = ", ".join(list_target_sheets())
        raise TargetSheetError(
            f"unknown target sheet {text!r}; available: {available} (or give a path to a .yaml)"
        )
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise TargetSheetError(f"{path}:{where} is not valid YAML; fix the syntax") from exc
    if not isinstance(data, dict):
        raise TargetSheetError(f"{path}: expected a YAML mapping at the top level")
    return data


class _Ctx:
    """Builds one-line error messages naming the file and the target."""

    def __init__(self, path: Path, target_id: str | None = None) -> None:
        self.path = path
        self.target_id = target_id

    def error(self, problem: str, fix: str) -> TargetSheetError:
        where = f"target {self.target_id!r}: " if self.target_id else ""
        return TargetSheetError(f"{self.path}: {where}{problem}; {fix}")


_SHEET_KEYS = {"id", "name_zh", "name_en", "year", "source", "targets"}
_SOURCE_KEYS = {"title", "doc_no", "issuer", "date", "seed_file", "note"}
_TARGET_KEYS = {
    "id",
    "label_zh",
    "label_en",
    "clause",
    "checkable",
    "indicator",
    "params",
    "op",
    "value",
    "unit",
    "reason",
    "year",
    "scope",
    "implied",
    "note",
}
_CLAUSE_KEYS = {"section", "text", "verbatim"}


def _check_keys(raw: Mapping[str, Any], allowed: set[str], what: str, ctx: _Ctx) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ctx.error(
            f"unknown {what} key(s) {', '.join(unknown)}",
            f"use only: {', '.join(sorted(allowed))}",
        )


def _text(raw: Mapping[str, Any], key: str, ctx: _Ctx, *, required: bool = True) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise ctx.error(f"missing {key!r}", f"add a non-empty {key!r}")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool) or str(value) == "":
        raise ctx.error(f"{key!r} must be non-empty text", f"write {key!r} as a string")
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse_sheet(raw: Mapping[str, Any], path: Path) -> TargetSheet:
    ctx = _Ctx(path)
    _check_keys(raw, _SHEET_KEYS, "sheet", ctx)
    sheet_id = cast(str, _text(raw, "id", ctx))
    if not _SHEET_ID.match(sheet_id):
        raise ctx.error(f"sheet id {sheet_id!r} is not kebab-case", "use e.g. 'anyang-2023'")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ctx.error("'year' must be an integer", "give the plan horizon year, e.g. 2023")
    source_raw = raw.get("source")
    if not isinstance(source_raw, dict):
        raise ctx.error("'source' must be a mapping", "give at least source: {title: ...}")
    _check_keys(source_raw, _SOURCE_KEYS, "source", ctx)
    source = Source(
        title=cast(str, _text(source_raw, "title", ctx)),
        **{k: _text(source_raw, k, ctx, required=False) for k in sorted(_SOURCE_KEYS - {"title"})},
    )
    targets_raw = raw.get("targets")
    if not isinstance(targets_raw, list) or not targets_raw:
        raise ctx.error("'targets' must be a non-empty list", "list the plan's targets")
    targets: list[Target] = []
    seen: set[str] = set()
    for index, item in enumerate(targets_raw):
        target = _parse_target(item, path, index)
        if target.id in seen:
            raise _Ctx(path, target.id).error("duplicate target id", "give each target its own id")
        seen.add(target.id)
        targets.append(target)
    return TargetSheet(
        id=sheet_id,
        name_zh=cast(str, _text(raw, "name_zh", ctx)),
        name_en=cast(str, _text(raw, "name_en", ctx)),
        year=year,
        source=source,
        targets=tuple(targets),
        path=path,
    )


def _parse_clause(raw: object, ctx: _Ctx) -> Clause:
    if not isinstance(raw, dict):
        raise ctx.error(
            "'clause' must be a mapping", "write clause: {section: '二、(一)', text: '...'}"
        )
    _check_keys(raw, _CLAUSE_KEYS, "clause", ctx)
    verbatim = raw.get("verbatim", True)
    if not isinstance(verbatim, bool):
        raise ctx.error("'clause.verbatim' must be true or false", "write true or false")
    return Clause(
        section=cast(str, _text(raw, "section", ctx)),
        text=cast(str, _text(raw, "text", ctx)),
        verbatim=verbatim,
    )


def _parse_target(raw: object, path: Path, index: int) -> Target:
    label = f"#{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label = raw["id"]
    ctx = _Ctx(path, label)
    if not isinstance(raw, dict):
        raise ctx.error("a target must be a mapping", "write it as 'id: ..., label_zh: ...'")
    _check_keys(raw, _TARGET_KEYS, "target", ctx)
    target_id = cast(str, _text(raw, "id", ctx))
    if not _SNAKE.match(target_id):
        raise ctx.error("target id is not snake_case", "use lower-case words joined by '_'")
    checkable = raw.get("checkable", True)
    implied = raw.get("implied", False)
    if not isinstance(checkable, bool) or not isinstance(implied, bool):
        raise ctx.error("'checkable' and 'implied' must be true or false", "write true or false")
    year = raw.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise ctx.error("'year' must be an integer", "give the deadline year, e.g. 2023")
    if "value" not in raw or raw["value"] is None:
        raise ctx.error("missing 'value'", "add the target figure, e.g. value: 0.8")
    op = raw.get("op")
    if op is not None and op not in _OPS:
        raise ctx.error(f"unknown op {op!r}", f"use one of: {', '.join(_OPS)}")
    common: dict[str, Any] = {
        "id": target_id,
        "label_zh": _text(raw, "label_zh", ctx),
        "label_en": _text(raw, "label_en", ctx),
        "clause": _parse_clause(raw.get("clause"), ctx),
        "checkable": checkable,
        "op": op,
        "year": year,
        "scope": _text(raw, "scope", ctx, required=False),
        "implied": implied,
        "note": _text(raw, "note", ctx, required=False),
    }
    if checkable:
        return _parse_checkable(raw, ctx, common)
    for key in ("indicator", "params"):
        if key in raw:
            raise ctx.error(f"{key!r} given on a target marked checkable: false", f"drop {key!r}")
    value = raw["value"]
    ok_value = _is_number(value) or isinstance(value, str)
    if not (ok_value or (op == "between" and _is_pair(value))):
        raise ctx.error("'value' must be a number or text", "write e.g. value: 0.9")
    return Target(
        **common,
        value=_as_value(value),
        unit=_text(raw, "unit", ctx, required=False),
        reason=_text(raw, "reason", ctx),
    )


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(_is_number(v) for v in value)
        and value[0] <= value[1]
    )


def _as_value(value: Any) -> float | tuple[float, float] | str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return (float(value[0]), float(value[1]))
    return float(value)


def _parse_checkable(raw: Mapping[str, Any], ctx: _Ctx, common: dict[str, Any]) -> Target:
    indicator = raw.get("indicator")
    if indicator is None:
        raise ctx.error(
            "missing 'indicator'", "name an indicator, or set checkable: false with a reason"
        )
    if indicator not in INDICATORS:
        raise ctx.error(
            f"unknown indicator {indicator!r}",
            f"use one of: {', '.join(INDICATORS)} (or checkable: false with a reason)",
        )
    spec = INDICATORS[indicator]
    op = common["op"]
    if op is None:
        raise ctx.error("missing 'op'", f"add op: one of {', '.join(_OPS)}")
    value = raw["value"]
    if op == "between":
        if not _is_pair(value):
            raise ctx.error("'between' needs value: [lo, hi]", "write value: [lo, hi], lo <= hi")
    elif not _is_number(value):
        raise ctx.error(f"'value' must be a number, not {value!r}", "write e.g. value: 0.8")
    unit = raw.get("unit")
    if unit != spec.unit:
        raise ctx.error(
            f"unit {unit!r} does not match indicator {indicator!r}", f"write unit: {spec.unit}"
        )
    if "reason" in raw:
        raise ctx.error("'reason' given on a checkable target", "drop it or set checkable: false")
    return Target(
        **common,
        value=_as_value(value),
        indicator=indicator,
        params=_parse_params(raw.get("params"), indicator, spec, ctx),
        unit=spec.unit,
    )


def _parse_params(
    raw: object, indicator: str, spec: IndicatorSpec, ctx: _Ctx
) -> Mapping[str, str | float]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error("'params' must be a mapping", "write params: {name: value}")
    allowed = ", ".join(spec.params) or "none"
    params: dict[str, str | float] = {}
    for name, value in raw.items():
        pspec = spec.params.get(name)
        if pspec is None:
            raise ctx.error(
                f"unknown param {name!r} for indicator {indicator!r}", f"allowed: {allowed}"
            )
        params[name] = _check_param(name, value, pspec, ctx)
    for name, pspec in spec.params.items():
        if pspec.required and name not in params:
            raise ctx.error(f"indicator {indicator!r} needs param {name!r}", f"add params.{name}")
    return MappingProxyType(params)


def _check_param(name: str, value: object, pspec: ParamSpec, ctx: _Ctx) -> str | float:
    if pspec.kind == "number":
        if not _is_number(value) or cast(float, value) < 0:
            raise ctx.error(f"param {name!r} must be a number >= 0", f"write {name}: 500")
        return cast(float, value)
    if pspec.kind == "choice":
        if value not in pspec.choices or isinstance(value, bool):
            choices = ", ".join(map(str, pspec.choices))
            raise ctx.error(f"param {name}={value!r} is not allowed", f"use one of: {choices}")
        return cast(str | float, value)
    if pspec.kind == "circle":
        circles = load_life_circles().circles
        if value not in circles:
            raise ctx.error(
                f"unknown circle {value!r}",
                f"use one of: {', '.join(circles)} (defined in {LIFE_CIRCLES_PATH.name})",
            )
        return cast(str, value)
    if not isinstance(value, str) or not _SNAKE.match(value):
        raise ctx.error(f"param {name!r} must be a snake_case word", f"write e.g. {name}: park")
    return value


# --------------------------------------------------------------------------------------------
# Life circles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LifeCircleLevel:
    """One life-circle level (5, 10 or 15 minutes).

    Parameters
    ----------
    key
        ``"5min"``, ``"10min"`` or ``"15min"``.
    radius_m
        Walking distance of the level, in metres.
    label_zh, label_en
        Labels for reports.
    required
        Facility categories this level requires *in addition to* lower levels (see
        :attr:`LifeCircles.includes_lower_levels`).
    alternatives
        For a required category, other categories that also satisfy it (the standard's 或,
        e.g. 菜市场或生鲜超市: ``food_market`` may be met by a ``supermarket``).
    residents
        Resident range the level serves, ``(low, high)``, where the standard gives one.
    """

    key: str
    radius_m: float
    label_zh: str
    label_en: str
    required: tuple[str, ...]
    alternatives: Mapping[str, tuple[str, ...]]
    residents: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class ThemedCircle:
    """A themed circle named by the plans (15分钟健身圈, 阅读圈, …).

    Parameters
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

    Parameters
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
    raw = _read_yaml(path)
    ctx = _Ctx(path)
    _check_keys(raw, {"source", "includes_lower_levels", "notes", "levels", "circles"}, "top", ctx)
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
    ctx = _Ctx(path)
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
    ctx = _Ctx(path)
    value = raw.get("alternatives") or {}
    if not isinstance(value, dict):
        raise ctx.error(f"{where}: 'alternatives' must be a mapping", "write {category: [...]}")
    out: dict[str, tuple[str, ...]] = {}
    for cat, subs in value.items():
        if cat not in cats:
            raise ctx.error(
                f"{where}: alternative given for {cat!r}, which is not required",
                "add it to the list or drop the alternative",
            )
        out[cat] = _categories({"x": subs}, "x", f"{where} alternatives of {cat}", path)
    return MappingProxyType(out)


def _radius(raw: Mapping[str, Any], where: str, path: Path) -> float:
    radius = raw.get("radius_m")
    if not _is_number(radius) or cast(float, radius) <= 0:
        raise _Ctx(path).error(f"{where}: 'radius_m' must be a positive number", "e.g. 500")
    return float(cast(float, radius))


def _parse_level(key: str, raw: object, path: Path) -> LifeCircleLevel:
    where = f"level {key}"
    ctx = _Ctx(path)
    if not isinstance(raw, dict):
        raise ctx.error(f"{where} must be a mapping", "give radius_m, labels and required")
    allowed = {"radius_m", "label_zh", "label_en", "required", "alternatives", "residents"}
    _check_keys(raw, allowed, where, ctx)
    required = _categories(raw, "required", where, path)
    residents = raw.get("residents")
    if residents is not None and not (
        isinstance(residents, list)
        and len(residents) == 2
        and all(_is_number(r) for r in residents)
    ):
        raise ctx.error(f"{where}: 'residents' must be [low, high]", "e.g. [5000, 12000]")
    return LifeCircleLevel(
        key=key,
        radius_m=_radius(raw, where, path),
        label_zh=cast(str, _text(raw, "label_zh", ctx)),
        label_en=cast(str, _text(raw, "label_en", ctx)),
        required=required,
        alternatives=_alternatives(raw, required, where, path),
        residents=(int(residents[0]), int(residents[1])) if residents else None,
    )


def _parse_circle(key: str, raw: object, path: Path) -> ThemedCircle:
    where = f"circle {key}"
    ctx = _Ctx(path)
    if not isinstance(raw, dict):
        raise ctx.error(f"{where} must be a mapping", "give labels, categories and radius_m")
    allowed = {"label_zh", "label_en", "categories", "alternatives", "radius_m"}
    _check_keys(raw, allowed, where, ctx)
    categories = _categories(raw, "categories", where, path)
    return ThemedCircle(
        key=key,
        label_zh=cast(str, _text(raw, "label_zh", ctx)),
        label_en=cast(str, _text(raw, "label_en", ctx)),
        categories=categories,
        alternatives=_alternatives(raw, categories, where, path),
        radius_m=_radius(raw, where, path),
    )
