"""Scenario files (YAML or Python): parsing, validation with one-line errors, running."""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from geoplan._errors import GeoplanError, InputFileError, ScenarioError, unknown_message
from geoplan.city.study import Study, StudyError
from geoplan.rules import taxonomy as tx
from geoplan.scenario.changes import ADD_KINDS, REMOVE_KINDS
from geoplan.scenario.model import Scenario, check_range, resolve_path
from geoplan.scoring.targets import load_target_sheet

_TOP_KEYS = ("name", "description", "city", "targets", "units", "changes")


_CITY_KEYS = ("osm", "boundary", "crs", "name", "include_private", "facilities", "facilities_mode")


_UNIT_KEYS = ("layer", "name_column", "grid_m", "crs", "coord_system")


_LAYER_KEYS = ("layer", "coord_system", "crs", "name_column")


_CHANGE_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("add", "parks"): (*_LAYER_KEYS, "green_kind"),
    ("add", "facilities"): (*_LAYER_KEYS, "category"),
    ("add", "bus_stops"): _LAYER_KEYS,
    ("add", "roads"): (*_LAYER_KEYS, "highway", "snap_m"),
    ("add", "paths"): ("layer", "coord_system", "crs", "highway", "snap_m"),
    ("add", "residential"): (*_LAYER_KEYS, "residents_column"),
}


_REMOVE_KEYS = ("ids", "within", "all", "category")


_TYPES: dict[str, tuple[type, ...]] = {
    "layer": (str,),
    "coord_system": (str,),
    "crs": (str, int),
    "name_column": (str,),
    "green_kind": (str,),
    "category": (str,),
    "highway": (str,),
    "snap_m": (int, float),
    "residents_column": (str,),
    "ids": (list,),
    "within": (str, list),
    "all": (bool,),
    "grid_m": (int, float),
}


def _check_keys(d: Mapping[str, Any], valid: Sequence[str], where: str, what: str = "key") -> None:
    for k in d:
        if k not in valid:
            raise ScenarioError(unknown_message(what, str(k), valid, where))


def _check_type(key: str, value: Any, where: str) -> None:
    types = _TYPES.get(key)
    if types is None or (isinstance(value, bool) and bool not in types):
        if types is not None:
            raise ScenarioError(
                f"{where}: {key!r} must be {' or '.join(t.__name__ for t in types)}, got {value!r}"
            )
        return
    if not isinstance(value, types):
        raise ScenarioError(
            f"{where}: {key!r} must be {' or '.join(t.__name__ for t in types)}, "
            f"got {type(value).__name__} {value!r}"
        )


def load_scenario_file(path: str | Path) -> Scenario:
    """Read and validate a scenario: a YAML file or a Python script.

    YAML keys: ``name``, ``description``, ``city`` (``osm``, ``boundary``, ``crs``, ``name``,
    ``include_private``), ``targets`` (sheet id), ``units`` (``layer`` + ``name_column``, or
    ``grid_m``), ``changes``: a list of ``{add: KIND, layer: FILE, ...}`` (KIND in
    :data:`ADD_KINDS`) or ``{remove: KIND, ids: [...] | within: FILE | all: true}``. Layer paths
    are relative to the file's folder, else its parent (the project).

    A Python script defines ``scenario`` (a :class:`Scenario`) or ``def build(city) -> Scenario``
    with an optional ``CITY = {...}`` (as the YAML ``city``) and ``TARGETS``.

    Raises :class:`~geoplan.ScenarioError` with one line naming the file, the change number and
    the fix (the closest valid key for typos).

    Parameters
    ----------
    path
        A scenario file (``.yaml`` / ``.py``) or a bundled scenario's name.

    Returns
    -------
    Scenario
    """
    p = _scenario_path(path)
    if p.suffix == ".py":
        return _load_py(p)
    doc = _read_doc(p)
    name = doc.get("name", p.stem)
    if not isinstance(name, str):
        raise ScenarioError(f"{p}: 'name' must be text, got {name!r}")
    targets = doc.get("targets", "national")
    if not isinstance(targets, str):
        raise ScenarioError(f"{p}: 'targets' must be a target sheet id, got {targets!r}")
    try:
        load_target_sheet(targets)
    except GeoplanError as exc:
        raise ScenarioError(f"{p}: targets: {exc}") from exc
    units_layer, units_col, grid_m = _parse_units(doc.get("units"), p)
    check_range("grid_m", grid_m, f"{p}: units")
    scn = Scenario(
        name,
        base=_parse_city(doc.get("city", {"osm": "demo"}), p),
        targets=targets,
        units=units_layer,
        units_name_column=units_col,
        grid_m=grid_m,
        description=str(doc.get("description", "")),
    )
    scn.source = p
    changes = doc["changes"]
    if not isinstance(changes, list):
        raise ScenarioError(
            f"{p}: 'changes' must be a list of '- add: KIND' / '- remove: KIND' items"
        )
    for no, ch in enumerate(changes, start=1):
        _parse_change(scn, ch, f"{p}: change {no}", p)
    return scn


def _scenario_path(path: str | Path) -> Path:
    """The scenario file (``NAME`` may omit ``.yaml`` / ``.yml`` / ``.py``), or a one-line error."""
    p = Path(path)
    if not p.exists() and p.suffix == "":
        for ext in (".yaml", ".yml", ".py"):
            if p.with_suffix(ext).exists():
                p = p.with_suffix(ext)
                break
    if not p.is_file():
        raise ScenarioError(f"{p}: scenario file not found; give scenarios/NAME.yaml or .py")
    if p.suffix not in (".yaml", ".yml", ".py"):
        raise ScenarioError(f"{p}: a scenario is a .yaml/.yml or .py file")
    return p


def _read_doc(p: Path) -> dict[str, Any]:
    """The YAML mapping of a scenario file, top-level keys checked."""
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise ScenarioError(f"{p}: not valid YAML{at}; check indentation and colons") from exc
    if not isinstance(doc, dict):
        raise ScenarioError(f"{p}: the file must be a mapping with keys {', '.join(_TOP_KEYS)}")
    _check_keys(doc, _TOP_KEYS, str(p))
    if "changes" not in doc:
        raise ScenarioError(f"{p}: missing key 'changes'; list the plan's changes under changes:")
    return doc


def _parse_city(city: Any, p: Path) -> Study:
    """The ``city:`` entry: a :class:`~geoplan.city.Study` (paths relative to the scenario)."""
    if city == "demo":
        city = {"osm": "demo"}
    if not isinstance(city, dict):
        raise ScenarioError(f"{p}: 'city' must be a mapping (osm:, boundary:, crs:) or 'demo'")
    _check_keys(city, _CITY_KEYS, f"{p}: city", "city key")
    if "crs" in city:
        _check_type("crs", city["crs"], f"{p}: city")
    pois = city.get("facilities", [])
    pois = [pois] if isinstance(pois, str) else pois
    if not isinstance(pois, list) or not all(isinstance(x, str) for x in pois):
        raise ScenarioError(f"{p}: city facilities must be a POI export file or a list of them")
    return study_in(p, {**city, "facilities": pois})


def study_in(p: Path, city: Mapping[str, Any]) -> Study:
    """A scenario's baseline :class:`~geoplan.city.Study`, its files resolved and checked.

    Paths are relative to the scenario file ``p`` (:func:`resolve_path`); a missing file or an
    inconsistent input is a :class:`~geoplan.ScenarioError` naming ``p``.

    Parameters
    ----------
    p
        The scenario file.
    city
        Its ``city:`` mapping.

    Returns
    -------
    Study
    """
    d = dict(city)
    if d.get("osm", "demo") != "demo":
        d["osm"] = str(resolve_path(str(d["osm"]), p))
    if isinstance(d.get("boundary"), str):
        d["boundary"] = resolve_path(d["boundary"], p)
    elif d.get("boundary") is not None:
        d["boundary"] = _parse_boundary(d["boundary"], p)
    d["facilities"] = tuple(resolve_path(x, p) for x in d.get("facilities", ()))
    try:
        study = Study(**d)
        study.check_files()
    except (StudyError, InputFileError) as exc:
        raise ScenarioError(f"{p}: city: {exc}") from exc
    return study


def _parse_boundary(bnd: Any, p: Path) -> Any:
    """A city boundary: a lon/lat bbox list or a file path (resolved), or ``None``."""
    if isinstance(bnd, list):
        if len(bnd) != 4 or not all(isinstance(v, int | float) for v in bnd):
            raise ScenarioError(
                f"{p}: city boundary must be [min_lon, min_lat, max_lon, max_lat] or a file"
            )
        return tuple(float(v) for v in bnd)
    if isinstance(bnd, str):
        bp = resolve_path(bnd, p)
        if not bp.exists():
            raise ScenarioError(f"{p}: city boundary file {bnd!r} not found")
        return str(bp)
    if bnd is not None:
        raise ScenarioError(f"{p}: city boundary must be a bbox list or a file path, got {bnd!r}")
    return None


def _parse_units(units: Any, p: Path) -> tuple[Any, str | None, float]:
    """The ``units:`` entry: (layer path or None, name column, grid cell m)."""
    if units is None:
        return None, None, 500.0
    if not isinstance(units, dict):
        raise ScenarioError(f"{p}: 'units' must be a mapping (layer:, name_column:) or (grid_m:)")
    _check_keys(units, _UNIT_KEYS, f"{p}: units", "units key")
    for k, v in units.items():
        _check_type(k, v, f"{p}: units")
    units_layer: Any = None
    if "layer" in units:
        lp = resolve_path(units["layer"], p)
        if not lp.exists():
            raise ScenarioError(f"{p}: units layer {units['layer']!r} not found")
        units_layer = lp
    return units_layer, units.get("name_column"), float(units.get("grid_m", 500.0))


def _parse_change(scn: Scenario, ch: Any, where: str, path: Path) -> None:
    """One item of ``changes:``, validated, added to ``scn``."""
    if not isinstance(ch, dict):
        raise ScenarioError(
            f"{where}: each change must be a mapping like {{add: parks, layer: FILE}}"
        )
    ops = [k for k in ("add", "remove") if k in ch]
    if len(ops) != 1:
        other = [k for k in ch if k not in ("add", "remove")]
        close = (
            difflib.get_close_matches(str(other[0]), ["add", "remove"], n=1, cutoff=0.5)
            if other and not ops
            else []
        )
        hint = f" (did you mean {close[0]!r} instead of {other[0]!r}?)" if close else ""
        raise ScenarioError(f"{where}: give exactly one of 'add: KIND' or 'remove: KIND'{hint}")
    if ops[0] == "add":
        _parse_add(scn, ch, where, path)
    else:
        _parse_remove(scn, ch, where, path)


def _parse_add(scn: Scenario, ch: dict[str, Any], where: str, path: Path) -> None:
    """An ``add:`` change: kind, keys, types, layer file, coordinate system, category."""
    kind = ch["add"]
    if kind not in ADD_KINDS:
        raise ScenarioError(unknown_message("change kind", str(kind), list(ADD_KINDS), where))
    valid = _CHANGE_KEYS[("add", kind)]
    _check_keys({k: v for k, v in ch.items() if k != "add"}, valid, f"{where} (add {kind})")
    for k, v in ch.items():
        if k != "add":
            _check_type(k, v, where)
    if "layer" not in ch:
        raise ScenarioError(f"{where} (add {kind}): missing 'layer: FILE'")
    lp = resolve_path(ch["layer"], path)
    if not lp.exists():
        raise ScenarioError(
            f"{where} (add {kind}): layer file {ch['layer']!r} not found; paths are relative "
            f"to {path.parent} or {path.parent.parent}"
        )
    if ch.get("coord_system", "wgs84") not in ("wgs84", "gcj02", "bd09"):
        raise ScenarioError(
            unknown_message("coord_system", ch["coord_system"], ["wgs84", "gcj02", "bd09"], where)
        )
    if kind == "facilities":
        if "category" not in ch:
            raise ScenarioError(f"{where} (add facilities): missing 'category:' (e.g. clinic)")
        cats = tx.categories()
        if ch["category"] not in cats:
            raise ScenarioError(
                unknown_message("facility category", ch["category"], sorted(cats), where)
            )
    params = {k: v for k, v in ch.items() if k not in ("add", "layer")}
    try:
        scn._add("add", kind, lp, **params)
    except ScenarioError as exc:  # name the file and the change, not the API call
        raise ScenarioError(f"{where} (add {kind}): {str(exc).split('): ', 1)[-1]}") from exc


def _parse_remove(scn: Scenario, ch: dict[str, Any], where: str, path: Path) -> None:
    """A ``remove:`` change: kind, keys, types and exactly one of ids / within / all."""
    kind = ch["remove"]
    if kind not in REMOVE_KINDS:
        raise ScenarioError(unknown_message("change kind", str(kind), list(REMOVE_KINDS), where))
    _check_keys(
        {k: v for k, v in ch.items() if k != "remove"}, _REMOVE_KEYS, f"{where} (remove {kind})"
    )
    for k, v in ch.items():
        if k != "remove":
            _check_type(k, v, where)
    given = [k for k in ("ids", "within", "all") if k in ch and ch[k] is not False]
    if len(given) != 1:
        raise ScenarioError(
            f"{where} (remove {kind}): give exactly one of ids:, within: or all: true"
        )
    within = ch.get("within")
    if isinstance(within, str):
        wp = resolve_path(within, path)
        if not wp.exists():
            raise ScenarioError(f"{where} (remove {kind}): within file {within!r} not found")
        within = wp
    if "ids" in ch and not all(isinstance(i, int) for i in ch["ids"]):
        raise ScenarioError(f"{where} (remove {kind}): ids must be a list of OSM ids (integers)")
    scn.remove(
        kind,
        ids=ch.get("ids"),
        within=within,
        all=bool(ch.get("all", False)),
        category=ch.get("category"),
    )


def _load_py(p: Path) -> Scenario:
    spec = importlib.util.spec_from_file_location(f"geoplan_scenario_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{p}: cannot import the script")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    scn = getattr(mod, "scenario", None)
    if isinstance(scn, Scenario):
        scn.source = scn.source or p
        return scn
    build = getattr(mod, "build", None)
    if not callable(build):
        raise ScenarioError(
            f"{p}: define `scenario = Scenario(...)` or `def build(city) -> Scenario`"
        )
    cs = study_in(p, getattr(mod, "CITY", {"osm": "demo"}))
    city = cs.load(progress=False)
    scn = build(city)
    if not isinstance(scn, Scenario):
        raise ScenarioError(f"{p}: build(city) must return a Scenario, got {type(scn).__name__}")
    scn.base = city
    scn.source = scn.source or p
    if hasattr(mod, "TARGETS"):
        scn.targets = mod.TARGETS
    return scn
