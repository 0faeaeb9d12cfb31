"""Count targets: features of a kind in the study area, and per unit (每个街道…).

``count_existing`` counts what the data already holds (洛阳 "中心城区游园数量达到330处");
``count_per_unit`` gives the share of units (街道, 社区) holding at least ``min_count`` features of
a kind (中原区 "每个街道办事处要按市定要求设置社区卫生服务中心"). Both read the city's layers in
its metric CRS; areas in m².
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.city import City
from geoplan.indicators.coverage import Measure, measure_row
from geoplan.scoring.sheet_model import Target

#: kinds that are public green rather than a facility category
GREEN_KINDS = ("park", "green", "micro_park", "pocket_park")


def count_measure(t: Target) -> str:
    """Measure id of a count target (one per target: its kind and bounds are its own)."""
    return f"{t.indicator}:{t.id}"


def _features(city: City, kind: str, lo: float, hi: float) -> NDArray[np.object_]:
    """Geometries of the features of ``kind`` (area bounds apply to green)."""
    if kind in GREEN_KINDS:
        p = city.parks
        area = p["area_m2"].to_numpy(dtype=float)
        m = (area >= lo) & (area < hi)
        if kind == "park":
            m &= (p["green_kind"] == "park").to_numpy()
        return np.asarray(p.geometry.values[m], dtype=object)
    if kind == "bus_stop":
        return np.asarray(city.bus_stops.geometry.values, dtype=object)
    f = city.facilities
    return np.asarray(f.geometry.values[(f["category"] == kind).to_numpy()], dtype=object)


def _in_area(geoms: NDArray[np.object_], area: BaseGeometry) -> NDArray[np.bool_]:
    if not len(geoms):
        return np.zeros(0, dtype=bool)
    return np.asarray(shapely.intersects(area, shapely.point_on_surface(geoms)), dtype=bool)


def count_rows(
    targets: Iterable[Target],
    city: City,
    area: BaseGeometry,
    units: gpd.GeoDataFrame | None,
) -> list[dict[str, Any]]:
    """Measure rows of the ``count_existing`` and ``count_per_unit`` targets of a sheet.

    Parameters
    ----------
    targets
        The sheet's checkable targets (others are skipped).
    city
        Layers to count, metric CRS.
    area
        Where to count (the study area, or the built-up area when given).
    units
        Polygons of the units (街道 …) for ``count_per_unit``, the city's CRS; ``None`` = the
        per-unit targets are "no data".
    """
    rows = []
    for t in targets:
        if t.indicator not in ("count_existing", "count_per_unit"):
            continue
        p = dict(t.params)
        kind = str(p["kind"])
        lo = float(p.get("min_area_m2", -np.inf))
        hi = float(p.get("max_area_m2", np.inf))
        geoms = _features(city, kind, lo, hi)
        if t.indicator == "count_existing":
            n = int(_in_area(geoms, area).sum())
            note = f"{kind} features whose point on surface lies in the study area"
            rows.append(
                measure_row(
                    Measure(t.indicator, count_measure(t), t.label_zh, t.label_en, unit="count"),
                    "count",
                    "count",
                    float(n),
                    note=note,
                )
            )
            continue
        need = int(p.get("min_count", 1))
        if units is None or units.empty:
            v, note = None, "no data: needs the units (--units 街道 polygons)"
        else:
            pts = shapely.point_on_surface(geoms) if len(geoms) else np.zeros(0, dtype=object)
            per = np.zeros(len(units), dtype=np.int64)
            if len(pts):
                i, _ = shapely.STRtree(pts).query(units.geometry.values, predicate="intersects")
                np.add.at(per, i, 1)
            ok = int((per >= need).sum())
            v = ok / len(units)
            note = f"{ok} of {len(units)} units hold ≥ {need} {kind}"
        rows.append(
            measure_row(
                Measure(t.indicator, count_measure(t), t.label_zh, t.label_en),
                "count",
                "units",
                v,
                note=note,
            )
        )
    return rows
