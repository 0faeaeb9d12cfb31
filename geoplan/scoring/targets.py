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
>>> from geoplan.scoring.targets import load_target_sheet
>>> sheet = load_target_sheet("luoyang-2023")
>>> target = sheet.get("park_service_coverage")
>>> str(target.evaluate(0.85).status)
'fail'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from geoplan._errors import InputFileError, TargetSheetError
from geoplan.names import Status
from geoplan.rules.datafile import (
    DATA_DIR,
    FileContext,
    check_keys,
    is_number,
    read_yaml,
    text_field,
)
from geoplan.rules.life_circles import LIFE_CIRCLES_PATH, load_life_circles
from geoplan.scoring.catalogue import INDICATORS, IndicatorSpec, ParamSpec

#: Folder holding the bundled target sheets (``<sheet id>.yaml``).
TARGET_SHEETS_DIR: Path = DATA_DIR / "targets"


Op = Literal[">=", "<=", "==", "between"]


_OPS: tuple[str, ...] = get_args(Op)


_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


_SHEET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


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
        return self.status == Status.PASS


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
        >>> str(v.status), round(v.gap, 2)
        ('fail', -0.05)
        """
        if not self.checkable or self.op is None or isinstance(self.value, str):
            return Verdict(self.id, Status.NOT_CHECKABLE, measured, None)
        if measured is None or math.isnan(measured):
            return Verdict(self.id, Status.NO_DATA, None, None)
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
        return Verdict(self.id, Status.PASS if ok else Status.FAIL, measured, gap)


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
    parameters
        Overrides of indicator parameters (registry id → name → value), e.g.
        ``{"park_coverage": {"park_min_area_m2": 10000}}``; checked against the registry.
    """

    id: str
    name_zh: str
    name_en: str
    year: int
    source: Source
    targets: tuple[Target, ...]
    path: Path
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def params_for(self, indicator: str) -> dict[str, Any]:
        """The registry parameters of ``indicator`` with this sheet's overrides applied."""
        from geoplan.indicators.registry import resolve_params

        return resolve_params(indicator, self.parameters.get(indicator), where=str(self.path))

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
    return _parse_sheet(read_yaml(path), path)


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


_SHEET_KEYS = {"id", "name_zh", "name_en", "year", "source", "targets", "parameters"}


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


def _parse_sheet(raw: Mapping[str, Any], path: Path) -> TargetSheet:
    ctx = FileContext(path)
    check_keys(raw, _SHEET_KEYS, "sheet", ctx)
    sheet_id = cast(str, text_field(raw, "id", ctx))
    if not _SHEET_ID.match(sheet_id):
        raise ctx.error(f"sheet id {sheet_id!r} is not kebab-case", "use e.g. 'anyang-2023'")
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool):
        raise ctx.error("'year' must be an integer", "give the plan horizon year, e.g. 2023")
    source_raw = raw.get("source")
    if not isinstance(source_raw, dict):
        raise ctx.error("'source' must be a mapping", "give at least source: {title: ...}")
    check_keys(source_raw, _SOURCE_KEYS, "source", ctx)
    source = Source(
        title=cast(str, text_field(source_raw, "title", ctx)),
        **{
            k: text_field(source_raw, k, ctx, required=False)
            for k in sorted(_SOURCE_KEYS - {"title"})
        },
    )
    targets_raw = raw.get("targets")
    if not isinstance(targets_raw, list) or not targets_raw:
        raise ctx.error("'targets' must be a non-empty list", "list the plan's targets")
    targets: list[Target] = []
    seen: set[str] = set()
    for index, item in enumerate(targets_raw):
        target = _parse_target(item, path, index)
        if target.id in seen:
            raise FileContext(path, target.id).error(
                "duplicate target id", "give each target its own id"
            )
        seen.add(target.id)
        targets.append(target)
    return TargetSheet(
        id=sheet_id,
        name_zh=cast(str, text_field(raw, "name_zh", ctx)),
        name_en=cast(str, text_field(raw, "name_en", ctx)),
        year=year,
        source=source,
        targets=tuple(targets),
        path=path,
        parameters=_parse_parameters(raw.get("parameters"), path),
    )


def _parse_parameters(raw: object, path: Path) -> dict[str, dict[str, Any]]:
    """``parameters:`` of a sheet: registry id → overrides, each checked (name, range)."""
    from geoplan.indicators.registry import resolve_params

    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise TargetSheetError(
            f"{path}: 'parameters' must map an indicator to its overrides, "
            "e.g. parameters: {park_coverage: {park_min_area_m2: 10000}}"
        )
    out: dict[str, dict[str, Any]] = {}
    for iid, over in raw.items():
        resolve_params(str(iid), over, where=f"{path}: parameters")
        out[str(iid)] = dict(over)
    return out


def _parse_clause(raw: object, ctx: FileContext) -> Clause:
    if not isinstance(raw, dict):
        raise ctx.error(
            "'clause' must be a mapping", "write clause: {section: '二、(一)', text: '...'}"
        )
    check_keys(raw, _CLAUSE_KEYS, "clause", ctx)
    verbatim = raw.get("verbatim", True)
    if not isinstance(verbatim, bool):
        raise ctx.error("'clause.verbatim' must be true or false", "write true or false")
    return Clause(
        section=cast(str, text_field(raw, "section", ctx)),
        text=cast(str, text_field(raw, "text", ctx)),
        verbatim=verbatim,
    )


def _parse_target(raw: object, path: Path, index: int) -> Target:
    label = f"#{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label = raw["id"]
    ctx = FileContext(path, label)
    if not isinstance(raw, dict):
        raise ctx.error("a target must be a mapping", "write it as 'id: ..., label_zh: ...'")
    check_keys(raw, _TARGET_KEYS, "target", ctx)
    target_id = cast(str, text_field(raw, "id", ctx))
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
        "label_zh": text_field(raw, "label_zh", ctx),
        "label_en": text_field(raw, "label_en", ctx),
        "clause": _parse_clause(raw.get("clause"), ctx),
        "checkable": checkable,
        "op": op,
        "year": year,
        "scope": text_field(raw, "scope", ctx, required=False),
        "implied": implied,
        "note": text_field(raw, "note", ctx, required=False),
    }
    if checkable:
        return _parse_checkable(raw, ctx, common)
    for key in ("indicator", "params"):
        if key in raw:
            raise ctx.error(f"{key!r} given on a target marked checkable: false", f"drop {key!r}")
    value = raw["value"]
    ok_value = is_number(value) or isinstance(value, str)
    if not (ok_value or (op == "between" and _is_pair(value))):
        raise ctx.error("'value' must be a number or text", "write e.g. value: 0.9")
    return Target(
        **common,
        value=_as_value(value),
        unit=text_field(raw, "unit", ctx, required=False),
        reason=text_field(raw, "reason", ctx),
    )


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(is_number(v) for v in value)
        and value[0] <= value[1]
    )


def _as_value(value: Any) -> float | tuple[float, float] | str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return (float(value[0]), float(value[1]))
    return float(value)


def _parse_checkable(raw: Mapping[str, Any], ctx: FileContext, common: dict[str, Any]) -> Target:
    indicator = raw.get("indicator")
    if indicator is None:
        raise ctx.error(
            "missing 'indicator'", "name an indicator, or set checkable: false with a reason"
        )
    if not isinstance(indicator, str) or indicator not in INDICATORS:
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
    elif not is_number(value):
        raise ctx.error(f"'value' must be a number, not {value!r}", "write e.g. value: 0.8")
    unit = raw.get("unit")
    if unit != spec.unit:
        raise ctx.error(
            f"unit {unit!r} does not match indicator {indicator!r}", f"write unit: {spec.unit}"
        )
    if "reason" in raw:
        raise ctx.error("'reason' given on a checkable target", "drop it or set checkable: false")
    _check_value_range(value, spec.unit, ctx)
    return Target(
        **common,
        value=_as_value(value),
        indicator=indicator,
        params=_parse_params(raw.get("params"), indicator, spec, ctx),
        unit=spec.unit,
    )


def _check_value_range(value: Any, unit: str, ctx: FileContext) -> None:
    """Refuse a target value outside its unit's range.

    Shares are 0–1 (a percent gets "did you mean 0.9?"); counts and densities are not negative.
    """
    values = list(value) if _is_pair(value) else [value]
    for v in values:
        v = float(v)
        if v < 0:
            raise ctx.error(f"value {v:g} is negative", f"a {unit} target is 0 or more")
        if unit == "share" and v > 1:
            hint = f"did you mean {v / 100:g}? " if v <= 100 else ""
            raise ctx.error(
                f"value {v:g} is not a share (0–1)",
                f"{hint}write percentages as shares: 90% → value: 0.9",
            )


def _parse_params(
    raw: object, indicator: str, spec: IndicatorSpec, ctx: FileContext
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


def _check_param(name: str, value: object, pspec: ParamSpec, ctx: FileContext) -> str | float:
    if pspec.kind == "number":
        if not is_number(value) or cast(float, value) < 0:
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
