"""The one writer of a check's output set: tables, GeoPackages, provenance, units, report, map.

``geoplan check`` / ``report`` and every batch place write through :func:`write_check_set`, so
a check's outputs are the same files, named the same way, written as one atomic set
(:func:`geoplan._outputs_set.output_set`) whoever asks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from geoplan._outputs_set import output_set
from geoplan.city import City, Study
from geoplan.outputs.provenance import provenance
from geoplan.outputs.tables import write_check_outputs, write_unit_outputs
from geoplan.scoring.check import CheckResult
from geoplan.scoring.units import unit_gap_causes, unit_shares

__all__ = ["MapOptions", "WrittenSet", "write_check_set", "write_result_map"]


@dataclass(frozen=True)
class MapOptions:
    """How the check map is drawn (:func:`geoplan.outputs.map_result.check_map`).

    Attributes
    ----------
    basemap
        ``none``, ``local``, ``osm``, ``tianditu`` or ``amap``.
    tianditu_key, local_tiles_url
        For the ``tianditu`` and ``local`` basemaps.
    offline
        Inline Leaflet (the page opens with no internet).
    max_features
        Above this many homes, draw grid cells.
    """

    basemap: str = "none"
    tianditu_key: str | None = None
    local_tiles_url: str | None = None
    offline: bool = True
    max_features: int = 3000


@dataclass
class WrittenSet:
    """What :func:`write_check_set` wrote: final paths by kind and seconds per extra step."""

    paths: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def write_result_map(
    city: City,
    result: CheckResult,
    path: Path,
    *,
    lang: Literal["zh", "en"] = "zh",
    options: MapOptions = MapOptions(),
) -> Path:
    """Draw a check's results on an offline map and save it atomically.

    Parameters
    ----------
    city, result
        The checked city and its result (metric CRS; the map is drawn in WGS84).
    path
        The ``.html`` file to write.
    lang
        Labels: ``zh`` or ``en``.
    options
        Basemap and drawing options.

    Returns
    -------
    Path
        ``path``.
    """
    from geoplan.outputs.map_result import check_map
    from geoplan.outputs.webmap import save_map

    m = check_map(
        city,
        result,
        lang=lang,
        basemap=options.basemap,
        tianditu_key=options.tianditu_key,
        local_tiles_url=options.local_tiles_url,
        max_features=options.max_features,
    )
    return save_map(m, path, offline=options.offline)


def write_check_set(
    study: Study,
    city: City,
    result: CheckResult,
    *,
    out: Path,
    targets: str,
    lang: Literal["zh", "en"] = "zh",
    report: Path | None = None,
    map_path: Path | None = None,
    map_options: MapOptions = MapOptions(),
    extra_texts: Callable[[], Mapping[str, str]] | None = None,
    run_name: str | None = None,
) -> WrittenSet:
    """Write every output of a check as one set: all files or none.

    Parameters
    ----------
    study
        What was checked (its input files are recorded in the provenance and never overwritten).
    city, result
        The loaded city and its check (:meth:`geoplan.city.Study.check`).
    out
        Folder of the tables (``<city>_<sheet>_scorecard.csv`` …).
    targets
        The target sheet as given (an id or a YAML file), for the provenance.
    lang
        Language of the workbook, report and map.
    report
        Also write the 城市体检 report (Word and PDF) into this folder.
    map_path
        Also write the offline check map to this ``.html`` file.
    map_options
        How the map is drawn.
    extra_texts
        Called once the other files are staged: further text files to write into ``out`` with
        the set (name → content, UTF-8), e.g. a batch place's record.
    run_name
        Name of the set's manifest (default ``check-<sheet>``).

    Returns
    -------
    WrittenSet
        The final paths by kind and the seconds of the report and map.
    """
    written = WrittenSet()
    roles = study.input_roles()
    inputs: list[str | Path | None] = [study.osm, targets, *roles.values()]
    staged: dict[str, Path] = {}
    with output_set(run_name or f"check-{result.sheet.id}", inputs=inputs) as outs:
        folder = outs.dir(out)
        ushares = unit_shares(result.units, result, city) if result.units is not None else None
        prov = provenance(city, result, osm=study.osm, inputs={**roles, "targets": targets})
        staged |= write_check_outputs(
            result,
            folder,
            lang=lang,
            city=city,
            units=ushares,
            provenance=prov,
            output_crs=city.crs if study.crs else None,  # --crs chooses the output CRS too
        )
        if ushares is not None:
            stem = f"{result.city_name}_{result.sheet.id}"
            staged |= write_unit_outputs(
                ushares,
                folder,
                stem=stem,
                gap_causes=unit_gap_causes(result.units, result)
                if result.units is not None
                else None,
            )
        if report is not None:
            from geoplan.outputs.report import write_report

            t0 = time.perf_counter()
            staged |= write_report(
                city, result, outs.dir(report), lang=lang, units=ushares, provenance=prov
            )
            written.seconds["report"] = round(time.perf_counter() - t0, 3)
        if map_path is not None:
            t0 = time.perf_counter()
            staged["map"] = write_result_map(
                city, result, outs.file(map_path), lang=lang, options=map_options
            )
            written.seconds["map"] = round(time.perf_counter() - t0, 3)
        for name, text in (extra_texts() if extra_texts else {}).items():
            (folder / name).write_text(text, encoding="utf-8")
            staged[name] = folder / name
    written.paths = {k: outs.final(v) for k, v in staged.items()}
    return written
