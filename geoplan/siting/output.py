"""Write a suggestion: the plan layer (GPKG + CSV), what stays uncovered, a scenario YAML.

The scenario file adds the sites to the same city (same OSM file, boundary and POI exports) and
checks baseline vs plan against a target sheet: ``geoplan run DIR/<stem>_scenario.yaml`` shows the
before → after scorecard and the change map.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from geoplan.io.projection import WGS84
from geoplan.outputs.formats import ATTRIBUTION, csv_safe
from geoplan.siting.suggest import SitingResult


def _rel(path: str, folder: Path) -> str:
    """``path`` relative to ``folder`` when it is a file (scenario paths resolve from there)."""
    if path == "demo" or not Path(path).exists():
        return path
    return os.path.relpath(Path(path).absolute(), folder.absolute())


def scenario_doc(
    result: SitingResult,
    *,
    name: str,
    city: Mapping[str, Any],
    targets: str,
    layer: str,
    folder: Path,
) -> dict[str, Any]:
    """The scenario (as :func:`geoplan.scenario.files.load_scenario_file` reads it).

    Parameters
    ----------
    result
        The suggestion.
    name
        Scenario name.
    city
        The ``city:`` block that loads the study again.
    targets
        Target sheet id or file.
    layer
        Name of the sites' layer file.
    folder
        Where the scenario and its layer are written.

    Returns
    -------
    dict
        The scenario, ready for YAML.
    """
    s = result.spec
    change: dict[str, Any] = {"add": s.kind, "layer": layer}
    if s.kind == "parks":
        change["green_kind"] = s.green_kind
    if s.kind == "facilities":
        change["category"] = s.category
    spec = dict(city)
    for key in ("osm", "boundary"):
        if isinstance(spec.get(key), str):
            spec[key] = _rel(spec[key], folder)
    spec["facilities"] = [_rel(str(f), folder) for f in spec.get("facilities", [])]
    if not spec["facilities"]:
        spec.pop("facilities")
    return {
        "name": name,
        "description": result.message(),
        "city": spec,
        "targets": targets,
        "changes": [change],
    }


def write_suggestion(
    result: SitingResult,
    folder: Path,
    *,
    stem: str,
    city: Mapping[str, Any],
    targets: str,
    final_folder: Path | None = None,
) -> dict[str, Path]:
    """Write the sites, what stays uncovered, the scenario and a summary into ``folder``.

    Files: ``<stem>_sites.gpkg`` / ``.csv``, ``<stem>_uncovered.gpkg``, ``<stem>_scenario.yaml``
    and ``<stem>_summary.json``. ``folder`` may be a staging folder of an output set whose files
    end up in ``final_folder``; input paths in the scenario are made relative to that.

    The GPKG keeps the city's metric CRS (ranks, marginal coverage in %); the CSV has WGS84
    longitude / latitude for Excel. Returns the paths by kind.

    Parameters
    ----------
    result
        The suggestion.
    folder
        Output folder (a staging folder of the output set).
    stem
        File name stem.
    city
        The ``city:`` block that loads the study again.
    targets
        Target sheet id or file.
    final_folder
        Where ``folder`` will end up (the scenario's paths point there).

    Returns
    -------
    dict of str to Path
        Paths by kind.
    """
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    sites = result.sites.copy()
    sites["marginal_pct"] = (sites.pop("marginal") * 100).round(3)
    sites["coverage_after_pct"] = (sites.pop("coverage_after") * 100).round(3)
    p = folder / f"{stem}_sites.gpkg"
    sites.to_file(p, layer="sites", driver="GPKG")
    out["sites"] = p
    ll = sites.to_crs(WGS84)
    pts = ll.geometry.representative_point()
    table = ll.drop(columns="geometry").assign(lon=pts.x.round(7), lat=pts.y.round(7))
    p = folder / f"{stem}_sites.csv"
    csv_safe(table).to_csv(p, index=False, encoding="utf-8-sig")
    out["sites_csv"] = p
    if len(result.uncovered):
        p = folder / f"{stem}_uncovered.gpkg"
        result.uncovered.to_file(p, layer="uncovered", driver="GPKG")
        out["uncovered"] = p
    doc = scenario_doc(
        result,
        name=f"{stem}_scenario",
        city=city,
        targets=targets,
        layer=f"{stem}_sites.gpkg",
        folder=final_folder or folder,
    )
    p = folder / f"{stem}_scenario.yaml"
    head = (
        f"# geoplan suggest: {result.message()}\n"
        f"# run: geoplan run {p.name} --out <DIR>   (data {ATTRIBUTION})\n"
    )
    p.write_text(head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out["scenario"] = p
    s = result.spec
    summary = {
        "indicator": s.indicator,
        "kind": s.kind,
        "category": s.category,
        "green_kind": s.green_kind if s.kind == "parks" else None,
        "min_area_m2": s.min_area_m2,
        "radius_m": s.radius_m,
        "method": s.method,
        "basis": s.basis,
        "target": s.target,
        "coverage_before": result.coverage_before,
        "coverage_after": result.coverage_after,
        "reachable": result.reachable,
        "reached": result.reached,
        "message": result.message(),
        **result.summary,
        "attribution": ATTRIBUTION,
    }
    p = folder / f"{stem}_summary.json"
    p.write_text(json.dumps(summary, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    out["summary"] = p
    return out
