"""公交站点覆盖率: bus-stop 300 / 500 m coverage, buffer and network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry
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
from geoplan.indicators.grid import cells_polygon, grid_cells
from geoplan.network.access import EdgeAttachment, facility_sources, nearest_distance_m
from geoplan.network.graph import WalkNetwork


def bus_stop_coverage(
    homes: gpd.GeoDataFrame,
    home_att: EdgeAttachment,
    net: WalkNetwork,
    stops: gpd.GeoDataFrame,
    residential: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    *,
    radii_m: Sequence[float] = (300.0, 500.0),
    grid_spacing_m: float = 100.0,
) -> IndicatorResult:
    """公交站点覆盖率 at each radius, over built-up (boundary) land, residential land and homes.

    GB 50220-95: area within 300 m of a stop ≥ 50 % of urban land, within 500 m ≥ 90 %;
    中发〔2016〕6号 and the seed plans: 500 m coverage = 100 %.

    - buffer / boundary_area: boundary area within ``r`` of a stop ÷ boundary area;
    - buffer / residential_area: the official residential-land version;
    - network / homes, residential_area, residents: walking distance from homes;
    - network / boundary_area: share of a ``grid_spacing_m`` grid of points over the boundary
      within walking distance ``r`` (each point walks straight to its nearest street first).
    """
    land = residential_land(residential)
    geoms = np.asarray(stops.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}
    grid_xy, grid_shape, grid_inside = grid_cells(boundary, grid_spacing_m)
    grid = shapely.points(grid_xy[grid_inside])
    from geoplan.network.access import attach_points

    src = facility_sources(net, geoms)
    rmax = max(radii_m)
    # a grid point farther than rmax from every street cannot be covered: bounded search
    grid_att = attach_points(net, grid, max_distance_m=rmax)
    d_home = nearest_distance_m(net, home_att, src, limit_m=rmax)
    d_grid = np.full(grid.shape[0], np.inf)
    d_grid[grid_att.owner] = nearest_distance_m(net, grid_att, src, limit_m=rmax)
    for r in radii_m:
        ind, measure = "bus_stop_coverage", f"bus_cov_{r:g}"
        zh, en = f"公交站点{r:g}米覆盖率", f"Bus stop {r:g} m coverage"
        if geoms.size == 0:
            rows += no_data_rows(ind, measure, zh, en, "no data: no bus stop in the data")
            continue
        share_land, cover = buffer_share(geoms, r, land)
        share_all = float(shapely.intersection(boundary, cover).area / boundary.area)
        geo[f"{measure}_buffer"] = cover
        rows.append(
            measure_row(ind, measure, "buffer", "boundary_area", share_all, "share", zh, en)
        )
        rows.append(
            measure_row(ind, measure, "buffer", "residential_area", share_land, "share", zh, en)
        )
        cov = d_home <= r
        per_home[column_name(measure, method="network")] = cov
        rows += network_rows(ind, measure, cov, homes, zh, en)
        gcov = d_grid <= r
        rows.append(
            measure_row(
                ind,
                measure,
                "network",
                "boundary_area",
                float(gcov.mean()) if gcov.size else None,
                "share",
                zh,
                en,
                f"{grid_spacing_m:g} m grid",
            )
        )
        if gcov.any():  # covered grid cells as one polygon, for maps
            geo[f"{measure}_network"] = cells_polygon(
                grid_xy, grid_shape, grid_inside, gcov, grid_spacing_m, boundary
            )
    return IndicatorResult(
        "bus_stop_coverage", pd.DataFrame(per_home, index=homes.index), summary_frame(rows), geo
    )
