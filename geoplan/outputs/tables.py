"""Writing a check's results: CSV and XLSX that Excel opens, JSON, and a GeoPackage of homes.

Every file is written atomically (:func:`geoplan._atomic.atomic_path`). CSV files are UTF-8 with a
byte-order mark so that Excel shows Chinese labels correctly. ``homes.gpkg`` holds, per home, the
walking distance to every facility category, park and green space (``dist_<category>_m``) up to
the largest radius any life circle or themed circle uses (1000 m by default); a distance beyond
that search limit (``inf`` in memory) is written as an empty cell, never as a number.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from shapely.geometry.base import BaseGeometry

from geoplan._atomic import atomic_path, write_gpkg_atomic
from geoplan.city import City
from geoplan.outputs.formats import (
    ATTRIBUTION,
    csv_safe,
    excel_text,
    excel_writer,
    formulas_as_text,
)
from geoplan.scoring.check import CheckResult

SCORECARD_HEADERS_ZH = {
    "target_id": "目标编号",
    "indicator": "指标",
    "label_zh": "指标名称",
    "label_en": "Indicator",
    "method": "方法 method",
    "basis": "口径 basis",
    "measured": "现状值 measured",
    "bound": "上限 at most (数据不全 data incomplete)",
    "op": "比较",
    "target": "目标值 target",
    "unit": "单位 unit",
    "status": "结果 status",
    "gap": "差距 gap",
    "clause": "文件条款 clause",
    "note": "说明 note",
}


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].replace([np.inf, -np.inf], np.nan)
    return out


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return str(o)


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    recs = _clean(df).to_dict(orient="records")
    return [
        {str(k): (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in recs
    ]


def write_check_outputs(
    result: CheckResult,
    out_dir: str | Path,
    *,
    stem: str | None = None,
    lang: str = "zh",
    city: City | None = None,
    units: gpd.GeoDataFrame | None = None,
    provenance: Mapping[str, Any] | None = None,
    output_crs: Any = None,
) -> dict[str, Path]:
    """Write a check's outputs into ``out_dir``.

    ``scorecard.csv/.json``, the styled ``scorecard.xlsx`` (:mod:`geoplan.outputs.workbook`, in
    ``lang``), ``measures.csv``, ``homes.gpkg`` (the computation's CRS), ``provenance.json``
    (when ``provenance`` is given) and, with ``city``, the QGIS-ready ``map.gpkg``
    (:mod:`geoplan.outputs.qgis`: homes, coverage, uncovered land, roads, units, styles; in
    CGCS2000 Gauss-Krüger for cities in China unless ``output_crs``). Returns the paths by kind.

    Parameters
    ----------
    result
        The check.
    out_dir
        Folder to write into (created if missing).
    stem
        File-name stem (default ``<city>_<sheet>``).
    lang
        ``zh`` or ``en`` for the workbook.
    city
        The loaded city (for ``map.gpkg``), or ``None``.
    units
        Per-unit table, or ``None``.
    provenance
        The provenance record, or ``None``.
    output_crs
        CRS of ``map.gpkg`` (default: CGCS2000 Gauss-Krüger in China).

    Returns
    -------
    dict of str to Path
        Paths written by kind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = stem or f"{result.city_name}_{result.sheet.id}"
    paths: dict[str, Path] = {}
    card = _clean(result.scorecard)
    measures = _clean(result.measures)

    p = out / f"{stem}_scorecard.csv"
    with atomic_path(p) as tmp:
        csv_safe(card.rename(columns=SCORECARD_HEADERS_ZH)).to_csv(
            tmp, index=False, encoding="utf-8-sig"
        )
    paths["scorecard_csv"] = p

    p = out / f"{stem}_measures.csv"
    with atomic_path(p) as tmp:
        csv_safe(measures).to_csv(tmp, index=False, encoding="utf-8-sig")
    paths["measures_csv"] = p

    if result.gap_causes is not None and len(result.gap_causes):
        p = out / f"{stem}_gap_causes.csv"
        with atomic_path(p) as tmp:
            csv_safe(_clean(result.gap_causes)).to_csv(tmp, index=False, encoding="utf-8-sig")
        paths["gap_causes_csv"] = p

    p = out / f"{stem}_scorecard.json"
    doc = {
        "city": result.city_name,
        "target_sheet": {
            "id": result.sheet.id,
            "name_zh": result.sheet.name_zh,
            "name_en": result.sheet.name_en,
            "year": result.sheet.year,
        },
        "scorecard": _records(card),
        "measures": _records(measures),
        "seconds": result.seconds,
        "notes": result.notes,
        "attribution": ATTRIBUTION,
    }
    with atomic_path(p) as tmp:
        tmp.write_text(
            json.dumps(doc, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8"
        )
    paths["scorecard_json"] = p

    from geoplan.outputs.provenance import provenance_rows
    from geoplan.outputs.workbook import write_workbook

    prov_rows = provenance_rows(provenance) if provenance else []
    prov_rows += [("attribution", ATTRIBUTION), ("notes", "; ".join(result.notes))]
    p = out / f"{stem}_scorecard.xlsx"
    write_workbook(
        p,
        scorecard=card,
        measures=measures,
        lang=lang,
        units=None if units is None else pd.DataFrame(units.drop(columns=units.geometry.name)),
        provenance=prov_rows,
        gap_causes=result.gap_causes,
    )
    paths["scorecard_xlsx"] = p
    if provenance:
        p = out / f"{stem}_provenance.json"
        with atomic_path(p) as tmp:
            tmp.write_text(
                json.dumps(provenance, ensure_ascii=False, indent=2, default=_json_default),
                encoding="utf-8",
            )
        paths["provenance_json"] = p

    homes = result.homes.copy()
    for c in homes.columns:
        if c != homes.geometry.name and pd.api.types.is_bool_dtype(homes[c]):
            homes[c] = homes[c].astype(np.int8)
    homes = gpd.GeoDataFrame(_clean(homes), geometry=homes.geometry.name, crs=homes.crs)
    p = out / f"{stem}_homes.gpkg"
    write_gpkg_atomic(p, {"homes": homes})
    paths["homes_gpkg"] = p
    if city is not None:
        p = out / f"{stem}_map.gpkg"
        _write_package(p, result, city, homes, units, prov_rows, output_crs)
        paths["map_gpkg"] = p
    return paths


def _write_package(
    path: Path,
    result: CheckResult,
    city: City,
    homes: gpd.GeoDataFrame,
    units: gpd.GeoDataFrame | None,
    prov_rows: list[tuple[str, str]],
    output_crs: Any,
) -> None:
    """The QGIS package of a check (CGCS2000 Gauss-Krüger in China unless ``output_crs``)."""
    from geoplan.indicators.gap_tables import gap_homes
    from geoplan.names import GAP_MEASURES
    from geoplan.outputs.qgis import china_crs, write_qgis_gpkg

    c = gpd.GeoSeries([city.boundary_polygon.centroid], crs=city.crs).to_crs(4326).iloc[0]
    crs = output_crs or china_crs(c.x, c.y) or city.crs
    labels = {
        k: (lay.method, lay.label_zh, lay.label_en) for k, lay in result.coverage_layers.items()
    }
    write_qgis_gpkg(
        path,
        homes=homes,
        coverage=package_coverage(result.coverage),
        coverage_labels=labels,
        uncovered=result.gaps,
        roads=city.roads,
        units=units,
        provenance=[*prov_rows, ("output_crs", str(pyproj.CRS(crs).to_string()))],
        output_crs=pyproj.CRS(crs),
        gap_homes=gap_homes(result.homes, GAP_MEASURES),
        barriers=city.barriers,
    )


def package_coverage(coverage: Mapping[str, BaseGeometry]) -> Mapping[str, BaseGeometry]:
    """The coverage areas the QGIS package holds.

    Every area of an exact check; of a check on land cells (:mod:`geoplan.indicators.cover`),
    the areas already built plus the buffer areas of the map and gap measures
    (:data:`geoplan.names.MAP_MEASURES`, :data:`~geoplan.names.GAP_MEASURES`), so that writing
    the package does not build the union of every life-circle category the check avoided.

    Parameters
    ----------
    coverage
        ``CheckResult.coverage``.

    Returns
    -------
    Mapping
        Coverage key → area (metric CRS).
    """
    from geoplan.indicators.cover import CoverageAreas
    from geoplan.names import GAP_MEASURES, MAP_MEASURES, Method, coverage_key

    if not isinstance(coverage, CoverageAreas):
        return coverage
    keys = {coverage_key(m, Method.BUFFER) for m in (*MAP_MEASURES, *GAP_MEASURES)}
    return coverage.drawn(keys)


def write_unit_outputs(
    units: gpd.GeoDataFrame,
    out_dir: str | Path,
    *,
    stem: str,
    gap_causes: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write the per-unit table as ``<stem>_units.csv`` / ``.xlsx`` and a GeoPackage layer.

    Parameters
    ----------
    units
        :func:`geoplan.scoring.units.unit_shares` output (metric CRS).
    out_dir
        Output folder.
    stem
        File name stem (``<city>_<sheet>``).
    gap_causes
        Per unit, the buffer − walking gap by cause
        (:func:`geoplan.scoring.units.unit_gap_causes`): ``<stem>_gap_causes_by_unit.csv``.

    Returns
    -------
    dict
        Paths by kind (``units_csv``, ``units_xlsx``, ``units_gpkg``, ``gap_causes_by_unit_csv``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame(units.drop(columns=units.geometry.name))
    paths: dict[str, Path] = {}
    p = out / f"{stem}_units.csv"
    with atomic_path(p) as tmp:
        csv_safe(table).to_csv(tmp, index=False, encoding="utf-8-sig")
    paths["units_csv"] = p
    p = out / f"{stem}_units.xlsx"
    with atomic_path(p) as tmp, excel_writer(tmp) as xw:
        excel_text(table).to_excel(xw, index=False)
        formulas_as_text(xw.sheets["Sheet1"])
    paths["units_xlsx"] = p
    p = out / f"{stem}_units.gpkg"
    write_gpkg_atomic(p, {"units": units})
    paths["units_gpkg"] = p
    if gap_causes is not None and len(gap_causes):
        p = out / f"{stem}_gap_causes_by_unit.csv"
        with atomic_path(p) as tmp:
            csv_safe(_clean(gap_causes)).to_csv(tmp, index=False, encoding="utf-8-sig")
        paths["gap_causes_by_unit_csv"] = p
    return paths
