"""Parks and green: 公园绿地服务半径覆盖率, 300米见绿、500米见园, 绿地率, 人均公园绿地面积."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.coverage import (
    IndicatorResult,
    buffer_share,
    column_name,
    measure_row,
    network_rows,
    no_data_rows,
    residential_land,
    summary_frame,
)
from geoplan.network.access import EdgeAttachment, facility_sources, nearest_distance_m
from geoplan.network.graph import WalkNetwork


def park_coverage(
    homes: gpd.GeoDataFrame,
    home_att: EdgeAttachment,
    net: WalkNetwork,
    parks: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    *,
    tiers: Sequence[tuple[float, float]] = ((5000.0, 500.0), (2000.0, 300.0)),
    green_radius_m: float = 300.0,
    green_min_area_m2: float = 400.0,
    park_radius_m: float = 500.0,
    park_min_area_m2: float = 5000.0,
    boundary_step_m: float = 25.0,
) -> IndicatorResult:
    """公园绿地服务半径覆盖率 and "300米见绿、500米见园".

    - service coverage: parks ≥ 5000 m² serve 500 m, 2000–5000 m² serve 300 m (``tiers`` =
      ``(min_area_m2, radius_m)``, largest first; smaller parks do not count); buffer = residential
      land within a tier radius of a park's boundary ÷ residential land (城市体检 2021);
    - 300米见绿: any public green space ≥ ``green_min_area_m2`` within ``green_radius_m``;
    - 500米见园: a park (``green_kind == "park"``) ≥ ``park_min_area_m2`` within ``park_radius_m``.

    Park size uses the whole feature's area (``area_m2``), also for parks cut by the boundary.
    Network distances reach parks at their edge (:func:`geoplan.network.access.facility_sources`).
    """
    land = residential_land(residential)
    area = parks["area_m2"].to_numpy(dtype=float)
    is_park = (parks["green_kind"] == "park").to_numpy()
    geoms = np.asarray(parks.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}

    def net_within(mask: NDArray[np.bool_], radius: float) -> NDArray[np.bool_]:
        src = facility_sources(net, geoms[mask], boundary_step_m=boundary_step_m)
        return np.asarray(nearest_distance_m(net, home_att, src, limit_m=radius) <= radius)

    # service-radius coverage, tiered
    upper = np.inf
    covered = np.zeros(len(homes), dtype=bool)
    radii = np.zeros(len(parks))
    for min_area, radius in sorted(tiers, key=lambda t: -t[0]):
        m = is_park & (area >= min_area) & (area < upper)
        radii[m] = radius
        covered |= net_within(m, radius)
        upper = min_area
    served = radii > 0
    per_home[column_name("park_service", method="network")] = covered
    lzh, len_ = "公园绿地服务半径覆盖率", "Park service-radius coverage"
    tier_note = "; ".join(f"≥{a:g} m² → {r:g} m" for a, r in tiers)
    if not served.any():
        rows += no_data_rows(
            "park_service_coverage", "park_service", lzh, len_, "no data: no park in a size tier"
        )
    else:
        share, cover = buffer_share(geoms[served], radii[served], land)
        geo["park_service_buffer"] = cover
        rows.append(
            measure_row(
                "park_service_coverage",
                "park_service",
                "buffer",
                "residential_area",
                share,
                "share",
                lzh,
                len_,
                tier_note,
            )
        )
        rows += network_rows(
            "park_service_coverage", "park_service", covered, homes, lzh, len_, tier_note
        )

    for ind, measure, mask, radius, zh, en in (
        (
            "green_300m",
            f"green_{green_radius_m:g}",
            area >= green_min_area_m2,
            green_radius_m,
            "300米见绿",
            "Green space within 300 m",
        ),
        (
            "park_500m",
            f"park_{park_radius_m:g}",
            is_park & (area >= park_min_area_m2),
            park_radius_m,
            "500米见园",
            "Park within 500 m",
        ),
    ):
        if not mask.any():
            rows += no_data_rows(ind, measure, zh, en, "no data: no such green space")
            continue
        cov = net_within(mask, radius)
        per_home[column_name(measure, method="network")] = cov
        share, cover = buffer_share(geoms[mask], radius, land)
        geo[f"{measure}_buffer"] = cover
        rows.append(measure_row(ind, measure, "buffer", "residential_area", share, "share", zh, en))
        rows += network_rows(ind, measure, cov, homes, zh, en)
    return IndicatorResult(
        "park_coverage", pd.DataFrame(per_home, index=homes.index), summary_frame(rows), geo
    )


def green_land_ratio(parks: gpd.GeoDataFrame, boundary: BaseGeometry) -> IndicatorResult:
    """绿地率 (OSM approximation): area of public green (parks and other green, overlaps counted
    once) inside the boundary ÷ boundary area. CJJ/T 85-2017 counts G1+G2+G3 share+XG; OSM rarely
    maps 附属绿地 (green inside compounds), so this is a lower bound."""
    g = shapely.union_all(parks.geometry.values) if len(parks) else shapely.Polygon()
    v = float(shapely.intersection(g, boundary).area / boundary.area) if boundary.area else None
    row = measure_row(
        "green_land_ratio",
        "green_land_ratio",
        "area",
        "boundary_area",
        v,
        "share",
        "绿地率（OSM近似）",
        "Green land ratio (OSM approximation)",
        "lower bound: OSM rarely maps green inside compounds",
    )
    return IndicatorResult("green_land_ratio", pd.DataFrame(), summary_frame([row]))


def park_area_per_resident(parks: gpd.GeoDataFrame, residents: float | None) -> IndicatorResult:
    """人均公园绿地面积 (m²/person): park area in the boundary ÷ residents (needs population)."""
    park_area = float(
        parks.loc[parks["green_kind"] == "park", "area_in_boundary_m2"].sum()
        if "area_in_boundary_m2" in parks
        else parks.loc[parks["green_kind"] == "park"].area.sum()
    )
    v = park_area / residents if residents else None
    row = measure_row(
        "park_area_per_resident",
        "park_area_per_resident",
        "area",
        "residents",
        v,
        "m2/person",
        "人均公园绿地面积",
        "Park area per resident",
        "" if v is not None else "no data: needs population",
    )
    return IndicatorResult("park_area_per_resident", pd.DataFrame(), summary_frame([row]))
