"""The headline indicators, one pure function each (see :mod:`geoplan.indicators.coverage`)."""

from geoplan.indicators.bus import bus_stop_coverage
from geoplan.indicators.coverage import (
    SUMMARY_COLUMNS,
    IndicatorResult,
    access_table,
    buffer_share,
    category_geometries,
    column_name,
    network_shares,
    union_of_buffers,
)
from geoplan.indicators.green_cover import WORLDCOVER_GREEN, green_cover_ratio
from geoplan.indicators.life_circles import life_circle_coverage, themed_circle_coverage
from geoplan.indicators.parks import green_land_ratio, park_area_per_resident, park_coverage
from geoplan.indicators.roads import (
    carriageway_weights,
    intersection_density,
    road_area_ratio,
    road_density,
)

__all__ = [
    "SUMMARY_COLUMNS",
    "WORLDCOVER_GREEN",
    "IndicatorResult",
    "access_table",
    "buffer_share",
    "bus_stop_coverage",
    "carriageway_weights",
    "category_geometries",
    "column_name",
    "green_cover_ratio",
    "green_land_ratio",
    "intersection_density",
    "life_circle_coverage",
    "network_shares",
    "park_area_per_resident",
    "park_coverage",
    "road_area_ratio",
    "road_density",
    "themed_circle_coverage",
    "union_of_buffers",
]
