"""Writing a scenario's comparison: tables (CSV, XLSX) and the change maps.

Called by ``geoplan run`` and by :func:`geoplan.write_scenario`; the scenario stage itself writes
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geoplan._atomic import atomic_path
from geoplan.io.projection import WGS84
from geoplan.outputs.change_map import change_map, side_by_side
from geoplan.outputs.formats import csv_safe
from geoplan.outputs.workbook import write_comparison_workbook
from geoplan.scenario.compare import ScenarioResult

__all__ = ["write_scenario"]


def write_scenario(
    result: ScenarioResult,
    out: str | Path,
    *,
    map_path: str | Path | None = None,
    lang: str = "zh",
) -> dict[str, Path]:
    """Write a scenario's comparison: CSVs, one XLSX and the change maps, each atomically.

    Parameters
    ----------
    result
        Baseline vs plan (:meth:`geoplan.ScenarioSession.run`).
    out
        Output folder.
    map_path
        The change map (default ``OUT/maps/<name>.html``); the side-by-side page is written
        beside it (``<stem>_side_by_side.html``).
    lang
        Map labels: ``zh`` or ``en``.

    Returns
    -------
    dict
        Paths by kind: ``scorecard``, ``measures``, ``units``, ``homes`` (CSV, WGS84 lon / lat
        or WKT), ``xlsx``, ``map``, ``map_side_by_side``.
    """
    out = Path(out)
    stem = _safe(result.name)
    homes = _plain(result.homes)
    units = _plain(result.units)
    added = _plain_concat(result.log.added)
    removed = _plain_concat(result.log.removed)
    paths: dict[str, Path] = {}
    for key, frame in (
        ("scorecard", result.scorecard),
        ("measures", result.measures),
        ("units", units),
        ("homes", homes),
    ):
        p = out / f"{stem}_{key}.csv"
        with atomic_path(p) as tmp:
            csv_safe(frame).to_csv(tmp, index=False, encoding="utf-8-sig")
        paths[key] = p
    xlsx = out / f"{stem}_comparison.xlsx"
    zh = lang == "zh"
    extra = (
        ("分单元" if zh else "units", units),
        ("住宅" if zh else "homes", homes),
        ("规划新增" if zh else "added", added),
        ("规划移除" if zh else "removed", removed),
    )
    paths["xlsx"] = write_comparison_workbook(
        xlsx, scorecard=result.scorecard, measures=result.measures, extra=extra, lang=lang
    )
    mp = Path(map_path) if map_path is not None else out / "maps" / f"{stem}.html"
    paths["map"] = change_map(result, mp, lang=lang)
    paths["map_side_by_side"] = side_by_side(
        result, mp.with_name(f"{mp.stem}_side_by_side.html"), lang=lang
    )
    return paths


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "scenario"


def _plain(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """A GeoDataFrame as a table: WKT geometry (points as lon / lat), WGS84."""
    if len(gdf) == 0:
        return pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    w = gdf.to_crs(WGS84)
    df = pd.DataFrame(w.drop(columns="geometry"))
    if (shapely.get_type_id(w.geometry.values) == 0).all():
        df["lon"] = w.geometry.x.round(7)
        df["lat"] = w.geometry.y.round(7)
    else:
        df["wkt"] = shapely.to_wkt(w.geometry.values, rounding_precision=7)
    return df


def _plain_concat(parts: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    frames = []
    for kind, g in parts.items():
        if len(g):
            df = _plain(g.assign(geometry=g.geometry.values))
            if "wkt" not in df:
                df["wkt"] = shapely.to_wkt(g.to_crs(WGS84).geometry.values, rounding_precision=7)
            frames.append(df.drop(columns=["lon", "lat"], errors="ignore").assign(kind=kind))
    if not frames:
        return pd.DataFrame({"kind": [], "wkt": []})
    return pd.concat(frames, ignore_index=True)
