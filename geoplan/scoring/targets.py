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
        op: ">="                     # ">=", "<=", "==", "between", "report" (no figure)
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

import difflib
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

from geoplan._errors import InputFileError, TargetSheetError
from geoplan.indicators.registry import TARGETS, TargetKind, TargetParam
from geoplan.rules.datafile import (
    DATA_DIR,
    FileContext,
    check_keys,
    is_number,
    read_yaml,
    text_field,
)
from geoplan.rules.life_circles import LIFE_CIRCLES_PATH, load_life_circles
from geoplan.scoring.sheet_model import OPS, Clause, Source, Target, TargetSheet

#: Folder holding the bundled target sheets (``<sheet id>.yaml``).
TARGET_SHEETS_DIR: Path = DATA_DIR / "targets"


_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


_SHEET_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def list_target_sheets() -> list[str]:
    """Return the ids of the bundled target sheets, sorted.

    Examples
    --------
    >>> "national" in list_target_sheets()
    True

    Returns
    -------
    list of str
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
    if path.is_file():
        return path
    aliases = sheet_aliases()
    sid = aliases.get(text.strip().lower())
    if sid is not None:
        return TARGET_SHEETS_DIR / f"{sid}.yaml"
    ids = list_target_sheets()
    names = ids + sorted(aliases)
    close = difflib.get_close_matches(text.lower(), names, n=1, cutoff=0.5)
    hint = f"did you mean {aliases.get(close[0], close[0])!r}? " if close else ""
    raise TargetSheetError(
        f"unknown target sheet {text!r}; {hint}available: {', '.join(ids)}, or a city name "
        "(安阳, 济源, 洛阳, 新乡, 中原区, 城市体检, 完整社区), or a path to a .yaml"
    )


@cache
def sheet_aliases() -> dict[str, str]:
    """Other names of the bundled sheets (``aliases:``, e.g. 安阳 → anyang-2023), lower-cased.

    Returns
    -------
    dict of str to str
    """
    out: dict[str, str] = {}
    for sid in list_target_sheets():
        raw = read_yaml(TARGET_SHEETS_DIR / f"{sid}.yaml")
        for a in raw.get("aliases") or ():
            out[str(a).strip().lower()] = sid
    return out


_SHEET_KEYS = {"id", "aliases", "name_zh", "name_en", "year", "source", "targets", "parameters"}


_SOURCE_KEYS = {"title", "doc_no", "issuer", "date", "seed_file", "note"}


_TARGET_KEYS = {
    "area",
    "also",
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
    "applies_to",
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
    if op is not None and op not in OPS:
        raise ctx.error(f"unknown op {op!r}", f"use one of: {', '.join(OPS)}")
    common: dict[str, Any] = {
        "id": target_id,
        "label_zh": text_field(raw, "label_zh", ctx),
        "label_en": text_field(raw, "label_en", ctx),
        "clause": _parse_clause(raw.get("clause"), ctx),
        "checkable": checkable,
        "op": op,
        "year": year,
        "scope": text_field(raw, "scope", ctx, required=False),
        "applies_to": _applies_to(raw, ctx),
        "area": text_field(raw, "area", ctx, required=False),
        "also": _parse_also(raw.get("also"), ctx),
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


def _parse_also(raw: object, ctx: FileContext) -> tuple[tuple[str, float | str], ...]:
    """``also:``: the other figures of a "分别" clause, ``[{scope: 县级城市, value: 0.11}]``."""
    if raw is None:
        return ()
    fix = "write also: [{scope: 县级城市建成区, value: 0.11}]"
    if not isinstance(raw, list):
        raise ctx.error("'also' must be a list", fix)
    out: list[tuple[str, float | str]] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"scope", "value"}:
            raise ctx.error("each 'also' entry needs exactly scope and value", fix)
        scope, value = item["scope"], item["value"]
        if not isinstance(scope, str) or not scope.strip():
            raise ctx.error("'also' scope must be text", fix)
        if not (is_number(value) or isinstance(value, str)):
            raise ctx.error("'also' value must be a number or text", fix)
        out.append((scope.strip(), value if isinstance(value, str) else float(value)))
    return tuple(out)


#: the kinds of study area a target may be measured on
STUDY_SCOPES = ("city", "town")


def _applies_to(raw: Mapping[str, Any], ctx: FileContext) -> str:
    value = raw.get("applies_to", "city")
    if value not in STUDY_SCOPES:
        raise ctx.error(
            f"'applies_to' must be city or town, not {value!r}",
            "write applies_to: town for a 镇区 target",
        )
    return str(value)


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
    if not isinstance(indicator, str) or indicator not in TARGETS:
        raise ctx.error(
            f"unknown indicator {indicator!r}",
            f"use one of: {', '.join(TARGETS)} (or checkable: false with a reason)",
        )
    spec = TARGETS[indicator]
    op = common["op"]
    if op is None:
        raise ctx.error("missing 'op'", f"add op: one of {', '.join(OPS)}")
    value = raw["value"]
    if op == "report":
        if not isinstance(value, str) or not value.strip():
            raise ctx.error(
                "'report' needs value: the document's words for 'no figure'",
                "write e.g. value: 导向指标（未设目标值）",
            )
    elif op == "between":
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
    if op != "report":
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
    raw: object, indicator: str, spec: TargetKind, ctx: FileContext
) -> Mapping[str, str | float | tuple[str, ...]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ctx.error("'params' must be a mapping", "write params: {name: value}")
    allowed = ", ".join(spec.params) or "none"
    params: dict[str, str | float | tuple[str, ...]] = {}
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


def _check_param(
    name: str, value: object, pspec: TargetParam, ctx: FileContext
) -> str | float | tuple[str, ...]:
    if pspec.kind == "number":
        if not is_number(value) or cast(float, value) < 0:
            raise ctx.error(f"param {name!r} must be a number >= 0", f"write {name}: 500")
        return cast(float, value)
    if pspec.kind == "choice":
        if value not in pspec.choices or isinstance(value, bool):
            choices = ", ".join(map(str, pspec.choices))
            raise ctx.error(f"param {name}={value!r} is not allowed", f"use one of: {choices}")
        return cast(str | float, value)
    if pspec.kind == "names":
        ok = (
            isinstance(value, list)
            and value
            and all(isinstance(v, str) and v.strip() for v in value)
        )
        if not ok:
            raise ctx.error(f"param {name!r} must be a list of names", f"write {name}: [丰华街]")
        return tuple(str(v).strip() for v in cast(list[str], value))
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
