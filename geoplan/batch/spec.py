"""Batch files: the places of a batch run, validated with one-line errors.

::

    osm: ../shared/data/chengdu_2018_center.osm.pbf     # optional: shared by every place
    defaults: {targets: anyang-2023}                     # optional: any place key
    places:
      - {name: chengdu_sw, boundary: sw.geojson}
      - {name: helsinki, osm: demo, targets: national}
      - {name: sao_paulo, osm: sao_paulo.osm.pbf, boundary: [-46.66, -23.57, -46.62, -23.53]}
    districts: [郑州市中原区, 410103]                     # optional: one place per district

Paths are relative to the batch file's folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geoplan._errors import InputFileError, ScenarioError, unknown_message
from geoplan.city.study import BUILT_UP_WORDS, NAME_PATTERN, Study, StudyError, check_name


class BatchError(ScenarioError):
    """A batch file that cannot be run (names the file, the place and the fix)."""


PLACE_KEYS = (
    "name",
    "osm",
    "boundary",
    "district",
    "targets",
    "crs",
    "include_private",
    "population",
    "population_column",
    "population_kind",
    "built_up",
    "units",
    "unit_name",
    "units_grid",
    "facilities",
    "facilities_mode",
    "landcover",
    "scope",
    "areas",
    "map",
)

_PATH_KEYS = ("osm", "population", "built_up", "units", "landcover", "areas")

_TOP_KEYS = ("osm", "defaults", "places", "districts", "name")

_NAME = NAME_PATTERN


@dataclass(frozen=True)
class Place:
    """One place of a batch: a :class:`~geoplan.city.Study` plus a name, a sheet and a map.

    Attributes
    ----------
    name
        The place's output folder name (letters, digits, ``_ - .``, Chinese).
    study
        What to load and check (paths absolute).
    targets
        Target sheet id or YAML file.
    map
        Also write the offline check map ``<name>.html``.
    """

    name: str
    study: Study
    targets: str = "national"
    map: bool = True

    def inputs(self) -> list[str]:
        """Every input file of the place (for the content hash).

        Returns
        -------
        list of str
        """
        files = [str(f) for f in self.study.input_files()]
        if self.targets.endswith((".yaml", ".yml")):
            files.append(self.targets)
        return files


@dataclass(frozen=True)
class Batch:
    """The places of a batch file, in file order."""

    path: Path
    places: tuple[Place, ...]
    name: str = "batch"
    notes: tuple[str, ...] = field(default_factory=tuple)


def _resolve(value: str, folder: Path) -> str:
    if value == "demo":
        return value
    p = Path(value)
    return str(p if p.is_absolute() else (folder / p).resolve())


def _place(
    raw: Any, i: int, defaults: Mapping[str, Any], shared_osm: str | None, path: Path
) -> Place:
    where = f"{path}: place {i + 1}"
    if not isinstance(raw, Mapping):
        raise BatchError(f"{where}: each place is a mapping such as {{name: x, osm: FILE}}")
    d = {**defaults, **raw}
    for k in d:
        if k not in PLACE_KEYS:
            raise BatchError(unknown_message("place key", str(k), PLACE_KEYS, where))
    name = d.pop("name", None)
    if not isinstance(name, str) or not _NAME.match(name) or set(name) <= {"."}:
        raise BatchError(
            f"{where}: 'name' must be a folder-safe name (letters, digits, _ - .), got {name!r}"
        )
    try:
        check_name(name, "name")
    except StudyError as exc:
        raise BatchError(f"{where}: {exc}") from exc
    where = f"{path}: place {name!r}"
    if "osm" not in d and shared_osm is None:
        raise BatchError(f"{where}: no 'osm' file; give one per place or a top-level 'osm:'")
    d.setdefault("osm", shared_osm)
    _paths(d, where, path.parent)
    d["boundary"] = _boundary(d.get("boundary"), where, path.parent)
    d["facilities"] = _facilities(d.get("facilities", ()), where, path.parent)
    _scalars(d, where, path.parent)
    targets, show_map = d.pop("targets", "national"), d.pop("map", True)
    try:
        study = Study(**d)
    except StudyError as exc:
        raise BatchError(f"{where}: {exc}") from exc
    return Place(name=name, study=study, targets=targets, map=show_map)


def _paths(d: dict[str, Any], where: str, folder: Path) -> None:
    for k in _PATH_KEYS:
        if k == "built_up" and d.get(k) in BUILT_UP_WORDS:
            continue
        if d.get(k) is not None:
            if not isinstance(d[k], str):
                raise BatchError(f"{where}: {k!r} must be a file path, got {d[k]!r}")
            d[k] = _resolve(d[k], folder)


def _boundary(bnd: Any, where: str, folder: Path) -> Any:
    if bnd is None:
        return None
    if isinstance(bnd, list):
        if len(bnd) != 4 or not all(isinstance(v, int | float) for v in bnd):
            raise BatchError(
                f"{where}: boundary must be [min_lon, min_lat, max_lon, max_lat] or a file"
            )
        return tuple(float(v) for v in bnd)
    if isinstance(bnd, str):
        return _resolve(bnd, folder)
    raise BatchError(f"{where}: boundary must be a bbox list or a file path, got {bnd!r}")


def _facilities(fac: Any, where: str, folder: Path) -> tuple[str, ...]:
    if isinstance(fac, str):
        fac = [fac]
    if not isinstance(fac, list | tuple) or not all(isinstance(f, str) for f in fac):
        raise BatchError(f"{where}: 'facilities' must be a file or a list of files")
    return tuple(_resolve(f, folder) for f in fac)


def _scalars(d: dict[str, Any], where: str, folder: Path) -> None:
    tg = d.get("targets", "national")
    if not isinstance(tg, str):
        raise BatchError(f"{where}: 'targets' must be a target sheet id or a YAML file")
    if tg.endswith((".yaml", ".yml")):
        d["targets"] = _resolve(tg, folder)
    for k in ("crs", "district", "unit_name"):
        if d.get(k) is not None:
            d[k] = str(d[k])
    for k in ("include_private", "map"):
        if k in d and not isinstance(d[k], bool):
            raise BatchError(f"{where}: {k!r} must be true or false, got {d[k]!r}")
    if d.get("units_grid") is not None and not isinstance(d["units_grid"], int | float):
        raise BatchError(f"{where}: 'units_grid' must be a number of metres")


def load_batch(path: str | Path) -> Batch:
    """Read and validate a batch file (see the module docstring).

    Raises :class:`BatchError` (a :class:`~geoplan.ScenarioError`) naming the file, the place
    and the fix; input files are checked when a place runs, so one missing file fails only
    that place.

    Parameters
    ----------
    path
        The batch YAML file.

    Returns
    -------
    Batch
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"{p}: batch file not found; pass a YAML file with 'places:'")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" (line {line + 1})" if line is not None else ""
        raise BatchError(f"{p}: not valid YAML{at}; check indentation and quotes") from exc
    if not isinstance(doc, Mapping):
        raise BatchError(f"{p}: a batch file is a mapping with 'places:' (a list of places)")
    for k in doc:
        if k not in _TOP_KEYS:
            raise BatchError(unknown_message("key", str(k), _TOP_KEYS, str(p)))
    shared = doc.get("osm")
    if shared is not None:
        if not isinstance(shared, str):
            raise BatchError(f"{p}: 'osm' must be a file path or demo")
        shared = _resolve(shared, p.parent)
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, Mapping) or "name" in defaults:
        raise BatchError(f"{p}: 'defaults' must be a mapping of place keys (no name)")
    raw_places = list(doc.get("places") or [])
    for d in doc.get("districts") or []:
        raw_places.append({"name": str(d), "district": str(d)})
    if not raw_places:
        raise BatchError(f"{p}: no places; list them under 'places:' (or 'districts:')")
    places = tuple(_place(r, i, defaults, shared, p) for i, r in enumerate(raw_places))
    seen: set[str] = set()
    for pl in places:
        if pl.name in seen:
            raise BatchError(f"{p}: two places are named {pl.name!r}; names are output folders")
        seen.add(pl.name)
    name = doc.get("name", p.stem)
    return Batch(p, places, str(name))
