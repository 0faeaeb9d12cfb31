"""城区-level figures of the 城市体检: 区域开发强度 and the land of dense 地段.

Both are area figures in the city's metric CRS (m², reported as a share and in km²):

- ``development_intensity`` (区域开发强度): the 建成区 over the whole area of the 市辖区 (2021年
  城市体检指标体系: "市辖区建成区面积占市辖区总面积的百分比"). The 市辖区 is the polygon named
  ``市辖区`` in ``--areas`` / ``--units``, else the study area when it is a district
  (``--district``); a study area drawn by hand is not one, and the row says so (with the share of
  the study area for reference) instead of printing it as the indicator.
- ``dense_land`` (人口密度超过每平方公里1.5万人的城市建设用地规模): the built-up land of the
  地段 whose density exceeds the threshold, on areas counted as wholes
  (:func:`geoplan.city.density.density_units`: census polygons, population cells, raster pixels);
  never on counts spread over homes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan.city import City
from geoplan.city.density import DENSE_PER_KM2
from geoplan.indicators.coverage import Measure, measure_row
from geoplan.names import Basis, Method
from geoplan.scoring.counts import count_measure, named_area
from geoplan.scoring.sheet_model import Target

#: the name of the 市辖区 polygon in --areas / --units
DISTRICT_AREA_NAME = "市辖区"
#: a named 市辖区 must lie in the study area to this share (the 建成区 is known only inside it)
MIN_INSIDE_SHARE = 0.99

Density = Callable[[], tuple[gpd.GeoDataFrame | None, str]]


def urban_rows(
    targets: Iterable[Target],
    *,
    city: City,
    land: BaseGeometry,
    built_up_source: str,
    units: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None,
    density: Density,
) -> list[dict[str, Any]]:
    """Summary rows of the 城区 targets of a sheet (``development_intensity``, ``dense_land``).

    Parameters
    ----------
    targets
        The sheet's checkable targets (others are skipped).
    city
        The city (metric CRS; ``city.district`` when the study area is a district).
    land
        The area of the check's area-based figures: the 建成区 inside the study area, or the study
        area when no 建成区 is known (:attr:`geoplan.indicators.inputs.Inputs.boundary`).
    built_up_source
        Where it came from: ``file``, ``osm`` (derived), ``study_area …``.
    units, areas
        ``--units`` and ``--areas`` (``unit`` names), where a 市辖区 polygon may be named.
    density
        Returns the 地段 with their densities (:func:`geoplan.city.density.density_units`);
        called only when a sheet has a ``dense_land`` target.

    Returns
    -------
    list of dict
        One summary row per target (:func:`geoplan.indicators.coverage.measure_row`).
    """
    rows: list[dict[str, Any]] = []
    mine = [t for t in targets if t.indicator in ("development_intensity", "dense_land")]
    if not mine:
        return rows
    for t in mine:
        if t.indicator == "development_intensity":
            v, note = _intensity(t, city, land, built_up_source, units, areas)
            m = Measure(t.indicator, count_measure(t), t.label_zh, t.label_en, unit="share")
            rows.append(measure_row(m, Method.AREA, Basis.DISTRICT_AREA, v, note=note))
        elif t.indicator == "dense_land":
            v, note = _dense_land(t, city, land, built_up_source, density)
            m = Measure(t.indicator, count_measure(t), t.label_zh, t.label_en, unit="km2")
            rows.append(measure_row(m, Method.AREA, Basis.BOUNDARY_AREA, v, note=note))
    return rows


def _built_up_words(source: str) -> str:
    return {"file": "建成区 (file)", "osm": "建成区 derived from OSM (a proxy)"}.get(
        source, "study area"
    )


def _intensity(
    t: Target,
    city: City,
    land: BaseGeometry,
    source: str,
    units: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None,
) -> tuple[float | None, str]:
    """区域开发强度 = area(建成区 ∩ 市辖区) / area(市辖区), or why it cannot be read."""
    if source.startswith("study_area"):
        return None, (
            "no data: needs the 建成区 (--built-up FILE); none is mapped in OSM here, and the "
            "study area is not one"
        )
    name = t.area or DISTRICT_AREA_NAME
    district, matched = named_area(name, areas, units)
    study = city.boundary_polygon
    if district is None and city.district is not None:
        district, matched = study, city.district
    if district is None:
        ref = land.area / study.area if study.area > 0 else float("nan")
        return None, (
            f"no data: needs the {name} boundary (--district NAME, or a polygon named {name} in "
            f"--areas); the {_built_up_words(source)} covers {ref:.1%} of this study area, "
            "which is not the indicator"
        )
    share = city.report.data_share
    if source == "osm" and share < MIN_INSIDE_SHARE:
        return None, (
            f"no data: the OSM extract covers {share:.0%} of the study area, and the 建成区 "
            "derived from it stops at the extract's edge; pass the 建成区 (--built-up FILE) or an "
            "extract holding the whole district"
        )
    inside = shapely.intersection(district, study).area
    if district.area <= 0 or inside < MIN_INSIDE_SHARE * district.area:
        share = inside / district.area if district.area > 0 else 0.0
        return None, (
            f"no data: the {name} polygon ({matched}) lies {share:.0%} inside the study area; "
            "the 建成区 is known only inside it: load the whole district (--district)"
        )
    built = shapely.intersection(land, district).area
    v = built / district.area
    return v, (
        f"{_built_up_words(source)} {built / 1e6:,.2f} km² of {matched} {district.area / 1e6:,.2f} "
        "km²"
    )


def _dense_land(
    t: Target, city: City, land: BaseGeometry, source: str, density: Density
) -> tuple[float | None, str]:
    """km² of the land (建成区 ∩ study area) in 地段 denser than the threshold."""
    limit = t.number("density_per_km2", DENSE_PER_KM2)
    units, what = density()
    if units is None:
        return None, f"no data: {what}; counts spread over homes are not densities"
    dense = units.loc[units["density_per_km2"] > limit]
    geoms = np.asarray(dense.geometry.values, dtype=object)
    km2 = shapely.intersection(shapely.union_all(geoms), land).area / 1e6 if len(geoms) else 0.0
    where = _built_up_words(source) if not source.startswith("study_area") else "study area"
    note = (
        f"{len(dense):,} of {what} denser than {limit:,.0f} per km², {km2:,.2f} km² of them in "
        f"the {where}"
    )
    if "polygons" in what:
        note += "; a polygon's density averages its blocks: denser 地段 inside it are not seen"
    share = city.report.data_share
    if source == "osm" and share < MIN_INSIDE_SHARE:
        note += (
            f"; a lower bound: the OSM extract covers {share:.0%} of the study area and the "
            "建成区 derived from it stops at its edge"
        )
    return km2, note
